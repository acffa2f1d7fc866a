"""A fake Anthropic Messages API on 127.0.0.1, speaking Anthropic's wire format.

``POST /v1/messages`` with the ``x-api-key`` and ``anthropic-version`` headers; answers are
``message`` objects with content blocks and ``usage.input_tokens`` / ``output_tokens``, or, with
``"stream": true``, the SSE events ``message_start``, ``content_block_start``, ``ping``,
``content_block_delta`` (``text_delta``), ``content_block_stop``, ``message_delta`` (stop reason
and output usage) and ``message_stop``. Errors are Anthropic's ``{"type": "error", "error":
{"type", "message"}}``: 401 ``authentication_error`` for a wrong key, 400
``invalid_request_error`` without ``anthropic-version`` or ``max_tokens``.
Shapes from Anthropic's API reference (docs.anthropic.com: Messages, Streaming Messages, Errors).

It takes the fake xAI server's ``Fault`` scripts too (``fake_anthropic_faults``), so the adapter
contract suite runs against the Anthropic route.

    with FakeAnthropicServer(api_key="sk-ant-test") as server:
        ...  # api_base=server.url; server.requests[0].credential_tails["x-api-key"]
"""
from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from llmcore.testing.fake_anthropic_faults import anthropic_error, fault_reply
from llmcore.testing.fake_upstream import ErrorReply, FakeUpstream, json_body, record_of
from llmcore.testing.fake_xai_faults import BAD_GATEWAY_HTML, Fault

__all__ = ["FakeAnthropicServer", "anthropic_error"]

REPLY_TEXT = ("Olá", "! Como", " posso ajudar?")
INPUT_TOKENS = 14
OUTPUT_TOKENS = 9


class FakeAnthropicServer(FakeUpstream):
    """The fake Anthropic API; accepts only ``api_key`` (any key when None)."""

    name = "fake-anthropic"

    def __init__(self, api_key: str | None = None, *, served_model: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._api_key = api_key
        self._served_model = served_model

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/v1/messages", self._messages)]

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        body = await json_body(request)
        scripted = self.record(record_of(request, body or {}))
        problem = self._problem(request, body)
        if problem is not None:
            return _json(problem.body, problem.status)
        fault = scripted if isinstance(scripted, Fault) else Fault.ok()
        if isinstance(scripted, ErrorReply):
            return _json(scripted.body, scripted.status, scripted.headers)
        if fault.kind == "drop_connection":
            if request.transport is not None:
                request.transport.close()
            return web.Response()
        if fault.kind == "slow":
            await asyncio.sleep(fault.param("seconds"))
        if fault.kind == "bad_gateway_html":
            return web.Response(status=502, text=BAD_GATEWAY_HTML, content_type="text/html")
        reply = fault_reply(fault)
        if reply is not None:
            return _json(reply.body, reply.status, reply.headers)
        assert body is not None  # _problem refused a non-JSON body
        model = self._served_model or str(body.get("model"))
        if body.get("stream") is True:
            return await self._stream(request, model, fault)
        return _json({
            "id": "msg_01FakeAnthropic", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": "".join(REPLY_TEXT)}],
            "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": INPUT_TOKENS, "output_tokens": OUTPUT_TOKENS,
                      "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
        })

    def _problem(self, request: web.Request, body: dict[str, Any] | None) -> ErrorReply | None:
        key = request.headers.get("x-api-key")
        if key is None or (self._api_key is not None and key != self._api_key):
            return anthropic_error(401, "authentication_error", "invalid x-api-key")
        if not request.headers.get("anthropic-version"):
            return anthropic_error(400, "invalid_request_error", "anthropic-version: header is required")
        if body is None:
            return anthropic_error(400, "invalid_request_error", "request body must be a JSON object")
        for name in ("model", "max_tokens", "messages"):
            if name not in body:
                return anthropic_error(400, "invalid_request_error", f"{name}: Field required")
        return None

    async def _stream(self, request: web.Request, model: str, fault: Fault) -> web.StreamResponse:
        events = _events(model, empty_deltas=fault.param("count", 0) if fault.kind == "empty_deltas" else 0)
        after = fault.param("after_events", 3)
        if fault.kind == "zero_events":
            events = []
        elif fault.kind in ("cut_mid_stream", "eof_without_finish"):
            # The prelude (message_start, content_block_start, ping), then ``after`` deltas, then nothing more.
            events = events[:3 + after]
        delay = fault.param("delay", 0.0) if fault.kind == "slow_chunks" else 0.0
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        response.enable_chunked_encoding()
        try:
            await response.prepare(request)
            for index, (event, data) in enumerate(events):
                if delay and index:
                    await asyncio.sleep(delay)
                await response.write(f"event: {event}\ndata: {data}\n\n".encode("utf-8"))
            if fault.kind == "cut_mid_stream" and request.transport is not None:
                request.transport.abort()  # inside an unfinished chunked body: the client sees a broken stream
                return response
            await response.write_eof()
        except (ConnectionError, asyncio.CancelledError):
            self.mark_disconnected()
            raise
        return response


def _events(model: str, empty_deltas: int = 0) -> list[tuple[str, str]]:
    def event(kind: str, **fields: Any) -> tuple[str, str]:
        return kind, json.dumps({"type": kind, **fields})

    def text(value: str) -> tuple[str, str]:
        return event("content_block_delta", index=0, delta={"type": "text_delta", "text": value})

    events = [
        event("message_start", message={
            "id": "msg_01FakeAnthropic", "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": INPUT_TOKENS, "output_tokens": 1, "cache_creation_input_tokens": 0,
                      "cache_read_input_tokens": 0},
        }),
        event("content_block_start", index=0, content_block={"type": "text", "text": ""}),
        event("ping"),
    ]
    for part in REPLY_TEXT:
        events += [text("")] * empty_deltas + [text(part)]
    events += [
        event("content_block_stop", index=0),
        event("message_delta", delta={"stop_reason": "end_turn", "stop_sequence": None},
              usage={"output_tokens": OUTPUT_TOKENS}),
        event("message_stop"),
    ]
    return events


def _json(document: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(document, status=status, headers=headers)
