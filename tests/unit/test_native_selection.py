"""Which adapter serves each model (Decision 18): model_info.adapter, general_settings.llmcore_adapter, litellm."""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from llmcore.adapters.env_file_secrets import EnvFileSecretSource
from llmcore.adapters.native_selection import PerModelCompletion
from llmcore.adapters.scripted_completion import ScriptedCompletion
from llmcore.adapters.yaml_config import load_file
from llmcore.domain.chat import ChatRequest, Message
from llmcore.domain.errors import ConfigError
from llmcore.domain.model_spec import ModelSpec
from tests.conftest import make_canary
from tests.unit.config_helpers import write_config

# Canaries built at run time: no key-shaped literal in a tracked file.
ENV = {"GROK_API_KEY": make_canary("xai-selection"), "ANTHROPIC_API_KEY": make_canary("sk-ant-selection"),
       "K": make_canary("sk-selection")}

MIXED = """
{general}
model_list:
  - model_name: grok
    litellm_params: {{model: openai/grok-code-fast-1, api_base: "http://127.0.0.1:9/v1"}}
    model_info: {{adapter: native}}
  - model_name: claude
    litellm_params: {{model: anthropic/claude-sonnet-4-5}}
    model_info: {{adapter: native}}
  - model_name: generic
    litellm_params: {{model: openai/gpt-x, api_base: "http://127.0.0.1:9/v1", api_key: os.environ/K}}
  - model_name: bedrock
    litellm_params: {{model: bedrock/anthropic.claude-v2}}
"""


def specs(tmp_path: Path, general: str = "") -> dict[str, ModelSpec]:
    config = load_file(write_config(tmp_path, MIXED.format(general=general)), EnvFileSecretSource(ENV))
    return {spec.alias: spec for spec in config.specs}


def test_each_entry_takes_its_own_adapter_and_litellm_is_the_default(tmp_path: Path) -> None:
    found = specs(tmp_path)
    assert (found["grok"].adapter, found["grok"].sources["adapter"]) == ("native", "model_info.adapter")
    assert (found["generic"].adapter, found["generic"].sources["adapter"]) == ("litellm", "default")
    assert found["grok"].unservable is None and found["generic"].unservable is None


def test_the_global_setting_applies_where_the_entry_says_nothing(tmp_path: Path) -> None:
    found = specs(tmp_path, "general_settings:\n  llmcore_adapter: native")
    assert (found["generic"].adapter, found["generic"].sources["adapter"]) == (
        "native", "general_settings.llmcore_adapter")


def test_a_provider_that_does_not_speak_the_openai_wire_refuses_native_for_that_model_only(tmp_path: Path) -> None:
    found = specs(tmp_path, "general_settings:\n  llmcore_adapter: native")
    for alias in ("claude", "bedrock"):
        reason = found[alias].unservable or ""
        assert "speaks only the OpenAI chat-completions wire" in reason and "adapter: litellm" in reason
    assert found["grok"].unservable is None and found["generic"].unservable is None


def test_an_unknown_adapter_name_is_an_error_in_the_file_naming_the_place(tmp_path: Path) -> None:
    text = MIXED.format(general="general_settings:\n  llmcore_adapter: fast").replace(
        "{adapter: native}}", "{adapter: turbo}}", 1)
    with pytest.raises(ConfigError) as caught:
        load_file(write_config(tmp_path, text.replace("{{", "{").replace("}}", "}")), EnvFileSecretSource(ENV))
    message = str(caught.value)
    assert "general_settings.llmcore_adapter: unknown adapter 'fast'" in message


def test_native_refuses_litellm_call_params_and_an_openai_entry_without_base_url(tmp_path: Path) -> None:
    path = write_config(tmp_path, """
        model_list:
          - model_name: org
            litellm_params: {model: openai/gpt-x, api_base: "http://127.0.0.1:9/v1", api_key: os.environ/K,
                             organization: org-1}
            model_info: {adapter: native}
          - model_name: openai
            litellm_params: {model: gpt-4o, api_key: os.environ/K}
            model_info: {adapter: native}
    """)
    found = {s.alias: s for s in load_file(path, EnvFileSecretSource(ENV)).specs}
    assert "sends no LiteLLM call params" in (found["org"].unservable or "")
    assert "organization" in (found["org"].unservable or "")
    assert "needs the endpoint's base URL" in (found["openai"].unservable or "")


def test_native_refuses_a_base_url_holding_user_and_password(tmp_path: Path) -> None:
    # aiohttp refuses to send URL credentials beside the key's Authorization header (a ValueError at
    # request time); the litellm adapter would send them as Basic auth in place of the key.
    path = write_config(tmp_path, """
        model_list:
          - model_name: gw
            litellm_params: {model: openai/gpt-x, api_base: "http://user:pw-hidden-9@127.0.0.1:9/v1",
                             api_key: os.environ/K}
            model_info: {adapter: native}
    """)
    reason = load_file(path, EnvFileSecretSource(ENV)).specs[0].unservable or ""
    assert "user:password" in reason and "pw-hidden-9" not in reason


def request(adapter: str) -> ChatRequest:
    spec = ModelSpec(alias=adapter, upstream_model="m", adapter=adapter)  # type: ignore[arg-type]
    return ChatRequest(spec=spec, messages=(Message(role="user", content="hi"),))


def test_each_request_goes_to_the_adapter_its_spec_names() -> None:
    native, litellm = ScriptedCompletion(), ScriptedCompletion()
    port = PerModelCompletion(native=native, litellm=litellm)
    port.complete(request("native"))
    list(port.stream(request("litellm")))

    async def both() -> None:
        await port.acomplete(request("litellm"))
        async for _ in port.astream(request("native")):
            pass
    asyncio.run(both())
    assert [r.spec.alias for r in native.requests] == ["native", "native"]
    assert [r.spec.alias for r in litellm.requests] == ["litellm", "litellm"]
    port.close()
    asyncio.run(port.aclose())


def test_warm_up_leaves_litellm_alone_when_no_model_uses_it() -> None:
    port = PerModelCompletion.for_specs([request("native").spec])
    port.warm_up()
    assert port._litellm is None  # noqa: SLF001 - the point: never built, so never imported
    port.close()


def test_config_check_and_models_show_say_which_adapter_serves_each_model(tmp_path: Path) -> None:
    from tests.unit.test_cli import run

    path = write_config(tmp_path, MIXED.format(general=""))
    check = run(["--config", str(path), "config", "check"], ENV)
    assert "adapter   native  (from model_info.adapter)" in check.output
    assert "adapter   litellm  (from default)" in check.output
    assert "speaks only the OpenAI chat-completions wire" in check.output  # claude's reason
    checked = run(["--json", "--config", str(path), "config", "check"], ENV)
    import json

    adapters = {m["alias"]: m["adapter"] for m in json.loads(checked.output)["models"]}
    assert adapters == {"grok": "native", "claude": "native", "generic": "litellm", "bedrock": "litellm"}
    shown = run(["--config", str(path), "models", "show", "grok"], ENV)
    assert "adapter" in shown.output and "native  (from model_info.adapter)" in shown.output
    shown_json = run(["--json", "--config", str(path), "models", "show", "generic"], ENV)
    assert json.loads(shown_json.output)["adapter"] == "litellm"


def test_the_header_hook_reaches_the_native_adapter_it_builds() -> None:
    from llmcore.adapters.native_openai import NativeOpenAICompletion

    def hook(request: ChatRequest) -> dict[str, str]:
        return {"traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01"}

    port = PerModelCompletion.for_specs([request("native").spec], extra_headers=hook)
    native = port._for(request("native").spec)  # noqa: SLF001 - what it built, not how it calls it
    assert isinstance(native, NativeOpenAICompletion) and native._extra_headers is hook  # noqa: SLF001
    port.close()


def test_closing_releases_litellms_process_wide_clients_when_litellm_is_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    from llmcore.adapters import litellm_runtime

    closed: list[str] = []
    # Patched, not faked: a loaded LiteLLM costs ~3 s to import, and only the calls made matter here.
    monkeypatch.setattr(litellm_runtime, "_module", object())  # "loaded", without importing it here
    monkeypatch.setattr("llmcore.adapters.litellm_completion.close_sync_clients", lambda: closed.append("sync"))

    async def closed_async() -> None:
        closed.append("async")
    monkeypatch.setattr("llmcore.adapters.litellm_completion.close_async_clients", closed_async)
    port = PerModelCompletion.for_specs([request("native").spec])
    port.close()
    asyncio.run(port.aclose())
    assert closed == ["sync", "async", "sync"]
