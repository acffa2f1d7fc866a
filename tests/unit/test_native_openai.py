"""The native adapter's own edges, over real HTTP to the fake xAI server: what the wire can send that the
contract and differential suites do not (non-JSON answers, error events, bugs in our conversion), the header
hook, the refusals before sending, and the pooled clients' lifecycle."""
from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from llmcore.adapters.native_convert import wire_request
from llmcore.adapters.native_openai import NativeOpenAICompletion
from llmcore.domain.chat import ChatRequest, Message
from llmcore.domain.errors import (
    InternalError,
    InvalidRequestError,
    RateLimitError,
    StreamIncompleteError,
    UpstreamAuthError,
    UpstreamError,
    UpstreamUnavailableError,
)
from llmcore.domain.model_spec import Credentials, ModelSpec
from llmcore.domain.secret import Secret
from llmcore.testing.fake_xai import FakeXAIServer, Fault

KEY = "xai-native-unit-0123456789abcdef"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeXAIServer]:
    with FakeXAIServer() as running:
        yield running


@pytest.fixture
def adapter(server: FakeXAIServer) -> Iterator[NativeOpenAICompletion]:
    server.clear()
    native = NativeOpenAICompletion(extra_headers=lambda request: {"traceparent": "00-" + "1" * 32 + "-" + "2" * 16
                                                                                  + "-01"})
    yield native
    native.close()


def request(server: FakeXAIServer, **params: object) -> ChatRequest:
    spec = ModelSpec(alias="grok", upstream_model="grok-code-fast-1", provider="xai", timeout=5,
                     credentials=Credentials(api_key=Secret(KEY), base_url=server.base_url))
    return ChatRequest(spec=spec, messages=(Message(role="user", content="hi"),), params=params, request_id="r-1")


def run_async(adapter: NativeOpenAICompletion, body: object) -> object:
    async def main() -> object:
        try:
            return await body()  # type: ignore[operator]
        finally:
            await adapter.aclose()
    return asyncio.run(main())


def collect_async(adapter: NativeOpenAICompletion, req: ChatRequest) -> list[object]:
    async def body() -> list[object]:
        return [chunk async for chunk in adapter.astream(req)]
    return run_async(adapter, body)  # type: ignore[return-value]


def test_the_key_the_request_id_and_the_hook_headers_are_sent_and_nothing_else_is_read(
        server: FakeXAIServer, adapter: NativeOpenAICompletion) -> None:
    response = adapter.complete(request(server, temperature=0.2))
    assert response.content
    sent = server.requests[-1]
    assert sent.key_tail == KEY[-4:] and {"traceparent", "x-request-id"} <= set(sent.headers_lower_keys)
    assert sent.body["temperature"] == 0.2 and "stream" not in sent.body


@pytest.mark.parametrize("asynchronous", [False, True])
def test_a_success_status_with_a_body_that_is_not_a_completion_is_unavailable(
        server: FakeXAIServer, adapter: NativeOpenAICompletion, asynchronous: bool) -> None:
    server.script(Fault.status(200, "<html>maintenance</html>", "text/html"))
    with pytest.raises(UpstreamUnavailableError) as caught:
        if asynchronous:
            run_async(adapter, lambda: adapter.acomplete(request(server)))
        else:
            adapter.complete(request(server))
    assert caught.value.status_code == 200 and "maintenance" in caught.value.upstream_text


ERROR_EVENT = 'data: {"error": {"message": "slow down", "code": 429}}\n\n'
BAD_EVENT = 'data: {"id": "c1", "choices": [\n\n'
NOT_AN_OBJECT = 'data: [1, 2]\n\n'


@pytest.mark.parametrize("asynchronous", [False, True])
@pytest.mark.parametrize(("body", "expected"), [
    (ERROR_EVENT, RateLimitError), (BAD_EVENT, StreamIncompleteError), (NOT_AN_OBJECT, StreamIncompleteError),
])
def test_a_stream_that_speaks_an_error_or_garbage_raises_its_class(
        server: FakeXAIServer, adapter: NativeOpenAICompletion, asynchronous: bool, body: str,
        expected: type[UpstreamError]) -> None:
    server.script(Fault.status(200, body, "text/event-stream"))
    with pytest.raises(expected):
        if asynchronous:
            collect_async(adapter, request(server))
        else:
            list(adapter.stream(request(server)))


@pytest.mark.parametrize("asynchronous", [False, True])
def test_an_answer_that_breaks_the_wire_is_the_upstreams_error_not_ours(
        server: FakeXAIServer, adapter: NativeOpenAICompletion, asynchronous: bool) -> None:
    chunk = json.dumps({"id": "c1", "model": "m", "choices": 5})
    server.script(Fault.status(200, f"data: {chunk}\n\n", "text/event-stream"),
                  Fault.status(200, json.dumps({"id": "c1", "choices": [{"message": 7}]})))
    with pytest.raises(UpstreamUnavailableError) as streamed:
        if asynchronous:
            collect_async(adapter, request(server))
        else:
            list(adapter.stream(request(server)))
    with pytest.raises(UpstreamUnavailableError) as answered:
        if asynchronous:
            run_async(adapter, lambda: adapter.acomplete(request(server)))
        else:
            adapter.complete(request(server))
    assert (streamed.value.status_code, answered.value.status_code) == (200, 200)
    assert "choices is a number, not an array" in str(streamed.value)
    assert "choices[0].message is a number, not an object" in str(answered.value)
    assert "not a chat completion" in str(answered.value)


@pytest.mark.parametrize("asynchronous", [False, True])
def test_a_bug_in_our_conversion_is_an_internal_error_never_retried(
        server: FakeXAIServer, adapter: NativeOpenAICompletion, asynchronous: bool,
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(document: Any) -> Any:  # stands in for a bug in llmcore's own conversion code
        raise KeyError("a bug")

    monkeypatch.setattr("llmcore.adapters.native_stream.to_chunks", broken)
    monkeypatch.setattr("llmcore.adapters.native_openai.to_response", broken)
    server.script(Fault.ok(), Fault.ok())
    with pytest.raises(InternalError) as streamed:
        if asynchronous:
            collect_async(adapter, request(server))
        else:
            list(adapter.stream(request(server)))
    with pytest.raises(InternalError) as answered:
        if asynchronous:
            run_async(adapter, lambda: adapter.acomplete(request(server)))
        else:
            adapter.complete(request(server))
    assert "r-1" in str(streamed.value) and "r-1" in str(answered.value)
    assert not streamed.value.__class__.__name__.startswith("Upstream")


def test_no_key_or_no_base_url_is_refused_before_anything_is_sent(server: FakeXAIServer) -> None:
    keyless = request(server)
    keyless = ChatRequest(spec=ModelSpec(alias="g", upstream_model="m", credentials=Credentials(
        base_url=server.base_url)), messages=keyless.messages)
    with pytest.raises(UpstreamAuthError):
        wire_request(keyless, stream=False)
    baseless = ChatRequest(spec=ModelSpec(alias="g", upstream_model="m", credentials=Credentials(
        api_key=Secret(KEY))), messages=keyless.messages)
    with pytest.raises(InvalidRequestError):
        wire_request(baseless, stream=True)


def test_a_closed_adapter_serves_again_with_new_clients(server: FakeXAIServer, adapter: NativeOpenAICompletion) -> None:
    assert adapter.complete(request(server)).content
    adapter.close()
    adapter.close()  # idempotent
    assert adapter.complete(request(server)).content

    async def twice() -> None:
        assert (await adapter.acomplete(request(server))).content
        await adapter.aclose()
        assert (await adapter.acomplete(request(server))).content
    run_async(adapter, twice)


def test_a_stream_closed_early_closes_its_connection(server: FakeXAIServer, adapter: NativeOpenAICompletion) -> None:
    server.script(Fault.slow_chunks(0.05))
    stream = adapter.stream(request(server))
    next(stream)
    stream.close()  # type: ignore[attr-defined]
    assert server.wait_for_disconnect(timeout=3.0)
