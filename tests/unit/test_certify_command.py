"""``llmcore certify`` without its click shell: refusals before anything is sent, several aliases, output forms."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

import llmcore
from llmcore.adapters.recording_telemetry import RecordingTelemetry
from llmcore.adapters.scripted_completion import ScriptedCompletion
from llmcore.adapters.yaml_config import LoadedConfig
from llmcore.bootstrap import load_config
from llmcore.certify.command import run
from llmcore.certify.runner import MISSING_ALIAS
from llmcore.domain.core import Core
from llmcore.domain.errors import ConfigError, ModelUnavailableError
from tests.unit.test_certify_runner import NOT_FOUND, passing_script

CONFIG = """\
model_list:
  - model_name: grok-a
    litellm_params: {model: openai/grok-code-fast-1, api_key: os.environ/KEY_A}
  - model_name: grok-b
    litellm_params: {model: openai/grok-code-fast-1, api_key: os.environ/KEY_B}
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_key: os.environ/KEY_A}
"""


class Recorder:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.cores: list[LoadedConfig] = []
        self.logging: list[list[Any]] = []
        self.warm_ups = 0

    def build_core(self, config: LoadedConfig) -> Core:
        self.cores.append(config)
        scripted = ScriptedCompletion(passing_script())
        scripted.enqueue(NOT_FOUND, model=MISSING_ALIAS)
        return llmcore.load(None, env={}, config=config, completion=scripted, telemetry=RecordingTelemetry())

    def warm_up(self) -> None:
        self.warm_ups += 1

    def run(self, config: LoadedConfig, aliases: list[str], **options: Any) -> int:
        values: dict[str, Any] = {"budget_usd": 0.05, "out_dir": None, "upstream": "configured", "fake_fault": None,
                                  "json_output": False, **options}
        return run(config=config, env={}, aliases=aliases, build_core=self.build_core,
                   start_logging=lambda secrets: self.logging.append(list(secrets)), echo=self.lines.append,
                   warm_up=self.warm_up, **values)


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LoadedConfig:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "llmcore.yaml"
    path.write_text(textwrap.dedent(CONFIG), encoding="utf-8")
    return load_config(path, {"KEY_A": "xai-unit-" + "a" * 20, "KEY_B": "xai-unit-" + "b" * 20})


def test_several_aliases_each_get_a_run_a_report_and_the_json_is_their_list(
    config: LoadedConfig, tmp_path: Path,
) -> None:
    recorder = Recorder()
    code = recorder.run(config, ["grok-a", "grok-b"], json_output=True, out_dir=tmp_path / "out")
    assert code == 0
    docs = json.loads("\n".join(recorder.lines))
    assert [d["alias"] for d in docs] == ["grok-a", "grok-b"] and {d["result"] for d in docs} == {"passed"}
    assert sorted(p.name.split("-2")[0] for p in (tmp_path / "out").iterdir()) == [
        "certify-grok-a", "certify-grok-a", "certify-grok-b", "certify-grok-b"]
    assert recorder.warm_ups == 2 and len(recorder.cores) == 2
    assert "xai-unit-" + "a" * 20 in [s.reveal() for s in recorder.logging[0] if hasattr(s, "reveal")]


def test_an_alias_without_a_key_is_refused_before_any_alias_runs(config: LoadedConfig) -> None:
    config = load_config(Path(config.source), {"KEY_A": "xai-unit-" + "a" * 20})  # KEY_B unset
    recorder = Recorder()
    with pytest.raises(ModelUnavailableError, match="grok-b"):
        recorder.run(config, ["grok-a", "grok-b"])
    assert recorder.cores == [] and recorder.lines == [] and recorder.warm_ups == 0


def test_the_terminal_shows_each_check_and_where_the_reports_are(config: LoadedConfig, tmp_path: Path) -> None:
    recorder = Recorder()
    assert recorder.run(config, ["grok-a"], out_dir=tmp_path / "out") == 0
    assert recorder.lines[0].startswith("certify grok-a: grok-code-fast-1 at api.x.ai (configured upstream)")
    assert [line.split()[1] for line in recorder.lines[1:8]] == [
        "plain", "stream", "reasoning", "dropped_params", "tool_call", "error_path", "served_model"]
    assert recorder.lines[-1].startswith(f"reports: {tmp_path / 'out'}")


def test_a_budget_that_stops_the_run_exits_1_without_warming_up(config: LoadedConfig) -> None:
    recorder = Recorder()
    assert recorder.run(config, ["grok-a"], budget_usd=0.0001) == 1
    assert recorder.warm_ups == 0
    assert any(line.strip().startswith("budget: stopped before check 1") for line in recorder.lines)


def test_the_fake_upstream_serves_only_the_openai_wire(config: LoadedConfig) -> None:
    with pytest.raises(ConfigError, match="claude: --upstream fake serves xAI's OpenAI-compatible API only"):
        Recorder().run(config, ["grok-a", "claude"], upstream="fake")


def test_the_fake_upstream_points_the_alias_at_itself_with_a_made_up_key(config: LoadedConfig) -> None:
    recorder = Recorder()
    assert recorder.run(config, ["grok-a"], upstream="fake") == 0
    (narrowed,) = recorder.cores
    spec = narrowed.specs[0]
    assert spec.base_url is not None and spec.base_url.startswith("http://127.0.0.1:")
    assert spec.credentials.api_key_source == "llmcore certify --upstream fake"
    made_up = recorder.logging[0][-1]
    assert spec.api_key == made_up and made_up.reveal().startswith("xai-certify-fake-")
