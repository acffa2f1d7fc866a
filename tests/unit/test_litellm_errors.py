"""The LiteLLM exception table: a guard that every class LiteLLM exports is covered, and each row's verdict.

Exceptions are built directly, with the shapes LiteLLM 1.110.2 gives them on the
``openai/`` route (FACTS.md section 2(c)); the integration tests produce the same ones over HTTP.
"""
from __future__ import annotations

import asyncio
import email.utils
import inspect
import secrets
from typing import Any

import httpx
import openai
import pytest

from llmcore.adapters.litellm_errors import (
    HANDLED_BY_PARENT_ROW,
    Translation,
    retry_after_seconds,
    row_name,
    translate,
    translating,
    translation_table,
)
from llmcore.adapters.litellm_runtime import litellm_module
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
from llmcore.domain.model_spec import Credentials, ModelSpec
from llmcore.domain.secret import Secret

NOW = 1_800_000_000.0
XAI_URL = "https://api.x.ai/v1/chat/completions"


@pytest.fixture(scope="module")
def ll() -> Any:
    return litellm_module().exceptions


@pytest.fixture(scope="module")
def key() -> str:
    # Not key-shaped on purpose: only the explicit redaction with the request's own key can catch it.
    return "plain" + secrets.token_hex(12)


@pytest.fixture
def translation(key: str) -> Translation:
    spec = ModelSpec(
        alias="grok-code-fast-1", upstream_model="grok-code-fast-1", provider="xai",
        credentials=Credentials(api_key=Secret(key), base_url="http://127.0.0.1:9/v1"), timeout=0.5,
    )
    return Translation(spec, timeout=0.5, now=lambda: NOW)


def answer(status: int, text: str = "", headers: dict[str, str] | None = None,
           content_type: str = "application/json") -> httpx.Response:
    return httpx.Response(
        status, text=text, headers={"content-type": content_type, **(headers or {})},
        request=httpx.Request("POST", XAI_URL),
    )


def xai_body(code: str, error: str) -> str:
    return f'{{"code":"{code}","error":"{error}"}}'


# --- The guard ---------------------------------------------------------------------------------

def exported_exception_classes() -> dict[str, type[BaseException]]:
    """Every exception class in ``litellm.exceptions`` and every one reachable at ``litellm``'s top level."""
    litellm = litellm_module()
    found: dict[str, type[BaseException]] = {}
    for module in (litellm.exceptions, litellm):
        for name in dir(module):
            try:
                value = getattr(module, name)
            except AttributeError:  # a lazy name that does not resolve
                continue
            if inspect.isclass(value) and issubclass(value, BaseException) and value.__name__ == name:
                found[name] = value
    return found


def first_row_for(cls: type[BaseException]) -> type[BaseException]:
    return next(row.catches for row in translation_table() if issubclass(cls, row.catches))


def test_every_exception_litellm_exports_is_mapped_or_knowingly_left_to_a_parent_row() -> None:
    mapped = {row.catches for row in translation_table()}
    uncovered = sorted(
        name for name, cls in exported_exception_classes().items()
        if cls not in mapped and name not in HANDLED_BY_PARENT_ROW
    )
    assert uncovered == [], (
        f"LiteLLM exports exception classes the table does not know: {uncovered}. Add a row to "
        "llmcore/adapters/litellm_errors.py, or list each in HANDLED_BY_PARENT_ROW with the row that handles it."
    )


def test_each_class_left_to_a_parent_row_is_really_handled_by_that_row() -> None:
    exported = exported_exception_classes()
    stale = sorted(set(HANDLED_BY_PARENT_ROW) - set(exported))
    assert stale == [], f"HANDLED_BY_PARENT_ROW names classes LiteLLM no longer exports: {stale}"
    for name, parent in HANDLED_BY_PARENT_ROW.items():
        assert row_name(first_row_for(exported[name])) == parent, name


def test_no_row_is_hidden_behind_an_earlier_broader_row() -> None:
    rows = [row.catches for row in translation_table()]
    for index, cls in enumerate(rows):
        earlier = [parent for parent in rows[:index] if issubclass(cls, parent)]
        assert earlier == [], f"{cls.__name__} can never match: {earlier[0].__name__} comes first"


# --- The rows, most specific first -------------------------------------------------------------

def test_rate_limit_keeps_xai_text_and_retry_after_seconds(ll: Any, translation: Translation) -> None:
    text = xai_body("Too Many Requests", "Rate limit exceeded. Please retry after a short wait.")
    exc = ll.RateLimitError("Error code: 429", "openai", "grok-code-fast-1",
                            response=answer(429, text, {"Retry-After": "2"}))

    error = translate(exc, translation)

    assert type(error) is RateLimitError
    assert (error.retry_after, error.status_code) == (2.0, 429)
    assert "Rate limit exceeded" in error.upstream_text


def test_retry_after_is_read_from_litellm_response_headers_too(ll: Any, translation: Translation) -> None:
    exc = ll.RateLimitError("Error code: 429", "openai", "grok-code-fast-1", response=answer(429, "{}"))
    exc.response.headers.clear()
    exc.litellm_response_headers = httpx.Headers({"retry-after": "3"})

    assert translate(exc, translation).retry_after == 3.0


def test_spent_credits_are_quota_not_rate_limit(ll: Any, translation: Translation) -> None:
    text = xai_body("Some resource has been exhausted",
                    "Your team has either used all available credits or reached its monthly spending limit.")
    exc = ll.RateLimitError("Error code: 429", "openai", "grok-code-fast-1", response=answer(429, text))

    error = translate(exc, translation)

    assert type(error) is QuotaExceededError and not error.retryable


def test_xai_wrong_key_400_is_an_auth_error(ll: Any, translation: Translation) -> None:
    text = xai_body("Client specified an invalid argument", "Incorrect API key provided: xa***YZ.")
    exc = ll.BadRequestError("Error code: 400", "grok-code-fast-1", "openai", response=answer(400, text))

    assert type(translate(exc, translation)) is UpstreamAuthError


@pytest.mark.parametrize("status", [400, 404, 422])
def test_other_4xx_are_invalid_requests(ll: Any, translation: Translation, status: int) -> None:
    exc = ll.BadRequestError("Error code", "grok-code-fast-1", "openai",
                             response=answer(status, "unprocessable", content_type="text/plain"))
    exc.status_code = status  # LiteLLM reports xAI's 422 as a BadRequestError with status 422

    error = translate(exc, translation)

    assert (type(error), error.status_code, error.upstream_text) == (InvalidRequestError, status, "unprocessable")


@pytest.mark.parametrize("status", [409, 425, 529])
def test_statuses_that_pass_when_retried_are_transient(ll: Any, translation: Translation, status: int) -> None:
    # LiteLLM 1.110.2 raises a bare APIError for these on the openai/ route (measured over HTTP).
    exc = ll.APIError(status, "Error code", "openai", "grok-code-fast-1",
                      response=answer(status, '{"error":{"message":"conflict, try again"}}'))

    error = translate(exc, translation)

    assert (type(error), error.status_code, error.retryable) == (UpstreamUnavailableError, status, True)


def test_408_is_a_transient_timeout(ll: Any, translation: Translation) -> None:
    exc = ll.APIError(408, "Error code", "openai", "grok-code-fast-1", response=answer(408, "request timeout"))

    error = translate(exc, translation)

    assert (type(error), error.status_code, error.retryable) == (UpstreamTimeoutError, 408, True)


def test_403_arrives_as_a_bare_api_error_and_is_an_auth_error(ll: Any, translation: Translation) -> None:
    exc = ll.APIError(403, "Error code: 403", "openai", "grok-code-fast-1",
                      response=answer(403, xai_body("The caller does not have permission", "no credits")))

    error = translate(exc, translation)

    assert (type(error), error.status_code) == (UpstreamAuthError, 403)


def test_401_is_an_auth_error(ll: Any, translation: Translation) -> None:
    exc = ll.AuthenticationError("Error code: 401", "openai", "grok-code-fast-1", response=answer(401, "{}"))

    assert type(translate(exc, translation)) is UpstreamAuthError


def test_html_502_is_unavailable_with_an_excerpt(ll: Any, translation: Translation) -> None:
    page = "<html><title>502: Bad gateway</title>" + "x" * 2000 + "</html>"
    exc = ll.BadGatewayError("Error code: 502", "openai", "grok-code-fast-1",
                             response=answer(502, page, content_type="text/html"))

    error = translate(exc, translation)

    assert (type(error), error.status_code) == (UpstreamUnavailableError, 502)
    assert error.upstream_text.startswith("<html><title>502: Bad gateway</title>")
    assert len(error.upstream_text) < 600


@pytest.mark.parametrize("build", [
    lambda ll: ll.ServiceUnavailableError("Error code: 503", "openai", "m", response=answer(503, "{}")),
    lambda ll: ll.InternalServerError("Error code: 500", "openai", "m", response=answer(500, "{}")),
], ids=["503", "500"])
def test_5xx_is_unavailable(ll: Any, translation: Translation, build: Any) -> None:
    error = translate(build(ll), translation)

    assert type(error) is UpstreamUnavailableError and error.status_code in (500, 503)


def test_refused_connection_is_unavailable_without_a_status(ll: Any, translation: Translation) -> None:
    exc = ll.InternalServerError("OpenAIException - Connection error.", "openai", "grok-code-fast-1")

    error = translate(exc, translation)

    assert (type(error), error.status_code) == (UpstreamUnavailableError, None)
    assert "http://127.0.0.1:9" in str(error)


def test_504_is_a_timeout_with_its_status(ll: Any, translation: Translation) -> None:
    exc = ll.Timeout("Error code: 504", "grok-code-fast-1", "openai", exception_status_code=504,
                     response=answer(504, "{}"))

    error = translate(exc, translation)

    assert (type(error), error.status_code) == (UpstreamTimeoutError, 504)


def test_client_timeout_says_how_long_it_waited(ll: Any, translation: Translation) -> None:
    exc = ll.Timeout("Request timed out.", "grok-code-fast-1", "openai")

    error = translate(exc, translation)

    assert (type(error), error.status_code) == (UpstreamTimeoutError, None)
    assert "within 0.5 s" in str(error)


@pytest.mark.parametrize(("text", "reason"), [
    ("OpenAIException - Connection error.", "connection_lost"),
    ("OpenAIException - Stream ended before a finish_reason was received", "no_finish_reason"),
])
def test_mid_stream_failures_are_told_apart_by_their_cause(
    ll: Any, translation: Translation, text: str, reason: str,
) -> None:
    cause = ll.APIConnectionError(text, "openai", "grok-code-fast-1")
    exc = ll.MidStreamFallbackError(str(cause), "grok-code-fast-1", "openai", original_exception=cause)

    error = translate(exc, translation)

    assert (type(error), error.reason, error.status_code) == (StreamIncompleteError, reason, None)


@pytest.mark.parametrize("build", [
    lambda ll: ll.UnsupportedParamsError("openai does not support parameters: ['foo']", "openai", "m"),
    lambda ll: ll.ContextWindowExceededError("maximum prompt length is 10", "m", "openai",
                                             response=answer(400, "too long")),
], ids=["unsupported-params", "context-window"])
def test_litellm_refusals_are_invalid_requests(ll: Any, translation: Translation, build: Any) -> None:
    assert type(translate(build(ll), translation)) is InvalidRequestError


@pytest.mark.parametrize(("exc", "expected"), [
    (httpx.ConnectError("boom"), UpstreamUnavailableError),
    (httpx.ReadTimeout("slow"), UpstreamTimeoutError),
    (openai.APIConnectionError(request=httpx.Request("POST", XAI_URL)), UpstreamUnavailableError),
    (ValueError("not LiteLLM's"), UpstreamUnavailableError),
], ids=["httpx-connect", "httpx-timeout", "openai-connection", "anything-else"])
def test_foreign_exceptions_never_escape(translation: Translation, exc: Exception, expected: type) -> None:
    assert type(translate(exc, translation)) is expected


# --- Redaction and the boundary ----------------------------------------------------------------

def test_the_requests_own_key_is_redacted_even_when_not_key_shaped(
    ll: Any, translation: Translation, key: str,
) -> None:
    exc = ll.BadRequestError("Error code: 400", "grok-code-fast-1", "openai",
                             response=answer(400, f"bad request for key {key}"))

    error = translate(exc, translation)

    for text in (str(error), repr(error), error.upstream_text):
        assert key not in text
    assert key[-4:] in error.upstream_text  # masked, still recognisable


def test_the_boundary_chains_the_cause_and_lets_upstream_errors_through(
    ll: Any, translation: Translation,
) -> None:
    original = ll.ServiceUnavailableError("Error code: 503", "openai", "m", response=answer(503, "{}"))
    with pytest.raises(UpstreamUnavailableError) as raised:
        with translating(translation.spec):
            raise original
    assert raised.value.__cause__ is original

    ours = QuotaExceededError("spent")
    with pytest.raises(QuotaExceededError) as passed:
        with translating(translation.spec):
            raise ours
    assert passed.value is ours


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), asyncio.CancelledError(), GeneratorExit()])
def test_the_boundary_never_swallows_control_flow(translation: Translation, exc: BaseException) -> None:
    with pytest.raises(type(exc)):
        with translating(translation.spec):
            raise exc


def test_every_translation_is_an_upstream_error(ll: Any, translation: Translation) -> None:
    exc = ll.APIError(418, "teapot", "openai", "m", response=answer(418, "short and stout"))

    assert isinstance(translate(exc, translation), UpstreamError)


# --- Retry-After -------------------------------------------------------------------------------

@pytest.mark.parametrize(("headers", "seconds"), [
    ({"retry-after": "7"}, 7.0),
    ({"retry-after": "1.5"}, 1.5),
    ({"retry-after": "-3"}, 0.0),
    ({"retry-after-ms": "250"}, 0.25),
    ({"retry-after": email.utils.formatdate(NOW + 30, usegmt=True)}, 30.0),
    ({"retry-after": email.utils.formatdate(NOW - 30, usegmt=True)}, 0.0),
    ({"retry-after": "soon"}, None),
    ({}, None),
], ids=["seconds", "fraction", "negative", "ms", "http-date", "http-date-past", "garbage", "absent"])
def test_retry_after_parses_seconds_and_http_dates(headers: dict[str, str], seconds: float | None) -> None:
    assert retry_after_seconds(headers, now=lambda: NOW) == seconds
