"""A running proxy in front of the recorded-traffic fake xAI server and a generic OpenAI-compatible fake.

Shared by the schema suite and the field-report tests: real LiteLLM, real HTTP
on 127.0.0.1, the official ``openai`` client.
"""
from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import openai

from llmcore.bootstrap import build_runtime
from llmcore.entrypoints.proxy_thread import BackgroundProxy
from llmcore.testing.fake_openai import FakeOpenAIServer
from llmcore.testing.fake_xai import FakeXAIServer

GROK = "grok-code-fast-1"
GENERIC = "gpt-x"
UNAVAILABLE = "no-key-model"
HELLO = [{"role": "user", "content": "Say hi in Portuguese."}]
WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}

CONFIG = """\
model_list:
  - model_name: grok-code-fast-1
    litellm_params:
      model: openai/grok-code-fast-1
      api_key: os.environ/GROK_API_KEY
      api_base: os.environ/GROK_BASE_URL
      max_retries: 0
  - model_name: gpt-x
    litellm_params:
      model: openai/gpt-x
      api_key: os.environ/GENERIC_KEY
      api_base: os.environ/GENERIC_BASE_URL
      max_retries: 0
  - model_name: no-key-model
    litellm_params:
      model: openai/no-key-model
      api_key: os.environ/UNSET_KEY_FOR_TESTS
      api_base: http://127.0.0.1:9/v1
general_settings:
  master_key: os.environ/LLMCORE_MASTER_KEY
"""


class WireDeployment:
    """The proxy, its two fakes and the keys; ``http`` sends raw requests, ``client()`` is the openai client."""

    def __init__(self, proxy: BackgroundProxy, xai: FakeXAIServer, generic: FakeOpenAIServer,
                 master_key: str, env: dict[str, str], config: Path) -> None:
        self.proxy = proxy
        self.xai = xai
        self.generic = generic
        self.master_key = master_key
        self.env = env
        self.config = config
        self.auth = {"Authorization": f"Bearer {master_key}"}
        self.http = httpx.Client(trust_env=False, timeout=30)

    def client(self) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.proxy.base_url, api_key=self.master_key, max_retries=0,
                             http_client=openai.DefaultHttpxClient(trust_env=False, timeout=30))

    def post(self, body: dict[str, Any], path: str = "/v1/chat/completions") -> httpx.Response:
        return self.http.post(self.proxy.url + path, json=body, headers=self.auth)

    def sse(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """Every ``data:`` document of a streamed answer, ``[DONE]`` last (as the string)."""
        with self.http.stream("POST", self.proxy.url + "/v1/chat/completions", json={**body, "stream": True},
                              headers=self.auth) as response:
            assert response.status_code == 200, response.read()
            lines = [line[len("data: "):] for line in response.iter_lines() if line.startswith("data: ")]
        assert lines[-1] == "[DONE]"
        return [json.loads(line) for line in lines[:-1]]

    def clear(self) -> None:
        self.xai.clear()
        self.generic.clear()


@contextmanager
def wire_deployment(directory: Path) -> Iterator[WireDeployment]:
    grok_key = "xai-wire-" + secrets.token_hex(12)
    generic_key = "sk-wire-" + secrets.token_hex(12)
    master_key = "sk-master-" + secrets.token_hex(12)
    config = directory / "llmcore.yaml"
    config.write_text(CONFIG, "utf-8")
    with FakeXAIServer(api_key=grok_key) as xai, FakeOpenAIServer(api_key=generic_key) as generic:
        env = {"GROK_API_KEY": grok_key, "GROK_BASE_URL": xai.base_url, "GENERIC_KEY": generic_key,
               "GENERIC_BASE_URL": generic.base_url, "LLMCORE_MASTER_KEY": master_key}
        with BackgroundProxy(build_runtime(config, env)) as proxy:
            deployment = WireDeployment(proxy, xai, generic, master_key, env, config)
            try:
                yield deployment
            finally:
                deployment.http.close()
