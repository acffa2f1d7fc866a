"""Every command the docs show is exercised: docs that drift are worse than none.

``llmcore`` commands from the bash blocks of README.md and docs/ run as subprocesses against the
fake xAI server with a stub key; Python blocks run against it too. Commands that are exercised
elsewhere (long-running servers, installs, CI itself) are listed with the test that covers them;
a new command in the docs fails this test until it is run here or listed.
"""
import os
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from llmcore.testing.fake_xai import FakeXAIServer

ROOT = Path(__file__).parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```(bash|python)\n(.*?)```", re.S)

# Shown in the docs, exercised elsewhere.
COVERED_ELSEWHERE = {
    "llmcore proxy": "tests/e2e/test_proxy.py and tests/e2e/test_cli.py (a running server); with --workers, "
                     "tests/e2e/test_proxy_workers.py",
    "llmcore smoke": "tests/e2e/test_smoke.py; README's main job",
    "python3 -m venv": "the README set-up commands: .ci/run does the same in a fresh venv",
    "python -m pip install pip-tools": "docs/dependencies.md refresh recipe (needs the registry)",
    "pip-compile": "docs/dependencies.md refresh recipe (needs the registry)",
    "bash .ci/run": "CI itself",
    "python -m benchmarks": "benchmarks/ (not run in tests: they measure, they do not assert)",
    "cp llmcore.example.yaml": "tests/unit/test_config_file.py loads the example",
    "python demo/grok/test_grok_code_fast_1.py": "tests/e2e/test_demo.py",
    "docker ": "tests/deploy/test_deploy_docs.py (no Docker engine here: names and paths checked against deploy/)",
    "kubectl ": "tests/deploy/test_deploy_docs.py (no cluster here: names and paths checked against deploy/)",
    "claude": "tests/e2e/test_messages_proxy.py drives the wire Claude Code speaks (Claude Code is not installed here)",
    "curl -s http://127.0.0.1:4000/v1/messages": "tests/e2e/test_messages_proxy.py (the same request, raw, ?beta=true)",
    "llmcore certify grok-code-fast-1 --out": "tests/security/test_canaries_certify.py (the same command against a "
                                              "fake xAI server configured as the alias's real upstream)",
    "OTEL_TRACES_EXPORTER=otlp": "tests/e2e/test_proxy_traces.py (llmcore proxy with these variables, exporting to a "
                                 "test OTLP receiver)",
}


def blocks(kind):
    for doc in DOCS:
        for lang, body in BLOCK.findall(doc.read_text(encoding="utf-8")):
            if lang == kind:
                yield doc.name, textwrap.dedent(body)


def shell_commands():
    for name, body in blocks("bash"):
        for line in body.replace("\\\n", " ").splitlines():
            command = line.split("  #")[0].strip()
            if command and not command.startswith(("export ", "#")):
                yield pytest.param(command, id=f"{name}: {command[:60]}")


@pytest.fixture(scope="module")
def fake():
    with FakeXAIServer() as server:
        yield server


@pytest.fixture
def docs_env(fake, tmp_path):
    (tmp_path / "llmcore.yaml").write_text((ROOT / "llmcore.example.yaml").read_text())
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GROK", "LLMCORE", "OPENAI"))}
    return {**base, "GROK_API_KEY": "xai-docs-stub-" + "0" * 16, "GROK_BASE_URL": fake.base_url,
            "LLMCORE_MASTER_KEY": "docs-master-stub-0000"}


@pytest.mark.slow
@pytest.mark.parametrize("command", list(shell_commands()))
def test_every_shell_command_in_the_docs_runs(command, docs_env, tmp_path):
    covered = next((why for prefix, why in COVERED_ELSEWHERE.items() if command.startswith(prefix)), None)
    if covered:
        assert (ROOT / covered.split()[0]).exists() or not covered.startswith("tests/"), covered
        return
    argv = shlex.split(command)
    assert argv[0] == "llmcore", f"a command the docs show is neither run here nor listed: {command}"
    result = subprocess.run([sys.executable, "-m", "llmcore.entrypoints.cli", *argv[1:]], cwd=tmp_path,
                            env=docs_env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"


@pytest.mark.slow
@pytest.mark.parametrize("snippet", [pytest.param(body, id=f"{name}#{i}")
                                     for i, (name, body) in enumerate(blocks("python"))])
def test_every_python_snippet_in_the_docs_runs(snippet, docs_env, tmp_path):
    if "OpenAI(base_url=" in snippet:
        # The snippet talks to `llmcore proxy --port 4000`: serve the same config, point it there.
        from llmcore.bootstrap import build_runtime
        from llmcore.entrypoints.proxy_thread import BackgroundProxy

        with BackgroundProxy(build_runtime(tmp_path / "llmcore.yaml", env=docs_env)) as proxy:
            code = snippet.replace("http://127.0.0.1:4000/v1", proxy.base_url).replace(
                "<LLMCORE_MASTER_KEY>", docs_env["LLMCORE_MASTER_KEY"])
            result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=docs_env,
                                    capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"{code}\n{result.stderr}"
        assert "Olá!" in result.stdout
        return
    result = subprocess.run([sys.executable, "-c", snippet], cwd=tmp_path, env=docs_env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, f"{snippet}\n{result.stderr}"
