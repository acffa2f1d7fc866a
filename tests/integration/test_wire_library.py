"""Wire fidelity through the library: real LiteLLM, real HTTP to fakes on 127.0.0.1, sync and async.

Every legal SSE form is read to its end (FIELD-REPORTS F1); interleaved
parallel tool calls are assembled (F4); ``n`` = 2 and ``logprobs`` round-trip
through the recorded-traffic fake xAI server and the generic OpenAI fake.
"""
from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import llmcore
from llmcore.adapters.recording_telemetry import RecordingTelemetry
from llmcore.testing.fake_openai import FakeOpenAIServer
from llmcore.testing.fake_xai import FakeXAIServer, Fault
from tests.sse_forms import SSE_FORMS

pytestmark = pytest.mark.filterwarnings(r"ignore:Accessing the '\w+' attribute on the instance is deprecated")

HI = [{"role": "user", "content": "hi"}]
CONFIG = """\
model_list:
  - model_name: gpt-x
    litellm_params: {model: openai/gpt-x, api_key: os.environ/GENERIC_KEY, api_base: os.environ/GENERIC_URL,
                     max_retries: 0}
  - model_name: grok-code-fast-1
    litellm_params: {model: openai/grok-code-fast-1, api_key: os.environ/GROK_API_KEY,
                     api_base: os.environ/GROK_BASE_URL, max_retries: 0}
"""


class Fakes:
    def __init__(self, generic: FakeOpenAIServer, xai: FakeXAIServer, core: llmcore.Core) -> None:
        self.generic, self.xai, self.core = generic, xai, core


@pytest.fixture(scope="module")
def fakes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fakes]:
    config = Path(tmp_path_factory.mktemp("wire-library")) / "llmcore.yaml"
    config.write_text(CONFIG, "utf-8")
    with FakeOpenAIServer(api_key="sk-generic-canary") as generic, FakeXAIServer(api_key="xai-lib-canary") as xai:
        env = {"GENERIC_KEY": "sk-generic-canary", "GENERIC_URL": generic.base_url,
               "GROK_API_KEY": "xai-lib-canary", "GROK_BASE_URL": xai.base_url}
        yield Fakes(generic, xai, llmcore.load(config, env=env, telemetry=RecordingTelemetry()))


@pytest.mark.parametrize("form", sorted(SSE_FORMS))
def test_every_legal_sse_form_is_read_to_its_end_sync(fakes: Fakes, form: str) -> None:
    fakes.generic.script(Fault.status(200, SSE_FORMS[form], "text/event-stream"))
    with fakes.core.stream("gpt-x", HI, raise_on_incomplete=True) as session:
        text = "".join(chunk.content or "" for chunk in session)
    assert (text, session.finish_reason, session.complete) == ("Hello world", "stop", True)


@pytest.mark.parametrize("form", sorted(SSE_FORMS))
def test_every_legal_sse_form_is_read_to_its_end_async(
        fakes: Fakes, form: str, run_async: Callable[[Callable[[], Awaitable[Any]]], Any]) -> None:
    fakes.generic.script(Fault.status(200, SSE_FORMS[form], "text/event-stream"))

    async def read() -> tuple[str, str | None, bool]:
        async with fakes.core.astream("gpt-x", HI, raise_on_incomplete=True) as session:
            text = "".join([chunk.content or "" async for chunk in session])
        return text, session.finish_reason, session.complete

    assert run_async(read) == ("Hello world", "stop", True)


def _f4_stream() -> str:
    deltas = [
        [{"index": 0, "id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": ""}}],
        [{"index": 1, "id": "call_b", "type": "function", "function": {"name": "get_time", "arguments": ""}}],
        [{"index": 0, "function": {"arguments": "{\"city\":\"Oslo\"}"}}],
        [{"index": 1, "function": {"arguments": "{\"tz\":"}}],
        [{"index": 1, "function": {"arguments": "\"CET\"}"}}],
    ]
    choices = [[{"index": 0, "delta": {"tool_calls": d}, "finish_reason": None}] for d in deltas]
    choices.append([{"index": 0, "delta": {}, "finish_reason": "tool_calls"}])
    documents = [{"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-x", "choices": c}
                 for c in choices]
    return "".join(f"data: {json.dumps(d)}\n\n" for d in documents) + "data: [DONE]\n\n"


def test_f4_interleaved_parallel_tool_calls_are_assembled_async(
        fakes: Fakes, run_async: Callable[[Callable[[], Awaitable[Any]]], Any]) -> None:
    fakes.generic.script(Fault.status(200, _f4_stream(), "text/event-stream"))

    async def read() -> Any:
        async with fakes.core.astream("gpt-x", HI) as session:
            async for _ in session:
                pass
        return session.tool_calls

    assert run_async(read) == (
        {"id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}},
        {"id": "call_b", "type": "function", "function": {"name": "get_time", "arguments": "{\"tz\":\"CET\"}"}},
    )


@pytest.mark.parametrize("model", ["grok-code-fast-1", "gpt-x"])
def test_n_2_and_logprobs_round_trip_json_and_stream_alike(fakes: Fakes, model: str) -> None:
    params = {"n": 2, "logprobs": True, "top_logprobs": 2}
    response = fakes.core.complete(model, HI, **params)
    with fakes.core.stream(model, HI, **params) as session:
        list(session)
    assert [c.index for c in response.choices] == [0, 1] == [c.index for c in session.choices]
    assert [c.content for c in response.choices] == [c.content for c in session.choices]
    assert response.choices[1].content.endswith(" [1]") and response.content == response.choices[0].content
    for choice in (*response.choices, *session.choices):
        tokens = choice.logprobs["content"]
        assert "".join(t["token"] for t in tokens) == choice.content
        assert all(len(t["top_logprobs"]) == 2 for t in tokens)
    assert session.complete and all(c.finish_reason == "stop" for c in session.choices)
    sent = (fakes.xai if model.startswith("grok") else fakes.generic).requests[-1].body
    assert (sent["n"], sent["logprobs"], sent["top_logprobs"]) == (2, True, 2)


@pytest.mark.parametrize("model", ["grok-code-fast-1", "gpt-x"])
@pytest.mark.parametrize("stream", [False, True])
def test_user_and_metadata_reach_an_openai_wire_upstream(fakes: Fakes, model: str, stream: bool) -> None:
    # LiteLLM's openai/ route sends `user` only for models in OpenAI's own catalog, and keeps
    # `metadata` for its own logging on every route: both were lost without a word.
    params = {"user": "tenant-7", "metadata": {"ticket": "T-42"}}
    if stream:
        with fakes.core.stream(model, HI, **params) as session:
            list(session)
    else:
        fakes.core.complete(model, HI, **params)
    sent = (fakes.xai if model.startswith("grok") else fakes.generic).requests[-1].body
    assert (sent.get("user"), sent.get("metadata")) == ("tenant-7", {"ticket": "T-42"})
    assert "extra_body" not in sent
