"""A client that disconnects from the running proxy is counted once as ``cancelled`` (domain/outcomes.py).

The proxy runs as a real server over the scripted fake, slowed down so the
official ``openai`` client gives up (its timeout) while the upstream call is in
flight; aiohttp then cancels the handler (``handler_cancellation=True``).
"""
from __future__ import annotations

import time
from pathlib import Path

import httpx
import openai
import pytest

from llmcore.adapters.scripted_completion import ScriptedCompletion
from llmcore.bootstrap import Runtime
from llmcore.entrypoints.proxy_thread import BackgroundProxy
from tests.e2e.test_proxy import GROK, HELLO, scripted_runtime

pytestmark = pytest.mark.slow

GIVE_UP_AFTER = 0.3  # seconds the client waits; the scripted upstream takes far longer
UPSTREAM_SECONDS = 30.0


def impatient_client(proxy: BackgroundProxy) -> openai.OpenAI:
    return openai.OpenAI(base_url=proxy.base_url, api_key="unused", max_retries=0,
                         http_client=openai.DefaultHttpxClient(trust_env=False, timeout=GIVE_UP_AFTER))


def counted(runtime: Runtime, outcome: str, stream: bool) -> float:
    labels = {"model": GROK, "outcome": outcome, "stream": "true" if stream else "false", "api": "chat_completions"}
    return runtime.metrics.registry.get_sample_value("llmcore_requests_total", labels) or 0.0


def requests_counted(runtime: Runtime) -> float:
    return sum(s.value for m in runtime.metrics.registry.collect() if m.name == "llmcore_requests"
               for s in m.samples if s.name == "llmcore_requests_total")


def wait_for_count(runtime: Runtime, outcome: str, stream: bool, timeout: float = 5.0) -> float:
    """The server sees the disconnect a moment after the client leaves; poll for the count."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and counted(runtime, outcome, stream) == 0:
        time.sleep(0.02)
    return counted(runtime, outcome, stream)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
def test_a_client_that_disconnects_mid_request_is_counted_once_as_cancelled(tmp_path: Path, stream: bool) -> None:
    runtime = scripted_runtime(tmp_path, completion=ScriptedCompletion(delay=UPSTREAM_SECONDS))
    with BackgroundProxy(runtime) as proxy, impatient_client(proxy) as client:
        with pytest.raises(openai.APITimeoutError):
            client.chat.completions.create(model=GROK, messages=HELLO, stream=stream)
        assert wait_for_count(runtime, "cancelled", stream) == 1
        time.sleep(0.1)  # nothing more arrives later
        assert requests_counted(runtime) == 1
        with httpx.Client(trust_env=False) as http:
            scrape = http.get(f"{proxy.url}/metrics").text
    flag = "true" if stream else "false"
    labels = f'api="chat_completions",model="{GROK}",outcome="cancelled",stream="{flag}"'
    assert f"llmcore_requests_total{{{labels}}} 1.0" in scrape
