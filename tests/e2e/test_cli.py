"""The ``llmcore`` CLI run as a real subprocess, with a controlled environment and throwaway config files.

Only GROK_*/LLMCORE_* variables the test sets reach the child (no OPENAI keys,
no LLMCORE_CONFIG, HOME and the working directory in tmp). The key is a canary
made at run time; every test checks that no output of any command contains it.
Commands that call a model talk to the fake xAI server running in this test
process; they import LiteLLM (~3 s each), so there are few of them and they are
marked slow.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from llmcore.testing.fake_xai import FakeXAIServer, Fault

GROK = "grok-code-fast-1"
PROMPT = "Say hi in Portuguese"  # the fake replays xAI's recorded answer to it: "Olá!"
FAST_COMMANDS = (["models", "list"], ["models", "show", GROK], ["config", "check"], ["--help"])


@pytest.fixture
def base_env(tmp_path: Path) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}


@pytest.fixture
def env(base_env: dict[str, str], canary: str) -> dict[str, str]:
    return {**base_env, "GROK_API_KEY": canary}


def llmcore(
    *args: str, env: dict[str, str], cwd: Path, stdin: str | None = None, python_flags: Sequence[str] = (),
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *python_flags, "-m", "llmcore.entrypoints.cli", *args],
        env=env, cwd=cwd, input=stdin, capture_output=True, text=True, encoding="utf-8", timeout=120,
    )


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "llmcore.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def assert_no_leak(result: subprocess.CompletedProcess[str], secret: str) -> None:
    assert secret not in result.stdout
    assert secret not in result.stderr


def imported_modules(importtime_stderr: str) -> set[str]:
    """Module names from ``python -X importtime`` lines: ``import time: self | cumulative | name``."""
    return {
        line.rsplit("|", 1)[-1].strip()
        for line in importtime_stderr.splitlines() if line.startswith("import time:")
    }


# --- fast commands ------------------------------------------------------------------------------

@pytest.mark.parametrize("args", FAST_COMMANDS, ids=" ".join)
def test_fast_commands_answer_without_importing_litellm(
    args: list[str], env: dict[str, str], tmp_path: Path, canary: str,
) -> None:
    result = llmcore(*args, env=env, cwd=tmp_path, python_flags=("-X", "importtime"))
    assert result.returncode == 0, result.stderr
    modules = imported_modules(result.stderr)
    assert "click" in modules  # the probe sees imports at all
    assert not {m for m in modules if m.split(".")[0] in ("litellm", "openai", "aiohttp", "prometheus_client")}
    assert_no_leak(result, canary)


def test_models_list_prints_the_table(env: dict[str, str], tmp_path: Path, canary: str) -> None:
    result = llmcore("models", "list", env=env, cwd=tmp_path)
    assert result.returncode == 0
    header, row = result.stdout.splitlines()
    assert header.split() == ["ALIAS", "UPSTREAM", "PROVIDER", "STATUS", "LIFECYCLE"]
    assert row.split()[:4] == [GROK, GROK, "xai", "available"]
    assert "served by grok-4.3, successor grok-build-0.1" in row
    assert result.stderr == ""
    assert_no_leak(result, canary)


def test_models_show_masks_the_key_and_names_its_source(env: dict[str, str], tmp_path: Path, canary: str) -> None:
    result = llmcore("models", "show", GROK, env=env, cwd=tmp_path)
    assert result.returncode == 0
    assert f"xai-…{canary[-4:]}  (from env GROK_API_KEY)" in result.stdout
    assert "dropped: stop: xAI answers HTTP 400" in result.stdout
    assert_no_leak(result, canary)


def test_models_show_an_unknown_alias_exits_2(env: dict[str, str], tmp_path: Path) -> None:
    result = llmcore("models", "show", "gpt-9", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: unknown model 'gpt-9': configured models are grok-code-fast-1; "
        "add an entry to model_list in the config file to serve another"]


def test_version_and_the_console_script(env: dict[str, str], tmp_path: Path) -> None:
    assert llmcore("--version", env=env, cwd=tmp_path).stdout == "llmcore 0.1.0\n"
    script = Path(sys.executable).with_name("llmcore")
    installed = subprocess.run([str(script), "--version"], env=env, cwd=tmp_path, capture_output=True, text=True,
                               timeout=60)
    assert installed.stdout == "llmcore 0.1.0\n"


def test_a_click_usage_error_exits_2(env: dict[str, str], tmp_path: Path) -> None:
    result = llmcore("models", "frobnicate", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "No such command 'frobnicate'" in result.stderr


def test_a_bad_config_lists_every_problem_and_exits_2(env: dict[str, str], tmp_path: Path, canary: str) -> None:
    write_config(tmp_path, f"""\
        model_list:
          - model_name: one
            litellm_params:
              model: openai/grok-code-fast-1
              api_key: {canary}
              timeout: -5
          - model_name: two
            litellm_params:
              model: nosuchprovider/claude
          - model_name: three
            litellm_params:
              model: openai/grok-code-fast-1
              max_retrys: 3
    """)
    for args in (["config", "check"], ["models", "list"]):
        result = llmcore(*args, env=env, cwd=tmp_path)  # ./llmcore.yaml is found by discovery
        assert result.returncode == 2
        lines = result.stderr.splitlines()
        assert len(lines) == 3, lines
        assert all(line.startswith("error: ") and "llmcore.yaml" in line for line in lines)
        assert "timeout" in lines[0] and "nosuchprovider/claude" in lines[1] and "max_retries" in lines[2]
        assert "Traceback" not in result.stderr
        assert_no_leak(result, canary)


@pytest.mark.parametrize(("api_key", "variables", "source"), [
    ("os.environ/TEAM_GROK_KEY", ("TEAM_GROK_KEY", "GROK_API_KEY", "LLMCORE_API_KEY"),
     "entry (os.environ/TEAM_GROK_KEY)"),
    (None, ("GROK_API_KEY", "LLMCORE_API_KEY"), "env GROK_API_KEY"),
    (None, ("LLMCORE_API_KEY",), "env LLMCORE_API_KEY"),
], ids=["entry", "model-env", "global-env"])
def test_config_check_shows_where_the_key_came_from(
    base_env: dict[str, str], tmp_path: Path, canary: str, api_key: str | None, variables: tuple[str, ...],
    source: str,
) -> None:
    key_line = f"      api_key: {api_key}\n" if api_key else ""
    path = write_config(tmp_path, f"model_list:\n  - model_name: {GROK}\n    litellm_params:\n"
                                  f"      model: openai/grok-code-fast-1\n{key_line}")
    others = {name: "xai-other-" + "0" * 20 for name in variables[1:]}
    result = llmcore("--config", str(path), "config", "check", env={**base_env, **others, variables[0]: canary},
                     cwd=tmp_path)
    assert result.returncode == 0
    assert f"api key   xai-…{canary[-4:]}  (from {source})" in result.stdout
    assert "base URL  https://api.x.ai/v1  (from default)" in result.stdout
    assert_no_leak(result, canary)


def test_config_check_base_url_from_the_model_env_var(env: dict[str, str], tmp_path: Path) -> None:
    env = {**env, "GROK_BASE_URL": "http://127.0.0.1:9/v1", "LLMCORE_BASE_URL": "http://127.0.0.1:8/v1"}
    result = llmcore("config", "check", env=env, cwd=tmp_path)
    assert "base URL  http://127.0.0.1:9/v1  (from env GROK_BASE_URL)" in result.stdout


def test_config_check_reports_a_missing_key_and_strict_makes_it_fail(base_env: dict[str, str], tmp_path: Path) -> None:
    lenient = llmcore("config", "check", env=base_env, cwd=tmp_path)
    assert lenient.returncode == 0
    assert "unavailable: no API key: set GROK_API_KEY or LLMCORE_API_KEY" in lenient.stdout
    strict = llmcore("config", "check", "--strict", env=base_env, cwd=tmp_path)
    assert strict.returncode == 2
    assert strict.stderr.splitlines() == [
        "error: --strict: credentials are missing or malformed for grok-code-fast-1"]


# --- chat against the fake xAI server (imports LiteLLM) -------------------------------------------

@pytest.fixture
def fake_xai(canary: str) -> Iterator[FakeXAIServer]:
    with FakeXAIServer(api_key=canary) as server:
        yield server


@pytest.fixture
def chat_env(env: dict[str, str], fake_xai: FakeXAIServer) -> dict[str, str]:
    return {**env, "GROK_BASE_URL": fake_xai.base_url}


@pytest.mark.slow
def test_chat_streams_and_drops_stop_before_it_reaches_xai(
    chat_env: dict[str, str], fake_xai: FakeXAIServer, tmp_path: Path, canary: str,
) -> None:
    result = llmcore("chat", GROK, PROMPT, "--param", 'stop=["x"]', "--param", "temperature=0.2",
                     env=chat_env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Olá!\n"
    stderr = result.stderr.splitlines()
    assert stderr[0] == "note: dropped stop (xAI answers HTTP 400 to it for reasoning models)"
    assert stderr[-1].startswith("usage: ") and "reasoning" in stderr[-1] and "cost $" in stderr[-1]
    [request] = fake_xai.requests
    assert request.stream is True
    assert "stop" not in request.body_keys
    assert request.body["temperature"] == 0.2
    assert request.key_tail == canary[-4:]
    assert_no_leak(result, canary)


@pytest.mark.slow
def test_chat_no_stream_reads_the_prompt_from_stdin(
    chat_env: dict[str, str], fake_xai: FakeXAIServer, tmp_path: Path, canary: str,
) -> None:
    result = llmcore("chat", GROK, "-", "--no-stream", "--show-reasoning", env=chat_env, cwd=tmp_path, stdin=PROMPT)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Olá!\n"
    assert "Portuguese" in result.stderr  # the reasoning, on stderr
    assert "(reported by the upstream)" in result.stderr.splitlines()[-1]
    [request] = fake_xai.requests
    assert request.stream is False
    assert request.body["messages"] == [{"role": "user", "content": PROMPT}]
    assert_no_leak(result, canary)


@pytest.mark.slow
def test_chat_upstream_failure_is_one_line_and_exit_1(
    chat_env: dict[str, str], fake_xai: FakeXAIServer, tmp_path: Path, canary: str,
) -> None:
    fake_xai.script(Fault.credits_exhausted())
    result = llmcore("chat", GROK, PROMPT, env=chat_env, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("error: ") and "HTTP 429" in line and "add credits" in line
    assert len(fake_xai.requests) == 1  # spent credits are never retried
    assert_no_leak(result, canary)


@pytest.mark.slow
def test_chat_broken_stream_keeps_the_partial_answer_and_exits_1(
    chat_env: dict[str, str], fake_xai: FakeXAIServer, tmp_path: Path, canary: str,
) -> None:
    fake_xai.script(Fault.cut_mid_stream(after_events=1000))  # every delta, then the connection drops
    result = llmcore("chat", GROK, PROMPT, env=chat_env, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == "Olá!\n"
    assert "warning: stream incomplete: the upstream connection broke before the stream finished" in result.stderr
    assert "Traceback" not in result.stderr
    assert_no_leak(result, canary)
