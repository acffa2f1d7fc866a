"""What an upstream's 200 answer must hold to be read as a chat completion, checked where it is read.

A field of the wrong type (``"choices": 5``, ``"content": 5``, ``"prompt_tokens": "many"``, a
negative or fractional token count) is the upstream's fault, not a bug in llmcore (Decision 17):
the conversions raise :class:`MalformedAnswer`, and each adapter turns it into the same
UpstreamError as an answer that is no JSON object at all (``native_errors.malformed``). LiteLLM
refuses most such answers itself before llmcore sees them (``convert_to_model_response_object``);
these checks cover what it lets through and the OpenAI-wire streams both adapters read as JSON.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


# The hint of every "answered something that is not a chat completion" error, on both adapters.
UNREADABLE_HINT = ("the upstream answered 200 with a body that breaks the OpenAI chat-completions wire; check that "
                   "the base URL is its OpenAI-compatible endpoint (usually ending in /v1) and the upstream's status")


class MalformedAnswer(ValueError):
    """The upstream's answer breaks the OpenAI wire; the message names the field and what it held (no values)."""


_JSON_KINDS = ((bool, "a boolean"), (int, "a number"), (float, "a number"), (str, "a string"),
               (Mapping, "an object"), (list, "an array"), (tuple, "an array"))


def kind(value: Any) -> str:
    """A value's JSON kind for a message (never the value itself: it may quote a secret)."""
    if value is None:
        return "null"
    return next((name for cls, name in _JSON_KINDS if isinstance(value, cls)), type(value).__name__)


def listed(value: Any, what: str) -> Sequence[Any]:
    """``value`` as a JSON array (None reads as empty); raises MalformedAnswer for anything else."""
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return value
    raise MalformedAnswer(f"{what} is {kind(value)}, not an array")


def mapping(value: Any, what: str, *, optional: bool = True) -> Mapping[str, Any]:
    """``value`` as a JSON object (None reads as empty when ``optional``); raises MalformedAnswer otherwise."""
    if value is None and optional:
        return {}
    if isinstance(value, Mapping):
        return value
    raise MalformedAnswer(f"{what} is {kind(value)}, not an object")


def text_or_none(value: Any, what: str) -> str | None:
    """A string field that may be null (``message.content``); raises MalformedAnswer for a number, list..."""
    if value is None or isinstance(value, str):
        return value
    raise MalformedAnswer(f"{what} is {kind(value)}, not a string")


def token_count(value: Any, what: str) -> int:
    """A usage figure: a non-negative integer (absent or null reads as 0); raises MalformedAnswer otherwise.

    A count that is a word, negative or fractional is not coerced: it would be billed wrong.
    """
    if value is None:
        return 0
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    shown = repr(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else kind(value)
    raise MalformedAnswer(f"{what} is {shown}, not a non-negative integer")
