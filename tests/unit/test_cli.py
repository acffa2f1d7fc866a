"""The CLI's commands, rendering and exit codes, in process through click's CliRunner.

Commands that call a model get a Core over ScriptedCompletion through the
CliWiring seam (click's ``obj``); nothing is patched. The CLI run as a real
subprocess is in tests/e2e/test_cli.py.
"""
from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from attrs import define, field
from click.testing import CliRunner, Result

from llmcore.adapters.recording_telemetry import NullTelemetry
from llmcore.adapters.scripted_completion import ScriptedCompletion, StreamThenFail
from llmcore.bootstrap import Runtime, build
from llmcore.domain.chat import ChatResponse, ParamAdjustment, StreamChunk
from llmcore.domain.errors import QuotaExceededError, StreamIncompleteError
from llmcore.domain.usage import Prices, Usage
from llmcore.entrypoints import cli_render as render
from llmcore.entrypoints.cli import CliWiring, cli
from llmcore.entrypoints.proxy_options import EXIT_DRAIN_INCOMPLETE, ProxyOptions

GROK = "grok-code-fast-1"


@define
class Recorder:
    """Stands in for the builders the CLI would otherwise import: records what it was handed."""

    scripted: ScriptedCompletion = field(factory=ScriptedCompletion)
    telemetry_passed: list[Any] = field(factory=list)
    logging_calls: list[tuple[str, bool, list[object]]] = field(factory=list)
    proxy_calls: list[tuple[Runtime, str, int]] = field(factory=list)
    proxy_options: list[ProxyOptions] = field(factory=list)
    workers_calls: list[tuple[ProxyOptions, Path | None, dict[str, str], str]] = field(factory=list)
    serve_exit: int = 0
    smoke_calls: list[bool] = field(factory=list)
    smoke_exit: int = 0

    def core(self, path: Path | None, env: Mapping[str, str], telemetry: Any = None) -> Any:
        self.telemetry_passed.append(telemetry)
        return build(path, env, completion=self.scripted, telemetry=telemetry, retry=False)

    def runtime(self, path: Path | None, env: Mapping[str, str]) -> Runtime:
        return Runtime(core=self.core(path, env), metrics=None, logs=None)

    def logging(self, level: str, json_logs: bool, secrets: Sequence[object]) -> None:
        self.logging_calls.append((level, json_logs, list(secrets)))

    def proxy(self, runtime: Runtime, options: ProxyOptions) -> int:
        self.proxy_calls.append((runtime, options.host, options.port))
        self.proxy_options.append(options)
        return self.serve_exit

    def workers(self, options: ProxyOptions, path: Path | None, env: Mapping[str, str], level: str) -> int:
        self.workers_calls.append((options, path, dict(env), level))
        return self.serve_exit

    def smoke(self, json_output: bool) -> int:
        self.smoke_calls.append(json_output)
        return self.smoke_exit


@pytest.fixture(autouse=True)
def no_local_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # discover_config looks for ./llmcore.yaml; the tests choose their config explicitly.
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def run(
    args: Sequence[str], env: Mapping[str, str], recorder: Recorder | None = None, stdin: str | None = None,
) -> Result:
    recorder = recorder or Recorder()
    wiring = CliWiring(
        env=dict(env), core_factory=recorder.core, runtime_factory=recorder.runtime,
        logging_setup=recorder.logging, proxy_server=recorder.proxy, workers_server=recorder.workers,
        smoke_runner=recorder.smoke,
    )
    return CliRunner().invoke(cli, list(args), obj=wiring, input=stdin)


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "models.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def grok_entry(extra_params: str = "", model_info: str = "", name: str = GROK) -> str:
    params = textwrap.indent(textwrap.dedent(extra_params).strip(), " " * 6)
    info = textwrap.indent(textwrap.dedent(model_info).strip(), " " * 6)
    text = f"  - model_name: {name}\n    litellm_params:\n      model: openai/grok-code-fast-1\n"
    if params:
        text += params + "\n"
    if info:
        text += "    model_info:\n" + info + "\n"
    return text


def config_with(tmp_path: Path, *entries: str, top: str = "") -> Path:
    return write_config(tmp_path, top + "model_list:\n" + "".join(entries))


def error_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def assert_no_leak(result: Result, secret: str) -> None:
    assert secret not in result.stdout
    assert secret not in result.stderr


# --- global options ---------------------------------------------------------------------------

def test_version_prints_the_package_version() -> None:
    result = run(["--version"], {})
    assert result.exit_code == 0
    assert result.stdout.strip() == "llmcore 0.1.0"


def test_help_lists_every_command() -> None:
    result = run(["--help"], {})
    assert result.exit_code == 0
    for command in ("chat", "config", "models", "proxy", "smoke"):
        assert command in result.stdout


def test_an_unknown_log_level_is_a_usage_error() -> None:
    result = run(["--log-level", "loud", "models", "list"], {})
    assert result.exit_code == 2
    assert "log level" in result.stderr


def test_an_unknown_log_level_from_the_environment_is_a_usage_error_too() -> None:
    result = run(["models", "list"], {"LLMCORE_LOG_LEVEL": "chatty"})
    assert result.exit_code == 2
    assert "LLMCORE_LOG_LEVEL" in result.stderr


# --- models list --------------------------------------------------------------------------------

def test_models_list_shows_upstream_provider_status_and_lifecycle(canary: str) -> None:
    result = run(["models", "list"], {"GROK_API_KEY": canary})
    assert result.exit_code == 0
    header, row = result.stdout.splitlines()
    assert header.split() == ["ALIAS", "UPSTREAM", "PROVIDER", "STATUS", "LIFECYCLE"]
    assert row.split()[:4] == [GROK, GROK, "xai", "available"]
    assert "upstream 2026-05-15, served by grok-4.3, successor grok-build-0.1" in row
    assert_no_leak(result, canary)


def test_models_list_says_why_a_model_is_unavailable() -> None:
    result = run(["models", "list"], {})
    assert result.exit_code == 0
    assert "unavailable: no API key: set GROK_API_KEY or LLMCORE_API_KEY" in result.stdout


def test_models_list_json_is_a_list_of_model_objects(canary: str) -> None:
    result = run(["models", "list", "--json"], {"GROK_API_KEY": canary})
    models = json.loads(result.stdout)
    assert [m["alias"] for m in models] == [GROK]
    assert models[0]["available"] is True and models[0]["reason"] is None
    assert models[0]["lifecycle"]["successor"] == "grok-build-0.1"
    assert models[0]["capabilities"]["reasoning"] is True


def test_the_global_json_flag_works_before_the_command(canary: str) -> None:
    result = run(["--json", "models", "list"], {"GROK_API_KEY": canary})
    assert json.loads(result.stdout)[0]["alias"] == GROK


def test_models_list_with_an_empty_model_list_says_so(tmp_path: Path) -> None:
    path = write_config(tmp_path, "model_list: []\n")
    result = run(["--config", str(path), "models", "list"], {})
    assert result.exit_code == 0
    assert result.stdout.strip() == "no models configured"


def test_models_list_with_a_bad_config_lists_every_problem_and_exits_2(tmp_path: Path) -> None:
    path = write_config(tmp_path, """\
        model_list:
          - model_name: one
            litellm_params:
              model: openai/grok-code-fast-1
              timeout: -1
              tmeout: 3
          - model_name: two
            litellm_params:
              model: anthropic/claude
              drop_params: maybe
    """)
    result = run(["--config", str(path), "models", "list"], {})
    assert result.exit_code == 2
    lines = error_lines(result)
    assert len(lines) == 3
    assert all(line.startswith(f"error: {path}: ") for line in lines)
    assert "Traceback" not in result.stderr


def test_a_missing_config_file_is_a_config_error(tmp_path: Path) -> None:
    result = run(["--config", str(tmp_path / "absent.yaml"), "models", "list"], {})
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_llmcore_config_names_the_file_when_no_option_does(tmp_path: Path, canary: str) -> None:
    path = config_with(tmp_path, grok_entry(name="team-grok"))
    result = run(["models", "list"], {"LLMCORE_CONFIG": str(path), "GROK_API_KEY": canary})
    assert "team-grok" in result.stdout


# --- models show --------------------------------------------------------------------------------

def test_models_show_prints_every_rule_and_where_values_came_from(canary: str) -> None:
    result = run(["models", "show", GROK], {"GROK_API_KEY": canary})
    assert result.exit_code == 0
    out = result.stdout
    assert_no_leak(result, canary)
    assert f"xai-…{canary[-4:]}  (from env GROK_API_KEY)" in out
    assert "https://api.x.ai/v1  (from default)" in out
    assert "dropped: stop: xAI answers HTTP 400" in out
    assert "dropped: presence_penalty:" in out
    assert "name is stripped from non-user messages" in out
    assert "2 retries after the first try" in out
    assert "Retry-After capped at 60 s" in out
    assert "$1.25 input, $2.50 output" in out
    assert "300 s" in out
    assert "streaming, reasoning, tools" in out and "not: vision" in out
    assert "served by grok-4.3" in out
    assert "drop_params    true  (from default)" in out


def test_models_show_json_masks_the_key_and_names_sources(canary: str) -> None:
    result = run(["models", "show", GROK, "--json"], {"GROK_API_KEY": canary})
    document = json.loads(result.stdout)
    assert document["api_key"] == f"xai-…{canary[-4:]}"
    assert document["api_key_source"] == "env GROK_API_KEY"
    assert document["base_url_source"] == "default"
    assert document["prices_per_million_tokens"] == {"input": 1.25, "output": 2.5, "cached_input": None}
    assert {"param": "stop", "reason": "xAI answers HTTP 400 to it for reasoning models"} in (
        document["param_rules"]["drop"])
    assert document["retry"]["max_retries"] == 2
    assert_no_leak(result, canary)


def test_models_show_reports_refusals_renames_and_environments(tmp_path: Path, canary: str) -> None:
    path = config_with(tmp_path, grok_entry(
        "drop_params: false\nmax_retries: 4\nstream_timeout: 30",
        "environments: [prod]\nparam_rules:\n  rename:\n    max_tokens: max_completion_tokens",
    ))
    result = run(["--config", str(path), "models", "show", GROK], {"GROK_API_KEY": canary, "LLMCORE_ENV": "dev"})
    out = result.stdout
    assert "refused (drop_params is off): stop" in out
    assert "renamed: max_tokens -> max_completion_tokens" in out
    assert "environments   prod" in out
    assert "unavailable: not enabled in environment 'dev'" in out
    assert "4 retries" in out
    assert "streams: 30 s" in out


def test_models_show_an_openai_compatible_model_without_rules(tmp_path: Path, canary: str) -> None:
    path = write_config(tmp_path, """\
        model_list:
          - model_name: local
            litellm_params:
              model: openai/qwen
              api_base: http://127.0.0.1:8000/v1
              api_key: os.environ/LOCAL_KEY
            model_info:
              max_output_tokens: 4096
    """)
    result = run(["--config", str(path), "models", "show", "local"], {"LOCAL_KEY": canary})
    assert result.exit_code == 0
    assert "no params dropped" in result.stdout
    assert "max output 4096 tokens" in result.stdout
    assert "prices         unknown" in result.stdout
    assert "(from entry (os.environ/LOCAL_KEY))" in result.stdout
    assert "name is stripped" not in result.stdout


def test_models_show_an_unknown_alias_exits_2_and_lists_the_known_ones(canary: str) -> None:
    result = run(["models", "show", "gpt-9"], {"GROK_API_KEY": canary})
    assert result.exit_code == 2
    assert error_lines(result) == [
        "error: unknown model 'gpt-9': configured models are grok-code-fast-1; "
        "add an entry to model_list in the config file to serve another"
    ]


# --- config check -------------------------------------------------------------------------------

def test_config_check_lists_every_problem_one_per_line_and_exits_2(tmp_path: Path) -> None:
    path = write_config(tmp_path, """\
        model_lst: []
        litellm_settings:
          drop_params: maybe
    """)
    result = run(["--config", str(path), "config", "check"], {})
    assert result.exit_code == 2
    lines = error_lines(result)
    assert len(lines) >= 3, lines
    assert any("model_list" in line and "required" in line for line in lines)
    assert any("drop_params" in line for line in lines)
    assert result.stdout == ""


def test_config_check_json_reports_the_problems(tmp_path: Path) -> None:
    path = write_config(tmp_path, "model_list: 3\n")
    result = run(["--config", str(path), "config", "check", "--json"], {})
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert document["ok"] is False
    assert document["source"] == str(path)
    assert document["problems"] == ["model_list: expected a list of model entries, got int"]


@pytest.mark.parametrize(("entry_params", "env_names", "key_source", "base_source"), [
    ("api_key: os.environ/TEAM_KEY\napi_base: os.environ/TEAM_URL", ("TEAM_KEY", "GROK_API_KEY", "LLMCORE_API_KEY"),
     "entry (os.environ/TEAM_KEY)", "entry (os.environ/TEAM_URL)"),
    ("", ("GROK_API_KEY", "LLMCORE_API_KEY"), "env GROK_API_KEY", "default"),
    ("", ("LLMCORE_API_KEY",), "env LLMCORE_API_KEY", "default"),
])
def test_config_check_shows_the_source_of_each_value(
    tmp_path: Path, canary: str, entry_params: str, env_names: tuple[str, ...], key_source: str, base_source: str,
) -> None:
    path = config_with(tmp_path, grok_entry(entry_params))
    env = {name: canary for name in env_names} | {"TEAM_URL": "http://127.0.0.1:9/v1"}
    result = run(["--config", str(path), "config", "check"], env)
    assert result.exit_code == 0
    assert f"api key   xai-…{canary[-4:]}  (from {key_source})" in result.stdout
    assert f"(from {base_source})" in result.stdout
    assert_no_leak(result, canary)


def test_config_check_base_url_from_the_model_env_var(tmp_path: Path, canary: str) -> None:
    env = {"GROK_API_KEY": canary, "GROK_BASE_URL": "http://127.0.0.1:9/v1", "LLMCORE_BASE_URL": "http://x/v1"}
    result = run(["config", "check"], env)
    assert "base URL  http://127.0.0.1:9/v1  (from env GROK_BASE_URL)" in result.stdout


def test_config_check_names_the_built_in_catalog_when_there_is_no_file(canary: str) -> None:
    result = run(["config", "check"], {"GROK_API_KEY": canary})
    assert "config: built-in catalog (no --config, LLMCORE_CONFIG or ./llmcore.yaml)" in result.stdout


def test_config_check_warns_about_literal_keys_and_litellm_only_settings(tmp_path: Path, canary: str) -> None:
    path = config_with(tmp_path, grok_entry(f"api_key: {canary}\nmax_parallel_requests: 10"))
    result = run(["--config", str(path), "config", "check"], {})
    assert result.exit_code == 0
    warnings = [line for line in result.stdout.splitlines() if line.startswith("warning: ")]
    assert any("literal key" in w for w in warnings)
    assert any("max_parallel_requests" in w for w in warnings)
    assert "(from entry (literal))" in result.stdout
    assert_no_leak(result, canary)


def test_config_check_exits_0_when_a_model_lacks_credentials_and_says_why(tmp_path: Path, canary: str) -> None:
    path = config_with(tmp_path, grok_entry(), grok_entry("api_key: os.environ/MISSING_KEY", name="other"))
    result = run(["--config", str(path), "config", "check"], {"GROK_API_KEY": canary})
    assert result.exit_code == 0
    assert "other (grok-code-fast-1): unavailable: litellm_params.api_key refers to os.environ/MISSING_KEY" in (
        result.stdout)
    assert "note: credentials are missing or malformed for other" in result.stderr


def test_config_check_strict_exits_2_when_a_model_lacks_credentials(tmp_path: Path) -> None:
    result = run(["config", "check", "--strict"], {"GROK_API_KEY": "   "})
    assert result.exit_code == 2
    assert "only whitespace" in result.stdout
    assert "error: --strict: credentials are missing or malformed for grok-code-fast-1" in result.stderr


def test_config_check_strict_passes_when_every_credential_is_usable(canary: str) -> None:
    result = run(["config", "check", "--strict"], {"GROK_API_KEY": canary})
    assert result.exit_code == 0
    assert result.stderr == ""


def test_config_check_strict_ignores_a_model_switched_off_for_this_environment(tmp_path: Path, canary: str) -> None:
    path = config_with(tmp_path, grok_entry(model_info="environments: [prod]"))
    result = run(["--config", str(path), "config", "check", "--strict"], {"GROK_API_KEY": canary, "LLMCORE_ENV": "dev"})
    assert result.exit_code == 0
    assert "environment: dev" in result.stdout
    assert "not enabled in environment 'dev'" in result.stdout


def test_config_check_masks_the_master_key_and_fails_strict_on_a_broken_one(tmp_path: Path, canary: str) -> None:
    path = config_with(tmp_path, grok_entry(), top="general_settings:\n  master_key: os.environ/PROXY_KEY\n")
    env = {"GROK_API_KEY": canary, "PROXY_KEY": "sk-" + canary}
    ok = run(["--config", str(path), "config", "check", "--strict"], env)
    assert ok.exit_code == 0
    assert f"master key: sk-…{canary[-4:]}" in ok.stdout
    assert_no_leak(ok, canary)
    broken = run(["--config", str(path), "config", "check", "--strict"], {"GROK_API_KEY": canary})
    assert broken.exit_code == 2
    assert "master key: unusable: general_settings.master_key refers to os.environ/PROXY_KEY" in broken.stdout
    assert "for the master key" in broken.stderr


def test_config_check_json_lists_models_sources_and_warnings(tmp_path: Path, canary: str) -> None:
    path = config_with(tmp_path, grok_entry("tpm: 5\nmax_parallel_requests: 2"))
    result = run(["--config", str(path), "--json", "config", "check", "--strict"], {"GROK_API_KEY": canary})
    document = json.loads(result.stdout)
    assert document["ok"] is True
    [model] = document["models"]
    assert {k: model[k] for k in ("alias", "upstream", "provider", "litellm_model", "available", "reason", "api_key",
                                  "api_key_source", "base_url", "base_url_source")} == {
        "alias": GROK, "upstream": GROK, "provider": "xai", "litellm_model": f"openai/{GROK}", "available": True,
        "reason": None, "api_key": f"xai-…{canary[-4:]}", "api_key_source": "env GROK_API_KEY",
        "base_url": "https://api.x.ai/v1", "base_url_source": "default",
    }
    assert model["deployment"]["tpm"] == 5
    assert model["sources"]["defaults"] == f"built-in catalog ({GROK})"
    assert any("max_parallel_requests" in w for w in document["warnings"])
    assert document["master_key"] is None


# --- chat ---------------------------------------------------------------------------------------

def test_chat_streams_the_answer_to_stdout_and_the_usage_to_stderr(recorder: Recorder, canary: str) -> None:
    result = run(["chat", GROK, "hello"], {"GROK_API_KEY": canary}, recorder)
    assert result.exit_code == 0
    assert result.stdout == "scripted reply\n"
    assert "thinking" not in result.stdout + result.stderr
    assert "usage: 12 prompt + 3 completion + 5 reasoning = 20 tokens; cost $0.000035 (from the configured prices)" in (
        result.stderr)
    assert recorder.scripted.requests[0].messages_as_dicts() == [{"role": "user", "content": "hello"}]
    assert_no_leak(result, canary)


def test_chat_no_stream_asks_for_one_completion(recorder: Recorder, canary: str) -> None:
    recorder.scripted.enqueue(ChatResponse(
        content="one answer", reasoning_content="hmm", finish_reason="stop", model=GROK,
        usage=Usage(prompt_tokens=10, completion_tokens=2, reasoning_tokens=4), cost_in_usd_ticks=1_000_000,
    ))
    result = run(["chat", GROK, "hello", "--no-stream"], {"GROK_API_KEY": canary}, recorder)
    assert result.exit_code == 0
    assert result.stdout == "one answer\n"
    assert "cost $0.0001 (reported by the upstream)" in result.stderr


def test_chat_sends_the_system_message_and_json_or_text_params(recorder: Recorder, canary: str) -> None:
    args = ["chat", GROK, "hello", "--system", "be brief", "--param", "temperature=0.2",
            "--param", "user=alice", "--param", 'metadata={"team": "core"}', "--param", "seed=7"]
    result = run(args, {"GROK_API_KEY": canary}, recorder)
    assert result.exit_code == 0, result.stderr
    request = recorder.scripted.requests[0]
    assert request.messages_as_dicts() == [
        {"role": "system", "content": "be brief"}, {"role": "user", "content": "hello"}]
    assert dict(request.params) == {"temperature": 0.2, "user": "alice", "metadata": {"team": "core"}, "seed": 7}


def test_chat_notes_each_dropped_param_and_never_sends_it(recorder: Recorder, canary: str) -> None:
    result = run(["chat", GROK, "hi", "--param", 'stop=["x"]', "--param", "presence_penalty=0"],
                 {"GROK_API_KEY": canary}, recorder)
    assert result.exit_code == 0
    assert "note: dropped stop (xAI answers HTTP 400 to it for reasoning models)" in result.stderr
    assert "note: dropped presence_penalty (" in result.stderr
    assert "stop" not in recorder.scripted.requests[0].params


def test_chat_reads_the_prompt_from_stdin(recorder: Recorder, canary: str) -> None:
    result = run(["chat", GROK, "-", "--no-stream"], {"GROK_API_KEY": canary}, recorder, stdin="from a pipe\n")
    assert result.exit_code == 0
    assert recorder.scripted.requests[0].messages[0].content == "from a pipe\n"


def test_chat_refuses_an_empty_prompt(recorder: Recorder, canary: str) -> None:
    result = run(["chat", GROK, "-"], {"GROK_API_KEY": canary}, recorder, stdin="  \n")
    assert result.exit_code == 2
    assert "the prompt is empty" in result.stderr
    assert recorder.scripted.requests == []


def test_chat_show_reasoning_prints_it_on_stderr_only(recorder: Recorder, canary: str) -> None:
    for extra in ([], ["--no-stream"]):
        result = run(["chat", GROK, "hi", "--show-reasoning", *extra], {"GROK_API_KEY": canary}, recorder)
        assert result.exit_code == 0
        assert result.stderr.startswith("thinking\n")
        assert result.stdout == "scripted reply\n"


def test_chat_keeps_a_broken_streams_partial_text_warns_and_exits_1(recorder: Recorder, canary: str) -> None:
    broken = StreamIncompleteError("the connection broke", reason="connection_lost", provider="xai", model=GROK)
    recorder.scripted.enqueue(StreamThenFail([StreamChunk(content="half an ans", model=GROK)], broken))
    result = run(["chat", GROK, "hi"], {"GROK_API_KEY": canary}, recorder)
    assert result.exit_code == 1
    assert result.stdout == "half an ans\n"
    assert "warning: stream incomplete: the upstream connection broke before the stream finished" in result.stderr
    assert "usage: not reported by the upstream" in result.stderr
    assert "Traceback" not in result.stderr


def test_chat_upstream_error_is_one_line_and_exit_1(recorder: Recorder, canary: str) -> None:
    recorder.scripted.enqueue(QuotaExceededError(
        "no credits left", status_code=429, provider="xai", model=GROK, upstream_text="used all available\ncredits",
    ))
    result = run(["chat", GROK, "hi"], {"GROK_API_KEY": canary}, recorder)
    assert result.exit_code == 1
    assert error_lines(result) == [
        "error: no credits left (HTTP 429 from xai for grok-code-fast-1) upstream said: used all available credits "
        "- add credits or raise the spending limit in the provider's console"
    ]


def test_chat_shows_the_traceback_at_debug_level(recorder: Recorder, canary: str) -> None:
    recorder.scripted.enqueue(QuotaExceededError("no credits left", status_code=429))
    result = run(["--log-level", "debug", "chat", GROK, "hi", "--no-stream"], {"GROK_API_KEY": canary}, recorder)
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert error_lines(result)[-1].startswith("error: no credits left")


def test_chat_takes_the_traceback_level_from_the_environment(recorder: Recorder, canary: str) -> None:
    recorder.scripted.enqueue(QuotaExceededError("no credits left", status_code=429))
    result = run(["chat", GROK, "hi"], {"GROK_API_KEY": canary, "LLMCORE_LOG_LEVEL": "trace"}, recorder)
    assert "Traceback" in result.stderr
    assert recorder.logging_calls[0][0] == "TRACE"


def test_an_unexpected_error_is_one_line_with_a_hint(canary: str) -> None:
    def broken_factory(path: Path | None, env: Mapping[str, str], telemetry: Any = None) -> Any:
        raise RuntimeError("disk on fire")

    wiring = CliWiring(env={"GROK_API_KEY": canary}, core_factory=broken_factory, logging_setup=Recorder().logging)
    result = CliRunner().invoke(cli, ["chat", GROK, "hi"], obj=wiring)
    assert result.exit_code == 1
    assert error_lines(result) == [
        "error: unexpected RuntimeError: disk on fire (rerun with --log-level debug to see the traceback)"]


@pytest.mark.parametrize(("args", "env_key", "message"), [
    (["chat", "gpt-9", "hi"], True, "unknown model 'gpt-9'"),
    (["chat", GROK, "hi"], False, "model 'grok-code-fast-1' is unavailable: no API key"),
    (["chat", GROK, "hi", "--param", "temperature"], True, "'temperature' is not KEY=VALUE"),
    (["chat", GROK, "hi", "--param", "=3"], True, "is not KEY=VALUE"),
    (["chat", GROK, "hi", "--param", "model=x"], True, "'model' is set by llmcore chat itself"),
    (["chat", GROK, "hi", "--param", "no_such_param=1", "--no-stream"], True, None),
])
def test_chat_usage_and_model_errors_exit_2(
    recorder: Recorder, canary: str, args: list[str], env_key: bool, message: str | None,
) -> None:
    result = run(args, {"GROK_API_KEY": canary} if env_key else {}, recorder)
    if message is None:  # dropped, with a note, since drop_params is on
        assert result.exit_code == 0
        assert "note: dropped no_such_param (not an OpenAI chat-completions parameter)" in result.stderr
        return
    assert result.exit_code == 2
    assert message in result.stderr
    assert recorder.scripted.requests == []


def test_chat_refuses_an_unsupported_param_when_drop_params_is_off(
    tmp_path: Path, recorder: Recorder, canary: str,
) -> None:
    path = config_with(tmp_path, grok_entry("drop_params: false"))
    result = run(["--config", str(path), "chat", GROK, "hi", "--param", 'stop=["x"]'], {"GROK_API_KEY": canary},
                 recorder)
    assert result.exit_code == 2
    assert error_lines(result) == [
        "error: model 'grok-code-fast-1' does not support parameter 'stop' (xAI answers HTTP 400 to it for "
        "reasoning models); remove it from the request, or set drop_params: true to have it dropped"]


def test_chat_json_prints_one_document(recorder: Recorder, canary: str) -> None:
    result = run(["chat", GROK, "hi", "--json", "--param", 'stop=["x"]'], {"GROK_API_KEY": canary}, recorder)
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["content"] == "scripted reply"
    assert document["reasoning_content"] == "thinking"
    assert document["complete"] is True
    assert document["usage"]["total_tokens"] == 20
    assert document["adjustments"][0]["param"] == "stop"
    assert "usage:" not in result.stderr


def test_chat_prints_served_by_warnings_and_tool_calls(recorder: Recorder, canary: str) -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}
    recorder.scripted.enqueue(ChatResponse(content=None, tool_calls=(call,), finish_reason="tool_calls",
                                           model="grok-4.3"))
    result = run(["chat", GROK, "hi", "--no-stream"], {"GROK_API_KEY": canary}, recorder)
    assert result.exit_code == 0
    assert result.stdout == f"tool call: {json.dumps(call)}\n"
    assert "warning: grok-code-fast-1: asked for grok-code-fast-1, the upstream answered as grok-4.3" in result.stderr


def test_chat_joins_streamed_tool_call_fragments(recorder: Recorder, canary: str) -> None:
    fragments = (
        {"index": 0, "id": "call_1", "type": "function", "function": {"name": "weather", "arguments": '{"ci'}},
        {"index": 0, "function": {"arguments": 'ty": "Lisbon"}'}},
    )
    recorder.scripted.enqueue([StreamChunk(tool_calls=fragments[:1], model=GROK),
                               StreamChunk(tool_calls=fragments[1:], model=GROK),
                               StreamChunk(finish_reason="tool_calls", model=GROK)])
    result = run(["chat", GROK, "weather?", "--json"], {"GROK_API_KEY": canary}, recorder)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["tool_calls"] == [
        {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Lisbon"}'}}]


def test_chat_configures_masked_logging_and_silences_duplicate_event_logs_by_default(
    recorder: Recorder, canary: str,
) -> None:
    run(["chat", GROK, "hi"], {"GROK_API_KEY": canary}, recorder)
    level, json_logs, secrets = recorder.logging_calls[0]
    assert (level, json_logs) == ("WARNING", False)
    assert [s.reveal() for s in secrets] == [canary]
    assert isinstance(recorder.telemetry_passed[0], NullTelemetry)


def test_chat_keeps_the_library_event_logs_when_logs_are_asked_for(recorder: Recorder, canary: str) -> None:
    run(["--log-level", "info", "chat", GROK, "hi"], {"GROK_API_KEY": canary}, recorder)
    run(["chat", GROK, "hi"], {"GROK_API_KEY": canary, "LLMCORE_LOG_JSON": "1"}, recorder)
    assert recorder.telemetry_passed == [None, None]
    assert [call[:2] for call in recorder.logging_calls] == [("INFO", False), ("WARNING", True)]


def test_chat_logs_through_the_real_masked_sink_on_stderr_when_asked(recorder: Recorder, canary: str) -> None:
    from llmcore.adapters.log_setup import reset_logging

    wiring = CliWiring(env={"GROK_API_KEY": canary}, core_factory=recorder.core)
    try:
        result = CliRunner().invoke(cli, ["--log-level", "info", "chat", GROK, f"say {canary}",
                                          "--param", 'stop=["x"]'], obj=wiring)
    finally:
        reset_logging()
    assert result.exit_code == 0
    log_lines = [line for line in result.stderr.splitlines() if " | INFO | " in line]
    assert any("param_dropped" in line and "param=stop" in line for line in log_lines)
    assert_no_leak(result, canary)


# --- proxy and smoke ----------------------------------------------------------------------------

def test_proxy_builds_the_runtime_configures_logging_and_serves(
    recorder: Recorder, tmp_path: Path, canary: str,
) -> None:
    path = config_with(tmp_path, grok_entry(), top="general_settings:\n  master_key: os.environ/PROXY_KEY\n")
    env = {"GROK_API_KEY": canary, "PROXY_KEY": "sk-proxy-" + canary}
    result = run(["--config", str(path), "--log-json", "proxy", "--host", "0.0.0.0", "--port", "8080"], env, recorder)
    assert result.exit_code == 0, result.stderr
    runtime, host, port = recorder.proxy_calls[0]
    assert (host, port) == ("0.0.0.0", 8080)
    assert [m.alias for m in runtime.core.models()] == [GROK]
    level, json_logs, secrets = recorder.logging_calls[0]
    assert json_logs is True
    assert sorted(s.reveal() for s in secrets) == sorted([canary, "sk-proxy-" + canary])


def test_proxy_defaults_to_loopback_port_4000_and_info_logs(recorder: Recorder, canary: str) -> None:
    run(["proxy"], {"GROK_API_KEY": canary}, recorder)
    assert recorder.proxy_calls[0][1:] == ("127.0.0.1", 4000)
    assert recorder.logging_calls[0][0] == "INFO"


def test_proxy_takes_the_log_level_from_the_environment(recorder: Recorder, canary: str) -> None:
    run(["proxy"], {"GROK_API_KEY": canary, "LLMCORE_LOG_LEVEL": "error"}, recorder)
    assert recorder.logging_calls[0][0] == "ERROR"


def test_proxy_refuses_a_port_out_of_range(recorder: Recorder) -> None:
    result = run(["proxy", "--port", "70000"], {}, recorder)
    assert result.exit_code == 2
    assert recorder.proxy_calls == []


def test_proxy_with_a_bad_config_exits_2_before_serving(recorder: Recorder, tmp_path: Path) -> None:
    path = write_config(tmp_path, "model_list: {}\n")
    result = run(["--config", str(path), "proxy"], {}, recorder)
    assert result.exit_code == 2
    assert recorder.proxy_calls == []


def test_proxy_serves_one_process_by_default_with_the_drain_grace_of_10_s(recorder: Recorder, canary: str) -> None:
    result = run(["proxy"], {"GROK_API_KEY": canary}, recorder)
    assert result.exit_code == 0
    assert recorder.proxy_options == [ProxyOptions()]
    assert recorder.proxy_options[0].grace_seconds == 10.0 and recorder.workers_calls == []


def test_proxy_exit_code_says_the_drain_did_not_complete(recorder: Recorder, canary: str) -> None:
    recorder.serve_exit = EXIT_DRAIN_INCOMPLETE
    assert run(["proxy"], {"GROK_API_KEY": canary}, recorder).exit_code == 5
    assert run(["proxy", "--workers", "2"], {"GROK_API_KEY": canary}, recorder).exit_code == 5


def test_proxy_with_workers_hands_every_option_to_the_workers_server_and_builds_no_runtime(
    recorder: Recorder, tmp_path: Path, canary: str,
) -> None:
    path = config_with(tmp_path, grok_entry())
    result = run(["--config", str(path), "--log-level", "debug", "proxy", "--workers", "3", "--grace-seconds", "2.5",
                  "--no-preload", "--access-log", "--host", "0.0.0.0", "--port", "8080"],
                 {"GROK_API_KEY": canary}, recorder)
    assert result.exit_code == 0, result.stderr
    options, config_path, env, level = recorder.workers_calls[0]
    assert options == ProxyOptions(host="0.0.0.0", port=8080, workers=3, grace_seconds=2.5, preload=False,
                                   access_log=True)
    assert (config_path, env["GROK_API_KEY"], level) == (path, canary, "DEBUG")
    assert recorder.proxy_calls == [] and recorder.telemetry_passed == []  # the workers build their own
    assert recorder.logging_calls and canary in [s.reveal() for s in recorder.logging_calls[0][2]]


def test_proxy_workers_auto_is_the_cpus_this_process_may_use(recorder: Recorder, canary: str) -> None:
    run(["proxy", "--workers", "auto"], {"GROK_API_KEY": canary}, recorder)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if cpus == 1:
        assert recorder.proxy_options[0].workers == 1
    else:
        assert recorder.workers_calls[0][0].workers == cpus


@pytest.mark.parametrize(("value", "says"), [("0", "use 1 or more"), ("two", "neither a whole number"),
                                             ("-1", "use 1 or more"), ("100000", "more than the")])
def test_proxy_refuses_a_worker_count_it_cannot_serve(recorder: Recorder, value: str, says: str) -> None:
    result = run(["proxy", "--workers", value], {}, recorder)
    assert result.exit_code == 2 and says in result.stderr
    assert recorder.proxy_calls == [] and recorder.workers_calls == []


def test_proxy_refuses_a_negative_grace(recorder: Recorder) -> None:
    result = run(["proxy", "--grace-seconds", "-1"], {}, recorder)
    assert result.exit_code == 2 and "--grace-seconds" in result.stderr


def test_proxy_with_workers_and_a_bad_config_exits_2_before_serving(recorder: Recorder, tmp_path: Path) -> None:
    path = write_config(tmp_path, "model_list: {}\n")
    result = run(["--config", str(path), "proxy", "--workers", "2"], {}, recorder)
    assert result.exit_code == 2
    assert recorder.workers_calls == []


@pytest.mark.parametrize(("args", "wants_json"), [(["smoke"], False), (["smoke", "--json"], True),
                                                  (["--json", "smoke"], True)])
def test_smoke_runs_and_exits_with_its_code(recorder: Recorder, args: list[str], wants_json: bool) -> None:
    recorder.smoke_exit = 1
    result = run(args, {}, recorder)
    assert result.exit_code == 1
    assert recorder.smoke_calls == [wants_json]


# --- rendering ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("usd", "text"), [(2.5, "$2.50"), (1.25, "$1.25"), (0.00076625, "$0.00076625"),
                                           (0.0, "$0.00"), (12.0, "$12.00")])
def test_money_shows_cents_and_only_the_sub_cent_digits_there_are(usd: float, text: str) -> None:
    assert render.money(usd) == text


def test_usage_line_names_cached_tokens_and_unknown_cost() -> None:
    usage = Usage(prompt_tokens=10, cached_tokens=4, completion_tokens=1, reasoning_tokens=2)
    assert render.usage_line(usage) == (
        "usage: 10 prompt (4 cached) + 1 completion + 2 reasoning = 13 tokens; "
        "cost unknown (no prices configured for this model)")


@pytest.mark.parametrize(("adjustment", "text"), [
    (ParamAdjustment(param="max_tokens", action="renamed", new_name="max_completion_tokens", reason="takes it"),
     "note: renamed max_tokens to max_completion_tokens (takes it)"),
    (ParamAdjustment(param="messages[0].name", action="transformed", reason="only user messages"),
     "note: transformed messages[0].name (only user messages)"),
])
def test_adjustment_notices(adjustment: ParamAdjustment, text: str) -> None:
    assert render.adjustment_notice(adjustment) == text


def test_table_pads_all_but_the_last_column() -> None:
    assert render.table(("A", "BB", "C"), [("xxx", "y", "a long last cell")]) == (
        "A    BB  C\nxxx  y   a long last cell")


def test_prices_without_a_known_price_say_so() -> None:
    assert render.prices_text(Prices()) == "unknown (cost cannot be computed for streams)"


def test_models_show_lists_each_deployment_masked_with_its_availability(canary: str) -> None:
    from llmcore.domain.model_spec import Credentials, Deployment, ModelSpec
    from llmcore.domain.registry import ModelRegistry
    from llmcore.domain.secret import Secret

    registry = ModelRegistry([
        ModelSpec(alias="m", upstream_model="gpt-x", deployment=Deployment(id="east", weight=3),
                  credentials=Credentials(api_key=Secret(canary), base_url="https://east.example/v1")),
        ModelSpec(alias="m", upstream_model="gpt-x", deployment=Deployment(id="west", weight=1),
                  credentials=Credentials(base_url="https://west.example/v1")),
    ])
    spec, status = registry.spec("m"), registry.status("m")

    text = render.model_detail(spec, status)
    document = render.spec_document(spec, status)

    assert canary not in text and canary not in json.dumps(document)
    assert f"east: gpt-x at east.example, key {Secret(canary)}, weight 3: available" in text
    assert "west: gpt-x at west.example, key none, weight 1: unavailable" in text
    assert [(d["id"], d["available"]) for d in document["deployments"]] == [("east", True), ("west", False)]
