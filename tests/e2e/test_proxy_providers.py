"""One proxy serving xAI, Anthropic and Azure OpenAI side by side, each through real LiteLLM (issue 10).

Each upstream is a fake of its own wire format on 127.0.0.1 (fake xAI, fake Anthropic Messages,
fake Azure OpenAI) and accepts only its own canary credential; the proxy runs as a real server
driven by the official ``openai`` client. Each model answers JSON and SSE, each upstream sees only
its own key, and usage and cost follow each provider's counts and the configured prices.
"""
from __future__ import annotations

import secrets
import textwrap
from collections.abc import Iterator
from pathlib import Path

import attrs
import httpx
import openai
import pytest

from llmcore.bootstrap import build_runtime
from llmcore.entrypoints.proxy_thread import BackgroundProxy
from llmcore.testing import fake_anthropic, fake_azure
from llmcore.testing.fake_anthropic import FakeAnthropicServer, anthropic_error
from llmcore.testing.fake_azure import FakeAzureOpenAIServer, azure_error
from llmcore.testing.fake_xai import FakeXAIServer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings(r"ignore:Accessing the '\w+' attribute on the instance is deprecated"),
]

HELLO = [{"role": "user", "content": "Say hi in Portuguese."}]
CLAUDE_PRICES = (3e-6, 15e-6)
AZURE_PRICES = (1.5e-7, 6e-7)

CONFIG = f"""\
model_list:
  - model_name: grok-code-fast-1
    litellm_params:
      model: openai/grok-code-fast-1
      max_retries: 0
  - model_name: claude
    litellm_params:
      model: anthropic/claude-sonnet-4-5
      max_retries: 0
      input_cost_per_token: {CLAUDE_PRICES[0]:.9f}
      output_cost_per_token: {CLAUDE_PRICES[1]:.9f}
  - model_name: azure-mini
    litellm_params:
      model: azure/gpt-4o-mini
      max_retries: 0
    model_info:
      input_cost_per_token: {AZURE_PRICES[0]:.9f}
      output_cost_per_token: {AZURE_PRICES[1]:.9f}
general_settings:
  master_key: os.environ/LLMCORE_MASTER_KEY
"""


@attrs.frozen
class Keys:
    grok: str
    anthropic: str
    azure: str
    master: str

    @classmethod
    def make(cls) -> Keys:
        return cls(*(f"{prefix}-canary-{secrets.token_hex(12)}" for prefix in ("xai", "sk-ant", "az", "mk")))


@attrs.frozen
class Side:
    xai: FakeXAIServer
    anthropic: FakeAnthropicServer
    azure: FakeAzureOpenAIServer
    proxy: BackgroundProxy
    keys: Keys

    def client(self) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.proxy.base_url, api_key=self.keys.master, max_retries=0,
                             http_client=openai.DefaultHttpxClient(trust_env=False, timeout=30))

    def clear(self) -> None:
        for fake in (self.xai, self.anthropic, self.azure):
            fake.clear()


@pytest.fixture(scope="module")
def side(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Side]:
    keys = Keys.make()
    config = tmp_path_factory.mktemp("providers") / "llmcore.yaml"
    config.write_text(textwrap.dedent(CONFIG), encoding="utf-8")
    with FakeXAIServer(api_key=keys.grok) as xai, FakeAnthropicServer(api_key=keys.anthropic) as anthropic, \
            FakeAzureOpenAIServer(api_key=keys.azure) as azure:
        env = {
            "GROK_API_KEY": keys.grok, "GROK_BASE_URL": xai.base_url,
            "ANTHROPIC_API_KEY": keys.anthropic, "ANTHROPIC_BASE_URL": anthropic.url,
            "AZURE_API_KEY": keys.azure, "AZURE_API_BASE": azure.url, "AZURE_API_VERSION": "2024-10-21",
            "LLMCORE_MASTER_KEY": keys.master,
            # Configured for nothing here: must reach no upstream.
            "OPENAI_API_KEY": "sk-canary-" + secrets.token_hex(12),
            "LLMCORE_API_KEY": "g-canary-" + secrets.token_hex(12),
        }
        with BackgroundProxy(build_runtime(Path(config), env)) as proxy:
            yield Side(xai, anthropic, azure, proxy, keys)


@pytest.fixture
def fresh(side: Side) -> Iterator[Side]:
    side.clear()
    yield side
    side.clear()


def test_models_lists_all_three_providers(fresh: Side) -> None:
    with fresh.client() as client:
        assert sorted(m.id for m in client.models.list().data) == ["azure-mini", "claude", "grok-code-fast-1"]


def test_anthropic_answers_json_with_its_usage_and_cost(fresh: Side) -> None:
    with fresh.client() as client:
        completion = client.chat.completions.create(model="claude", messages=HELLO, max_tokens=64)
    assert completion.model == "claude"
    assert completion.choices[0].message.content == "".join(fake_anthropic.REPLY_TEXT)
    assert completion.choices[0].finish_reason == "stop"
    usage = completion.usage
    assert usage is not None
    # Anthropic's input/output tokens are prompt/completion; the total is their sum.
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (
        fake_anthropic.INPUT_TOKENS, fake_anthropic.OUTPUT_TOKENS,
        fake_anthropic.INPUT_TOKENS + fake_anthropic.OUTPUT_TOKENS)
    expected = fake_anthropic.INPUT_TOKENS * CLAUDE_PRICES[0] + fake_anthropic.OUTPUT_TOKENS * CLAUDE_PRICES[1]
    assert (usage.model_extra or {})["cost_usd"] == pytest.approx(expected)
    sent = fresh.anthropic.requests[-1]
    assert sent.path == "/v1/messages" and "anthropic-version" in sent.header_names
    assert sent.body["model"] == "claude-sonnet-4-5" and sent.body["max_tokens"] == 64


def test_anthropic_answers_sse_with_usage(fresh: Side) -> None:
    with fresh.client() as client:
        stream = client.chat.completions.create(model="claude", messages=HELLO, stream=True,
                                                stream_options={"include_usage": True})
        with stream:
            chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "".join(
        fake_anthropic.REPLY_TEXT)
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    usage = chunks[-1].usage
    assert usage is not None and chunks[-1].choices == []
    assert (usage.prompt_tokens, usage.completion_tokens) == (fake_anthropic.INPUT_TOKENS,
                                                              fake_anthropic.OUTPUT_TOKENS)
    assert fresh.anthropic.requests[-1].stream


def test_azure_answers_json_and_sse_with_its_usage_and_cost(fresh: Side) -> None:
    with fresh.client() as client:
        completion = client.chat.completions.create(model="azure-mini", messages=HELLO)
        stream = client.chat.completions.create(model="azure-mini", messages=HELLO, stream=True,
                                                stream_options={"include_usage": True})
        with stream:
            chunks = list(stream)
    assert completion.choices[0].message.content == "".join(fake_azure.REPLY_TEXT)
    usage = completion.usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == tuple(fake_azure.USAGE.values())
    expected = (fake_azure.USAGE["prompt_tokens"] * AZURE_PRICES[0]
                + fake_azure.USAGE["completion_tokens"] * AZURE_PRICES[1])
    assert (usage.model_extra or {})["cost_usd"] == pytest.approx(expected)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "".join(fake_azure.REPLY_TEXT)
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == fake_azure.USAGE["total_tokens"]
    sent = fresh.azure.requests
    assert [r.path for r in sent] == ["/openai/deployments/gpt-4o-mini/chat/completions"] * 2
    assert {r.query["api-version"] for r in sent} == {"2024-10-21"}


def test_grok_still_answers_beside_them(fresh: Side) -> None:
    with fresh.client() as client:
        completion = client.chat.completions.create(model="grok-code-fast-1", messages=HELLO)
    assert completion.choices[0].message.content
    assert fresh.xai.requests[-1].key_tail == fresh.keys.grok[-4:]


def test_each_upstream_saw_only_its_own_credential(fresh: Side) -> None:
    with fresh.client() as client:
        for model in ("grok-code-fast-1", "claude", "azure-mini"):
            client.chat.completions.create(model=model, messages=HELLO)
            with client.chat.completions.create(model=model, messages=HELLO, stream=True) as stream:
                list(stream)
    keys = fresh.keys
    assert {r.key_tail for r in fresh.xai.requests} == {keys.grok[-4:]}
    assert [r.credential_tails for r in fresh.anthropic.requests] == [{"x-api-key": keys.anthropic[-4:]}] * 2
    assert [r.credential_tails for r in fresh.azure.requests] == [{"api-key": keys.azure[-4:]}] * 2


def test_upstream_errors_name_the_real_provider(fresh: Side) -> None:
    fresh.anthropic.script(anthropic_error(401, "authentication_error", "invalid x-api-key"))
    limit = "Requests to the ChatCompletions_Create Operation have exceeded call rate limit."
    fresh.azure.script(azure_error(429, "429", limit))
    with fresh.client() as client:
        with pytest.raises(openai.APIStatusError) as auth:
            client.chat.completions.create(model="claude", messages=HELLO)
        with pytest.raises(openai.RateLimitError) as limited:
            client.chat.completions.create(model="azure-mini", messages=HELLO)
    assert auth.value.status_code == 502 and "Anthropic refused the credentials" in auth.value.message
    assert "Azure OpenAI rate-limited the request" in limited.value.message
    for text in (str(auth.value.body), str(limited.value.body)):
        assert fresh.keys.anthropic not in text and fresh.keys.azure not in text


def test_readiness_shows_each_model_available(fresh: Side) -> None:
    with httpx.Client(trust_env=False, timeout=10) as http:
        ready = http.get(f"{fresh.proxy.url}/health/readiness",
                         headers={"Authorization": f"Bearer {fresh.keys.master}"}).json()
    text = str(ready)
    for alias in ("grok-code-fast-1", "claude", "azure-mini"):
        assert alias in text
    assert fresh.keys.anthropic not in text and fresh.keys.azure not in text
