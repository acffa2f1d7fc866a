"""Fails CI when a compromised LiteLLM release or an unexpected .pth file is installed.

LiteLLM 1.82.7 and 1.82.8 were malicious uploads (2026-03-24); 1.82.8 ran its
payload from ``litellm_init.pth`` at every interpreter start. A .pth file runs
code before any test does, so only the ones we know are allowed.
"""
from __future__ import annotations

import fnmatch
import site
import sys
from importlib.metadata import version
from pathlib import Path

COMPROMISED = {"1.82.7", "1.82.8"}
EXPECTED_PTH = (
    "__editable__.llmcore-*.pth",   # our own editable install
    "distutils-precedence.pth",     # setuptools
    "a1_coverage.pth",              # coverage: measures subprocesses only when COVERAGE_PROCESS_START is set
)


def main() -> int:
    problems = []
    installed = version("litellm")
    if installed in COMPROMISED or installed.startswith("1.107."):
        problems.append(f"litellm {installed} is a compromised or unexplained release; pin 1.110.2")
    for directory in {Path(p) for p in site.getsitepackages()}:
        for pth in sorted(directory.glob("*.pth")):
            if not any(fnmatch.fnmatch(pth.name, pattern) for pattern in EXPECTED_PTH):
                problems.append(f"unexpected .pth file {pth} (it runs code at every interpreter start)")
    for problem in problems:
        print(f"supply chain: {problem}", file=sys.stderr)
    if not problems:
        print(f"supply chain: litellm {installed}; only expected .pth files")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
