"""The proxy's SSE for a native-adapter model equals the LiteLLM adapter's, event by event, and fits the schema.

One running proxy with two aliases of grok-code-fast-1 on one recorded-traffic fake xAI server: one
served by the native adapter (whose chunks carry ``more_in_hand``, so the proxy writes the chunks of
one network read together), one by LiteLLM (every chunk written at once). Every ``data:`` document
of each stream is compared as JSON: equal but for ``created`` (the proxy's clock), ``model`` (each
alias, checked) and the usage chunk's ``cost_usd`` (the documented difference of
tests/differential/known_differences.py: native prices the stream from xAI's ticks). Every chunk
of the native streams is validated against OpenAI's published schema.
"""
from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from llmcore.bootstrap import build_runtime
from llmcore.entrypoints.proxy_thread import BackgroundProxy
from llmcore.testing.fake_xai import FakeXAIServer, Fault
from tests.e2e.wire_deployment import HELLO, WEATHER_TOOL
from tests.schema_oracle import validate

pytestmark = [pytest.mark.slow]

NATIVE, LITELLM = "grok-native", "grok-litellm"
CONFIG = """\
model_list:
  - model_name: grok-native
    litellm_params:
      model: openai/grok-code-fast-1
      api_key: os.environ/GROK_API_KEY
      api_base: os.environ/GROK_BASE_URL
      max_retries: 0
    model_info: {adapter: native}
  - model_name: grok-litellm
    litellm_params:
      model: openai/grok-code-fast-1
      api_key: os.environ/GROK_API_KEY
      api_base: os.environ/GROK_BASE_URL
      max_retries: 0
    model_info: {adapter: litellm}
general_settings:
  master_key: os.environ/LLMCORE_MASTER_KEY
"""

# name -> (the request body without "model" and "stream", the fault scripted upstream or None)
CASES: dict[str, tuple[dict[str, Any], Fault | None]] = {
    "plain with reasoning": ({"messages": HELLO}, None),
    "plain, usage asked for": ({"messages": HELLO, "stream_options": {"include_usage": True}}, None),
    "tool call": ({"messages": HELLO, "tools": [WEATHER_TOOL], "stream_options": {"include_usage": True}}, None),
    "n=2": ({"messages": HELLO, "n": 2, "stream_options": {"include_usage": True}}, None),
    "logprobs": ({"messages": HELLO, "logprobs": True, "top_logprobs": 2}, None),
    "empty deltas": ({"messages": HELLO}, Fault.empty_deltas(count=3)),
    "cut mid-stream": ({"messages": HELLO}, Fault.cut_mid_stream(after_events=2)),
    "ends without a finish reason": ({"messages": HELLO}, Fault.eof_without_finish(after_events=3)),
}


class Relay:
    def __init__(self, proxy: BackgroundProxy, xai: FakeXAIServer, master_key: str) -> None:
        self.proxy, self.xai = proxy, xai
        self.http = httpx.Client(trust_env=False, timeout=30, headers={"Authorization": f"Bearer {master_key}"})

    def sse(self, alias: str, body: dict[str, Any], fault: Fault | None) -> list[Any]:
        """Every ``data:`` document of one streamed answer, ``[DONE]`` as the string."""
        self.xai.clear()
        if fault is not None:
            self.xai.script(fault)
        with self.http.stream("POST", self.proxy.url + "/v1/chat/completions",
                              json={**body, "model": alias, "stream": True}) as response:
            assert response.status_code == 200, response.read()
            lines = [line[len("data: "):] for line in response.iter_lines() if line.startswith("data: ")]
        return [line if line == "[DONE]" else json.loads(line) for line in lines]


# The recorded pacing (one event per read) and a burst (no delay: many events per read, the hint's case).
@pytest.fixture(scope="module", params=[None, 0.0], ids=["paced", "burst"])
def relay(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Relay]:
    key, master = "xai-relay-" + secrets.token_hex(12), "sk-master-" + secrets.token_hex(12)
    config: Path = tmp_path_factory.mktemp("native-relay") / "llmcore.yaml"
    config.write_text(CONFIG, "utf-8")
    with FakeXAIServer(api_key=key, event_delay=request.param) as xai:
        env = {"GROK_API_KEY": key, "GROK_BASE_URL": xai.base_url, "LLMCORE_MASTER_KEY": master}
        with BackgroundProxy(build_runtime(config, env)) as proxy:
            running = Relay(proxy, xai, master)
            try:
                yield running
            finally:
                running.http.close()


def comparable(events: list[Any], alias: str) -> list[Any]:
    out = []
    for document in events:
        if isinstance(document, dict):
            assert document.get("model", alias) == alias
            document = {k: v for k, v in document.items() if k not in ("created", "model")}
            if isinstance(document.get("usage"), dict):
                document["usage"] = {k: v for k, v in document["usage"].items() if k != "cost_usd"}
        out.append(document)
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_native_stream_is_the_litellm_stream_event_by_event(relay: Relay, name: str) -> None:
    body, fault = CASES[name]
    native, litellm = relay.sse(NATIVE, body, fault), relay.sse(LITELLM, body, fault)
    assert native[-1] == "[DONE]" and len(native) > 2
    assert comparable(native, NATIVE) == comparable(litellm, LITELLM)
    for document in native[:-1]:
        if "error" not in document:
            validate(document, "CreateChatCompletionStreamResponse")
