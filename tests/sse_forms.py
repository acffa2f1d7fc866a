"""Legal SSE streams (html.spec.whatwg.org, "event stream interpretation") carrying one answer: "Hello world".

Each form is the same two chunks and ``[DONE]`` written another legal way; a
reader that follows the standard yields "Hello world", finish reason "stop".
"""
from __future__ import annotations

import json

MODEL = "gpt-x"
HELLO = json.dumps({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": MODEL, "choices": [
    {"index": 0, "delta": {"role": "assistant", "content": "Hello"}, "finish_reason": None}]}, separators=(",", ":"))
WORLD = json.dumps({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": MODEL, "choices": [
    {"index": 0, "delta": {"content": " world"}, "finish_reason": "stop"}]}, separators=(",", ":"))
EVENTS = (HELLO, WORLD, "[DONE]")


def _plain(separator: str = "\n", field: str = "data: ") -> str:
    return "".join(f"{field}{event}{separator}{separator}" for event in EVENTS)


def _split_data(event: str) -> str:
    # One event's data over two data: lines; the reader joins them with "\n", which JSON takes as whitespace.
    head, _, tail = event.partition(',"created"')
    return f"data: {head}\ndata: ,\"created\"{tail}\n\n" if tail else f"data: {event}\n\n"


SSE_FORMS: dict[str, str] = {
    "comment first": ": stream opened\n\n" + _plain(),
    "retry field first": "retry: 3000\n\n" + _plain(),
    "id fields with a ping comment": "".join(f"id: {i}\ndata: {e}\n\n: ping\n\n" for i, e in enumerate(EVENTS)),
    "event field": "event: ping\n\n" + "".join(f"event: message\ndata: {e}\n\n" for e in EVENTS),
    "CRLF line endings": _plain("\r\n"),
    "CR line endings": _plain("\r"),
    "data without a space": _plain(field="data:"),
    "multi-line data": "".join(_split_data(e) for e in EVENTS),
    "keep-alive comments between events": "".join(f"data: {e}\n\n: keep-alive\n\n" for e in EVENTS),
}
