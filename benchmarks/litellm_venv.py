"""The LiteLLM proxy 1.110.2 in a venv of its own, built the way FACTS.md section 6 says works here.

``pip install 'litellm[proxy]==1.110.2'`` cannot resolve on the registry this project reaches, so:
install ``litellm==1.110.2``, then every requirement of its ``proxy`` extra read from the wheel's
metadata, except ``litellm-proxy`` (not published), with ``litellm-proxy-extras==0.4.110`` and an
unpinned ``litellm-enterprise``. Run alone: ``python -m benchmarks.litellm_venv``.
"""
from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

LITELLM_VERSION = "1.110.2"
VENV_DIR = Path(__file__).resolve().parent / ".venvs" / "litellm-proxy"
OVERRIDES = {"litellm-proxy-extras": "litellm-proxy-extras==0.4.110", "litellm-enterprise": "litellm-enterprise"}
SKIPPED = frozenset({"litellm-proxy"})
INSTALL_TIMEOUT = 900
# Run inside the new venv: the proxy extra's requirements, one per line, without their markers' extra clause.
_READ_EXTRA = r"""
import importlib.metadata, re
for line in importlib.metadata.requires("litellm") or []:
    requirement, _, marker = line.partition(";")
    if re.search(r"extra\s*==\s*['\"]proxy['\"]", marker):
        rest = re.sub(r"(and\s+)?extra\s*==\s*['\"]proxy['\"](\s+and)?", "", marker).strip()
        print(requirement.strip() + (" ; " + rest if rest else ""))
"""


class VenvError(RuntimeError):
    """The LiteLLM proxy venv could not be built; the message says which step failed."""


def python_path() -> Path:
    return VENV_DIR / "bin" / "python"


def litellm_cli() -> Path:
    return VENV_DIR / "bin" / "litellm"


def is_ready() -> bool:
    if not litellm_cli().exists():
        return False
    check = subprocess.run([str(python_path()), "-c", "import litellm.proxy.proxy_server"],
                           capture_output=True, timeout=120, env=_quiet_env())
    return check.returncode == 0


def _quiet_env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env.update(LITELLM_LOCAL_MODEL_COST_MAP="True", LITELLM_TELEMETRY_DISABLED="True")
    return env


def _run(step: str, argv: list[str], log: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, env=_quiet_env())
    except subprocess.TimeoutExpired:
        raise VenvError(f"{step}: timed out after {INSTALL_TIMEOUT} s") from None
    log.append(f"$ {' '.join(argv)}\n{done.stdout[-2000:]}{done.stderr[-4000:]}")
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise VenvError(f"{step} failed (exit {done.returncode}): {' | '.join(tail)}")
    return done.stdout


def proxy_requirements(lines: list[str]) -> list[str]:
    """The proxy extra's requirements with litellm-proxy skipped and the two unpublished pins relaxed."""
    chosen = []
    for line in lines:
        name = line.split(";")[0].strip()
        for sep in ("==", ">=", "<=", "~=", "!=", "<", ">", "[", " ", "("):
            name = name.split(sep)[0]
        name = name.strip().lower().replace("_", "-")
        if not name or name in SKIPPED:
            continue
        chosen.append(OVERRIDES.get(name, line))
    return chosen


def ensure(verbose: bool = False) -> Path:
    """The venv's ``litellm`` console script, building the venv first when it is missing. Raises VenvError."""
    if is_ready():
        return litellm_cli()
    log: list[str] = []
    try:
        if not python_path().exists():
            VENV_DIR.parent.mkdir(parents=True, exist_ok=True)
            venv.EnvBuilder(with_pip=True, clear=True).create(VENV_DIR)
        pip = [str(python_path()), "-m", "pip", "install", "--quiet"]
        _run("pip install litellm", [*pip, f"litellm=={LITELLM_VERSION}"], log)
        lines = _run("reading the proxy extra", [str(python_path()), "-c", _READ_EXTRA], log).splitlines()
        requirements = proxy_requirements([line for line in lines if line.strip()])
        if not requirements:
            raise VenvError("the litellm wheel's metadata lists no requirement for the proxy extra")
        _run("pip install the proxy extra", [*pip, *requirements], log)
        if not is_ready():
            raise VenvError("the venv was built but `import litellm.proxy.proxy_server` fails in it")
    finally:
        VENV_DIR.parent.mkdir(parents=True, exist_ok=True)
        (VENV_DIR.parent / "litellm-proxy-build.log").write_text("\n".join(log), encoding="utf-8")
        if verbose:
            print("\n".join(log))
    return litellm_cli()


def main() -> int:
    try:
        print(f"ready: {ensure(verbose='-v' in sys.argv)}")
    except VenvError as error:
        print(f"cannot build the LiteLLM proxy venv: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
