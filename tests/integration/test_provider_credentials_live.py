"""Each provider's own credentials on the wire, through real LiteLLM: nothing read ambiently that llmcore could pass."""
from __future__ import annotations

import secrets
import textwrap
from pathlib import Path

import pytest

import llmcore
from llmcore.adapters.credentials import NO_KEY_PLACEHOLDER
from llmcore.testing.fake_anthropic import FakeAnthropicServer
from llmcore.testing.fake_xai import FakeXAIServer

pytestmark = pytest.mark.filterwarnings(r"ignore:Accessing the '\w+' attribute on the instance is deprecated")
HI = [{"role": "user", "content": "Say hi in Portuguese"}]


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "llmcore.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_provider_that_needs_no_key_never_receives_openai_api_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given no key, LiteLLM 1.110.2 sends the process's OPENAI_API_KEY to xinference (and 53 others).
    openai_key = "sk-canary-" + secrets.token_hex(12)
    monkeypatch.setenv("OPENAI_API_KEY", openai_key)
    with FakeXAIServer() as local:
        path = config(tmp_path, f"""
            model_list:
              - model_name: local
                litellm_params: {{model: xinference/qwen2.5, api_base: "{local.base_url}", max_retries: 0}}
        """)
        core = llmcore.load(path, env={})
        assert core.models()[0].available
        core.complete("local", HI)
        with core.stream("local", HI) as session:
            list(session)
    assert [r.key_tail for r in local.requests] == [NO_KEY_PLACEHOLDER[-4:]] * 2


def test_a_services_own_env_mapping_is_honoured_over_the_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    service_key, process_key = ("sk-ant-canary-" + secrets.token_hex(12) for _ in range(2))
    monkeypatch.setenv("ANTHROPIC_API_KEY", process_key)
    with FakeAnthropicServer(api_key=service_key) as anthropic:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")  # the process's: must not be used either
        path = config(tmp_path, """
            model_list:
              - model_name: claude
                litellm_params: {model: anthropic/claude-sonnet-4-5, max_retries: 0}
        """)
        core = llmcore.load(path, env={"ANTHROPIC_API_KEY": service_key, "ANTHROPIC_BASE_URL": anthropic.url})
        assert core.complete("claude", HI).content
    assert [r.credential_tails for r in anthropic.requests] == [{"x-api-key": service_key[-4:]}]
