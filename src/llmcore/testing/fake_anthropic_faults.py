"""The fake xAI server's ``Fault`` vocabulary, as Anthropic's API would answer each one.

So the adapter contract suite (one fault vocabulary) runs against the Anthropic route too. Error
bodies and statuses follow Anthropic's documented errors (docs.anthropic.com, Errors): 401
``authentication_error``, 403 ``permission_error``, 429 ``rate_limit_error`` with
``retry-after``, 500 ``api_error``, 529 ``overloaded_error``; spent credits are a 400
``invalid_request_error`` saying "Your credit balance is too low".
"""
from __future__ import annotations

import json

from llmcore.testing.fake_upstream import ErrorReply
from llmcore.testing.fake_xai_faults import Fault

CREDIT_BALANCE_TOO_LOW = ("Your credit balance is too low to access the Anthropic API. "
                          "Please go to Plans & Billing to upgrade or purchase credits.")


def anthropic_error(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> ErrorReply:
    """An error in Anthropic's shape, e.g. ``anthropic_error(429, "rate_limit_error", "...")``."""
    return ErrorReply(status, {"type": "error", "error": {"type": kind, "message": message}}, dict(headers or {}))


def fault_reply(fault: Fault) -> ErrorReply | None:
    """Anthropic's answer to an error fault, or None when the fault lets the request through."""
    kind = fault.kind
    if kind == "rate_limit":
        retry_after = fault.param("retry_after")
        headers = {} if retry_after is None else {"retry-after": _seconds(retry_after)}
        return anthropic_error(429, "rate_limit_error", "Number of request tokens has exceeded your per-minute "
                               "rate limit", headers)
    if kind == "bad_request":
        return anthropic_error(400, "invalid_request_error", fault.param("message"))
    if kind == "status":
        return ErrorReply(fault.param("code"), json.loads(fault.param("body") or "{}"))
    fixed = {
        "credits_exhausted": anthropic_error(400, "invalid_request_error", CREDIT_BALANCE_TOO_LOW),
        "bad_key": anthropic_error(401, "authentication_error", "invalid x-api-key"),
        "forbidden": anthropic_error(403, "permission_error", "Your API key does not have permission to use the "
                                     "specified resource."),
        "server_error": anthropic_error(500, "api_error", "Internal server error"),
        "unavailable": anthropic_error(529, "overloaded_error", "Overloaded"),
        "gateway_timeout": anthropic_error(504, "timeout_error", "Request timed out"),
    }
    return fixed.get(kind)


def _seconds(value: float | str) -> str:
    if isinstance(value, str):
        return value
    return str(int(value)) if float(value).is_integer() else str(value)
