"""A key pasted into the wrong place of a config file never appears in the ConfigError that reports it.

Regression: the config loader quotes a wrong value (``expected float, got str
'xai-...'``) and ConfigError kept it as it was. The CLI's text output masked it
on the way out, but ``llmcore config check --json`` printed the problems
unmasked, and so did ``str``/``repr`` of the ConfigError ``llmcore.load()``
raises to a host application, which logs it. Now ConfigError masks anything
key-shaped in its problems when it is made, as the other errors do.
"""
from __future__ import annotations

import json
import secrets
import traceback
from pathlib import Path

import pytest
from click.testing import CliRunner

import llmcore
from llmcore.domain.secret import Secret
from llmcore.entrypoints.cli import CliWiring, cli
from llmcore.errors import ConfigError

XAI = "xai-canary-" + secrets.token_hex(12)
OPENAI = "sk-canary-" + secrets.token_hex(12)
PROJECT = "sk-proj-canary" + secrets.token_hex(12)


@pytest.fixture
def bad_config(tmp_path: Path) -> Path:
    path = tmp_path / "llmcore.yaml"
    path.write_text(
        "model_list:\n"
        "  - model_name: grok-code-fast-1\n"
        "    litellm_params:\n"
        "      model: openai/grok-code-fast-1\n"
        f"      timeout: {XAI}\n"
        f"      max_retries: [{OPENAI}]\n"
        f"  - model_name: {PROJECT}\n"
        "    litellm_params:\n"
        f"      model: {PROJECT}\n"
        "general_settings:\n"
        f"  max_request_size_mb: {XAI}\n", "utf-8")
    return path


def shown(text: str) -> list[str]:
    return [name for name, key in (("xai", XAI), ("openai", OPENAI), ("project", PROJECT)) if key[:12] in text]


def test_the_config_error_a_host_gets_holds_no_key(bad_config: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        llmcore.load(bad_config, env={})
    error = caught.value
    for text in (str(error), repr(error), "".join(traceback.format_exception(error)), *error.problems):
        assert shown(text) == [], text
    # Three: a key pasted as a bare model name is an entry LiteLLM cannot route (unavailable, issue 10), not a
    # file error; test_config_check_masks_a_key_pasted_as_a_model_name shows where it is reported, masked.
    assert len(error.problems) == 3
    assert Secret(XAI).mask in str(error)  # masked, still recognisable


def test_config_check_json_holds_no_key(bad_config: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(bad_config), "config", "check", "--json"],
                                obj=CliWiring(env={}))
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert document["ok"] is False and len(document["problems"]) == 3
    assert shown(result.output) == []


def test_config_check_masks_a_key_pasted_as_a_model_name(tmp_path: Path) -> None:
    path = tmp_path / "llmcore.yaml"
    path.write_text(f"model_list:\n  - model_name: {PROJECT}\n    litellm_params:\n      model: {PROJECT}\n", "utf-8")
    for args in (["config", "check"], ["config", "check", "--json"]):
        result = CliRunner().invoke(cli, ["--config", str(path), *args], obj=CliWiring(env={}))
        assert result.exit_code == 0, result.output
        assert "cannot tell which provider serves" in result.output
        assert shown(result.output) == []


def test_a_config_error_keeps_its_text_when_nothing_is_key_shaped() -> None:
    error = ConfigError(["model_list[0].litellm_params.timeout: expected float, got str 'soon'"], "a.yaml")
    assert str(error) == "a.yaml: model_list[0].litellm_params.timeout: expected float, got str 'soon'"
