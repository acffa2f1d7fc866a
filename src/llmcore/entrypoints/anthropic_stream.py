"""The SSE half of ``POST /v1/messages``: Core stream chunks rendered as Anthropic's event sequence.

Sequence (as Anthropic streams it, and as the ``anthropic`` SDK's
``MessageStream`` accumulates it): ``message_start`` (usage still zero: a
chat-completions upstream reports usage at the end), ``ping``, then per
content block ``content_block_start`` / ``content_block_delta``
(``thinking_delta``, ``text_delta``, ``input_json_delta``) /
``content_block_stop``, then ``message_delta`` with ``stop_reason`` and the
final usage (``input_tokens`` included, which the SDK takes over the zero of
``message_start``), then ``message_stop``. Each event is ``event: <type>`` and
``data: <json>``.

Blocks: a thinking or text block closes when another block starts; reasoning
after text opens a new thinking block. A tool call opens a ``tool_use`` block
when its first delta arrives (the one with ``id`` and ``name``) and stays open
until the message ends, so an upstream that interleaves the argument
fragments of parallel calls (by tool-call ``index``) still sends every
fragment before its block's ``content_block_stop``. Only choice 0 is rendered:
the Messages API has no ``n``.

After the first event the status line is sent: a stream that breaks or ends
without a finish reason ends with an ``error`` event instead of
``message_delta`` / ``message_stop``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmcore.domain.chat import StreamChunk
from llmcore.domain.usage import Usage
from llmcore.entrypoints.anthropic_wire import error_body, stop_reason, usage_dict
from llmcore.entrypoints.proxy_streaming import encode_json

SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse(document: dict[str, Any]) -> bytes:
    """One Anthropic SSE event: its ``type`` as the event name, the document as data."""
    event = str(document["type"])
    return b"event: " + event.encode() + b"\ndata: " + encode_json(document).encode() + b"\n\n"


class MessageEvents:
    """Turns one stream's chunks into Anthropic events; one instance per response, not thread-safe."""

    def __init__(self, alias: str, message_id: str) -> None:
        self._alias = alias
        self._id = message_id
        self._blocks = 0
        self._open: tuple[str, int] | None = None  # the open thinking or text block: (kind, index)
        self._tools: dict[int, int] = {}  # tool-call index -> block index, all open until the end
        self.finish_reason: str | None = None

    def start(self) -> bytes:
        """``message_start`` then ``ping``."""
        message: dict[str, Any] = {
            "id": self._id, "type": "message", "role": "assistant", "model": self._alias, "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": usage_dict(None),
        }
        return sse({"type": "message_start", "message": message}) + sse({"type": "ping"})

    def feed(self, chunk: StreamChunk) -> bytes:
        """The events for one chunk (often one ``content_block_delta``; empty bytes for a usage-only chunk)."""
        if chunk.index != 0:
            return b""
        out = b""
        if chunk.reasoning_content:
            out += self._text_like("thinking", {"type": "thinking_delta", "thinking": chunk.reasoning_content})
        if chunk.content:
            out += self._text_like("text", {"type": "text_delta", "text": chunk.content})
        for position, call in enumerate(chunk.tool_calls):
            out += self._tool_delta(call, position)
        if chunk.finish_reason is not None:
            self.finish_reason = chunk.finish_reason
        return out

    def _text_like(self, kind: str, delta: dict[str, Any]) -> bytes:
        out = b""
        if self._open is None or self._open[0] != kind:
            out += self._close_open()
            index = self._new_block()
            self._open = (kind, index)
            block: dict[str, str] = {"type": "thinking", "thinking": "", "signature": ""} if kind == "thinking" else \
                {"type": "text", "text": ""}
            out += sse({"type": "content_block_start", "index": index, "content_block": block})
        return out + sse({"type": "content_block_delta", "index": self._open[1], "delta": delta})

    def _tool_delta(self, call: Mapping[str, Any], position: int) -> bytes:
        out = b""
        key = call.get("index", position)
        function = call.get("function") or {}
        index = self._tools.get(key)
        if index is None:
            out += self._close_open()
            index = self._tools[key] = self._new_block()
            block: dict[str, Any] = {
                "type": "tool_use", "id": call.get("id") or f"toolu_{index}", "name": function.get("name") or "",
                "input": {},
            }
            out += sse({"type": "content_block_start", "index": index, "content_block": block})
        arguments = function.get("arguments")
        if arguments:
            out += sse({"type": "content_block_delta", "index": index,
                        "delta": {"type": "input_json_delta", "partial_json": arguments}})
        return out

    def _new_block(self) -> int:
        index = self._blocks
        self._blocks += 1
        return index

    def _close_open(self) -> bytes:
        if self._open is None:
            return b""
        index = self._open[1]
        self._open = None
        return sse({"type": "content_block_stop", "index": index})

    def finish(self, usage: Usage | None, finish_reason: str | None) -> bytes:
        """Close every open block, then ``message_delta`` (stop reason, usage) and ``message_stop``."""
        out = self._close_open()
        for index in sorted(self._tools.values()):
            out += sse({"type": "content_block_stop", "index": index})
        self._tools.clear()
        delta = {"stop_reason": stop_reason(finish_reason or self.finish_reason), "stop_sequence": None}
        out += sse({"type": "message_delta", "delta": delta, "usage": usage_dict(usage)})
        return out + sse({"type": "message_stop"})

    @staticmethod
    def error(message: str, kind: str) -> bytes:
        """The ``error`` event for a stream that fails after its first event."""
        return sse(error_body(message, kind))
