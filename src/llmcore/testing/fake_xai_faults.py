"""Scripted faults for the fake xAI server, and the exact error answers xAI gives.

Every error body here has xAI's flat shape ``{"code": "<status text>", "error": "<message>"}``
(FACTS.md section 1): the ``error`` field is a string, never an object, which is what trips
up OpenAI-shaped clients.
"""
from __future__ import annotations

import json
from typing import Any, ClassVar

import attrs

INVALID_ARGUMENT = "Client specified an invalid argument"
PERMISSION_DENIED = "The caller does not have permission to execute the specified operation"
UNAUTHENTICATED = "The request does not have valid authentication credentials for the operation"

RATE_LIMIT_MESSAGE = "Rate limit exceeded. Please retry after a short wait."
CREDITS_EXHAUSTED_MESSAGE = (
    "Your team 00000000-fake has either used all available credits or reached its monthly spending"
    " limit. To continue making API requests, please purchase more credits or raise your spending limit."
)
NO_CREDITS_MESSAGE = (
    "Your newly created team doesn't have any credits or licenses yet. You can purchase credits"
    " on https://console.x.ai/team/00000000-fake."
)

# What a Cloudflare-fronted nginx answers when the upstream dies. Longer than 600 bytes on
# purpose, so callers can prove they truncate HTML error pages before logging them.
BAD_GATEWAY_HTML = """<!DOCTYPE html>
<!--[if lt IE 7]> <html class="no-js ie6 oldie" lang="en-US"> <![endif]-->
<!--[if gt IE 8]><!--> <html class="no-js" lang="en-US"> <!--<![endif]-->
<head>
<title>api.x.ai | 502: Bad gateway</title>
<meta charset="UTF-8" />
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
<meta http-equiv="X-UA-Compatible" content="IE=Edge" />
<meta name="robots" content="noindex, nofollow" />
<meta name="viewport" content="width=device-width,initial-scale=1" />
</head>
<body>
<div id="cf-wrapper">
  <div id="cf-error-details" class="p-0">
    <header class="mx-auto pt-10 lg:pt-6 lg:px-8 w-240 lg:w-full mb-8">
      <h1 class="inline-block sm:block sm:mb-2 font-light text-60 lg:text-4xl text-black-dark">
        <span class="inline-block">Bad gateway</span>
        <span class="code-label">Error code 502</span>
      </h1>
      <div>Visit <a href="https://www.cloudflare.com/5xx-error-landing">cloudflare.com</a>
        for more information.</div>
    </header>
    <div class="my-8 bg-gradient-gray">
      <p>The web server reported a bad gateway error.</p>
      <p>Please try again in a few minutes.</p>
    </div>
    <hr>
    <center>nginx</center>
    <p>Cloudflare Ray ID: <strong>8f0c0fa4b9d1e2a3</strong> &bull; Your IP: 127.0.0.1</p>
  </div>
</div>
</body>
</html>
"""


@attrs.frozen
class HttpReply:
    """A complete canned HTTP answer."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


def xai_error(status: int, code: str, message: str, headers: tuple[tuple[str, str], ...] = ()) -> HttpReply:
    body = json.dumps({"code": code, "error": message}, ensure_ascii=False, separators=(",", ":")).encode()
    return HttpReply(status=status, body=body, headers=headers)


def mask_key(key: str) -> str:
    """Mask a key the way xAI echoes it back: first 2 + *** + last 2 characters."""
    return f"{key[:2]}***{key[-2:]}"


def incorrect_key_reply(sent_key: str | None) -> HttpReply:
    shown = mask_key(sent_key) if sent_key else "***"
    message = f"Incorrect API key provided: {shown}. You can obtain an API key from https://console.x.ai."
    return xai_error(400, INVALID_ARGUMENT, message)


def missing_auth_reply() -> HttpReply:
    return xai_error(401, UNAUTHENTICATED, "Missing bearer or basic authentication in header")


def invalid_argument_reply(message: str) -> HttpReply:
    return xai_error(400, INVALID_ARGUMENT, message)


def model_not_found_reply(model: str) -> HttpReply:
    """xAI's 404 for a model id it does not serve (docs.x.ai, "models" page, as of 2026)."""
    message = (
        f"The model {model} does not exist or your team 00000000-fake does not have access to it. If you"
        " believe this is a mistake, please contact support and quote your team ID and the model name."
    )
    return xai_error(404, "not-found", message)


def _format_retry_after(retry_after: float | str) -> str:
    # An HTTP-date is passed through untouched; whole seconds are written without ".0".
    if isinstance(retry_after, str):
        return retry_after
    return str(int(retry_after)) if float(retry_after).is_integer() else str(retry_after)


@attrs.frozen
class Fault:
    """One scripted misbehaviour, consumed by exactly one request.

    ``params`` holds the constructor's arguments so a fault survives a JSON round trip
    (``to_dict`` / ``from_dict``) for the control API of a fake running in another process.
    """

    kind: str
    params: tuple[tuple[str, Any], ...] = ()

    # Faults that only change how a stream is delivered; a non-stream request answers normally.
    STREAM_ONLY: ClassVar[frozenset[str]] = frozenset(
        {"cut_mid_stream", "eof_without_finish", "empty_deltas", "zero_events", "slow_chunks"}
    )

    def param(self, name: str, default: Any = None) -> Any:
        return dict(self.params).get(name, default)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **dict(self.params)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        """Build a fault from ``{"kind": "rate_limit", "retry_after": 1}``; ValueError if unknown."""
        arguments = dict(data)
        kind = arguments.pop("kind", None)
        if kind not in _KINDS:
            raise ValueError(f"unknown fault kind: {kind!r}")
        try:
            fault: Fault = getattr(cls, kind)(**arguments)
            return fault
        except TypeError as error:
            raise ValueError(f"bad arguments for fault {kind!r}: {error}") from None

    @classmethod
    def _make(cls, kind: str, **params: Any) -> Fault:
        return cls(kind=kind, params=tuple(sorted(params.items())))

    @classmethod
    def ok(cls) -> Fault:
        return cls._make("ok")

    @classmethod
    def rate_limit(cls, retry_after: float | str | None = 1) -> Fault:
        return cls._make("rate_limit", retry_after=retry_after)

    @classmethod
    def credits_exhausted(cls) -> Fault:
        return cls._make("credits_exhausted")

    @classmethod
    def bad_key(cls) -> Fault:
        return cls._make("bad_key")

    @classmethod
    def forbidden(cls) -> Fault:
        return cls._make("forbidden")

    @classmethod
    def bad_request(cls, message: str = "Invalid request") -> Fault:
        return cls._make("bad_request", message=message)

    @classmethod
    def server_error(cls) -> Fault:
        return cls._make("server_error")

    @classmethod
    def bad_gateway_html(cls) -> Fault:
        return cls._make("bad_gateway_html")

    @classmethod
    def unavailable(cls) -> Fault:
        return cls._make("unavailable")

    @classmethod
    def gateway_timeout(cls) -> Fault:
        return cls._make("gateway_timeout")

    @classmethod
    def status(cls, code: int, body: str | bytes = "", content_type: str = "application/json") -> Fault:
        text = body.decode() if isinstance(body, bytes) else body
        return cls._make("status", code=int(code), body=text, content_type=content_type)

    @classmethod
    def drop_connection(cls) -> Fault:
        return cls._make("drop_connection")

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        return cls._make("slow", seconds=float(seconds))

    @classmethod
    def cut_mid_stream(cls, after_events: int = 3) -> Fault:
        return cls._make("cut_mid_stream", after_events=int(after_events))

    @classmethod
    def eof_without_finish(cls, after_events: int = 3) -> Fault:
        return cls._make("eof_without_finish", after_events=int(after_events))

    @classmethod
    def empty_deltas(cls, count: int = 30) -> Fault:
        return cls._make("empty_deltas", count=int(count))

    @classmethod
    def zero_events(cls) -> Fault:
        return cls._make("zero_events")

    @classmethod
    def slow_chunks(cls, delay: float) -> Fault:
        return cls._make("slow_chunks", delay=float(delay))

    @classmethod
    def no_reasoning(cls) -> Fault:
        """A normal answer without its ``reasoning_content`` (usage still counts the reasoning tokens).

        Whether grok-code-fast-1 still returns reasoning since its redirect to grok-4.3 is
        UNVERIFIED (FACTS.md section 1); this is that answer, for code that relies on reasoning.
        """
        return cls._make("no_reasoning")

    @classmethod
    def served_as(cls, model: str) -> Fault:
        """A normal answer whose ``model`` field names ``model``: an upstream redirect on one request."""
        return cls._make("served_as", model=str(model))


_KINDS = frozenset({
    "ok", "rate_limit", "credits_exhausted", "bad_key", "forbidden", "bad_request", "server_error",
    "bad_gateway_html", "unavailable", "gateway_timeout", "status", "drop_connection", "slow",
    "cut_mid_stream", "eof_without_finish", "empty_deltas", "zero_events", "slow_chunks", "no_reasoning",
    "served_as",
})


def _rate_limit_reply(fault: Fault) -> HttpReply:
    retry_after = fault.param("retry_after")
    headers = () if retry_after is None else (("Retry-After", _format_retry_after(retry_after)),)
    return xai_error(429, "Too Many Requests", RATE_LIMIT_MESSAGE, headers)


def _status_reply(fault: Fault) -> HttpReply:
    return HttpReply(
        status=fault.param("code"), body=fault.param("body", "").encode(),
        content_type=fault.param("content_type", "application/json"),
    )


def fault_reply(fault: Fault, sent_key: str | None) -> HttpReply | None:
    """The canned answer for an error fault, or None when the fault lets the request through."""
    kind = fault.kind
    if kind == "rate_limit":
        return _rate_limit_reply(fault)
    if kind == "status":
        return _status_reply(fault)
    if kind == "bad_key":
        return incorrect_key_reply(sent_key)
    if kind == "bad_request":
        return invalid_argument_reply(fault.param("message"))
    if kind == "bad_gateway_html":
        return HttpReply(status=502, body=BAD_GATEWAY_HTML.encode(), content_type="text/html")
    return _FIXED_REPLIES.get(kind)


_FIXED_REPLIES: dict[str, HttpReply] = {
    "credits_exhausted": xai_error(429, "Some resource has been exhausted", CREDITS_EXHAUSTED_MESSAGE),
    "forbidden": xai_error(403, PERMISSION_DENIED, NO_CREDITS_MESSAGE),
    "server_error": xai_error(500, "Internal error", "The service encountered an internal error."),
    "unavailable": xai_error(503, "The service is currently unavailable",
                             "Service temporarily unavailable. Please try again later."),
    "gateway_timeout": xai_error(504, "Deadline expired before operation could complete",
                                 "The upstream model did not answer in time."),
}


# Parameters xAI's reasoning models reject, with the camelCase name xAI's error message uses.
_UNSUPPORTED_PARAMS = (
    ("presence_penalty", "presencePenalty"),
    ("frequency_penalty", "frequencyPenalty"),
    ("stop", "stop"),
    ("reasoning_effort", "reasoningEffort"),
    ("reasoning", "reasoning"),
)


def _missing_field(name: str) -> HttpReply:
    return invalid_argument_reply(
        f"Failed to deserialize the JSON body into the target type: missing field `{name}`"
    )


def _messages_reply(messages: list[Any]) -> HttpReply | None:
    if not messages:
        return invalid_argument_reply("The request must contain at least one message.")
    for message in messages:
        if not isinstance(message, dict) or "role" not in message:
            return invalid_argument_reply("Each message must be an object with a `role`.")
        if message.get("name") is not None and message.get("role") != "user":
            return invalid_argument_reply("Only messages of role 'user' can have a name.")
    return None


def validation_reply(body: dict[str, Any]) -> HttpReply | None:
    """xAI's 400 for a chat request it refuses, or None when the request is acceptable."""
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return _missing_field("model")
    messages = body.get("messages")
    if not isinstance(messages, list):
        return _missing_field("messages")
    for param, camel_name in _UNSUPPORTED_PARAMS:
        # xAI refuses these even when the value is 0; JSON null means "not set" to it.
        if body.get(param) is not None:
            return invalid_argument_reply(f"Model {model} does not support parameter {camel_name}.")
    return _messages_reply(messages)
