"""The Anthropic Messages wire format, presentation only: the message object, usage, stop reasons and errors.

The ``anthropic`` SDK's types are the reference (``Message``, ``Usage``,
``StopReason``, the error classes it picks by status). Usage follows
Anthropic's semantics: ``input_tokens`` are the prompt tokens *not* read from
the cache (``cache_read_input_tokens`` holds those), ``output_tokens`` every
generated token, reasoning included.

Errors: one table, by the same llmcore error classes as the OpenAI table
(``openai_wire.ERROR_TABLE``), mapped to the statuses and ``error.type``
values Anthropic's API uses and its SDK turns into classes: 400
``invalid_request_error``, 401 ``authentication_error``, 402
``billing_error`` (the provider's credits are spent: permanent, so not the
429 the SDK retries), 404 ``not_found_error``, 413 ``request_too_large``,
429 ``rate_limit_error`` with ``retry-after``, 500 ``api_error``, 502
``api_error`` (the upstream failed or refused the proxy's own key), 503
``api_error`` (the model cannot serve: its reason is in the message), 504
``timeout_error``, 529 ``overloaded_error`` (the upstream is unavailable:
5xx or no connection; clients retry it).
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from llmcore.domain.chat import ChatResponse, InvalidMessageError
from llmcore.domain.errors import (
    InvalidRequestError, LLMCoreError, ModelUnavailableError, ParamNotSupportedError, QuotaExceededError,
    RateLimitError, StreamIncompleteError, UnknownModelError, UpstreamAuthError, UpstreamError, UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from llmcore.domain.secret import Secret
from llmcore.domain.usage import Usage
from llmcore.entrypoints.openai_wire import (
    MalformedRequestError, MasterKeyError, RequestTooLargeError, UnknownRouteError, WireError, error_text,
    retry_after_header,
)

# llmcore error class -> (HTTP status, Anthropic error type). Most specific first: the first match wins.
ERROR_TABLE: tuple[tuple[type[BaseException], int, str], ...] = (
    (MalformedRequestError, 400, "invalid_request_error"),
    (ParamNotSupportedError, 400, "invalid_request_error"),
    (InvalidMessageError, 400, "invalid_request_error"),
    (MasterKeyError, 401, "authentication_error"),
    (UnknownModelError, 404, "not_found_error"),
    (UnknownRouteError, 404, "not_found_error"),
    (RequestTooLargeError, 413, "request_too_large"),
    (ModelUnavailableError, 503, "api_error"),
    (QuotaExceededError, 402, "billing_error"),
    (RateLimitError, 429, "rate_limit_error"),
    (UpstreamAuthError, 502, "api_error"),
    (InvalidRequestError, 400, "invalid_request_error"),
    (UpstreamTimeoutError, 504, "timeout_error"),
    (StreamIncompleteError, 502, "api_error"),
    (UpstreamUnavailableError, 529, "overloaded_error"),
    (UpstreamError, 502, "api_error"),
    (LLMCoreError, 500, "api_error"),
)
INTERNAL = (500, "api_error")

# OpenAI finish_reason -> Anthropic stop_reason.
STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use", "function_call": "tool_use",
                "content_filter": "refusal"}


def error_status(exc: BaseException) -> tuple[int, str]:
    """The HTTP status and Anthropic error type of ``exc``; anything unknown is a 500 ``api_error``."""
    for error_class, status, kind in ERROR_TABLE:
        if isinstance(exc, error_class):
            return status, kind
    return INTERNAL


def error_body(message: str, kind: str) -> dict[str, Any]:
    """Anthropic's error document, also the data of an SSE ``error`` event."""
    return {"type": "error", "error": {"type": kind, "message": message}}


def anthropic_error(exc: BaseException, secrets: Iterable[Secret | str] = ()) -> WireError:
    """``exc`` as an Anthropic-shaped HTTP error; the message is redacted with the known secrets again."""
    status, kind = error_status(exc)
    return WireError(status=status, body=error_body(error_text(exc, secrets), kind),
                     headers=retry_after_header(exc, "retry-after"))


def stop_reason(finish_reason: str | None) -> str:
    """Anthropic's ``stop_reason`` for an OpenAI ``finish_reason`` (an unknown or missing one ends the turn)."""
    return STOP_REASONS.get(finish_reason or "stop", "end_turn")


def usage_dict(usage: Usage | None) -> dict[str, Any]:
    """Anthropic usage: prompt tokens split into uncached ``input_tokens`` and ``cache_read_input_tokens``."""
    if usage is None:
        return {"input_tokens": 0, "output_tokens": 0}
    cached = min(usage.cached_tokens, usage.prompt_tokens)
    return {"input_tokens": usage.prompt_tokens - cached, "output_tokens": usage.output_tokens,
            "cache_read_input_tokens": cached, "cache_creation_input_tokens": 0}


def tool_input(arguments: Any) -> dict[str, Any]:
    """A tool call's JSON ``arguments`` as Anthropic's ``input`` object; text that is no JSON object is kept whole
    under ``"arguments"``, so the client still sees what the model wrote."""
    if isinstance(arguments, Mapping):
        return dict(arguments)
    try:
        parsed = json.loads(arguments or "{}")
    except (TypeError, ValueError):
        return {"arguments": arguments}
    return parsed if isinstance(parsed, dict) else {"arguments": arguments}


def message_id(upstream_id: str, request_id: str) -> str:
    return f"msg_{upstream_id or request_id}"


def content_blocks(response: ChatResponse) -> list[dict[str, Any]]:
    """Choice 0 as content blocks, in the order Anthropic sends them: thinking, text, tool_use."""
    blocks: list[dict[str, Any]] = []
    if response.reasoning_content:
        # No signature: the upstream gives none, and a client sending the block back gets it dropped.
        blocks.append({"type": "thinking", "thinking": response.reasoning_content, "signature": ""})
    if response.content:
        blocks.append({"type": "text", "text": response.content})
    for call in response.tool_calls:
        function = call.get("function") or {}
        blocks.append({"type": "tool_use", "id": call.get("id") or "", "name": function.get("name") or "",
                       "input": tool_input(function.get("arguments"))})
    return blocks


def message(response: ChatResponse, alias: str, request_id: str) -> dict[str, Any]:
    """A ``message`` object (the non-stream answer); ``model`` is the alias the client asked for."""
    return {
        "id": message_id(response.id, request_id),
        "type": "message",
        "role": "assistant",
        "model": alias,
        "content": content_blocks(response),
        "stop_reason": stop_reason(response.finish_reason),
        "stop_sequence": None,
        "usage": usage_dict(response.usage),
    }
