"""The bytes the fake xAI server answers with: real recorded exchanges, replayed verbatim.

The cassettes beside this module are go-vcr recordings of real ``api.x.ai`` traffic for
``grok-code-fast-1`` (charmbracelet/fantasy, Apache-2.0, see ``cassettes/LICENSE-fantasy``).
Everything here is computed once and cached, so answering a request costs almost nothing.
"""
from __future__ import annotations

import enum
import functools
import json
from pathlib import Path
from typing import Any

import attrs
import yaml

from llmcore.testing.fake_xai_faults import Fault

RECORDED_MODEL = "grok-code-fast-1"
CASSETTE_DIR = Path(__file__).with_name("cassettes")
DONE_EVENT = b"data: [DONE]\n\n"
_RECORDED_MODEL_FIELD = b'"model":"' + RECORDED_MODEL.encode() + b'"'


class Turn(enum.Enum):
    """Which recorded exchange answers a request: (non-stream cassette, stream cassette, index)."""

    SIMPLE = ("simple.yaml", "simple_streaming.yaml", 0)
    TOOL_CALL = ("tool.yaml", "tool_streaming.yaml", 0)
    TOOL_RESULT = ("tool.yaml", "tool_streaming.yaml", 1)
    OBJECT = ("simple_object.yaml", "simple_object_streaming.yaml", 0)


class Ending(enum.Enum):
    DONE = "done"            # [DONE] then a proper end of the chunked body
    CLEAN_EOF = "clean_eof"  # proper end of the chunked body, no [DONE]
    ABORT = "abort"          # TCP connection torn down mid-body


@attrs.frozen
class StreamEvents:
    """One recorded SSE stream, split so faults can cut or pad it."""

    deltas: tuple[bytes, ...]   # role / reasoning / content / tool-call deltas, in order
    finish: tuple[bytes, ...]   # the chunk(s) carrying finish_reason
    usage: bytes | None         # the ``"choices": []`` usage chunk
    empty_delta: bytes          # a ``{"delta": {}}`` chunk in the same envelope (id, created, model)

    def with_model(self, model: str) -> StreamEvents:
        return StreamEvents(
            deltas=tuple(_with_model(event, model) for event in self.deltas),
            finish=tuple(_with_model(event, model) for event in self.finish),
            usage=None if self.usage is None else _with_model(self.usage, model),
            empty_delta=_with_model(self.empty_delta, model),
        )


@attrs.frozen
class Exchange:
    body: bytes  # the non-stream JSON answer
    stream: StreamEvents


@attrs.frozen
class StreamPlan:
    events: tuple[bytes, ...]
    ending: Ending


def choose_turn(body: dict[str, Any]) -> Turn:
    """Pick the recording that matches the request's shape."""
    messages = body.get("messages")
    last = messages[-1] if isinstance(messages, list) and messages else None
    if isinstance(last, dict) and last.get("role") == "tool":
        return Turn.TOOL_RESULT
    # The structured-output recording forces a tool; a response_format asks for the same thing.
    if body.get("response_format") is not None or isinstance(body.get("tool_choice"), dict):
        return Turn.OBJECT
    if body.get("tools"):
        return Turn.TOOL_CALL
    return Turn.SIMPLE


def _with_model(payload: bytes, model: str) -> bytes:
    # A byte-level substitution keeps every other recorded byte (key order, escapes) intact.
    if model == RECORDED_MODEL:
        return payload
    return payload.replace(_RECORDED_MODEL_FIELD, b'"model":' + json.dumps(model).encode())


def _compact(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def _sse(document: dict[str, Any]) -> bytes:
    return b"data: " + _compact(document) + b"\n\n"


def _response_body(cassette: str, index: int) -> str:
    with open(CASSETTE_DIR / cassette, encoding="utf-8") as handle:
        recording = yaml.safe_load(handle)
    body: str = recording["interactions"][index]["response"]["body"]
    return body


def _empty_delta_like(first_event: dict[str, Any]) -> dict[str, Any]:
    return {**first_event, "choices": [{"index": 0, "delta": {}}]}


def parse_stream(raw: str) -> StreamEvents:
    """Split a recorded SSE body into its delta, finish and usage events."""
    deltas: list[bytes] = []
    finish: list[bytes] = []
    usage: bytes | None = None
    first: dict[str, Any] | None = None
    for block in raw.split("\n\n"):
        payload = block.strip().removeprefix("data: ")
        if not payload or payload == "[DONE]":
            continue
        document = json.loads(payload)
        event = f"data: {payload}\n\n".encode()
        first = first or document
        if not document["choices"]:
            usage = event
        elif any(choice.get("finish_reason") for choice in document["choices"]):
            finish.append(event)
        else:
            deltas.append(event)
    if first is None:
        raise ValueError("recorded stream has no events")
    return StreamEvents(tuple(deltas), tuple(finish), usage, _sse(_empty_delta_like(first)))


@functools.lru_cache(maxsize=None)
def recorded_exchange(turn: Turn) -> Exchange:
    plain, streaming, index = turn.value
    return Exchange(
        body=_response_body(plain, index).encode(),
        stream=parse_stream(_response_body(streaming, index)),
    )


@functools.lru_cache(maxsize=64)
def exchange_for_model(turn: Turn, model: str) -> Exchange:
    recorded = recorded_exchange(turn)
    return Exchange(body=_with_model(recorded.body, model), stream=recorded.stream.with_model(model))


def _synthetic_chunk(model: str, choices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "id": "fake-0000-synthetic", "object": "chat.completion.chunk", "created": 1773345575,
        "model": model, "choices": choices, **extra, "system_fingerprint": "fp_fake",
    }


def synthetic_usage(chunks: int) -> dict[str, Any]:
    """xAI-shaped usage for a synthetic stream: reasoning counted in the total, not in completion."""
    prompt, reasoning, cached = 213, 8, 192
    return {
        "prompt_tokens": prompt, "completion_tokens": chunks, "total_tokens": prompt + chunks + reasoning,
        "prompt_tokens_details": {"text_tokens": prompt, "audio_tokens": 0, "image_tokens": 0,
                                  "cached_tokens": cached},
        "completion_tokens_details": {"reasoning_tokens": reasoning, "audio_tokens": 0,
                                      "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
        "num_sources_used": 0,
        # grok-4.3 prices: $1.25 / $2.50 per 1M tokens, 1e10 ticks to the dollar.
        "cost_in_usd_ticks": prompt * 12_500 + (chunks + reasoning) * 25_000,
    }


@functools.lru_cache(maxsize=64)
def synthetic_stream(chunks: int, model: str) -> StreamEvents:
    """``chunks`` content deltas of "tok "; the first also opens the assistant turn with reasoning."""
    first = {"role": "assistant", "reasoning_content": "Thinking.", "content": "tok "}
    deltas = [_sse(_synthetic_chunk(model, [{"index": 0, "delta": first}]))] if chunks > 0 else []
    rest = _sse(_synthetic_chunk(model, [{"index": 0, "delta": {"content": "tok "}}]))
    deltas.extend([rest] * max(chunks - 1, 0))
    finish = _sse(_synthetic_chunk(model, [{"index": 0, "delta": {}, "finish_reason": "stop"}]))
    usage = _sse(_synthetic_chunk(model, [], usage=synthetic_usage(chunks)))
    empty = _sse(_synthetic_chunk(model, [{"index": 0, "delta": {}}]))
    return StreamEvents(tuple(deltas), (finish,), usage, empty)


def plan_stream(events: StreamEvents, fault: Fault, include_usage: bool) -> StreamPlan:
    """The events to write, and how to end the body, for one request under one fault."""
    if fault.kind == "cut_mid_stream":
        return StreamPlan(events.deltas[:fault.param("after_events")], Ending.ABORT)
    if fault.kind == "eof_without_finish":
        return StreamPlan(events.deltas[:fault.param("after_events")], Ending.CLEAN_EOF)
    if fault.kind == "zero_events":
        return StreamPlan((), Ending.CLEAN_EOF)
    deltas = events.deltas
    if fault.kind == "empty_deltas":
        deltas = deltas[:1] + (events.empty_delta,) * fault.param("count") + deltas[1:]
    # Real xAI (like OpenAI) sends the usage chunk only when stream_options.include_usage is true.
    usage = (events.usage,) if include_usage and events.usage is not None else ()
    return StreamPlan(deltas + events.finish + usage + (DONE_EVENT,), Ending.DONE)


def _reshaped_document(document: dict[str, Any], fault: Fault) -> dict[str, Any]:
    if fault.kind == "served_as":
        return {**document, "model": fault.param("model")}
    choices = []
    for choice in document.get("choices") or []:
        inner = dict(choice)
        for name in ("message", "delta"):
            if isinstance(inner.get(name), dict):
                inner[name] = {k: v for k, v in inner[name].items() if k != "reasoning_content"}
        choices.append(inner)
    return {**document, "choices": choices}


def reshaped_body(body: bytes, fault: Fault) -> bytes:
    """A non-stream answer changed by an answer-shaping fault (``served_as``, ``no_reasoning``), else as is."""
    if fault.kind not in ANSWER_FAULTS:
        return body
    return _compact(_reshaped_document(json.loads(body), fault))


def _reshaped_event(event: bytes, fault: Fault) -> bytes:
    payload = event.decode("utf-8").strip().removeprefix("data: ")
    return _sse(_reshaped_document(json.loads(payload), fault))


def reshaped_events(events: StreamEvents, fault: Fault) -> StreamEvents:
    """A stream changed by an answer-shaping fault, event by event (a delta left empty stays, as xAI sends those)."""
    if fault.kind not in ANSWER_FAULTS:
        return events
    return StreamEvents(
        deltas=tuple(_reshaped_event(event, fault) for event in events.deltas),
        finish=tuple(_reshaped_event(event, fault) for event in events.finish),
        usage=None if events.usage is None else _reshaped_event(events.usage, fault),
        empty_delta=_reshaped_event(events.empty_delta, fault),
    )


# Faults that change what a successful answer says (stream and non-stream alike).
ANSWER_FAULTS = frozenset({"served_as", "no_reasoning"})
