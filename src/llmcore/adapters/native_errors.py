"""What the native adapter's HTTP exchanges can go wrong with, as llmcore's error tree, in one place.

The rules are those the LiteLLM adapter applies (``litellm_errors.by_status``), applied here to what
the wire says directly (status, body text, headers) instead of to LiteLLM's exception classes; the
differential suite (tests/differential) proves both give the same class and status for every fault
of the fake xAI server:

- 401, 403 and the profile's auth markers in a 400 (xAI's "Incorrect API key") -> UpstreamAuthError
- 429 with the profile's quota markers, 402, a 400 with quota markers -> QuotaExceededError
- 429 -> RateLimitError with ``retry-after-ms`` / ``Retry-After`` (seconds or an HTTP-date)
- 408 and 504 -> UpstreamTimeoutError; 409, 425 and every 5xx (529 included) -> UpstreamUnavailableError
- any other 4xx -> InvalidRequestError
- no connection -> UpstreamUnavailableError; no answer in time -> UpstreamTimeoutError;
  a body that breaks or ends early -> StreamIncompleteError

Every upstream text is redacted with the model's own secrets before it is kept.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from llmcore.adapters.answer_checks import UNREADABLE_HINT
from llmcore.adapters.provider_profiles import OPENAI_COMPATIBLE, ProviderProfile, profile_named
from llmcore.domain.errors import (
    InvalidRequestError,
    QuotaExceededError,
    RateLimitError,
    StreamIncompleteError,
    UpstreamAuthError,
    UpstreamError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from llmcore.domain.model_spec import ModelSpec
from llmcore.domain.redaction import redact
from llmcore.domain.secret import Secret

# 4xx statuses that pass when retried, as the OpenAI SDKs judge them (408, 409, 429) plus 425 Too Early.
TRANSIENT_4XX = frozenset({408, 409, 425, 429})


def profile_of(spec: ModelSpec) -> ProviderProfile:
    """The spec's provider profile (its display name and error markers)."""
    return profile_named(spec.provider) or OPENAI_COMPATIBLE


def _secrets(spec: ModelSpec) -> list[Secret]:
    return ([spec.api_key] if spec.api_key is not None else []) + list(spec.secret_params.values())


def _common(spec: ModelSpec, status: int | None, text: str) -> dict[str, Any]:
    return dict(status_code=status, provider=spec.provider, model=spec.upstream_model,
                upstream_text=redact(text, _secrets(spec)))


def _has_marker(text: str, markers: tuple[str, ...]) -> bool:
    lowered = text.lower()
    return any(marker in lowered for marker in markers)


def status_error(
    spec: ModelSpec, status: int, text: str, headers: Mapping[str, str], now: Callable[[], float] = time.time,
) -> UpstreamError:
    """The error for an HTTP answer with ``status`` >= 400, body ``text`` and lower-cased ``headers``."""
    from llmcore.adapters.litellm_errors import retry_after_seconds  # pure: no LiteLLM import

    profile = profile_of(spec)
    name = profile.display_name
    common = _common(spec, status, text)
    if status in (401, 403) or (status == 400 and _has_marker(text, profile.auth_markers)):
        return UpstreamAuthError(f"{name} refused the credentials", **common)
    quota = status == 402 or (status in (400, 429) and _has_marker(text, profile.quota_markers))
    if quota:
        return QuotaExceededError(
            f"{name} refused the request: no credits left or the spending limit is reached", **common)
    if status == 429:
        return RateLimitError(f"{name} rate-limited the request",
                              retry_after=retry_after_seconds(headers, now), **common)
    if status in (408, 504):
        return UpstreamTimeoutError(f"no answer from {name}", **common)
    if status in TRANSIENT_4XX:
        return UpstreamUnavailableError(
            f"{name} answered a status that passes when retried", **common)
    if status >= 500 or status < 400:
        return UpstreamUnavailableError(f"{name} failed to answer", **common)
    return InvalidRequestError(f"{name} rejected the request", **common)


def unreachable(spec: ModelSpec, exc: BaseException) -> UpstreamError:
    """No HTTP answer at all: refused, reset before the status line, DNS."""
    return UpstreamUnavailableError(
        f"could not reach {profile_of(spec).display_name} at {where(spec.base_url)}",
        **_common(spec, None, f"{type(exc).__name__}: {exc}"))


def timed_out(spec: ModelSpec, timeout: float | None, exc: BaseException) -> UpstreamError:
    """No answer (or no next byte of a stream) within ``timeout`` seconds."""
    within = f" within {timeout:g} s" if timeout is not None else ""
    return UpstreamTimeoutError(
        f"no answer from {profile_of(spec).display_name}{within}",
        **_common(spec, None, f"{type(exc).__name__}: {exc}"))


def unreadable(spec: ModelSpec, status: int, text: str) -> UpstreamError:
    """A success status whose body is not the JSON object the OpenAI wire promises."""
    return UpstreamUnavailableError(
        f"{profile_of(spec).display_name} answered something that is not a chat completion",
        hint=UNREADABLE_HINT, **_common(spec, status, text))


def stream_broke(spec: ModelSpec, exc: BaseException | None, *, no_finish: bool = False) -> StreamIncompleteError:
    """A stream whose connection broke (``exc``), or that ended cleanly before a finish reason (``no_finish``)."""
    if no_finish:
        reason, message = "no_finish_reason", "the stream ended without a finish reason"
    else:
        reason, message = "connection_lost", "the connection broke before the stream finished"
    text = f"{type(exc).__name__}: {exc}" if exc is not None else ""
    return StreamIncompleteError(f"{profile_of(spec).display_name}: {message}", reason=reason,
                                 **_common(spec, None, text))


def unreadable_event(spec: ModelSpec, data: str) -> StreamIncompleteError:
    """A stream event whose data is not a JSON object: the stream cannot go on, but no connection broke.

    The class and reason are LiteLLM's for the same event (its MidStreamFallbackError), so both
    adapters end such a stream alike; only the words say what happened.
    """
    return StreamIncompleteError(
        f"{profile_of(spec).display_name} sent a stream event that is not a JSON object",
        reason="connection_lost", **_common(spec, None, data[:200]))


def stream_error_event(spec: ModelSpec, document: Mapping[str, object], text: str) -> UpstreamError:
    """An ``{"error": ...}`` event inside a 200 stream (OpenAI's mid-stream error): classified by its code.

    The class is what ``status_error`` gives for the event's ``code`` (500 without one); the error
    keeps the upstream's own ``message`` (masked) and a status only when the event names one: the
    HTTP status was 200, and a made-up 500 would send the operator looking for a failed request.
    """
    error = document.get("error")
    code = error.get("code") if isinstance(error, Mapping) else document.get("code")
    status = code if isinstance(code, int) and 400 <= code < 600 else None
    message = error.get("message") if isinstance(error, Mapping) else error
    said = message if isinstance(message, str) and message else text
    classified = status_error(spec, status or 500, text, {})
    return type(classified)(f"{profile_of(spec).display_name} sent an error in its stream",
                            **_common(spec, status, said))


def where(base_url: str | None) -> str:
    """Scheme, host and port only: a base URL may carry credentials in its userinfo or query."""
    try:
        parts = urlsplit(base_url or "")
        port = parts.port
    except ValueError:
        return "?"
    return f"{parts.scheme}://{parts.hostname}{f':{port}' if port else ''}" if parts.hostname else "?"


def malformed(spec: ModelSpec, exc: Exception) -> UpstreamError:
    """A 200 answer (or stream event) that is JSON but no chat completion: ``exc`` (a MalformedAnswer) says
    which field held what. The same class as ``unreadable``: the upstream's fault, retried, never an
    InternalError (Decision 17). Both adapters raise it (LiteLLM's own refusals read alike)."""
    return UpstreamUnavailableError(
        f"{profile_of(spec).display_name} answered something that is not a chat completion",
        hint=UNREADABLE_HINT, **_common(spec, 200, str(exc)))
