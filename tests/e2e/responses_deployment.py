"""The deployment the Responses API end-to-end tests drive: the proxy on 127.0.0.1 with a master key, in front of
the fake xAI server (grok-code-fast-1, recorded traffic) and a chat-only OpenAI-compatible fake (``gpt-x``).

Neither fake serves ``/v1/responses``: llmcore's translation never calls it, so every answer here was
built from upstream chat-completions traffic (the fakes record each request's path; tests check it).
"""
from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai

from llmcore.bootstrap import build_runtime
from llmcore.entrypoints.proxy_thread import BackgroundProxy
from llmcore.testing.fake_openai import FakeOpenAIServer
from llmcore.testing.fake_xai import FakeXAIServer
from tests.e2e.test_proxy import GROK_ENTRY, write_config
from tests.schema_oracle import validate

GROK = "grok-code-fast-1"
GENERIC_ENTRY = """\
  - model_name: gpt-x
    litellm_params:
      model: openai/gpt-x
      api_key: os.environ/OPENAI_COMPAT_KEY
      api_base: os.environ/OPENAI_COMPAT_BASE
      max_retries: 0
    model_info:
      provider: openai_compatible
"""
WEATHER_TOOL = {"type": "function", "name": "weather", "description": "Get weather information for a location",
                "parameters": {"type": "object", "properties": {"location": {"type": "string"}},
                               "required": ["location"]}}


class Deployment:
    """The running proxy, its two upstream fakes, the master key and the upstream keys (canaries)."""

    def __init__(self, xai: FakeXAIServer, chat_only: FakeOpenAIServer, proxy: BackgroundProxy, master: str,
                 keys: tuple[str, str]) -> None:
        self.xai, self.chat_only, self.proxy, self.master, self.keys = xai, chat_only, proxy, master, keys

    def client(self, api_key: str | None = None) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.proxy.base_url, api_key=api_key or self.master, max_retries=0,
                             http_client=openai.DefaultHttpxClient(trust_env=False, timeout=30))

    def post(self, body: dict[str, Any] | bytes, headers: dict[str, str] | None = None,
             path: str = "/v1/responses") -> httpx.Response:
        """POST ``body`` (JSON, or raw bytes) with the master key unless ``headers`` say otherwise."""
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        sent = {"Authorization": f"Bearer {self.master}", "Content-Type": "application/json"} \
            if headers is None else headers
        with httpx.Client(trust_env=False, timeout=30) as http:
            return http.post(self.proxy.url + path, content=content, headers=sent)

    def metrics(self) -> str:
        with httpx.Client(trust_env=False, timeout=30) as http:
            return http.get(self.proxy.url + "/metrics", headers={"Authorization": f"Bearer {self.master}"}).text

    def clear(self) -> None:
        self.xai.clear()
        self.chat_only.clear()


def deployment(directory: Path) -> Iterator[Deployment]:
    """Start everything (a generator for a module-scoped fixture)."""
    grok_key, other_key = "xai-resp-" + secrets.token_hex(12), "sk-resp-" + secrets.token_hex(12)
    master = "sk-master-" + secrets.token_hex(12)
    config = write_config(directory / "llmcore.yaml", GROK_ENTRY + GENERIC_ENTRY,
                          "  master_key: os.environ/LLMCORE_MASTER_KEY\n")
    with FakeXAIServer(api_key=grok_key) as xai, FakeOpenAIServer(api_key=other_key) as chat_only:
        env = {"GROK_API_KEY": grok_key, "GROK_BASE_URL": xai.base_url, "OPENAI_COMPAT_KEY": other_key,
               "OPENAI_COMPAT_BASE": chat_only.base_url, "LLMCORE_MASTER_KEY": master}
        with BackgroundProxy(build_runtime(config, env)) as proxy:
            yield Deployment(xai, chat_only, proxy, master, (grok_key, other_key))


def sse_events(text: str) -> list[dict[str, Any]]:
    """The events of a Responses SSE body, each checked: ``event:`` names its ``type``, the data is a valid
    ``ResponseStreamEvent`` of OpenAI's spec, and sequence numbers count up from 0."""
    events: list[dict[str, Any]] = []
    for block in text.strip().split("\n\n"):
        lines = block.split("\n")
        assert lines[0].startswith("event: ") and lines[1].startswith("data: ") and len(lines) == 2, block
        document = json.loads(lines[1][len("data: "):])
        assert document["type"] == lines[0][len("event: "):]
        validate(document, "ResponseStreamEvent")
        events.append(document)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    return events
