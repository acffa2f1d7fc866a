"""Wall time of short commands: ``llmcore models list``, ``import llmcore``, ``import litellm``.

Each command runs ``runs`` times, the commands interleaved (round-robin), pinned to the server
CPU; the figure is the median wall time from spawn to exit.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from benchmarks.targets import VENV_BIN

COMMAND_TIMEOUT = 120.0


def commands(config: Path) -> dict[str, list[str]]:
    return {
        "llmcore models list": [str(VENV_BIN / "llmcore"), "--config", str(config), "models", "list"],
        "python -c 'import llmcore'": [sys.executable, "-c", "import llmcore"],
        "python -c 'import litellm'": [sys.executable, "-c", "import litellm"],
    }


def _timed(argv: list[str], env: Mapping[str, str], cpus: set[int] | None) -> tuple[float, int, str]:
    started = time.perf_counter()
    done = subprocess.run(argv, env=dict(env), capture_output=True, timeout=COMMAND_TIMEOUT, stdin=subprocess.DEVNULL,
                          preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None)
    return time.perf_counter() - started, done.returncode, done.stderr.decode(errors="replace")[-300:]


def measure(config: Path, env: Mapping[str, str], cpus: set[int] | None, runs: int = 5) -> dict[str, Any]:
    table = commands(config)
    times: dict[str, list[float]] = {name: [] for name in table}
    failures: dict[str, str] = {}
    for _ in range(runs):
        for name, argv in table.items():
            seconds, code, stderr = _timed(argv, env, cpus)
            if code != 0:
                failures[name] = f"exit {code}: {stderr.strip()}"
            times[name].append(seconds)
    return {name: {"median_s": round(statistics.median(values), 3), "runs_s": [round(v, 3) for v in values],
                   "failed": failures.get(name)} for name, values in times.items()}
