"""The fake Anthropic and Azure OpenAI servers answer like their providers: auth, validation, faults."""
from __future__ import annotations

import httpx
import pytest

from llmcore.testing.fake_anthropic import FakeAnthropicServer
from llmcore.testing.fake_azure import FakeAzureOpenAIServer
from llmcore.testing.fake_upstream import FakeUpstream
from llmcore.testing.fake_xai_faults import Fault

pytestmark = pytest.mark.slow
KEY = "sk-ant-fake-0123"
MESSAGE = {"model": "claude-x", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
ANTHROPIC_HEADERS = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}


@pytest.fixture(scope="module")
def anthropic():
    with FakeAnthropicServer(api_key=KEY) as server:
        yield server


@pytest.fixture
def http():
    with httpx.Client(trust_env=False, timeout=10) as client:
        yield client


def error_of(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["type"]


@pytest.mark.parametrize(("headers", "body", "expected"), [
    ({"anthropic-version": "2023-06-01"}, MESSAGE, (401, "authentication_error")),
    ({"x-api-key": "wrong", "anthropic-version": "2023-06-01"}, MESSAGE, (401, "authentication_error")),
    ({"x-api-key": KEY}, MESSAGE, (400, "invalid_request_error")),
    (ANTHROPIC_HEADERS, {"model": "claude-x", "messages": []}, (400, "invalid_request_error")),
])
def test_anthropic_refuses_what_anthropic_refuses(anthropic, http, headers, body, expected):
    assert error_of(http.post(f"{anthropic.url}/v1/messages", headers=headers, json=body)) == expected


def test_anthropic_refuses_a_body_that_is_not_a_json_object(anthropic, http):
    response = http.post(f"{anthropic.url}/v1/messages", headers=ANTHROPIC_HEADERS, content=b"[1]")
    assert error_of(response) == (400, "invalid_request_error")


@pytest.mark.parametrize(("fault", "status"), [
    (Fault.status(418, '{"type":"error","error":{"type":"teapot","message":"no"}}'), 418),
    (Fault.rate_limit(retry_after=None), 429), (Fault.rate_limit(retry_after=1.5), 429),
    (Fault.bad_gateway_html(), 502), (Fault.slow(0.01), 200),
])
def test_anthropic_answers_faults_in_its_own_shape(anthropic, http, fault, status):
    anthropic.script(fault)
    response = http.post(f"{anthropic.url}/v1/messages", headers=ANTHROPIC_HEADERS, json=MESSAGE)
    assert response.status_code == status
    if fault.kind == "rate_limit":
        assert response.headers.get("retry-after") == (None if fault.param("retry_after") is None else "1.5")


def test_anthropic_records_only_the_tail_of_the_key(anthropic, http):
    anthropic.clear()
    http.post(f"{anthropic.url}/v1/messages", headers=ANTHROPIC_HEADERS, json={**MESSAGE, "stream": True})
    (seen,) = anthropic.requests
    assert seen.stream and seen.credential_tails == {"x-api-key": KEY[-4:]}
    assert KEY not in repr(seen)


@pytest.mark.parametrize(("path", "query", "headers", "status"), [
    ("/openai/deployments/gpt-4o-mini/chat/completions", {}, {"api-key": "k"}, 404),
    ("/openai/deployments/nope/chat/completions", {"api-version": "2024-10-21"}, {"api-key": "k"}, 404),
    ("/openai/deployments/gpt-4o-mini/chat/completions", {"api-version": "2024-10-21"}, {}, 401),
    ("/openai/deployments/gpt-4o-mini/chat/completions", {"api-version": "2024-10-21"},
     {"Authorization": "Bearer k"}, 400),
])
def test_azure_refuses_what_azure_refuses(http, path, query, headers, status):
    with FakeAzureOpenAIServer() as azure:
        response = http.post(f"{azure.url}{path}", params=query, headers=headers, json={"model": "x"})
    assert response.status_code == status and response.json()["error"]["message"]


def test_a_fake_that_is_not_running_says_so():
    with pytest.raises(RuntimeError, match="not running"):
        FakeUpstream().url
