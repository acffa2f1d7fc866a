"""The ``input`` of a Responses API request (``POST /v1/responses``) as chat-completions messages.

OpenAI's ``openapi.yaml`` (``InputItem``, ``EasyInputMessage``, ``Item``) is
the reference for the shapes read here. What maps to what:

- ``input`` as a string -> one ``user`` message;
- a message item (``type: "message"``, or no ``type`` and a ``role``):
  ``user`` / ``assistant`` / ``system`` as they are, ``developer`` ->
  ``system`` (chat-completions upstreams other than OpenAI's know no
  developer role); content as a string, or parts: ``input_text`` /
  ``output_text`` -> text, ``input_image`` with an ``image_url`` -> an
  ``image_url`` part, ``refusal`` -> its text (an assistant turn);
- ``function_call`` -> a ``tool_calls`` entry of the assistant message it
  follows (one assistant message carries every call of a turn, as chat
  completions wants); a call with a ``namespace`` is sent under its own
  ``name``, as its tool was flattened (``responses_request``);
- ``function_call_output`` -> a ``tool`` message (``tool_call_id`` from
  ``call_id``; output parts joined as text);
- ``reasoning`` items sent back are accepted and dropped: a
  chat-completions message has no standard field for them (xAI's
  ``reasoning_content`` on an assistant message is not sent by LiteLLM's
  ``openai/`` route), and the model reasons afresh. ``encrypted_content``
  is never produced by llmcore, so nothing is lost;
- ``item_reference`` -> 400: it points at a stored item, and llmcore keeps
  none; any other item type -> 400 naming it.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmcore.entrypoints.openai_wire import MalformedRequestError

TEXT_PARTS = frozenset({"input_text", "output_text", "text"})
ROLES = {"user": "user", "assistant": "assistant", "system": "system", "developer": "system"}
DROPPED_ITEMS = frozenset({"reasoning"})


def input_messages(items: Any) -> list[dict[str, Any]]:
    """Chat messages for ``input``; ``MalformedRequestError`` names the item that cannot be read."""
    if isinstance(items, str):
        return [{"role": "user", "content": items}]
    if not isinstance(items, list):
        raise MalformedRequestError("'input' is required: a string or an array of input items", "input")
    messages: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        where = f"input[{index}]"
        if not isinstance(item, Mapping):
            raise MalformedRequestError(f"{where} must be an object (a message or an item with a 'type')", where)
        kind = item.get("type", "message" if "role" in item else None)
        if kind == "message":
            messages.append(_message(item, where))
        elif kind == "function_call":
            _add_call(messages, item, where)
        elif kind == "function_call_output":
            messages.append(_call_output(item, where))
        elif kind in DROPPED_ITEMS:
            continue
        elif kind == "item_reference":
            raise MalformedRequestError(f"{where}: an item_reference points at a stored item, and llmcore keeps no "
                                        "conversation state; send the item itself", where)
        else:
            raise MalformedRequestError(
                f"{where}: llmcore cannot translate an input item of type {kind!r}; send message, function_call, "
                "function_call_output or reasoning items", where)
    if not messages:
        raise MalformedRequestError("'input' holds no message or tool output for the model to answer", "input")
    return messages


def _message(item: Mapping[str, Any], where: str) -> dict[str, Any]:
    role = ROLES.get(str(item.get("role")))
    if role is None:
        raise MalformedRequestError(f"{where}.role must be 'user', 'assistant', 'system' or 'developer'",
                                    f"{where}.role")
    content = item.get("content")
    if isinstance(content, str):
        return {"role": role, "content": content}
    if not isinstance(content, list):
        raise MalformedRequestError(f"{where}.content must be a string or an array of content parts",
                                    f"{where}.content")
    parts = [_part(part, f"{where}.content[{number}]") for number, part in enumerate(content)]
    if role != "user" or all(part["type"] == "text" for part in parts):
        # Only user messages take image parts on the chat wire; the others are text.
        return {"role": role, "content": "".join(str(part.get("text", "")) for part in parts)}
    return {"role": role, "content": parts}


def _part(part: Any, where: str) -> dict[str, Any]:
    kind = part.get("type") if isinstance(part, Mapping) else None
    if kind in TEXT_PARTS:
        return {"type": "text", "text": str(part.get("text", ""))}
    if kind == "refusal":
        return {"type": "text", "text": str(part.get("refusal", ""))}
    if kind == "input_image" and isinstance(part.get("image_url"), str):
        image: dict[str, Any] = {"url": part["image_url"]}
        if part.get("detail") in ("low", "high", "auto"):
            image["detail"] = part["detail"]
        return {"type": "image_url", "image_url": image}
    raise MalformedRequestError(f"{where}: llmcore cannot translate a content part of type {kind!r}; send "
                                "input_text, output_text or input_image (with an image_url)", where)


def _add_call(messages: list[dict[str, Any]], item: Mapping[str, Any], where: str) -> None:
    name, call_id, arguments = item.get("name"), item.get("call_id"), item.get("arguments", "")
    if not isinstance(name, str) or not name or not isinstance(call_id, str) or not call_id:
        raise MalformedRequestError(f"{where}: a function_call item needs 'call_id' and 'name'", where)
    if not isinstance(arguments, str):
        raise MalformedRequestError(f"{where}.arguments must be a string of JSON", f"{where}.arguments")
    call = {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
    last = messages[-1] if messages else None
    if last is not None and last["role"] == "assistant":
        last.setdefault("tool_calls", []).append(call)
        return
    messages.append({"role": "assistant", "content": None, "tool_calls": [call]})


def _call_output(item: Mapping[str, Any], where: str) -> dict[str, Any]:
    call_id, output = item.get("call_id"), item.get("output")
    if not isinstance(call_id, str) or not call_id:
        raise MalformedRequestError(f"{where}: a function_call_output item needs 'call_id'", where)
    if isinstance(output, list):
        text = "".join(str(p.get("text", "")) for p in output if isinstance(p, Mapping) and p.get("type") in TEXT_PARTS)
    elif isinstance(output, str):
        text = output
    else:
        raise MalformedRequestError(f"{where}.output must be a string or an array of content parts",
                                    f"{where}.output")
    return {"role": "tool", "tool_call_id": call_id, "content": text}
