"""The OpenAI wire format, presentation only: responses, stream chunks and the one error table.

Nothing here decides anything about a request; it renders what the Core
returned (or raised) the way OpenAI clients expect it.

Usage is rendered with OpenAI's semantics: ``completion_tokens`` *includes*
the reasoning tokens, which ``completion_tokens_details.reasoning_tokens``
breaks out, so ``prompt + completion == total`` as every OpenAI client
assumes. (xAI's own wire counts reasoning apart from completion; a client
pricing ``completion_tokens`` from that would undercount.) The cost llmcore
computed rides along as the non-standard ``usage.cost_usd`` when it is known.
"""
from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from typing import Any

from attrs import field, frozen

from llmcore.domain.chat import ChatResponse, Choice, InvalidMessageError, StreamChunk
from llmcore.domain.errors import (
    InternalError, InvalidRequestError, LLMCoreError, ModelUnavailableError, ParamNotSupportedError, QuotaExceededError,
    RateLimitError, StreamIncompleteError, UnknownModelError, UpstreamAuthError, UpstreamError, UpstreamTimeoutError,
)
from llmcore.domain.redaction import redact
from llmcore.domain.secret import Secret
from llmcore.domain.usage import Usage


class ProxyRequestError(LLMCoreError):
    """A request the proxy refuses before it reaches the Core. ``param`` names the offending field."""

    def __init__(self, message: str, param: str | None = None) -> None:
        self.param = param
        super().__init__(message)


class MalformedRequestError(ProxyRequestError):
    """The body is not JSON, not an object, or misses a required field."""


class MasterKeyError(ProxyRequestError):
    """The Authorization header is missing or does not carry the master key."""


class UnknownRouteError(ProxyRequestError):
    """No route for this method and path."""


class RequestTooLargeError(ProxyRequestError):
    """The body is over the configured limit (general_settings.max_request_size_mb)."""


@frozen(kw_only=True)
class ErrorKind:
    """How one error class looks on the wire."""

    status: int
    type: str
    code: str


# THE table: llmcore error class -> HTTP status, OpenAI error type and code.
# Most specific first: the first isinstance match wins.
ERROR_TABLE: tuple[tuple[type[BaseException], ErrorKind], ...] = (
    (MalformedRequestError, ErrorKind(status=400, type="invalid_request_error", code="invalid_request")),
    (ParamNotSupportedError, ErrorKind(status=400, type="invalid_request_error", code="unsupported_parameter")),
    (InvalidMessageError, ErrorKind(status=400, type="invalid_request_error", code="invalid_message")),
    (MasterKeyError, ErrorKind(status=401, type="authentication_error", code="invalid_api_key")),
    (UnknownModelError, ErrorKind(status=404, type="invalid_request_error", code="model_not_found")),
    (UnknownRouteError, ErrorKind(status=404, type="invalid_request_error", code="unknown_route")),
    (RequestTooLargeError, ErrorKind(status=413, type="invalid_request_error", code="request_too_large")),
    (ModelUnavailableError, ErrorKind(status=503, type="service_unavailable_error", code="model_unavailable")),
    (QuotaExceededError, ErrorKind(status=429, type="insufficient_quota", code="insufficient_quota")),
    (RateLimitError, ErrorKind(status=429, type="rate_limit_error", code="rate_limit_exceeded")),
    # The client's own credentials were fine: the proxy's key for the provider was refused.
    (UpstreamAuthError, ErrorKind(status=502, type="upstream_auth_error", code="upstream_auth_failed")),
    # The provider refused the request itself (context too long, bad tool schema): the client can fix it.
    (InvalidRequestError, ErrorKind(status=400, type="invalid_request_error", code="upstream_rejected_request")),
    (UpstreamTimeoutError, ErrorKind(status=504, type="upstream_timeout_error", code="upstream_timeout")),
    (StreamIncompleteError, ErrorKind(status=502, type="upstream_error", code="stream_incomplete")),
    (UpstreamError, ErrorKind(status=502, type="upstream_error", code="upstream_error")),
    # llmcore's own bug (Decision 17): not the client's fault, not the upstream's; never retried.
    (InternalError, ErrorKind(status=500, type="internal_error", code="internal_error")),
    (LLMCoreError, ErrorKind(status=500, type="server_error", code="internal_error")),
)
INTERNAL_ERROR = ErrorKind(status=500, type="server_error", code="internal_error")
STREAM_INCOMPLETE = dict(ERROR_TABLE)[StreamIncompleteError]


@frozen(kw_only=True)
class WireError:
    """An error ready to send: status, headers and the OpenAI-shaped body."""

    status: int
    body: dict[str, Any]
    headers: Mapping[str, str] = field(factory=dict)


def error_kind(exc: BaseException) -> ErrorKind:
    """The wire shape of ``exc`` from the table; anything unknown is a 500."""
    for error_class, kind in ERROR_TABLE:
        if isinstance(exc, error_class):
            return kind
    return INTERNAL_ERROR


def error_body(message: str, kind: ErrorKind, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind.type, "code": kind.code, "param": param}}


# Hints written for library users (``session.text``) mean nothing to an HTTP client: these replace them.
WIRE_HINTS: tuple[tuple[type[UpstreamError], str], ...] = (
    (StreamIncompleteError, "retry the request"),
)


def wire_message(exc: LLMCoreError) -> str:
    """The error's text for an HTTP client: its own, with a library-only hint swapped for the wire's."""
    message = str(exc)
    if isinstance(exc, UpstreamError):
        for error_class, hint in WIRE_HINTS:
            if isinstance(exc, error_class) and message.endswith(f"- {exc.hint}"):
                return message[:len(message) - len(exc.hint)] + hint
    return message


def wire_error(exc: BaseException, secrets: Iterable[Secret | str] = ()) -> WireError:
    """``exc`` as an HTTP error. The message is redacted again with the known secrets (belt and braces)."""
    kind = error_kind(exc)
    return WireError(status=kind.status, body=error_body(error_text(exc, secrets), kind, getattr(exc, "param", None)),
                     headers=retry_after_header(exc, "Retry-After"))


def error_text(exc: BaseException, secrets: Iterable[Secret | str] = ()) -> str:
    """What an HTTP client may read of ``exc``, in any wire format: redacted again with the known secrets."""
    if isinstance(exc, LLMCoreError):
        return redact(wire_message(exc), secrets)
    # An unexpected exception's text may hold anything; the log has the details.
    return "internal error in the llmcore proxy; see its log for details"


def retry_after_header(exc: BaseException, name: str) -> dict[str, str]:
    """``{name: seconds}`` for a rate limit that said when to retry (whole seconds, rounded up), else ``{}``."""
    if isinstance(exc, RateLimitError) and exc.retry_after is not None:
        return {name: str(max(0, math.ceil(exc.retry_after)))}
    return {}


def stream_error_event(message: str, kind: ErrorKind = STREAM_INCOMPLETE) -> dict[str, Any]:
    """The SSE error event sent when a stream fails after its first chunk (no status line to change by then)."""
    return {"error": {"message": message, "type": kind.type, "code": kind.code, "param": None}}


def usage_dict(usage: Usage) -> dict[str, Any]:
    """OpenAI usage: completion_tokens includes reasoning (see the module docstring); the total is the upstream's."""
    out: dict[str, Any] = {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }
    if usage.cost_usd is not None:
        out["cost_usd"] = usage.cost_usd
    return out


def completion_id(upstream_id: str, request_id: str) -> str:
    return upstream_id or f"chatcmpl-{request_id}"


def _message(choice: Choice) -> dict[str, Any]:
    # content and refusal are required by OpenAI's schema (both may be null).
    message: dict[str, Any] = {"role": "assistant", "content": choice.content, "refusal": choice.refusal}
    if choice.reasoning_content:
        message["reasoning_content"] = choice.reasoning_content
    if choice.tool_calls:
        message["tool_calls"] = [dict(call) for call in choice.tool_calls]
    return message


def _upstream_fields(document: dict[str, Any], system_fingerprint: str | None, service_tier: str | None) -> None:
    if system_fingerprint is not None:
        document["system_fingerprint"] = system_fingerprint
    if service_tier is not None:
        document["service_tier"] = service_tier


def chat_completion(response: ChatResponse, alias: str, request_id: str) -> dict[str, Any]:
    """A ``chat.completion`` object with every choice; ``model`` is the alias the client asked for."""
    document: dict[str, Any] = {
        "id": completion_id(response.id, request_id),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": alias,
        "choices": [
            {"index": choice.index, "message": _message(choice), "logprobs": _plain(choice.logprobs),
             "finish_reason": choice.finish_reason}
            for choice in response.choices
        ],
        "usage": usage_dict(response.usage),
    }
    _upstream_fields(document, response.system_fingerprint, response.service_tier)
    return document


def chunk_delta(chunk: StreamChunk) -> dict[str, Any]:
    """The delta as the upstream shaped it: only the fields it sent, tool-call deltas untouched."""
    delta: dict[str, Any] = {}
    if chunk.role:
        delta["role"] = chunk.role
    if chunk.content:
        delta["content"] = chunk.content
    if chunk.reasoning_content:
        delta["reasoning_content"] = chunk.reasoning_content
    if chunk.refusal:
        delta["refusal"] = chunk.refusal
    if chunk.tool_calls:
        # OpenAI clients assemble streamed calls by index; a delta without one (a scripted fake's) gets its position.
        delta["tool_calls"] = [{"index": i, **call} for i, call in enumerate(chunk.tool_calls)]
    return delta


def completion_chunk(chunk: StreamChunk, alias: str, stream_id: str, created: int) -> dict[str, Any]:
    """A ``chat.completion.chunk`` object for one stream delta of choice ``chunk.index``."""
    choice: dict[str, Any] = {"index": chunk.index, "delta": chunk_delta(chunk)}
    if chunk.logprobs is not None:
        choice["logprobs"] = _plain(chunk.logprobs)
    choice["finish_reason"] = chunk.finish_reason
    document: dict[str, Any] = {
        "id": stream_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": alias,
        "choices": [choice],
    }
    _upstream_fields(document, chunk.system_fingerprint, chunk.service_tier)
    return document


def _plain(value: Any) -> Any:
    """JSON-ready data from read-only mappings and tuples."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def usage_chunk(usage: Usage, alias: str, stream_id: str, created: int) -> dict[str, Any]:
    """The final chunk with empty ``choices`` and the usage (sent only when the client asked for it)."""
    return {
        "id": stream_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": alias,
        "choices": [],
        "usage": usage_dict(usage),
    }
