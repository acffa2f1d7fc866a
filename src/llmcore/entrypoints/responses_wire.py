"""The Responses API wire format, presentation only: the ``response`` object, its output items and usage.

OpenAI's ``openapi.yaml`` (``Response``, ``OutputItem``, ``ResponseUsage``,
``ResponseError``) is the reference, checked by the schema oracle in the
tests. HTTP errors are OpenAI-shaped, from the one table in ``openai_wire``.

Output items, in the order the model produced them: ``reasoning`` (the
model's ``reasoning_content`` as ``content: [{type: reasoning_text}]``, an
empty ``summary``: the upstream sends raw reasoning, not a summary),
``message`` (``output_text`` with ``annotations: []`` and ``logprobs: []``),
then one ``function_call`` per tool call (``call_id`` is the upstream's call
id, which the client sends back in ``function_call_output``).

Usage follows the Responses API's semantics: ``output_tokens`` includes the
reasoning tokens (``output_tokens_details.reasoning_tokens`` breaks them
out), ``input_tokens`` includes the cached ones; the total is the
upstream's. Status: ``incomplete`` with ``incomplete_details.reason``
``max_output_tokens`` when the model stopped at the token limit
(``content_filter`` for a filtered answer), else ``completed``.
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from llmcore.domain.chat import ChatResponse, arguments_text
from llmcore.domain.errors import RateLimitError
from llmcore.domain.usage import Usage

INCOMPLETE_REASONS = {"length": "max_output_tokens", "content_filter": "content_filter"}


def response_id(upstream_id: str, request_id: str) -> str:
    """``resp_`` and the upstream's completion id (the request id when it sent none)."""
    return f"resp_{upstream_id or request_id}"


def usage_dict(usage: Usage) -> dict[str, Any]:
    """``ResponseUsage``: output includes reasoning, input the cached tokens; the total is the upstream's."""
    out: dict[str, Any] = {
        "input_tokens": usage.prompt_tokens,
        "input_tokens_details": {"cached_tokens": usage.cached_tokens, "cache_write_tokens": 0},
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.total_tokens,
    }
    if usage.cost_usd is not None:
        out["cost_usd"] = usage.cost_usd
    return out


def status_of(finish_reason: str | None) -> tuple[str, dict[str, str] | None]:
    """``(status, incomplete_details)`` for a chat ``finish_reason``."""
    reason = INCOMPLETE_REASONS.get(finish_reason or "")
    return ("incomplete", {"reason": reason}) if reason else ("completed", None)


def reasoning_item(item_id: str, text: str, status: str = "completed") -> dict[str, Any]:
    return {"type": "reasoning", "id": item_id, "summary": [],
            "content": [{"type": "reasoning_text", "text": text}] if text else [], "status": status}


def text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def message_item(item_id: str, text: str | None, status: str = "completed") -> dict[str, Any]:
    return {"type": "message", "id": item_id, "role": "assistant", "status": status,
            "content": [text_part(text)] if text is not None else []}


def function_call_item(item_id: str, call_id: str, name: str, arguments: str, namespace: str | None,
                       status: str = "completed") -> dict[str, Any]:
    item = {"type": "function_call", "id": item_id, "call_id": call_id, "name": name, "arguments": arguments,
            "status": status}
    if namespace:
        item["namespace"] = namespace
    return item


def output_items(response: ChatResponse, base_id: str, namespaces: Mapping[str, str]) -> list[dict[str, Any]]:
    """Choice 0 as output items: reasoning, message, function calls; ids ``<prefix>_<base>_<output index>``."""
    items: list[dict[str, Any]] = []
    if response.reasoning_content:
        items.append(reasoning_item(f"rs_{base_id}_{len(items)}", response.reasoning_content))
    if response.content or not response.tool_calls:
        items.append(message_item(f"msg_{base_id}_{len(items)}", response.content or ""))
    for call in response.tool_calls:
        function = call.get("function") or {}
        name = str(function.get("name") or "")
        item_id = f"fc_{base_id}_{len(items)}"
        items.append(function_call_item(item_id, str(call.get("id") or f"call_{item_id}"), name,
                                        arguments_text(function.get("arguments")), namespaces.get(name)))
    return items


def response_object(
    *, response_id: str, alias: str, echo: Mapping[str, Any], status: str, output: list[dict[str, Any]],
    usage: Usage | None = None, created_at: int | None = None, incomplete_details: dict[str, str] | None = None,
    error: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A ``response`` object; ``model`` is the alias the client asked for, ``echo`` the request fields it repeats."""
    now = int(time.time())
    document: dict[str, Any] = {
        "id": response_id,
        "object": "response",
        "created_at": created_at if created_at is not None else now,
        "status": status,
        "completed_at": now if status == "completed" else None,
        "error": error,
        "incomplete_details": incomplete_details,
        "model": alias,
        "output": output,
        **echo,
    }
    if usage is not None:  # not nullable in the spec: absent until the stream's end
        document["usage"] = usage_dict(usage)
    return document


def response(answer: ChatResponse, alias: str, request_id: str, echo: Mapping[str, Any],
             namespaces: Mapping[str, str]) -> dict[str, Any]:
    """The non-stream answer of ``POST /v1/responses``."""
    base_id = answer.id or request_id
    status, details = status_of(answer.finish_reason)
    return response_object(response_id=response_id(answer.id, request_id), alias=alias, echo=echo, status=status,
                           output=output_items(answer, base_id, namespaces), usage=answer.usage,
                           incomplete_details=details)


def failure(exc: BaseException, message: str) -> dict[str, str]:
    """``ResponseError`` for a stream that failed after its first event (the spec's codes: rate limit or server)."""
    return {"code": "rate_limit_exceeded" if isinstance(exc, RateLimitError) else "server_error", "message": message}
