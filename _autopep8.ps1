# Rewrites files in place with the options in .flake8 ([pycodestyle]), the rules CI checks with flake8.
python -m autopep8 --in-place --recursive --global-config .flake8 .
exit $LASTEXITCODE
