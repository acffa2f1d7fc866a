"""LiteLLM's (and the OpenAI SDK's and httpx's) exceptions, translated to llmcore's tree in one table.

Rows are tried in order, most specific class first; the first row whose class
matches decides. Many of LiteLLM's classes say less than their status code
does on the ``openai/`` route (FACTS.md section 2(c)): a 403 arrives as a bare
``APIError``, a 504 as ``Timeout``, a refused connection as a 500
``InternalServerError``, xAI's wrong key as a 400 and its spent credits as a
429. So most rows classify by status code and by the provider profile's
markers in the upstream text, which LiteLLM keeps only on ``e.response.text``.

:func:`translating` is the boundary: every LiteLLM call runs inside it, and
nothing but an UpstreamError leaves it (``raise ... from exc``, the chained
exceptions' text masked by :func:`mask_chain`).
"""
from __future__ import annotations

import email.utils
import functools
import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import Any
from urllib.parse import urlsplit

import httpx
from attrs import frozen

from llmcore.adapters.answer_checks import UNREADABLE_HINT
from llmcore.adapters.litellm_runtime import litellm_module
from llmcore.adapters.provider_profiles import OPENAI_COMPATIBLE, ProviderProfile, profile_named
from llmcore.domain.errors import (
    InvalidRequestError,
    LLMCoreError,
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

# LiteLLM raises MidStreamFallbackError both for a broken connection and for a
# clean end without a finish reason; only this text (from an httpx error it
# builds, streaming_handler.py:2225) tells the second apart.
EOF_WITHOUT_FINISH_MARKER = "ended before a finish_reason"


@frozen
class Translation:
    """What one LiteLLM call was about, for the error message: the spec and the timeout it ran under."""

    spec: ModelSpec
    timeout: float | None = None
    now: Callable[[], float] = time.time

    @property
    def profile(self) -> ProviderProfile:
        return profile_named(self.spec.provider) or OPENAI_COMPATIBLE

    def common(self, exc: BaseException, status: int | None) -> dict[str, Any]:
        secrets = spec_secrets(self.spec)
        return dict(
            status_code=status, provider=self.spec.provider, model=self.spec.upstream_model,
            upstream_text=redact(upstream_text(exc), secrets),
        )


Translate = Callable[[BaseException, Translation], UpstreamError]


def spec_secrets(spec: ModelSpec) -> list[Secret]:
    """The key and every credential param of ``spec``: what an upstream's echo must never show."""
    return ([spec.api_key] if spec.api_key is not None else []) + list(spec.secret_params.values())


@frozen
class Row:
    """One line of the table: exceptions of class ``catches`` become what ``translate`` returns."""

    catches: type[BaseException]
    translate: Translate
    why: str


# --- What an exception carries ------------------------------------------------------------------

def upstream_text(exc: BaseException) -> str:
    """The provider's own words: the raw body (HTML too), else the SDK's parsed body, else the message."""
    response = getattr(exc, "response", None)
    if isinstance(response, httpx.Response):
        try:
            if response.text.strip():
                return response.text
        except (httpx.ResponseNotRead, UnicodeDecodeError):
            pass  # a streamed error body nobody read: fall through to what the SDK parsed
    body = getattr(exc, "body", None)
    if isinstance(body, str) and body.strip():
        return body
    if isinstance(body, Mapping) and body:
        return json.dumps(body, default=str)
    # Some LiteLLM classes (UnsupportedParamsError) never call Exception.__init__, so str() is empty.
    return str(exc) or str(getattr(exc, "message", "") or "") or type(exc).__name__


def response_headers(exc: BaseException) -> Mapping[str, str]:
    """The upstream's response headers, lower-cased; LiteLLM keeps them in two places depending on the route."""
    response = getattr(exc, "response", None)
    in_response = response.headers if isinstance(response, httpx.Response) else None
    for candidate in (getattr(exc, "litellm_response_headers", None), in_response):
        if candidate:
            return {str(k).lower(): str(v) for k, v in dict(candidate).items()}
    return {}


def answered(exc: BaseException) -> bool:
    """True when the upstream really sent an HTTP answer (LiteLLM fakes a bodiless 500 for a refused connection)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, httpx.Response):
        return False
    try:
        return bool(response.headers) or bool(response.content)
    except httpx.ResponseNotRead:
        return True


def status_of(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def retry_after_seconds(headers: Mapping[str, str], now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait per ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP-date), never negative."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None or not value.strip():
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now())


def _has_marker(text: str, markers: tuple[str, ...]) -> bool:
    lowered = text.lower()
    return any(marker in lowered for marker in markers)


# --- The translations ----------------------------------------------------------------------------

def _auth(exc: BaseException, t: Translation) -> UpstreamError:
    return UpstreamAuthError(f"{t.profile.display_name} refused the credentials", **t.common(exc, status_of(exc)))


def _invalid(exc: BaseException, t: Translation) -> UpstreamError:
    return InvalidRequestError(f"{t.profile.display_name} rejected the request", **t.common(exc, status_of(exc)))


def _refused_locally(exc: BaseException, t: Translation) -> UpstreamError:
    return InvalidRequestError("LiteLLM refused the request before sending it", **t.common(exc, None))


def _quota(exc: BaseException, t: Translation) -> UpstreamError:
    return QuotaExceededError(
        f"{t.profile.display_name} refused the request: no credits left or the spending limit is reached",
        **t.common(exc, status_of(exc)),
    )


def _rate_limited(exc: BaseException, t: Translation) -> UpstreamError:
    if _has_marker(upstream_text(exc), t.profile.quota_markers):
        return _quota(exc, t)
    return RateLimitError(
        f"{t.profile.display_name} rate-limited the request",
        retry_after=retry_after_seconds(response_headers(exc), t.now), **t.common(exc, status_of(exc)),
    )


def _timeout(exc: BaseException, t: Translation) -> UpstreamError:
    status = status_of(exc) if answered(exc) else None
    within = f" within {t.timeout:g} s" if t.timeout is not None and status is None else ""
    return UpstreamTimeoutError(f"no answer from {t.profile.display_name}{within}", **t.common(exc, status))


# LiteLLM's words when a 200 body is no chat completion (convert_dict_to_response.py, LiteLLM 1.110.2).
UNREADABLE_ANSWER_MARKERS = ("invalid response object", "provider returned a response with no 'choices'",
                             "provider returned 'choices' that is not a list")


def _unavailable(exc: BaseException, t: Translation) -> UpstreamError:
    if _has_marker(str(exc), UNREADABLE_ANSWER_MARKERS):
        # The upstream answered 200 with something unreadable: saying "could not reach" would send the
        # operator after the network. The same class and status as the native adapter's ``unreadable``.
        return UpstreamUnavailableError(
            f"{t.profile.display_name} answered something that is not a chat completion",
            hint=UNREADABLE_HINT, **t.common(exc, 200))
    if answered(exc):
        return UpstreamUnavailableError(
            f"{t.profile.display_name} failed to answer", **t.common(exc, status_of(exc)),
        )
    return UpstreamUnavailableError(
        f"could not reach {t.profile.display_name} at {_where(t.spec.base_url)}", **t.common(exc, None),
    )


def _where(base_url: str | None) -> str:
    # Host and port only: a base URL may carry credentials in its userinfo or query.
    parts = urlsplit(base_url or "")
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}" if parts.hostname else "?"


def _stream_broke(exc: BaseException, t: Translation) -> UpstreamError:
    texts = [str(exc), str(getattr(exc, "original_exception", "") or "")]
    cause: BaseException | None = exc
    while cause is not None and len(texts) < 8:
        cause = cause.__cause__ or cause.__context__
        texts.append(str(cause or ""))
    if any(EOF_WITHOUT_FINISH_MARKER in text.lower() for text in texts):
        reason, message = "no_finish_reason", "the stream ended without a finish reason"
    else:
        reason, message = "connection_lost", "the connection broke before the stream finished"
    return StreamIncompleteError(
        f"{t.profile.display_name}: {message}", reason=reason, **t.common(exc, None),
    )


# 4xx statuses that pass when retried, as the OpenAI SDKs judge them (openai-python's
# _should_retry: 408, 409, 429, >= 500) plus 425 Too Early (RFC 8470: "retry later").
# 5xx, 529 (Anthropic's "overloaded") included, are transient below.
TRANSIENT_4XX = frozenset({408, 409, 425, 429})


def _transient_status(exc: BaseException, t: Translation) -> UpstreamError:
    return UpstreamUnavailableError(
        f"{t.profile.display_name} answered a status that passes when retried", **t.common(exc, status_of(exc)),
    )


def by_status(exc: BaseException, t: Translation) -> UpstreamError:
    """Classify by status code (and the profile's markers) when the class alone says too little."""
    status = status_of(exc)
    if status is None or (status >= 500 and not answered(exc)):
        return _unavailable(exc, t)
    if status in (401, 403):
        return _auth(exc, t)
    if status == 429:
        return _rate_limited(exc, t)
    if status == 402:
        return _quota(exc, t)
    if status in (408, 504):
        return _timeout(exc, t)
    if status in TRANSIENT_4XX:
        return _transient_status(exc, t)
    if status >= 500:
        return _unavailable(exc, t)
    if status == 400 and _has_marker(upstream_text(exc), t.profile.auth_markers):
        return _auth(exc, t)
    if status == 400 and _has_marker(upstream_text(exc), t.profile.quota_markers):
        return _quota(exc, t)  # Anthropic's spent credits: 400 "Your credit balance is too low"
    if 400 <= status < 500:
        return _invalid(exc, t)
    return _unavailable(exc, t)


@functools.lru_cache(maxsize=1)
def translation_table() -> tuple[Row, ...]:
    """The table, most specific first. Built on first use, since it names LiteLLM's classes."""
    import openai

    ll = litellm_module().exceptions  # MidStreamFallbackError is not re-exported at litellm's top level
    return (
        Row(ll.MidStreamFallbackError, _stream_broke, "a stream broke or ended without finish_reason (503-type)"),
        Row(ll.ContextWindowExceededError, _invalid, "the prompt is too long for the model"),
        Row(ll.UnsupportedParamsError, _refused_locally, "LiteLLM refused a param before sending anything"),
        Row(ll.Timeout, _timeout, "client timeout (408, no answer) and upstream 504 alike"),
        Row(ll.AuthenticationError, _auth, "401"),
        Row(ll.PermissionDeniedError, _auth, "403 (when LiteLLM says so; on openai/ it is an APIError)"),
        Row(ll.RateLimitError, _rate_limited, "429: spent credits by text, else a rate limit with Retry-After"),
        Row(ll.BadGatewayError, _unavailable, "502, HTML bodies included; not an ISE subclass"),
        Row(ll.ServiceUnavailableError, _unavailable, "503"),
        Row(ll.InternalServerError, by_status, "500, and refused/DNS 'Connection error.' with no answer"),
        Row(ll.BadRequestError, by_status, "400 (xAI's wrong key by text), 422 and other 4xx LiteLLM calls 400"),
        Row(ll.NotFoundError, _invalid, "404: unknown model or path"),
        Row(ll.UnprocessableEntityError, _invalid, "422"),
        Row(ll.APIConnectionError, _unavailable, "no connection"),
        Row(ll.APIResponseValidationError, _unavailable, "the upstream answered something unreadable"),
        Row(ll.APIError, by_status, "403 and other statuses LiteLLM leaves generic"),
        Row(ll.OpenAIError, _unavailable, "LiteLLM's own OpenAI-SDK-shaped base"),
        Row(openai.APITimeoutError, _timeout, "the OpenAI SDK's timeout, unmapped"),
        Row(openai.APIConnectionError, _unavailable, "the OpenAI SDK's connection error, unmapped"),
        Row(openai.APIStatusError, by_status, "the OpenAI SDK's status error, unmapped"),
        Row(openai.OpenAIError, _unavailable, "any other OpenAI SDK error"),
        Row(httpx.TimeoutException, _timeout, "httpx timeout, unmapped"),
        Row(httpx.HTTPError, _unavailable, "httpx transport or protocol error, unmapped"),
        Row(Exception, _unavailable, "anything else: a foreign exception never leaves the adapter"),
    )


# Classes LiteLLM exports that have no row of their own, and the row (package.Class) that handles
# each; the guard test (tests/unit/test_litellm_errors.py) fails when LiteLLM grows a class that is
# in neither the table nor this list, or when one of these stops landing on the row named here.
HANDLED_BY_PARENT_ROW: Mapping[str, str] = {
    "CallerCredentialAuthenticationError": "litellm.AuthenticationError",
    "CallerCredentialRateLimitError": "litellm.RateLimitError",
    # 4xx refinements; by_status reads their status (PaymentRequiredError's 402 is a quota error).
    **dict.fromkeys((
        "ImageFetchError", "VectorStoreSearchError", "MalformedRequestFieldError", "UnsupportedEndpointError",
        "EndpointNotSupportedByModelError", "PaymentRequiredError", "RejectedRequestError",
        "ContentPolicyViolationError", "LiteLLMUnknownProvider",
    ), "litellm.BadRequestError"),
    "InvalidRequestError": "openai.APIStatusError",  # deprecated; subclasses openai's BadRequestError
    "JSONSchemaValidationError": "litellm.APIResponseValidationError",
    "MockException": "openai.OpenAIError",
    # LiteLLM's proxy, router, budgets, guardrails and tool loop, which llmcore does not use, and
    # other packages' exceptions re-exported at litellm's top level (ValidationError, ZoneInfoNotFoundError).
    **dict.fromkeys((
        "RouterRateLimitError", "RouterRateLimitErrorBasic", "ModelNotMappedError", "BudgetExceededError",
        "GuardrailRaisedException", "BlockedPiiEntityError", "ModifyResponseException",
        "SensitiveDataRouteException", "ToolLoopMaxRoundsExceeded", "ValidationError", "ZoneInfoNotFoundError",
    ), "builtins.Exception"),
}


def row_name(cls: type[BaseException]) -> str:
    """``package.Class``: LiteLLM and the OpenAI SDK share class names (APIError, APIConnectionError)."""
    return f"{cls.__module__.partition('.')[0]}.{cls.__name__}"


def row_for(exc: BaseException) -> Row:
    """The first row whose class ``exc`` is an instance of."""
    return next(row for row in translation_table() if isinstance(exc, row.catches))


def translate(exc: BaseException, translation: Translation) -> UpstreamError:
    """The UpstreamError for ``exc``; an UpstreamError is returned as it is."""
    if isinstance(exc, UpstreamError):
        return exc
    try:
        return row_for(exc).translate(exc, translation)
    except Exception as failure:  # the boundary must hold even if a translation itself breaks
        return UpstreamUnavailableError(
            f"unexpected {type(exc).__name__} from LiteLLM (its translation failed: {type(failure).__name__})",
            provider=translation.spec.provider, model=translation.spec.upstream_model,
        )


# Far more links than LiteLLM ever chains (litellm -> its OpenAIError -> openai -> httpx); a bound all the same.
_CHAIN_LIMIT = 16


def mask_chain(exc: BaseException, secrets: Sequence[Secret] = ()) -> None:
    """Mask, in place, the text of ``exc`` and of every exception it chains to.

    LiteLLM's exceptions (and the OpenAI SDK's beneath them) quote the upstream's
    answer verbatim, a key echoed in it included, and they stay reachable as the
    UpstreamError's ``__cause__``: every traceback a host prints of our error
    (``logging.exception``, ``traceback.print_exc``, an error tracker) shows
    their text. So the boundary masks it, once, before the error leaves.
    """
    pending: list[BaseException] = [exc]
    seen: set[int] = set()
    while pending and len(seen) < _CHAIN_LIMIT:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        with suppress(Exception):  # an exception refusing new args keeps them; the rest is still masked
            current.args = tuple(redact(a, secrets) if isinstance(a, str) else a for a in current.args)
        message = getattr(current, "message", None)  # what LiteLLM's and the OpenAI SDK's __str__ show
        if isinstance(message, str):
            with suppress(Exception):
                current.message = redact(message, secrets)  # type: ignore[attr-defined]
        pending += [link for link in (current.__cause__, current.__context__) if link is not None]


@contextmanager
def translating(spec: ModelSpec, timeout: float | None = None) -> Iterator[None]:
    """The boundary around a LiteLLM call: any Exception leaves as an UpstreamError chained to it, masked.

    Only LiteLLM's calls (and reading its streams) run inside; an LLMCoreError raised in the block by
    llmcore itself (an InternalError from converting a chunk) passes through as it is.
    """
    try:
        yield
    except LLMCoreError:
        raise
    except Exception as exc:
        error = translate(exc, Translation(spec, timeout))
        mask_chain(exc, spec_secrets(spec))
        raise error from exc
