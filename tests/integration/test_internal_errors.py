"""A bug in llmcore's own code is an InternalError: never retried, never re-sent, never billed twice (Decision 17).

The fault is injected by replacing the adapter's conversion functions (``to_response``, ``to_chunk``)
with ones that raise, through ``monkeypatch``: the point is what happens to *any* bug in our
conversion, including ones nobody has found yet, so the injection must not depend on one known bad
answer shape, which would stop injecting the day that shape is handled. Everything else is real:
LiteLLM, HTTP, the fake xAI server counting the requests it received, the retry policy (2 retries).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import openai
import pytest

import llmcore
from llmcore.adapters import litellm_completion, litellm_stream
from llmcore.adapters.recording_telemetry import RecordingTelemetry
from llmcore.bootstrap import build_runtime
from llmcore.entrypoints.proxy_thread import BackgroundProxy
from llmcore.errors import InternalError, UpstreamError
from llmcore.testing.fake_xai import FakeXAIServer
from llmcore.testing.harnesses import Waits

GROK = "grok-code-fast-1"
HELLO = [{"role": "user", "content": "Say hi in Portuguese"}]


@pytest.fixture(scope="module")
def server(grok_key: str) -> Iterator[FakeXAIServer]:
    with FakeXAIServer(api_key=grok_key) as running:
        yield running


@pytest.fixture
def env(server: FakeXAIServer, grok_key: str) -> dict[str, str]:
    server.clear()
    return {"GROK_API_KEY": grok_key, "GROK_BASE_URL": server.base_url}


@pytest.fixture
def waits() -> Waits:
    return Waits()


@pytest.fixture
def core(env: dict[str, str], waits: Waits) -> Iterator[llmcore.Core]:
    with llmcore.load(env=env, telemetry=RecordingTelemetry(), sleep=waits, async_sleep=waits.async_sleep) as core:
        yield core


def broken(real: Callable[..., Any], after: int = 0) -> Callable[..., Any]:
    """``real``, except that every call after the first ``after`` raises KeyError (a changed answer shape)."""
    calls = [0]

    def convert(*args: Any) -> Any:
        calls[0] += 1
        if calls[0] > after:
            raise KeyError("choices")
        return real(*args)
    return convert


def assert_internal(error: InternalError, request_id: str) -> None:
    assert not isinstance(error, UpstreamError)
    assert "bug in llmcore" in str(error) and request_id in str(error)
    assert isinstance(error.__cause__, KeyError)


def test_a_conversion_bug_is_an_internal_error_sent_once(
    core: llmcore.Core, server: FakeXAIServer, waits: Waits, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(litellm_completion, "to_response", broken(litellm_completion.to_response))

    with pytest.raises(InternalError) as caught:
        core.complete(GROK, HELLO, request_id="req-bug-1")

    assert_internal(caught.value, "req-bug-1")
    assert len(server.requests) == 1 and waits.seconds == []


def test_a_conversion_bug_is_sent_once_async_too(
    core: llmcore.Core, server: FakeXAIServer, monkeypatch: pytest.MonkeyPatch, run_async: Any,
) -> None:
    monkeypatch.setattr(litellm_completion, "to_response", broken(litellm_completion.to_response))

    async def go() -> BaseException:
        with pytest.raises(InternalError) as caught:
            await core.acomplete(GROK, HELLO, request_id="req-bug-2")
        return caught.value

    assert_internal(run_async(go, core), "req-bug-2")
    assert len(server.requests) == 1


@pytest.mark.parametrize("after", [0, 1], ids=["first-chunk", "mid-stream"])
def test_a_chunk_conversion_bug_never_replays_the_stream(
    core: llmcore.Core, server: FakeXAIServer, monkeypatch: pytest.MonkeyPatch, after: int,
) -> None:
    # The grok route streams through the OpenAI SDK, whose chunks llmcore converts itself (wire_chunks).
    monkeypatch.setattr(litellm_stream, "wire_chunks", broken(litellm_stream.wire_chunks, after))

    with pytest.raises(InternalError) as caught, core.stream(GROK, HELLO, request_id="req-bug-3") as session:
        for _ in session:
            pass

    assert_internal(caught.value, "req-bug-3")
    assert len(server.requests) == 1


def test_a_chunk_conversion_bug_never_replays_the_async_stream(
    core: llmcore.Core, server: FakeXAIServer, monkeypatch: pytest.MonkeyPatch, run_async: Any,
) -> None:
    monkeypatch.setattr(litellm_stream, "wire_chunks", broken(litellm_stream.wire_chunks))

    async def go() -> BaseException:
        with pytest.raises(InternalError) as caught:
            async with core.astream(GROK, HELLO, request_id="req-bug-4") as session:
                async for _ in session:
                    pass
        return caught.value

    assert_internal(run_async(go, core), "req-bug-4")
    assert len(server.requests) == 1


def test_the_proxy_answers_a_conversion_bug_with_500_internal_error_and_sends_once(
    env: dict[str, str], server: FakeXAIServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(litellm_completion, "to_response", broken(litellm_completion.to_response))
    with BackgroundProxy(build_runtime(None, env)) as proxy, openai.OpenAI(
            base_url=proxy.base_url, api_key="unused", max_retries=0,
            http_client=httpx.Client(trust_env=False, timeout=30)) as client:
        with pytest.raises(openai.InternalServerError) as caught:
            client.chat.completions.create(model=GROK, messages=HELLO, extra_headers={"x-request-id": "req-bug-5"})

    assert caught.value.status_code == 500
    assert caught.value.type == "internal_error"
    assert "req-bug-5" in caught.value.message and "bug in llmcore" in caught.value.message
    assert len(server.requests) == 1
