"""A key sent as ``x-request-id`` is never taken as the request id.

Regression: the proxy took any ``x-request-id`` of up to 128 characters of
``[A-Za-z0-9._-]``, and a request id is echoed to the client, logged and sent
upstream as ``x-request-id``. A client that put its master key (or a provider
key) there by mistake had the proxy forward it to xAI, which the master key's
contract forbids. Now such an id is replaced by a fresh one.
"""
from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest

from llmcore.adapters.scripted_completion import ScriptedCompletion
from llmcore.bootstrap import build_runtime
from llmcore.entrypoints.proxy_thread import BackgroundProxy

CONFIG = """\
model_list:
  - model_name: m
    litellm_params:
      model: openai/m
      api_key: os.environ/M_API_KEY
      api_base: https://upstream.invalid/v1
general_settings:
  master_key: os.environ/LLMCORE_MASTER_KEY
"""
MASTER = "mk-canary-" + secrets.token_hex(12)  # not key-shaped: only the proxy's own list knows it
MODEL_KEY = "partner-canary-" + secrets.token_hex(12)
KEY_SHAPED = "sk-canary-" + secrets.token_hex(12)  # a key the proxy was never told about


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[BackgroundProxy, ScriptedCompletion]]:
    config = tmp_path_factory.mktemp("request-id") / "llmcore.yaml"
    config.write_text(CONFIG, "utf-8")
    scripted = ScriptedCompletion()
    runtime = build_runtime(config, {"M_API_KEY": MODEL_KEY, "LLMCORE_MASTER_KEY": MASTER}, completion=scripted,
                            retry=False)
    with BackgroundProxy(runtime) as proxy:
        yield proxy, scripted


def call(proxy: BackgroundProxy, request_id: str) -> httpx.Response:
    with httpx.Client(trust_env=False, timeout=10) as http:
        return http.post(f"{proxy.base_url}/chat/completions",
                         headers={"Authorization": f"Bearer {MASTER}", "x-request-id": request_id},
                         json={"model": "m", "messages": [{"role": "user", "content": "hi"}]})


@pytest.mark.parametrize("sent", [MASTER, MODEL_KEY, KEY_SHAPED, f"req-{MASTER}"],
                         ids=["master key", "model key", "key-shaped", "containing the master key"])
def test_a_key_sent_as_the_request_id_is_replaced_and_never_forwarded(
    served: tuple[BackgroundProxy, ScriptedCompletion], sent: str,
) -> None:
    proxy, scripted = served
    scripted.requests.clear()
    reply = call(proxy, sent)
    assert reply.status_code == 200
    given = reply.headers["x-request-id"]
    assert sent[:12] not in given and len(given) == 32  # a fresh uuid4().hex
    [forwarded] = scripted.requests  # what the adapter puts in the upstream's x-request-id header
    assert forwarded.request_id == given


def test_an_ordinary_request_id_is_still_echoed_and_forwarded(
    served: tuple[BackgroundProxy, ScriptedCompletion],
) -> None:
    proxy, scripted = served
    scripted.requests.clear()
    reply = call(proxy, "trace-me.42_x")
    assert reply.headers["x-request-id"] == "trace-me.42_x"
    assert scripted.requests[0].request_id == "trace-me.42_x"


def test_the_health_routes_do_not_echo_a_key_either(served: tuple[BackgroundProxy, ScriptedCompletion]) -> None:
    proxy, _ = served
    with httpx.Client(trust_env=False, timeout=10) as http:
        for path in ("/health", "/health/readiness", "/metrics", "/v1/models", "/nowhere"):
            reply = http.get(proxy.url + path, headers={"Authorization": f"Bearer {MASTER}", "x-request-id": MASTER})
            assert reply.headers["x-request-id"] != MASTER, path
