"""``n`` and ``logprobs`` for the fake servers, in OpenAI's wire format.

A real server answers ``n: 2`` with two choices (indexes 0 and 1), each with
its own ``finish_reason``; streamed, every chunk carries one choice's delta
and its ``index``. ``logprobs: true`` adds ``choices[].logprobs`` =
``{"content": [{"token", "logprob", "bytes", "top_logprobs"}], "refusal": null}``
(``top_logprobs`` holds ``top_logprobs`` alternatives; OpenAI's
``ChatCompletionTokenLogprob``). The recorded answers have one choice and no
logprobs, so the fakes derive the others from them: choice ``i`` > 0 says the
recorded text followed by `` [i]``, and each token is one whitespace-separated
piece of the text with a made-up, fixed log probability. A request that asks
for neither gets the recorded bytes untouched.
"""
from __future__ import annotations

import json
import re
from typing import Any

TOKEN = re.compile(r"\s*\S+|\s+")
LOGPROB = -0.25


def wanted(body: dict[str, Any]) -> tuple[int, bool, int]:
    """``(n, logprobs, top_logprobs)`` as the request asked, with OpenAI's defaults (1, false, 0)."""
    n = body.get("n")
    top = body.get("top_logprobs")
    return (n if isinstance(n, int) and n > 1 else 1, body.get("logprobs") is True,
            top if isinstance(top, int) and top > 0 else 0)


def token_logprobs(text: str, top: int) -> list[dict[str, Any]]:
    """One ``ChatCompletionTokenLogprob`` per piece of ``text``."""
    out = []
    for piece in TOKEN.findall(text):
        alternatives = [{"token": piece, "logprob": LOGPROB, "bytes": list(piece.encode())}]
        alternatives += [{"token": f"alt{k}", "logprob": LOGPROB * (k + 2), "bytes": list(f"alt{k}".encode())}
                         for k in range(top - 1)]
        out.append({"token": piece, "logprob": LOGPROB, "bytes": list(piece.encode()),
                    "top_logprobs": alternatives[:top]})
    return out


def _variant(text: Any, index: int) -> Any:
    return f"{text} [{index}]" if index and isinstance(text, str) and text else text


def expand_body(body: bytes, n: int, logprobs: bool, top: int) -> bytes:
    """A non-streamed ``chat.completion`` with ``n`` choices and, when asked, their logprobs."""
    if n == 1 and not logprobs:
        return body
    document = json.loads(body)
    first = document["choices"][0]
    choices = []
    for index in range(n):
        message = {**first["message"], "content": _variant(first["message"].get("content"), index)}
        choice = {**first, "index": index, "message": message}
        if logprobs:
            choice["logprobs"] = {"content": token_logprobs(message.get("content") or "", top), "refusal": None}
        choices.append(choice)
    document["choices"] = choices
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def _event(document: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"


def _document(event: bytes) -> dict[str, Any] | None:
    payload = event.decode().strip().removeprefix("data: ")
    return None if payload == "[DONE]" else json.loads(payload)


def expand_events(events: tuple[bytes, ...], n: int, logprobs: bool, top: int) -> tuple[bytes, ...]:
    """Stream events for ``n`` choices, interleaved event by event, each delta with its logprobs when asked.

    Choice ``i`` > 0 ends its text with a `` [i]`` delta before its finish
    chunk, so the assembled texts equal :func:`expand_body`'s.
    """
    if n == 1 and not logprobs:
        return events
    out = []
    had_content = False
    for event in events:
        document = _document(event)
        if document is None or not document.get("choices"):
            out.append(event)
            continue
        choice = document["choices"][0]
        had_content = had_content or bool((choice.get("delta") or {}).get("content"))
        for index in range(n):
            if index and choice.get("finish_reason") and had_content:
                out.append(_event({**document, "choices": [_delta_choice(index, f" [{index}]", logprobs, top)]}))
            copy = {**choice, "index": index}
            content = (choice.get("delta") or {}).get("content")
            if logprobs and content:
                copy["logprobs"] = {"content": token_logprobs(content, top), "refusal": None}
            out.append(_event({**document, "choices": [copy]}))
    return tuple(out)


def _delta_choice(index: int, content: str, logprobs: bool, top: int) -> dict[str, Any]:
    choice: dict[str, Any] = {"index": index, "delta": {"content": content}, "finish_reason": None}
    if logprobs:
        choice["logprobs"] = {"content": token_logprobs(content, top), "refusal": None}
    return choice
