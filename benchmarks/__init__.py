"""llmcore's benchmarks (issue 7): ``python -m benchmarks`` or ``benchmarks/run.sh``. Not run in CI."""
