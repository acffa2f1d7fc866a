"""The fake xAI server's answer-shaping faults and its unknown-model 404 (what ``llmcore certify`` proves against)."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from llmcore.testing.fake_xai import FakeXAIServer, Fault

KEY = "xai-test-answer-faults-WXYZ"
AUTH = {"Authorization": f"Bearer {KEY}"}
SIMPLE = {"model": "grok-code-fast-1", "messages": [{"role": "user", "content": "Say hi in Portuguese"}]}
STREAM = {**SIMPLE, "stream": True, "stream_options": {"include_usage": True}}


@pytest.fixture
def server() -> Iterator[FakeXAIServer]:
    with FakeXAIServer(api_key=KEY, known_models=["grok-code-fast-1"]) as running:
        yield running


def post(server: FakeXAIServer, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{server.base_url}/chat/completions", json=body, headers=AUTH, timeout=5)


def documents(text: str) -> list[dict[str, Any]]:
    payloads = [block.removeprefix("data: ") for block in text.split("\n\n") if block]
    return [json.loads(payload) for payload in payloads if payload != "[DONE]"]


def test_an_unknown_model_gets_xais_404_and_consumes_no_fault(server: FakeXAIServer) -> None:
    server.script(Fault.bad_request("for the known model"))
    answer = post(server, {**SIMPLE, "model": "grok-nope"})
    assert answer.status_code == 404
    assert answer.json()["code"] == "not-found"
    assert answer.json()["error"].startswith("The model grok-nope does not exist or your team")
    assert post(server, SIMPLE).status_code == 400  # the scripted fault is still there for the known model


def test_without_known_models_every_model_is_served() -> None:
    with FakeXAIServer() as server:
        assert post(server, {**SIMPLE, "model": "grok-anything"}).json()["model"] == "grok-anything"


def test_models_lists_the_known_models(server: FakeXAIServer) -> None:
    listed = httpx.get(f"{server.base_url}/models", headers=AUTH, timeout=5).json()
    assert [m["id"] for m in listed["data"]] == ["grok-code-fast-1"]


def test_no_reasoning_removes_reasoning_content_but_keeps_the_usage(server: FakeXAIServer) -> None:
    server.script(Fault.no_reasoning())
    answer = post(server, SIMPLE).json()
    assert "reasoning_content" not in answer["choices"][0]["message"]
    assert answer["choices"][0]["message"]["content"] == "Olá!"
    assert answer["usage"]["completion_tokens_details"]["reasoning_tokens"] == 256
    assert "reasoning_content" in post(server, SIMPLE).json()["choices"][0]["message"]  # one request only


def test_no_reasoning_on_a_stream_drops_every_reasoning_delta(server: FakeXAIServer) -> None:
    server.script(Fault.no_reasoning())
    events = documents(post(server, STREAM).text)
    deltas = [choice["delta"] for event in events for choice in event["choices"]]
    assert not any("reasoning_content" in delta for delta in deltas)
    assert "".join(delta.get("content") or "" for delta in deltas) == "Olá!"
    assert events[-1]["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0


@pytest.mark.parametrize("body", [SIMPLE, STREAM], ids=["plain", "stream"])
def test_served_as_names_another_model_on_one_answer(server: FakeXAIServer, body: dict[str, Any]) -> None:
    server.script(Fault.served_as("grok-4.3-mini"))
    first = post(server, body)
    models = {first.json()["model"]} if not body.get("stream") else {e["model"] for e in documents(first.text)}
    assert models == {"grok-4.3-mini"}
    assert post(server, SIMPLE).json()["model"] == "grok-code-fast-1"


def test_answer_faults_round_trip_through_json() -> None:
    for fault in (Fault.no_reasoning(), Fault.served_as("grok-4.3")):
        assert Fault.from_dict(json.loads(json.dumps(fault.to_dict()))) == fault
