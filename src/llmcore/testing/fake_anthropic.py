"""A fake Anthropic Messages API on 127.0.0.1, speaking Anthropic's wire format.

``POST /v1/messages`` with the ``x-api-key`` and ``anthropic-version`` headers; answers are
``message`` objects with content blocks and ``usage.input_tokens`` / ``output_tokens``, or, with
``"stream": true``, the SSE events ``message_start``, ``content_block_start``, ``ping``,
``content_block_delta`` (``text_delta``), ``content_block_stop``, ``message_delta`` (stop reason
and output usage) and ``message_stop``. Errors are Anthropic's ``{"type": "error", "error":
{"type", "message"}}``: 401 ``authentication_error`` for a wrong key, 400
``invalid_request_error`` without ``anthropic-version`` or ``max_tokens``.
Shapes from Anthropic's API reference (docs.anthropic.com: Messages, Streaming Messages, Errors).

    with FakeAnthropicServer(api_key="sk-ant-test") as server:
        ...  # api_base=server.url; server.requests[0].credential_tails["x-api-key"]
"""
from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from llmcore.testing.fake_upstream import ErrorReply, FakeUpstream, json_body, record_of, send_sse

REPLY_TEXT = ("Olá", "! Como", " posso ajudar?")
INPUT_TOKENS = 14
OUTPUT_TOKENS = 9


def anthropic_error(status: int, kind: str, message: str) -> ErrorReply:
    """An error in Anthropic's shape, e.g. ``anthropic_error(429, "rate_limit_error", "...")``."""
    return ErrorReply(status, {"type": "error", "error": {"type": kind, "message": message}})


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
        record = record_of(request, body or {})
        scripted = self.record(record)
        problem = self._problem(request, body)
        if problem is not None:
            return _json(problem.body, problem.status)
        if scripted is not None:
            return _json(scripted.body, scripted.status, scripted.headers)
        assert body is not None  # _problem refused a non-JSON body
        model = self._served_model or str(body.get("model"))
        if body.get("stream") is True:
            return await send_sse(request, _events(model))
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


def _events(model: str) -> list[tuple[str | None, str]]:
    def event(kind: str, **fields: Any) -> tuple[str | None, str]:
        return kind, json.dumps({"type": kind, **fields})

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
    events += [event("content_block_delta", index=0, delta={"type": "text_delta", "text": t}) for t in REPLY_TEXT]
    events += [
        event("content_block_stop", index=0),
        event("message_delta", delta={"stop_reason": "end_turn", "stop_sequence": None},
              usage={"output_tokens": OUTPUT_TOKENS}),
        event("message_stop"),
    ]
    return events


def _json(document: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(document, status=status, headers=headers)
