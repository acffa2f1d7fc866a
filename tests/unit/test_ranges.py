"""Every numeric setting has its range, checked where the value object is built; the error names the field."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import llmcore
from llmcore.domain.core import CoreSettings
from llmcore.domain.model_spec import Capabilities, ModelSpec, RetryPolicy
from llmcore.domain.ranges import InvalidSettingError
from llmcore.domain.usage import Prices
from llmcore.entrypoints.cli import CliWiring, cli
from llmcore.errors import ConfigError

SPEC = {"alias": "a", "upstream_model": "m"}


@pytest.mark.parametrize(("make", "field", "bad"), [
    (RetryPolicy, "max_retries", -1),
    (RetryPolicy, "max_retries", 1.5),
    (RetryPolicy, "max_retries", True),
    (RetryPolicy, "backoff_base", -0.1),
    (RetryPolicy, "backoff_max", float("nan")),
    (RetryPolicy, "retry_after_max", -1),
    (RetryPolicy, "retry_after_max", float("inf")),
    (Prices, "input_per_token", -1e-6),
    (Prices, "output_per_token", -1e-6),
    (Prices, "cached_input_per_token", -1e-6),
    (Capabilities, "max_input_tokens", 0),
    (Capabilities, "max_output_tokens", -5),
    (lambda **kw: ModelSpec(**SPEC, **kw), "timeout", 0),
    (lambda **kw: ModelSpec(**SPEC, **kw), "timeout", -1),
    (lambda **kw: ModelSpec(**SPEC, **kw), "stream_timeout", 0),
    (CoreSettings, "health_check_interval", 0),
    (CoreSettings, "max_request_size_mb", -1),
])
def test_a_value_out_of_range_is_refused_naming_its_field(make: Any, field: str, bad: Any) -> None:
    with pytest.raises(InvalidSettingError, match=f"^{field}: must be") as caught:
        make(**{field: bad})
    assert caught.value.field == field
    assert isinstance(caught.value, ValueError)


def test_the_defaults_and_the_edges_are_in_range() -> None:
    RetryPolicy(max_retries=0, backoff_base=0, backoff_max=0, retry_after_max=0)
    Prices(input_per_token=0, output_per_token=0, cached_input_per_token=0)
    ModelSpec(**SPEC, timeout=0.001, stream_timeout=None)
    Capabilities(max_input_tokens=1, max_output_tokens=None)
    CoreSettings()


ENTRY = """\
    model_list:
      - model_name: grok-code-fast-1
        litellm_params:
          model: openai/grok-code-fast-1
          api_key: os.environ/GROK_API_KEY
    {params}
        model_info:
    {info}
    """


def config(tmp_path: Path, params: str = "", info: str = "") -> Path:
    text = textwrap.dedent(ENTRY).format(params=textwrap.indent(params, " " * 6),
                                         info=textwrap.indent(info or "provider: xai", " " * 6))
    path = tmp_path / "llmcore.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("params", "info", "key"), [
    ("", "retry:\n  retry_after_max: -1", "model_info.retry.retry_after_max"),
    ("", "retry:\n  backoff_base: -1", "model_info.retry.backoff_base"),
    ("", "retry:\n  backoff_max: .nan", "model_info.retry.backoff_max"),
    ("max_retries: -1", "", "litellm_params.max_retries (or litellm_params.num_retries)"),
    ("num_retries: -2", "", "litellm_params.max_retries (or litellm_params.num_retries)"),
    ("", "input_cost_per_token: -0.000001", "model_info.input_cost_per_token (or litellm_params.input_cost_per_token)"),
    ("output_cost_per_token: -1", "", "model_info.output_cost_per_token (or litellm_params.output_cost_per_token)"),
    ("", "cache_read_input_token_cost: -1", "model_info.cache_read_input_token_cost"),
    ("", "max_output_tokens: 0", "model_info.max_output_tokens"),
])
def test_load_reports_an_out_of_range_setting_as_a_config_error_naming_the_key(
    tmp_path: Path, params: str, info: str, key: str,
) -> None:
    with pytest.raises(ConfigError) as caught:
        llmcore.load(config(tmp_path, params, info), env={"GROK_API_KEY": "xai-" + "k" * 20})
    assert caught.value.problems == (caught.value.problems[0],)
    assert caught.value.problems[0].startswith(f"model_list[0] (grok-code-fast-1).{key}: must be")


def test_a_timeout_out_of_range_is_reported_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        llmcore.load(config(tmp_path, "timeout: -5"), env={"GROK_API_KEY": "xai-" + "k" * 20})
    assert len(caught.value.problems) == 1
    assert "litellm_params.timeout" in caught.value.problems[0]


def test_config_check_exits_2_naming_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = config(tmp_path, "", "retry:\n  retry_after_max: -1")
    wiring = CliWiring(env={"GROK_API_KEY": "xai-" + "k" * 20})

    text = CliRunner().invoke(cli, ["--config", str(path), "config", "check"], obj=wiring)
    as_json = CliRunner().invoke(cli, ["--config", str(path), "config", "check", "--json"], obj=wiring)

    assert text.exit_code == as_json.exit_code == 2
    assert "model_info.retry.retry_after_max: must be a finite number >= 0, got -1" in text.stderr
    assert any("retry_after_max" in p for p in json.loads(as_json.stdout)["problems"])
