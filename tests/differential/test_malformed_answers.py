"""A 200 answer that is not what the OpenAI wire promises, through both adapters: the same outcome.

The inputs are a new-user tester's (findings 1 and 2): tool-call ``arguments`` sent as a JSON object
instead of a string (both adapters keep its JSON text, as LiteLLM's ``Function`` does), and bodies
that are no chat completion or carry fields of the wrong type (an UpstreamError: the upstream's
answer is unreadable, never an InternalError, never a silent 200 with nothing in it).
"""
from __future__ import annotations

import json
from typing import Any

import pytest

from llmcore.testing.fake_xai import Fault
from tests.differential.known_differences import assert_same
from tests.differential.pair import GENERIC, Case, Pair
from tests.differential.test_field_reports import HI, chunk, sse, stream_of

# LiteLLM's pydantic models warn when a field holds another type than declared (an object for the
# arguments string, a number for choices); that is LiteLLM reading the malformed input, not a fault here.
pytestmark = pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")

OBJECT_ARGS_CALL = {"id": "a", "type": "function", "function": {"name": "f", "arguments": {"a": 1}}}


def answer(message: Any = None, usage: Any = None, **choice: Any) -> str:
    document: dict[str, Any] = {"id": "c1", "object": "chat.completion", "created": 1, "model": GENERIC,
                                "choices": [{"index": 0, "message": message, "finish_reason": "stop", **choice}]}
    if usage is not None:
        document["usage"] = usage
    return json.dumps(document)


def twice(body: str) -> tuple[Fault, ...]:
    return (Fault.status(200, body),) * 2


OBJECT_ARGS_STREAM = sse(
    chunk(GENERIC, [{"index": 0, "delta": {"tool_calls": [{"index": 0, **OBJECT_ARGS_CALL}]}, "finish_reason": None}]),
    chunk(GENERIC, [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]))
CHOICES_NOT_A_LIST_STREAM = sse(chunk(GENERIC, 5))  # type: ignore[arg-type]  # the malformed input itself

TEXT = {"role": "assistant", "content": "x"}
GOOD_ANSWERS = [
    Case("tool-call arguments as a JSON object",
         twice(answer({"role": "assistant", "content": "x", "tool_calls": [OBJECT_ARGS_CALL]},
                      finish_reason="tool_calls")), alias=GENERIC, messages=HI),
]
UNREADABLE_ANSWERS = [
    Case("an empty object", twice("{}"), alias=GENERIC, messages=HI),
    Case("no choices", twice('{"choices": []}'), alias=GENERIC, messages=HI),
    Case("a null message", twice('{"choices": [{"message": null}]}'), alias=GENERIC, messages=HI),
    Case("choices that are not a list", twice('{"choices": 5}'), alias=GENERIC, messages=HI),
    Case("content that is a number", twice(answer({"role": "assistant", "content": 5})), alias=GENERIC, messages=HI),
    Case("a token count that is a word", twice(answer(TEXT, {"prompt_tokens": "many"})), alias=GENERIC, messages=HI),
    Case("token counts out of range",
         twice(answer(TEXT, {"prompt_tokens": -5, "completion_tokens": 1e20, "total_tokens": 3})),
         alias=GENERIC, messages=HI),
]
ANSWERS = GOOD_ANSWERS + UNREADABLE_ANSWERS
STREAMS = [Case("stream tool-call arguments as a JSON object", stream_of(OBJECT_ARGS_STREAM), alias=GENERIC,
                messages=HI)]
UNREADABLE_STREAMS = [Case("stream chunk whose choices are not a list", stream_of(CHOICES_NOT_A_LIST_STREAM) * 2,
                           alias=GENERIC, messages=HI)]


@pytest.mark.parametrize("mode", ["complete", "acomplete"])
@pytest.mark.parametrize("case", ANSWERS, ids=[c.name for c in ANSWERS])
def test_each_malformed_answer_reads_the_same_through_both_adapters(pair: Pair, case: Case, mode: str) -> None:
    litellm, native = (pair.run(case, mode, adapter) for adapter in ("litellm", "native"))
    assert_same(litellm, native, case)


@pytest.mark.parametrize("mode", ["stream", "astream"])
@pytest.mark.parametrize("case", STREAMS + UNREADABLE_STREAMS, ids=[c.name for c in STREAMS + UNREADABLE_STREAMS])
def test_each_malformed_stream_reads_the_same_through_both_adapters(pair: Pair, case: Case, mode: str) -> None:
    litellm, native = (pair.run(case, mode, adapter) for adapter in ("litellm", "native"))
    assert_same(litellm, native, case)


@pytest.mark.parametrize("adapter", ["litellm", "native"])
@pytest.mark.parametrize("case", UNREADABLE_ANSWERS, ids=[c.name for c in UNREADABLE_ANSWERS])
def test_an_unreadable_answer_is_the_upstreams_fault(pair: Pair, case: Case, adapter: str) -> None:
    record = pair.run(case, "complete", adapter)
    # Pair.run catches UpstreamError only: an InternalError would leave this call.
    assert record.error is not None and record.error[:2] == ("UpstreamUnavailableError", 200), record.error


@pytest.mark.parametrize("adapter", ["litellm", "native"])
@pytest.mark.parametrize("mode", ["complete", "stream"])
def test_object_arguments_become_their_json_text(pair: Pair, adapter: str, mode: str) -> None:
    case = GOOD_ANSWERS[0] if mode == "complete" else STREAMS[0]
    record = pair.run(case, mode, adapter)
    assert record.error is None, record.error
    calls = record.answer.tool_calls if mode == "complete" else record.state["tool_calls"]
    assert [c["function"]["arguments"] for c in calls] == ['{"a": 1}']
