"""The proxy as a real server on a loopback port, driven by the official ``openai`` client.

Most tests go through the real LiteLLM adapter to the fake xAI server; the
health probe, an all-unavailable readiness and the graceful shutdown use the
scripted fake (no LiteLLM import, so they stay fast).
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from loguru import logger

from llmcore.adapters.scripted_completion import ScriptedCompletion, StreamThenFail
from llmcore.bootstrap import Runtime, build_runtime
from llmcore.domain.chat import StreamChunk
from llmcore.domain.errors import ConfigError, UpstreamUnavailableError
from llmcore.entrypoints.proxy import create_app
from llmcore.entrypoints.proxy_thread import BackgroundProxy
from llmcore.testing.fake_xai import FakeXAIServer, Fault

pytestmark = [
    pytest.mark.slow,
    # LiteLLM 1.110.2 walks dir(delta) on every stream chunk (model_response_utils._is_delta_non_empty),
    # touching pydantic's deprecated instance attributes; with filterwarnings=error that breaks every
    # stream inside LiteLLM. Not ours to fix here: reported to the adapter's owner.
    pytest.mark.filterwarnings(r"ignore:Accessing the '\w+' attribute on the instance is deprecated"),
]

GROK = "grok-code-fast-1"
HELLO = [{"role": "user", "content": "Say hi in Portuguese."}]

GROK_ENTRY = """\
  - model_name: grok-code-fast-1
    litellm_params:
      model: openai/grok-code-fast-1
      api_key: os.environ/GROK_API_KEY
      api_base: os.environ/GROK_BASE_URL
      max_retries: 0
"""
OTHER_ENTRY = """\
  - model_name: other
    litellm_params:
      model: openai/other
      api_key: os.environ/OTHER_API_KEY
      api_base: os.environ/OTHER_BASE_URL
      max_retries: 0
"""


def write_config(path: Path, entries: str, general: str = "") -> Path:
    path.write_text("model_list:\n" + entries + (f"general_settings:\n{general}" if general else ""), "utf-8")
    return path


def loopback() -> httpx.Client:
    # trust_env=False: a proxy configured in the environment must not see loopback traffic.
    return httpx.Client(trust_env=False, timeout=30)


def openai_client(proxy: BackgroundProxy, api_key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=proxy.base_url, api_key=api_key, max_retries=0,
                         http_client=openai.DefaultHttpxClient(trust_env=False, timeout=30))


class Deployment:
    """A fake xAI server behind a proxy that needs a master key."""

    def __init__(self, fake: FakeXAIServer, proxy: BackgroundProxy, grok_key: str, master_key: str) -> None:
        self.fake = fake
        self.proxy = proxy
        self.grok_key = grok_key
        self.master_key = master_key
        self.auth = {"Authorization": f"Bearer {master_key}"}

    def client(self) -> openai.OpenAI:
        return openai_client(self.proxy, self.master_key)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    grok_key = "xai-e2e-" + secrets.token_hex(12)
    master_key = "sk-master-" + secrets.token_hex(12)
    config = write_config(tmp_path_factory.mktemp("proxy") / "llmcore.yaml", GROK_ENTRY,
                          "  master_key: os.environ/LLMCORE_MASTER_KEY\n")
    with FakeXAIServer(api_key=grok_key) as fake:
        env = {"GROK_API_KEY": grok_key, "GROK_BASE_URL": fake.base_url, "LLMCORE_MASTER_KEY": master_key}
        with BackgroundProxy(build_runtime(config, env)) as proxy:
            yield Deployment(fake, proxy, grok_key, master_key)


@pytest.fixture
def grok(deployment: Deployment) -> Iterator[Deployment]:
    deployment.fake.clear()
    yield deployment
    deployment.fake.clear()


def sse_events(response: httpx.Response) -> list[str]:
    return [line[len("data: "):] for line in response.iter_lines() if line.startswith("data: ")]


# --- the happy paths ---------------------------------------------------------------------------

def test_plain_completion_has_content_reasoning_usage_and_the_alias(grok: Deployment) -> None:
    with grok.client() as client:
        raw = client.chat.completions.with_raw_response.create(
            model=GROK, messages=HELLO, presence_penalty=0, extra_headers={"x-request-id": "e2e-plain.1"})
    completion = raw.parse()
    assert completion.model == GROK
    assert completion.choices[0].message.content
    assert completion.choices[0].message.reasoning_content  # type: ignore[attr-defined]
    assert completion.choices[0].finish_reason == "stop"
    usage = completion.usage
    assert usage is not None and usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens > 0
    assert usage.prompt_tokens + usage.completion_tokens == usage.total_tokens
    assert raw.headers["x-request-id"] == "e2e-plain.1"
    assert float(raw.headers["x-llmcore-overhead-ms"]) >= 0
    sent = grok.fake.requests[-1]
    assert "presence_penalty" not in sent.body_keys  # dropped by the Core's param policy
    assert sent.key_tail == grok.grok_key[-4:]  # the model's key went upstream, not the client's


def test_stream_with_usage_ends_with_the_usage_chunk(grok: Deployment) -> None:
    with grok.client() as client:
        stream = client.chat.completions.create(model=GROK, messages=HELLO, stream=True,
                                                stream_options={"include_usage": True})
        with stream:
            chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    reasoning = "".join(getattr(c.choices[0].delta, "reasoning_content", None) or "" for c in chunks if c.choices)
    assert text and reasoning
    assert {c.model for c in chunks} == {GROK}
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    details = chunks[-1].usage.completion_tokens_details
    assert details is not None and details.reasoning_tokens > 0


def test_raw_sse_has_openai_framing_and_no_usage_chunk_unless_asked(grok: Deployment) -> None:
    with loopback() as http, http.stream("POST", f"{grok.proxy.url}/chat/completions", headers=grok.auth,
                                         json={"model": GROK, "messages": HELLO, "stream": True}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        assert "x-llmcore-overhead-ms" in response.headers and "x-request-id" in response.headers
        events = sse_events(response)
    assert events[-1] == "[DONE]"
    documents = [json.loads(e) for e in events[:-1]]
    assert all(d["object"] == "chat.completion.chunk" and d["choices"] for d in documents)


def test_models_list_shows_the_available_models(grok: Deployment) -> None:
    with grok.client() as client:
        models = client.models.list()
    assert [m.id for m in models.data] == [GROK]


# --- errors --------------------------------------------------------------------------------------

def test_unknown_model_is_404_model_not_found(grok: Deployment) -> None:
    with grok.client() as client, pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="no-such-model", messages=HELLO)
    assert caught.value.code == "model_not_found"
    assert "grok-code-fast-1" in caught.value.message
    assert caught.value.response.headers["x-request-id"]


@pytest.mark.parametrize(("body", "needle"), [
    (b'{"model": "grok-code-fast-1", "messages": [', "not valid JSON"),
    (b'[1, 2]', "JSON object"),
    (b'{"model": "grok-code-fast-1"}', "'messages' is required"),
    (b'{"model": "grok-code-fast-1", "messages": []}', "'messages' is required"),
    (b'{"messages": [{"role": "user", "content": "hi"}]}', "'model' is required"),
    (b'{"model": "grok-code-fast-1", "messages": [{"content": "hi"}]}', "messages[0].role"),
    (b'{"model": "grok-code-fast-1", "messages": [{"role": "user", "content": "hi"}], "stream": "yes"}',
     "'stream' must be true or false"),
    (b'{"model": "\xff"}', "not UTF-8"),
])
def test_bad_requests_are_400_saying_what_is_wrong(grok: Deployment, body: bytes, needle: str) -> None:
    with loopback() as http:
        response = http.post(f"{grok.proxy.base_url}/chat/completions", content=body,
                             headers={**grok.auth, "Content-Type": "application/json"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert needle in error["message"]
    assert error["type"] == "invalid_request_error"


def test_malformed_json_says_where_it_failed(grok: Deployment) -> None:
    with loopback() as http:
        response = http.post(f"{grok.proxy.base_url}/chat/completions", content=b'{"model": grok}',
                             headers=grok.auth)
    assert response.status_code == 400
    assert "line 1 column 11" in response.json()["error"]["message"]


def test_unknown_route_is_an_openai_shaped_404(grok: Deployment) -> None:
    with loopback() as http:
        response = http.get(f"{grok.proxy.url}/v1/chat/completions", headers=grok.auth)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_route"
    assert "POST /v1/chat/completions" in response.json()["error"]["message"]


def test_oversize_body_is_an_openai_shaped_413(grok: Deployment) -> None:
    huge = [{"role": "user", "content": "x" * (1024 * 1024 + 10)}]
    with grok.client() as client, pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(model=GROK, messages=huge)
    assert caught.value.status_code == 413
    assert caught.value.code == "request_too_large"
    assert grok.fake.requests == []


def test_oversize_body_without_content_length_is_413_too(grok: Deployment) -> None:
    chunk = b"x" * 65536

    def body() -> Iterator[bytes]:
        yield b'{"model": "grok-code-fast-1", "messages": [{"role": "user", "content": "'
        for _ in range(20):
            yield chunk
        yield b'"}]}'

    with loopback() as http:
        response = http.post(f"{grok.proxy.base_url}/chat/completions", content=body(), headers=grok.auth)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-key", "Basic abc"])
def test_wrong_or_missing_master_key_is_401(grok: Deployment, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    with loopback() as http:
        for method, path in (("POST", "/v1/chat/completions"), ("GET", "/v1/models"), ("GET", "/metrics")):
            response = http.request(method, grok.proxy.url + path, headers=headers,
                                    json={"model": GROK, "messages": HELLO})
            assert response.status_code == 401, path
            assert response.json()["error"]["type"] == "authentication_error"
        for path in ("/health", "/health/readiness"):
            assert http.get(grok.proxy.url + path, headers=headers).status_code == 200
    assert grok.fake.requests == []


def test_wrong_master_key_with_the_openai_client(grok: Deployment) -> None:
    with openai_client(grok.proxy, "wrong-" + secrets.token_hex(8)) as client:
        with pytest.raises(openai.AuthenticationError):
            client.chat.completions.create(model=GROK, messages=HELLO)


def test_rate_limit_is_429_with_retry_after_passed_on(grok: Deployment) -> None:
    grok.fake.script(Fault.rate_limit(retry_after=2.2))
    with grok.client() as client, pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model=GROK, messages=HELLO)
    assert caught.value.code == "rate_limit_exceeded"
    assert caught.value.response.headers["retry-after"] == "3"


def test_spent_credits_are_429_insufficient_quota_without_retry_after(grok: Deployment) -> None:
    grok.fake.script(Fault.credits_exhausted())
    with grok.client() as client, pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model=GROK, messages=HELLO)
    assert caught.value.code == "insufficient_quota"
    assert "retry-after" not in caught.value.response.headers


@pytest.mark.parametrize(("fault", "status", "error_type"), [
    (Fault.bad_key(), 502, "upstream_auth_error"),
    (Fault.gateway_timeout(), 504, "upstream_timeout_error"),
    (Fault.bad_gateway_html(), 502, "upstream_error"),
    (Fault.bad_request("This model's maximum prompt length is 256000"), 400, "invalid_request_error"),
])
def test_upstream_failures_map_to_the_table(grok: Deployment, fault: Fault, status: int, error_type: str) -> None:
    grok.fake.script(fault)
    with grok.client() as client, pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(model=GROK, messages=HELLO)
    assert caught.value.status_code == status
    assert caught.value.type == error_type
    assert grok.grok_key not in caught.value.response.text and grok.master_key not in caught.value.response.text


def test_a_stream_failing_before_its_first_chunk_is_a_json_error(grok: Deployment) -> None:
    grok.fake.script(Fault.rate_limit(retry_after=1))
    with grok.client() as client, pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model=GROK, messages=HELLO, stream=True)
    assert caught.value.response.headers["content-type"].startswith("application/json")
    assert caught.value.response.headers["retry-after"] == "1"


def test_a_stream_breaking_mid_way_ends_with_an_error_event_then_done(grok: Deployment) -> None:
    grok.fake.script(Fault.cut_mid_stream(after_events=4))
    with loopback() as http, http.stream("POST", f"{grok.proxy.base_url}/chat/completions", headers=grok.auth,
                                         json={"model": GROK, "messages": HELLO, "stream": True}) as response:
        assert response.status_code == 200
        events = sse_events(response)
    assert events[-1] == "[DONE]"
    error = json.loads(events[-2])["error"]
    assert error["code"] == "stream_incomplete" and error["type"] == "upstream_error"
    assert error["message"]
    assert any(json.loads(e).get("choices") for e in events[:-2])


def test_a_stream_with_no_events_upstream_is_an_ordinary_error_not_a_success(grok: Deployment) -> None:
    grok.fake.script(Fault.zero_events())
    with loopback() as http:
        response = http.post(f"{grok.proxy.base_url}/chat/completions", headers=grok.auth,
                             json={"model": GROK, "messages": HELLO, "stream": True})
    # LiteLLM invents a finish chunk for an empty stream; the session holds it back, so nothing was
    # sent before the stream was judged and the client gets a plain JSON error.
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "stream_incomplete"
    assert "no events" in error["message"]


def test_a_client_disconnect_closes_the_upstream_stream(grok: Deployment) -> None:
    grok.fake.script(Fault.slow_chunks(delay=0.2))
    with loopback() as http, http.stream("POST", f"{grok.proxy.base_url}/chat/completions", headers=grok.auth,
                                         json={"model": GROK, "messages": HELLO, "stream": True}) as response:
        first = next(line for line in response.iter_lines() if line.startswith("data: "))
        assert json.loads(first[len("data: "):])["choices"]
    assert grok.fake.wait_for_disconnect(timeout=5)


# --- request ids, metrics --------------------------------------------------------------------------

def test_request_id_is_echoed_when_safe_and_replaced_when_not(grok: Deployment) -> None:
    with loopback() as http:
        kept = http.get(f"{grok.proxy.url}/health", headers={"x-request-id": "abc.DEF-123_x"})
        replaced = http.get(f"{grok.proxy.url}/health", headers={"x-request-id": "bad id/" + "x" * 200})
        fresh = http.get(f"{grok.proxy.url}/health")
    assert kept.headers["x-request-id"] == "abc.DEF-123_x"
    assert len(replaced.headers["x-request-id"]) == 32 and replaced.headers["x-request-id"].isalnum()
    assert fresh.headers["x-request-id"] != replaced.headers["x-request-id"]


def test_request_id_reaches_the_core_and_every_log_line(grok: Deployment) -> None:
    records: list[dict[str, Any]] = []
    sink = logger.add(lambda message: records.append(message.record["extra"]), level="INFO")
    logger.enable("llmcore")
    try:
        with grok.client() as client:
            client.chat.completions.create(model=GROK, messages=HELLO, stop=["\n"],
                                           extra_headers={"x-request-id": "trace-me-42"})
            with pytest.raises(openai.NotFoundError):
                client.chat.completions.create(model="nope", messages=HELLO,
                                               extra_headers={"x-request-id": "trace-me-43"})
    finally:
        logger.disable("llmcore")
        logger.remove(sink)
    events = {(r.get("event"), r.get("request_id")) for r in records}
    assert ("param_dropped", "trace-me-42") in events
    assert ("request_refused", "trace-me-43") in events


def test_metrics_are_prometheus_text_with_llmcore_series(grok: Deployment) -> None:
    with grok.client() as client:
        client.chat.completions.create(model=GROK, messages=HELLO)
    with loopback() as http:
        response = http.get(f"{grok.proxy.url}/metrics", headers=grok.auth)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    counted = 'llmcore_requests_total{api="chat_completions",model="grok-code-fast-1",outcome="ok",stream="false"}'
    assert counted in response.text
    assert "llmcore_overhead_seconds_count" in response.text


# --- one model unavailable, another serving --------------------------------------------------------

@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[BackgroundProxy, FakeXAIServer, str]]:
    other_key = "sk-other-" + secrets.token_hex(12)
    config = write_config(tmp_path_factory.mktemp("mixed") / "llmcore.yaml", GROK_ENTRY + OTHER_ENTRY)
    with FakeXAIServer(api_key=other_key) as other_fake:
        env = {
            "GROK_API_KEY": "xai-" + secrets.token_hex(8) + " pasted-with-a-space",
            "GROK_BASE_URL": other_fake.base_url,
            "OTHER_API_KEY": other_key,
            "OTHER_BASE_URL": other_fake.base_url,
        }
        with BackgroundProxy(build_runtime(config, env)) as proxy:
            yield proxy, other_fake, other_key


def test_readiness_shows_the_unavailable_model_and_its_reason_while_the_other_serves(
    mixed: tuple[BackgroundProxy, FakeXAIServer, str],
) -> None:
    proxy, _, _ = mixed
    with loopback() as http:
        response = http.get(f"{proxy.url}/health/readiness")
    assert response.status_code == 200
    models = {m["model"]: m for m in response.json()["models"]}
    assert models["grok-code-fast-1"]["available"] is False
    assert "whitespace" in models["grok-code-fast-1"]["reason"]
    other = models["other"]
    deployments = other.pop("deployments")
    assert other == {"model": "other", "upstream": "other", "available": True, "reason": None, "probe": None}
    # The loader derives a stable id from alias, model and base URL when model_info.id is not set.
    assert [(d["id"].startswith("other-"), d["available"], d["base_url_host"]) for d in deployments] == [
        (True, True, "127.0.0.1")]
    assert models["grok-code-fast-1"]["deployments"][0]["reason"] == models["grok-code-fast-1"]["reason"]


def test_unavailable_model_is_503_with_its_reason_and_the_other_model_serves(
    mixed: tuple[BackgroundProxy, FakeXAIServer, str],
) -> None:
    proxy, other_fake, other_key = mixed
    with openai_client(proxy, "any") as client:
        with pytest.raises(openai.InternalServerError) as caught:
            client.chat.completions.create(model=GROK, messages=HELLO)
        answer = client.chat.completions.create(model="other", messages=HELLO)
        assert [m.id for m in client.models.list().data] == ["other"]
    assert caught.value.status_code == 503
    assert caught.value.code == "model_unavailable"
    assert "GROK_API_KEY" in caught.value.message and "whitespace" in caught.value.message
    assert answer.model == "other" and answer.choices[0].message.content
    assert [r.key_tail for r in other_fake.requests] == [other_key[-4:]]


# --- scripted: readiness with nothing available, the probe, start-up refusal, shutdown ------------

def scripted_runtime(tmp_path: Path, general: str = "", env: dict[str, str] | None = None,
                     completion: ScriptedCompletion | None = None) -> Runtime:
    entry = "  - model_name: grok-code-fast-1\n    litellm_params:\n      model: openai/grok-code-fast-1\n"
    config = write_config(tmp_path / "llmcore.yaml", entry, general)
    return build_runtime(config, env if env is not None else {"GROK_API_KEY": "xai-" + secrets.token_hex(8)},
                         completion=completion or ScriptedCompletion(), retry=False)


def test_readiness_is_503_when_no_model_can_serve(tmp_path: Path) -> None:
    with BackgroundProxy(scripted_runtime(tmp_path, env={})) as proxy, loopback() as http:
        response = http.get(f"{proxy.url}/health/readiness")
        assert http.get(f"{proxy.url}/health").json() == {"status": "ok"}
    assert response.status_code == 503
    assert "GROK_API_KEY" in response.json()["models"][0]["reason"]


def test_health_probe_sends_one_cheap_request_and_feeds_readiness(tmp_path: Path) -> None:
    scripted = ScriptedCompletion()
    failure = UpstreamUnavailableError("upstream down", status_code=503, provider="xai", model=GROK)
    scripted.enqueue(failure)
    general = "  background_health_checks: true\n  health_check_interval: 1\n"
    runtime = scripted_runtime(tmp_path, general, completion=scripted)
    with BackgroundProxy(runtime) as proxy, loopback() as http:
        failing = _wait_for_probe(http, proxy, lambda m: m["probe"] is not None)
        assert failing.status_code == 503
        assert "upstream down" in failing.json()["models"][0]["reason"]
        passing = _wait_for_probe(http, proxy, lambda m: m["probe"] is not None and m["probe"]["ok"])
        assert passing.status_code == 200
        metrics = http.get(f"{proxy.url}/metrics").text
    assert 'llmcore_model_available{model="grok-code-fast-1"} 1.0' in metrics
    probe = scripted.requests[0]
    assert dict(probe.params) == {"max_tokens": 1}
    assert probe.request_id == "health-probe-grok-code-fast-1"


def _wait_for_probe(http: httpx.Client, proxy: BackgroundProxy, done: Any) -> httpx.Response:
    deadline = time.monotonic() + 5
    while True:
        response = http.get(f"{proxy.url}/health/readiness")
        if done(response.json()["models"][0]) or time.monotonic() > deadline:
            return response
        time.sleep(0.05)


def test_the_proxy_refuses_to_start_when_the_master_key_cannot_be_read(tmp_path: Path) -> None:
    runtime = scripted_runtime(tmp_path, "  master_key: os.environ/LLMCORE_MASTER_KEY\n")
    with pytest.raises(ConfigError, match="master_key"):
        create_app(runtime)


def test_a_stream_that_ends_before_any_chunk_is_a_json_502(tmp_path: Path) -> None:
    scripted = ScriptedCompletion([()])
    with BackgroundProxy(scripted_runtime(tmp_path, completion=scripted)) as proxy, loopback() as http:
        response = http.post(f"{proxy.base_url}/chat/completions",
                             json={"model": GROK, "messages": HELLO, "stream": True})
    assert response.status_code == 502
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] == "stream_incomplete"
    assert "no events" in response.json()["error"]["message"]


def test_a_crash_after_the_first_chunk_is_an_error_event_that_hides_its_text(tmp_path: Path) -> None:
    crash = StreamThenFail([StreamChunk(role="assistant", content="par")], RuntimeError("internal /secret/path"))
    scripted = ScriptedCompletion([crash])
    with BackgroundProxy(scripted_runtime(tmp_path, completion=scripted)) as proxy, loopback() as http, \
            http.stream("POST", f"{proxy.base_url}/chat/completions",
                        json={"model": GROK, "messages": HELLO, "stream": True}) as response:
        events = sse_events(response)
    assert json.loads(events[0])["choices"][0]["delta"]["content"] == "par"
    assert json.loads(events[1])["error"]["type"] == "server_error"
    assert "/secret/path" not in events[1]
    assert events[2:] == ["[DONE]"]
    assert scripted.closed_streams == 1


def test_background_proxy_reports_a_refusal_to_start(tmp_path: Path) -> None:
    runtime = scripted_runtime(tmp_path, "  master_key: os.environ/LLMCORE_MASTER_KEY\n")
    with pytest.raises(ConfigError, match="will not start"):
        BackgroundProxy(runtime).start()


def test_body_fields_that_clash_with_core_keywords_are_refused(tmp_path: Path) -> None:
    with BackgroundProxy(scripted_runtime(tmp_path)) as proxy, loopback() as http:
        response = http.post(f"{proxy.base_url}/chat/completions",
                             json={"model": GROK, "messages": HELLO, "request_id": "x"})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "request_id"


SERVER_SCRIPT = textwrap.dedent("""
    import sys
    from llmcore.adapters.log_setup import configure_logging
    from llmcore.adapters.scripted_completion import ScriptedCompletion, StreamThenFail
    from llmcore.bootstrap import build_runtime
    from llmcore.entrypoints.proxy import run

    configure_logging("INFO")
    runtime = build_runtime(None, completion=ScriptedCompletion(chunk_delay=0.25))
    run(runtime, "127.0.0.1", 0, grace_seconds=5, warm_up=False,
        on_ready=lambda port: print(f"PORT={port}", flush=True))
""")


def test_sigterm_lets_the_in_flight_stream_finish_then_exits_0(tmp_path: Path) -> None:
    script = tmp_path / "serve.py"
    script.write_text(SERVER_SCRIPT, "utf-8")
    env = {**os.environ, "GROK_API_KEY": "xai-" + secrets.token_hex(8)}
    env.pop("LLMCORE_CONFIG", None)
    server = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env, cwd=tmp_path)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline().strip().removeprefix("PORT="))
        url = f"http://127.0.0.1:{port}/v1/chat/completions"
        events: list[str] = []
        first_seen = threading.Event()

        def stream() -> None:
            with loopback() as http, http.stream("POST", url, json={"model": GROK, "messages": HELLO,
                                                                    "stream": True}) as response:
                for line in response.iter_lines():
                    if line.startswith("data: "):
                        events.append(line[len("data: "):])
                        first_seen.set()

        reader = threading.Thread(target=stream)
        reader.start()
        assert first_seen.wait(5)
        server.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        with loopback() as http, pytest.raises(httpx.ConnectError):
            http.get(f"http://127.0.0.1:{port}/health")
        reader.join(10)
        assert server.wait(10) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        stderr = server.stderr.read() if server.stderr else ""
        if server.stdout:
            server.stdout.close()
        if server.stderr:
            server.stderr.close()
    assert events[-1] == "[DONE]", stderr
    assert "scripted" in "".join(events)
    assert "proxy_stopped" in stderr


# --- readiness: up/down for anyone, the reasons with the master key --------------------------------

def test_readiness_without_the_master_key_shows_only_up_or_down(tmp_path: Path) -> None:
    master_key = "sk-master-" + secrets.token_hex(12)
    general = "  master_key: os.environ/LLMCORE_MASTER_KEY\n"
    hidden = "/run/secrets/" + secrets.token_hex(6)
    entry = f"""\
  - model_name: grok-code-fast-1
    litellm_params:
      model: openai/grok-code-fast-1
      api_key: file:{hidden}
  - model_name: other
    litellm_params:
      model: openai/other
      api_key: os.environ/OTHER_API_KEY
      api_base: http://127.0.0.1:9/v1
"""
    config = write_config(tmp_path / "llmcore.yaml", entry, general)
    env = {"LLMCORE_MASTER_KEY": master_key, "OTHER_API_KEY": "sk-" + secrets.token_hex(12)}
    runtime = build_runtime(config, env, completion=ScriptedCompletion(), retry=False)
    with BackgroundProxy(runtime) as proxy, loopback() as http:
        anonymous = http.get(f"{proxy.url}/health/readiness")
        wrong = http.get(f"{proxy.url}/health/readiness", headers={"Authorization": "Bearer nope"})
        operator = http.get(f"{proxy.url}/health/readiness", headers={"Authorization": f"Bearer {master_key}"})

    assert anonymous.status_code == wrong.status_code == operator.status_code == 200
    up_down = {"status": "ready", "models": [{"model": "grok-code-fast-1", "available": False},
                                             {"model": "other", "available": True}]}
    assert anonymous.json() == wrong.json() == up_down
    assert hidden not in anonymous.text + wrong.text
    detailed = {m["model"]: m for m in operator.json()["models"]}
    assert hidden in detailed["grok-code-fast-1"]["reason"]
