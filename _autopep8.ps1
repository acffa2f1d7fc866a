# Rewrites files in place with the options from .flake8 ([pycodestyle] section), as CI checks them.
python -m autopep8 --in-place --recursive --global-config .flake8 src tests benchmarks demo
exit $LASTEXITCODE
