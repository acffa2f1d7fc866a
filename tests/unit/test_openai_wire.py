"""The proxy's one error table and the OpenAI shapes it renders."""
from __future__ import annotations

import inspect

import pytest

from llmcore import errors
from llmcore.domain.chat import ChatResponse, StreamChunk
from llmcore.domain.usage import Usage
from llmcore.entrypoints import openai_wire as wire
from llmcore.entrypoints.openai_wire import (
    MalformedRequestError, MasterKeyError, RequestTooLargeError, UnknownRouteError, wire_error,
)

UPSTREAM = {"provider": "xai", "model": "grok-code-fast-1"}


@pytest.mark.parametrize(("error", "status", "type_", "code"), [
    (MalformedRequestError("bad json"), 400, "invalid_request_error", "invalid_request"),
    (errors.ParamNotSupportedError("grok", "stop", "xAI refuses it"), 400, "invalid_request_error",
     "unsupported_parameter"),
    (errors.InvalidMessageError("messages[0].role must be ..."), 400, "invalid_request_error", "invalid_message"),
    (errors.InvalidRequestError("context too long", status_code=400, **UPSTREAM), 400, "invalid_request_error",
     "upstream_rejected_request"),
    (MasterKeyError("wrong key"), 401, "authentication_error", "invalid_api_key"),
    (errors.UnknownModelError("nope", ("grok-code-fast-1",)), 404, "invalid_request_error", "model_not_found"),
    (UnknownRouteError("no route GET /v2"), 404, "invalid_request_error", "unknown_route"),
    (RequestTooLargeError("too big"), 413, "invalid_request_error", "request_too_large"),
    (errors.ModelUnavailableError("grok", "no API key: set GROK_API_KEY"), 503, "service_unavailable_error",
     "model_unavailable"),
    (errors.RateLimitError("slow down", retry_after=2.1, **UPSTREAM), 429, "rate_limit_error",
     "rate_limit_exceeded"),
    (errors.QuotaExceededError("no credits", status_code=429, **UPSTREAM), 429, "insufficient_quota",
     "insufficient_quota"),
    (errors.UpstreamAuthError("bad key", status_code=400, **UPSTREAM), 502, "upstream_auth_error",
     "upstream_auth_failed"),
    (errors.UpstreamTimeoutError("no answer", **UPSTREAM), 504, "upstream_timeout_error", "upstream_timeout"),
    (errors.UpstreamUnavailableError("502 html", status_code=502, **UPSTREAM), 502, "upstream_error",
     "upstream_error"),
    (errors.StreamIncompleteError("cut", reason="connection_lost", **UPSTREAM), 502, "upstream_error",
     "stream_incomplete"),
    (errors.ConfigError("broken"), 500, "server_error", "internal_error"),
    (RuntimeError("boom"), 500, "server_error", "internal_error"),
])
def test_error_table_maps_each_error_class_to_status_type_and_code(
    error: BaseException, status: int, type_: str, code: str
) -> None:
    rendered = wire_error(error)
    assert rendered.status == status
    assert set(rendered.body) == {"error"}
    body = rendered.body["error"]
    assert (body["type"], body["code"]) == (type_, code)
    assert set(body) == {"message", "type", "code", "param"}


def test_every_llmcore_error_class_has_a_row_more_specific_than_the_base() -> None:
    exported = [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, errors.LLMCoreError)]
    rows = [error_class for error_class, _ in wire.ERROR_TABLE]
    for error_class in exported:
        matching = next(row for row in rows if issubclass(error_class, row))
        assert matching is not errors.LLMCoreError or error_class in (errors.LLMCoreError, errors.ConfigError), (
            f"{error_class.__name__} falls through to the 500 row")


def test_rows_are_most_specific_first() -> None:
    rows = [error_class for error_class, _ in wire.ERROR_TABLE]
    for index, row in enumerate(rows):
        for later in rows[index + 1:]:
            assert not issubclass(later, row), f"{later.__name__} is shadowed by {row.__name__}"


def test_rate_limit_sends_retry_after_rounded_up_and_quota_sends_none() -> None:
    limited = wire_error(errors.RateLimitError("slow down", retry_after=2.1, **UPSTREAM))
    assert limited.headers == {"Retry-After": "3"}
    assert wire_error(errors.RateLimitError("slow down", **UPSTREAM)).headers == {}
    assert wire_error(errors.QuotaExceededError("no credits", status_code=429, **UPSTREAM)).headers == {}


def test_unavailable_model_message_carries_the_reason() -> None:
    body = wire_error(errors.ModelUnavailableError("grok", "no API key: set GROK_API_KEY")).body
    assert "no API key: set GROK_API_KEY" in body["error"]["message"]


def test_messages_are_redacted_with_the_known_secrets(canary: str) -> None:
    odd_secret = "plain" + canary[-10:]  # not key-shaped: only the known-secret pass can catch it
    rendered = wire_error(errors.LLMCoreError(f"failed with {canary} and {odd_secret}"), secrets=[odd_secret])
    message = rendered.body["error"]["message"]
    assert canary not in message and odd_secret not in message


def test_an_unexpected_exception_does_not_leak_its_text() -> None:
    rendered = wire_error(RuntimeError("internal detail /etc/secret-path"))
    assert "secret-path" not in rendered.body["error"]["message"]


def test_field_errors_name_the_param() -> None:
    assert wire_error(MalformedRequestError("'messages' is required", "messages")).body["error"]["param"] == "messages"


USAGE = Usage(prompt_tokens=213, completion_tokens=2, reasoning_tokens=256, cached_tokens=192, cost_usd=0.0004,
              cost_source="upstream")


def test_chat_completion_uses_the_alias_and_openai_usage_semantics() -> None:
    response = ChatResponse(content="Olá!", reasoning_content="thinking", finish_reason="stop", model="grok-4.3",
                            id="abc", usage=USAGE)
    document = wire.chat_completion(response, "grok-code-fast-1", "req-1")
    assert document["model"] == "grok-code-fast-1"
    assert document["object"] == "chat.completion"
    message = document["choices"][0]["message"]
    assert message == {"role": "assistant", "content": "Olá!", "refusal": None, "reasoning_content": "thinking"}
    usage = document["usage"]
    assert usage["completion_tokens"] == 258  # OpenAI's completion includes reasoning
    assert usage["prompt_tokens"] + usage["completion_tokens"] == usage["total_tokens"] == 471
    assert usage["completion_tokens_details"] == {"reasoning_tokens": 256}
    assert usage["prompt_tokens_details"] == {"cached_tokens": 192}
    assert usage["cost_usd"] == 0.0004


def test_chat_completion_carries_tool_calls_and_a_generated_id_when_upstream_gave_none() -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    response = ChatResponse(content="", tool_calls=(call,), finish_reason="tool_calls")
    document = wire.chat_completion(response, "grok-code-fast-1", "req-1")
    assert document["id"] == "chatcmpl-req-1"
    assert document["choices"][0]["message"]["tool_calls"] == [call]
    assert "reasoning_content" not in document["choices"][0]["message"]


def test_stream_chunks_and_the_usage_chunk() -> None:
    chunk = StreamChunk(role="assistant", reasoning_content="First", model="grok-4.3")
    document = wire.completion_chunk(chunk, "grok-code-fast-1", "id-1", 7)
    assert document == {
        "id": "id-1", "object": "chat.completion.chunk", "created": 7, "model": "grok-code-fast-1",
        "choices": [{"index": 0, "delta": {"role": "assistant", "reasoning_content": "First"},
                     "finish_reason": None}],
    }
    last = wire.usage_chunk(USAGE, "grok-code-fast-1", "id-1", 7)
    assert last["choices"] == [] and last["usage"]["total_tokens"] == 471


def test_streamed_tool_calls_get_an_index() -> None:
    chunk = StreamChunk(tool_calls=({"id": "call_1", "function": {"name": "f", "arguments": "{}"}},))
    delta = wire.completion_chunk(chunk, "m", "id", 0)["choices"][0]["delta"]
    assert delta["tool_calls"][0]["index"] == 0
