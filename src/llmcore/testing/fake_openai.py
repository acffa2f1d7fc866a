"""A generic OpenAI-compatible chat-completions server for tests: the fake xAI server's machinery, OpenAI's answers.

It answers every request with "answer" (streamed as "ans" + "wer"), in OpenAI's
shapes: ``refusal: null`` in the message, ``logprobs`` per choice,
``system_fingerprint`` and ``service_tier``, usage counted the OpenAI way, a
role-only first delta, and errors as ``{"error": {"message", "type", "param",
"code"}}``. ``n`` and ``logprobs`` work as in ``fake_choices``; scripted
``Fault`` values work as on the fake xAI server (``Fault.status(200, body,
"text/event-stream")`` sends a stream byte for byte). xAI's own parameter
checks are not made.

    with FakeOpenAIServer(api_key="sk-test") as server:
        ...  # a model entry with model: openai/gpt-x, api_base: server.base_url
"""
from __future__ import annotations

import json
from typing import Any

from llmcore.testing.fake_xai import FakeXAIServer, _Config, _FakeXAIHandlers, _ServerState
from llmcore.testing.fake_xai_faults import HttpReply
from llmcore.testing.fake_xai_replay import StreamEvents

__all__ = ["FakeOpenAIServer"]

CREATED = 1773345575
USAGE = {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11,
         "prompt_tokens_details": {"cached_tokens": 0}, "completion_tokens_details": {"reasoning_tokens": 0}}


def _compact(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def _chunk(model: str, choices: list[dict[str, Any]], **extra: Any) -> bytes:
    document = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": CREATED, "model": model,
                "system_fingerprint": "fp_fake", "service_tier": "default", "choices": choices, **extra}
    return b"data: " + _compact(document) + b"\n\n"


def openai_error(status: int, message: str, error_type: str, code: str | None) -> HttpReply:
    return HttpReply(status=status, body=_compact(
        {"error": {"message": message, "type": error_type, "param": None, "code": code}}))


class _FakeOpenAIHandlers(_FakeXAIHandlers):
    def _auth_reply(self, request: Any) -> HttpReply | None:
        refusal = super()._auth_reply(request)
        if refusal is None:
            return None
        return openai_error(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")

    @staticmethod
    def _validation_reply(body: dict[str, Any]) -> HttpReply | None:
        if not isinstance(body.get("messages"), list) or not body["messages"]:
            return openai_error(400, "'messages' must be a non-empty array.", "invalid_request_error", None)
        return None

    def _answer(self, body: dict[str, Any]) -> bytes:
        return _compact({
            "id": "chatcmpl-fake", "object": "chat.completion", "created": CREATED, "model": self._model_out(body),
            "system_fingerprint": "fp_fake", "service_tier": "default",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "answer", "refusal": None},
                         "logprobs": None, "finish_reason": "stop"}],
            "usage": USAGE,
        })

    def _stream_events(self, body: dict[str, Any]) -> StreamEvents:
        model = self._model_out(body)
        deltas = (
            _chunk(model, [{"index": 0, "delta": {"role": "assistant", "content": "", "refusal": None},
                            "logprobs": None, "finish_reason": None}]),
            _chunk(model, [{"index": 0, "delta": {"content": "ans"}, "logprobs": None, "finish_reason": None}]),
            _chunk(model, [{"index": 0, "delta": {"content": "wer"}, "logprobs": None, "finish_reason": None}]),
        )
        finish = (_chunk(model, [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]),)
        usage = _chunk(model, [], usage=USAGE)
        empty = _chunk(model, [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": None}])
        return StreamEvents(deltas, finish, usage, empty)


class FakeOpenAIServer(FakeXAIServer):
    """An OpenAI-compatible API on ``127.0.0.1`` (ephemeral port), served from a background thread."""

    def __init__(self, api_key: str | None = None, served_model: str | None = None, **kwargs: Any) -> None:
        super().__init__(api_key, served_model, **kwargs)
        self._state = _ServerState()
        self._handlers = _FakeOpenAIHandlers(_Config(api_key, served_model, None, kwargs.get("event_delay")),
                                             self._state)
