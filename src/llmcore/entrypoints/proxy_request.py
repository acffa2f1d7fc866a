"""Reading a proxy request: the request id and the chat body, with 400s that say what is wrong.

Only the fields the proxy itself needs are taken out (``model``,
``messages``, and ``stream`` / ``stream_options`` to choose the response
shape); every other field is passed to the Core as a param, whose param
policy decides what is sent, dropped or refused.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from typing import Any

from aiohttp import web
from attrs import frozen

from llmcore.adapters.json_codec import loads
from llmcore.domain.core import CORE_KEYWORDS
from llmcore.domain.redaction import redact
from llmcore.domain.secret import Secret
from llmcore.entrypoints.openai_wire import MalformedRequestError

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
_JSON_TYPE_NAMES = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean",
                    type(None): "null"}


def request_id_of(request: web.BaseRequest, secrets: Iterable[Secret | str] = ()) -> str:
    """The client's ``x-request-id`` when it is at most 128 characters of [A-Za-z0-9._-], else a fresh one.

    Never a key (one of ``secrets`` or anything key-shaped): the id is echoed, logged and sent upstream as
    ``x-request-id``, so a client that put its master key there by mistake would have it forwarded to the provider.
    """
    sent = request.headers.get("x-request-id")
    if sent is not None and _REQUEST_ID.fullmatch(sent) and redact(sent, secrets) == sent:
        return sent
    return os.urandom(16).hex()  # as unique as uuid4().hex, at a third of its cost


@frozen(kw_only=True)
class ChatBody:
    """A parsed ``POST /v1/chat/completions`` body."""

    model: str
    messages: list[Any]
    stream: bool
    include_usage: bool
    params: dict[str, Any]


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """A JSON object from raw bytes; MalformedRequestError says where the JSON is broken or what it holds instead."""
    try:
        body = loads(raw)  # orjson, the stdlib's json behind it: the same errors
    except json.JSONDecodeError as exc:
        raise MalformedRequestError(
            f"the request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno} "
            f"(character {exc.pos})"
        ) from None
    except ValueError:
        raise MalformedRequestError("the request body is not UTF-8 encoded JSON") from None
    if not isinstance(body, dict):
        got = _JSON_TYPE_NAMES.get(type(body), type(body).__name__)
        raise MalformedRequestError(f"the request body must be a JSON object, got {got}")
    return body


def parse_chat_body(raw: bytes) -> ChatBody:
    """The chat body from raw bytes; MalformedRequestError says what is wrong and, for a field, names it."""
    body = parse_json_object(raw)
    model = body.pop("model", None)
    if not isinstance(model, str) or not model:
        raise MalformedRequestError("'model' is required: a non-empty string naming a configured model", "model")
    messages = body.pop("messages", None)
    if not isinstance(messages, list) or not messages:
        raise MalformedRequestError("'messages' is required: a non-empty array of messages", "messages")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise MalformedRequestError("'stream' must be true or false", "stream")
    options = body.get("stream_options")
    clash = sorted(CORE_KEYWORDS.intersection(body))
    if clash:
        raise MalformedRequestError(f"{clash[0]!r} is not a chat completion parameter", clash[0])
    return ChatBody(model=model, messages=messages, stream=stream,
                    include_usage=isinstance(options, dict) and options.get("include_usage") is True, params=body)
