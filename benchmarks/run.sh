#!/usr/bin/env bash
# Run the benchmarks from the repository root with the project's venv: benchmarks/run.sh [--quick] [...].
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-.venv/bin/python}"
[ -x "$python" ] || python=python3
exec "$python" -m benchmarks "$@"
