"""The native adapter classifies upstream answers as the LiteLLM adapter does (litellm_errors.by_status)."""
from __future__ import annotations

import pytest

from llmcore.adapters.native_errors import (
    status_error,
    stream_broke,
    stream_error_event,
    timed_out,
    unreachable,
    unreadable,
    unreadable_event,
    where,
)
from llmcore.domain import errors
from llmcore.domain.model_spec import Credentials, ModelSpec
from llmcore.domain.secret import Secret
from llmcore.testing.fake_xai_faults import CREDITS_EXHAUSTED_MESSAGE, NO_CREDITS_MESSAGE


def spec(key: str = "xai-unit-key-0123456789") -> ModelSpec:
    return ModelSpec(alias="grok", upstream_model="grok-code-fast-1", provider="xai",
                     credentials=Credentials(api_key=Secret(key), base_url="http://user:pw@127.0.0.1:9/v1?k=1"))


@pytest.mark.parametrize(("status", "text", "expected"), [
    (401, "no", errors.UpstreamAuthError),
    (403, "no", errors.UpstreamAuthError),
    (400, "Incorrect API key provided: xa***90", errors.UpstreamAuthError),
    (429, CREDITS_EXHAUSTED_MESSAGE, errors.QuotaExceededError),
    (429, NO_CREDITS_MESSAGE, errors.QuotaExceededError),
    (402, "pay", errors.QuotaExceededError),
    (429, "slow down", errors.RateLimitError),
    (408, "late", errors.UpstreamTimeoutError),
    (504, "late", errors.UpstreamTimeoutError),
    (409, "conflict, try again", errors.UpstreamUnavailableError),
    (425, "too early", errors.UpstreamUnavailableError),
    (500, "oops", errors.UpstreamUnavailableError),
    (529, "overloaded", errors.UpstreamUnavailableError),
    (400, "Invalid request", errors.InvalidRequestError),
    (404, "no such model", errors.InvalidRequestError),
    (422, "bad field", errors.InvalidRequestError),
])
def test_each_status_becomes_its_class_with_the_status_kept(status: int, text: str, expected: type) -> None:
    error = status_error(spec(), status, text, {})
    assert type(error) is expected and error.status_code == status
    assert error.retryable == issubclass(expected, errors.TransientUpstreamError)


def test_retry_after_is_read_in_seconds_milliseconds_and_dates() -> None:
    assert status_error(spec(), 429, "", {"retry-after": "2"}).retry_after == 2.0
    assert status_error(spec(), 429, "", {"retry-after-ms": "1500", "retry-after": "9"}).retry_after == 1.5
    dated = status_error(spec(), 429, "", {"retry-after": "Thu, 01 Jan 1970 00:01:40 GMT"}, now=lambda: 90.0)
    assert dated.retry_after == 10.0
    assert status_error(spec(), 429, "", {}).retry_after is None


def test_the_key_echoed_in_an_upstream_text_is_masked() -> None:
    key = "xai-unit-key-0123456789"
    error = status_error(spec(key), 500, f"echo {key}", {})
    assert key not in str(error) and key not in error.upstream_text


def test_transport_failures_name_the_host_never_the_userinfo_or_query() -> None:
    error = unreachable(spec(), ConnectionRefusedError("refused"))
    assert isinstance(error, errors.UpstreamUnavailableError) and error.status_code is None
    assert "http://127.0.0.1:9" in str(error) and "pw" not in str(error) and "k=1" not in str(error)
    late = timed_out(spec(), 5.0, TimeoutError())
    assert isinstance(late, errors.UpstreamTimeoutError) and "within 5 s" in str(late)
    assert where("not a url") == "?" and where("http://[::1") == "?"


def test_stream_endings_carry_their_reason() -> None:
    assert stream_broke(spec(), OSError("reset")).reason == "connection_lost"
    assert stream_broke(spec(), None, no_finish=True).reason == "no_finish_reason"


def test_an_error_event_is_classified_by_its_code_else_as_a_server_error() -> None:
    assert type(stream_error_event(spec(), {"error": {"code": 429}}, "slow")) is errors.RateLimitError
    assert type(stream_error_event(spec(), {"error": "boom"}, "boom")) is errors.UpstreamUnavailableError
    assert type(unreadable(spec(), 200, "<html>")) is errors.UpstreamUnavailableError


def test_an_error_event_says_what_the_upstream_said_and_invents_no_status() -> None:
    key = "xai-unit-key-0123456789"
    document = {"error": {"message": f"model overloaded for {key}", "type": "server_error"}}
    error = stream_error_event(spec(key), document, str(document))
    assert error.status_code is None and "HTTP 500" not in str(error)
    assert "sent an error in its stream" in str(error) and "model overloaded" in error.upstream_text
    assert key not in str(error) and key not in error.upstream_text
    coded = stream_error_event(spec(), {"error": {"code": 429, "message": "slow down"}}, "slow down")
    assert (coded.status_code, coded.upstream_text) == (429, "slow down")


def test_an_event_that_is_not_json_is_named_as_such_not_as_a_broken_connection() -> None:
    error = unreadable_event(spec(), "{oops")
    assert (type(error), error.reason) == (errors.StreamIncompleteError, "connection_lost")  # LiteLLM's, too
    assert "stream event that is not a JSON object" in str(error) and "connection broke" not in str(error)
    assert error.upstream_text == "{oops"
