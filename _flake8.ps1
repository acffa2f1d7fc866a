# Runs exactly what CI runs; every option lives in .flake8.
python -m flake8 src tests benchmarks demo
exit $LASTEXITCODE
