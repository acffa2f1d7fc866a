# Runs exactly what CI runs (.ci/run); every option lives in .flake8.
python -m flake8
exit $LASTEXITCODE
