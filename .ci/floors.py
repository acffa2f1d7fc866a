"""Prints pip constraints that pin every runtime dependency of pyproject.toml to its declared floor.

Runtime means ``[project].dependencies`` and the extras named in ``EXTRAS`` (``otel``:
the job installs ``llmcore[otel]``, so the tracing tests run on the extra's floors too).

CI installs the lock, which is what the proxy ships with; a service that imports llmcore resolves
its own versions, anywhere from our floors up. The lowest-versions job installs with these
constraints (``name==floor`` for each ``name>=floor``) and runs the unit and contract suites, so a
floor the code does not work with, or floors that cannot be installed together, fail CI.

Usage: ``python .ci/floors.py [pyproject.toml] > floors.txt``. Exit 1 when a runtime dependency
has no ``>=`` floor (nothing to test then).
"""
from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

# name, then the specifier list, then an optional environment marker.
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*([^;]*?)\s*(;.*)?$")
EXTRAS = ("otel",)


def floors(pyproject: Path) -> list[str]:
    """``name==floor[; marker]`` for every entry of ``[project].dependencies`` and of the ``EXTRAS``."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    extras = project.get("optional-dependencies", {})
    dependencies = [*project["dependencies"], *(r for extra in EXTRAS for r in extras.get(extra, []))]
    pins = []
    for requirement in dependencies:
        match = REQUIREMENT.match(requirement)
        if match is None:
            raise SystemExit(f"floors: cannot read the requirement {requirement!r} in {pyproject}")
        name, specifiers, marker = match.groups()
        lower = [s.strip()[2:].strip() for s in specifiers.split(",") if s.strip().startswith(">=")]
        if len(lower) != 1:
            raise SystemExit(f"floors: {name} in {pyproject} needs exactly one '>=' floor, has {specifiers!r}")
        pins.append(f"{name}=={lower[0]}{' ' + marker if marker else ''}")
    return pins


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent / "pyproject.toml"
    print("\n".join(floors(path)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
