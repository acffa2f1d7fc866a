"""The SSE half of ``POST /v1/responses``: Core stream chunks rendered as the Responses API's event sequence.

Sequence (``ResponseStreamEvent`` in OpenAI's ``openapi.yaml``; the
``openai`` SDK's ``responses.stream`` accumulates it): ``response.created``
and ``response.in_progress`` (status ``in_progress``, no output yet), then
per output item ``response.output_item.added``, its content events,
``response.output_item.done``; at the end ``response.completed`` (or
``response.incomplete`` when the model stopped at ``max_output_tokens``)
with the whole response and its usage. Every event has ``type`` and a
``sequence_number`` counting from 0; each is sent as ``event: <type>`` and
``data: <json>``.

Content events per item:

- reasoning (the model's ``reasoning_content``): ``content_part.added``
  with a ``reasoning_text`` part, ``response.reasoning_text.delta`` ...,
  ``response.reasoning_text.done``, ``content_part.done``. Raw reasoning
  text, not a summary, so not the ``reasoning_summary_*`` events (the
  ``openai`` SDK and the spec accept both);
- message: ``content_part.added`` (``output_text``),
  ``response.output_text.delta`` ..., ``response.output_text.done``,
  ``content_part.done``;
- function call: ``response.function_call_arguments.delta`` ...,
  ``response.function_call_arguments.done``.

A reasoning or message item closes when another item starts. A tool call
opens its item on its first delta and stays open until the response ends,
so arguments of parallel calls that the upstream interleaves (by tool-call
``index``) all land in their own item. Only choice 0 is rendered.

After the first event the status line is sent: a stream that breaks or ends
without a finish reason ends with ``response.failed`` (status ``failed``,
``error: {code, message}``), never with ``response.completed``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmcore.domain.chat import StreamChunk
from llmcore.domain.usage import Usage
from llmcore.entrypoints.proxy_streaming import encode_json
from llmcore.entrypoints.responses_wire import (
    function_call_item, message_item, reasoning_item, response_object, status_of, text_part,
)

SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class _Item:
    """One output item being streamed: its place, id and what has arrived so far."""

    def __init__(self, kind: str, output_index: int, item_id: str) -> None:
        self.kind = kind
        self.output_index = output_index
        self.id = item_id
        self.text = ""
        self.call_id = ""
        self.name = ""

    def document(self, status: str, namespaces: Mapping[str, str]) -> dict[str, Any]:
        if self.kind == "reasoning":
            return reasoning_item(self.id, self.text, status)
        if self.kind == "message":
            return message_item(self.id, self.text, status)
        return function_call_item(self.id, self.call_id, self.name, self.text, namespaces.get(self.name), status)


class ResponseEvents:
    """Turns one stream's chunks into Responses API events; one instance per response, not thread-safe."""

    def __init__(self, alias: str, response_id: str, echo: Mapping[str, Any], namespaces: Mapping[str, str],
                 created_at: int) -> None:
        self._alias = alias
        self._id = response_id
        self._base = response_id.removeprefix("resp_")
        self._echo = echo
        self._namespaces = namespaces
        self._created_at = created_at
        self._sequence = 0
        self._items: list[_Item] = []  # by output_index
        self._done: set[int] = set()
        self._open: _Item | None = None  # the open reasoning or message item
        self._tools: dict[int, _Item] = {}  # tool-call index -> its item, open until the end
        self.finish_reason: str | None = None

    def _event(self, kind: str, **fields: Any) -> bytes:
        document = {"type": kind, "sequence_number": self._sequence, **fields}
        self._sequence += 1
        return b"event: " + kind.encode() + b"\ndata: " + encode_json(document).encode() + b"\n\n"

    def _snapshot(self, status: str, usage: Usage | None = None, **extra: Any) -> dict[str, Any]:
        output = [item.document("completed" if item.output_index in self._done else "incomplete", self._namespaces)
                  for item in self._items] if status != "in_progress" else []
        return response_object(response_id=self._id, alias=self._alias, echo=self._echo, status=status,
                               output=output, usage=usage, created_at=self._created_at, **extra)

    def start(self) -> bytes:
        """``response.created`` then ``response.in_progress``."""
        return (self._event("response.created", response=self._snapshot("in_progress"))
                + self._event("response.in_progress", response=self._snapshot("in_progress")))

    def feed(self, chunk: StreamChunk) -> bytes:
        """The events for one chunk (empty bytes for a usage-only chunk or another choice's)."""
        if chunk.index != 0:
            return b""
        out = b""
        if chunk.reasoning_content:
            out += self._text_delta("reasoning", chunk.reasoning_content)
        if chunk.content:
            out += self._text_delta("message", chunk.content)
        for position, call in enumerate(chunk.tool_calls):
            out += self._tool_delta(call, position)
        if chunk.finish_reason is not None:
            self.finish_reason = chunk.finish_reason
        return out

    def _new_item(self, kind: str, prefix: str) -> _Item:
        index = len(self._items)
        item = _Item(kind, index, f"{prefix}_{self._base}_{index}")
        self._items.append(item)
        return item

    def _text_delta(self, kind: str, delta: str) -> bytes:
        out = b""
        item = self._open
        if item is None or item.kind != kind:
            out += self._close_open()
            item = self._open = self._new_item(kind, "rs" if kind == "reasoning" else "msg")
            part = {"type": "reasoning_text", "text": ""} if kind == "reasoning" else text_part("")
            out += self._event("response.output_item.added", output_index=item.output_index,
                               item=self._added(item))
            out += self._event("response.content_part.added", item_id=item.id, output_index=item.output_index,
                               content_index=0, part=part)
        item.text += delta
        if kind == "reasoning":
            return out + self._event("response.reasoning_text.delta", item_id=item.id,
                                     output_index=item.output_index, content_index=0, delta=delta)
        return out + self._event("response.output_text.delta", item_id=item.id, output_index=item.output_index,
                                 content_index=0, delta=delta, logprobs=[])

    def _added(self, item: _Item) -> dict[str, Any]:
        document = item.document("in_progress", self._namespaces)
        if item.kind != "function_call":
            document["content"] = []
        return document

    def _tool_delta(self, call: Mapping[str, Any], position: int) -> bytes:
        out = b""
        key = call.get("index", position)
        function = call.get("function") or {}
        item = self._tools.get(key)
        if item is None:
            out += self._close_open()
            item = self._tools[key] = self._new_item("function_call", "fc")
            item.call_id = str(call.get("id") or f"call_{item.id}")
            item.name = str(function.get("name") or "")
            out += self._event("response.output_item.added", output_index=item.output_index, item=self._added(item))
        arguments = function.get("arguments")
        if arguments:
            item.text += arguments
            out += self._event("response.function_call_arguments.delta", item_id=item.id,
                               output_index=item.output_index, delta=arguments)
        return out

    def _close_open(self) -> bytes:
        item, self._open = self._open, None
        if item is None:
            return b""
        where = {"item_id": item.id, "output_index": item.output_index, "content_index": 0}
        if item.kind == "reasoning":
            part: dict[str, Any] = {"type": "reasoning_text", "text": item.text}
            out = self._event("response.reasoning_text.done", **where, text=item.text)
        else:
            part = text_part(item.text)
            out = self._event("response.output_text.done", **where, text=item.text, logprobs=[])
        out += self._event("response.content_part.done", **where, part=part)
        return out + self._item_done(item)

    def _item_done(self, item: _Item) -> bytes:
        self._done.add(item.output_index)
        return self._event("response.output_item.done", output_index=item.output_index,
                           item=item.document("completed", self._namespaces))

    def finish(self, usage: Usage | None, finish_reason: str | None) -> bytes:
        """Close every open item, then ``response.completed`` (or ``response.incomplete``) with the usage."""
        out = self._close_open()
        for key in sorted(self._tools, key=lambda k: self._tools[k].output_index):
            item = self._tools[key]
            out += self._event("response.function_call_arguments.done", item_id=item.id,
                               output_index=item.output_index, name=item.name, arguments=item.text)
            out += self._item_done(item)
        self._tools.clear()
        status, details = status_of(finish_reason or self.finish_reason)
        return out + self._event(f"response.{status}",
                                 response=self._snapshot(status, usage, incomplete_details=details))

    def fail(self, code: str, message: str) -> bytes:
        """``response.failed`` for a stream that breaks after its first event; unfinished items are incomplete."""
        return self._event("response.failed",
                           response=self._snapshot("failed", error={"code": code, "message": message}))
