"""Reading an Anthropic Messages request (``POST /v1/messages``) as a chat-completions request for the Core.

The shapes are Anthropic's Messages API (the ``anthropic`` SDK's
``MessageCreateParams`` is the reference); the result is what
``core.acomplete`` / ``core.astream`` take: OpenAI chat messages and params.

What maps to what:

- ``system`` (a string or text blocks) -> one leading ``system`` message;
- ``messages[]`` text and image blocks -> the message's content; ``tool_use``
  blocks -> the assistant message's ``tool_calls`` (``input`` as JSON
  ``arguments``); each ``tool_result`` block -> a ``tool`` message, placed
  before the rest of its user turn, as chat completions wants the results
  right after the calls; ``thinking`` / ``redacted_thinking`` blocks the
  client sends back are dropped (a chat-completions upstream has no field for
  them and regenerates its reasoning);
- ``tools`` -> function tools (``input_schema`` -> ``parameters``); a server
  tool the model cannot run (``web_search_…``, ``bash_…``: a ``type`` and no
  ``input_schema``) is dropped and reported in ``dropped_tools``;
- ``tool_choice`` auto / any / tool / none -> ``"auto"`` / ``"required"`` /
  the named function / ``"none"``; ``disable_parallel_tool_use`` ->
  ``parallel_tool_calls: false``;
- ``max_tokens``, ``temperature``, ``top_p``, ``top_k`` as they are;
  ``stop_sequences`` -> ``stop``; ``metadata.user_id`` -> ``user``;
- ``thinking`` -> ``reasoning_effort``: ``enabled`` by its ``budget_tokens``
  (LiteLLM's default buckets: >= 4096 high, >= 2048 medium, else low),
  ``adaptive`` by ``output_config.effort`` when given, ``disabled`` nothing.
  The model's param policy then sends, drops (logged and counted) or refuses
  it, as for any chat request: grok-code-fast-1 drops it.

Fields Claude Code sends that an OpenAI-wire upstream has no use for
(``context_management``, ``output_config`` beyond its effort, ``container``,
``mcp_servers``, ``service_tier``; ``cache_control`` and ``defer_loading`` on
blocks and tools) are accepted and not forwarded. LiteLLM 1.110.2's own
translator (``LiteLLMAnthropicMessagesAdapter.translate_anthropic_to_openai``)
was tried first and is not used: it forwards ``context_management`` and the
assistant's ``thinking_blocks`` to the upstream, and writes ``defer_loading``
into the tool's JSON schema.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from attrs import frozen

from llmcore.domain.core import CORE_KEYWORDS
from llmcore.entrypoints.openai_wire import MalformedRequestError
from llmcore.entrypoints.proxy_request import parse_json_object

# Accepted and not forwarded: they steer Anthropic's own servers (context editing, caching, containers).
STRIPPED_FIELDS = frozenset({"context_management", "output_config", "container", "mcp_servers", "service_tier",
                             "cache_control", "betas", "anthropic_version", "anthropic_beta"})
PASSED_FIELDS = ("max_tokens", "temperature", "top_p", "top_k")
# LiteLLM's defaults for bucketing a thinking budget into an effort (constants.py, reasoning_effort_utils.py).
HIGH_BUDGET, MEDIUM_BUDGET = 4096, 2048
EFFORTS = {"low": "low", "medium": "medium", "high": "high", "max": "high", "xhigh": "high"}


@frozen(kw_only=True)
class MessagesBody:
    """A parsed ``POST /v1/messages`` body: the alias, chat messages, Core params and what was left out."""

    model: str
    messages: list[dict[str, Any]]
    stream: bool
    params: dict[str, Any]
    dropped_tools: tuple[str, ...] = ()
    ignored_fields: tuple[str, ...] = ()


def parse_messages_body(raw: bytes, *, count_only: bool = False) -> MessagesBody:
    """The Messages body from raw bytes; ``MalformedRequestError`` names the field that is wrong.

    ``count_only`` is ``/v1/messages/count_tokens``, whose body has no ``max_tokens``.
    """
    body = parse_json_object(raw)
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise MalformedRequestError("'model' is required: a non-empty string naming a configured model", "model")
    turns = body.get("messages")
    if not isinstance(turns, list) or not turns:
        raise MalformedRequestError("'messages' is required: a non-empty array of user and assistant turns",
                                    "messages")
    max_tokens = body.get("max_tokens")
    if not count_only and (not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1):
        raise MalformedRequestError("'max_tokens' is required: a positive integer", "max_tokens")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise MalformedRequestError("'stream' must be true or false", "stream")
    messages = _system(body.get("system"))
    for index, turn in enumerate(turns):
        messages.extend(_turn(turn, index))
    params: dict[str, Any] = {} if count_only else {k: body[k] for k in PASSED_FIELDS if body.get(k) is not None}
    tools, dropped = _tools(body.get("tools"))
    if tools:
        params["tools"] = tools
    params.update(_tool_choice(body.get("tool_choice")) if tools else {})
    if body.get("stop_sequences"):
        params["stop"] = body["stop_sequences"]
    metadata = body.get("metadata")
    if isinstance(metadata, Mapping) and isinstance(metadata.get("user_id"), str):
        params["user"] = metadata["user_id"]
    effort = _reasoning_effort(body.get("thinking"), body.get("output_config"))
    if effort is not None and not count_only:
        params["reasoning_effort"] = effort
    known = {"model", "messages", "system", "stream", "tools", "tool_choice", "stop_sequences", "metadata",
             "thinking", *PASSED_FIELDS, *STRIPPED_FIELDS}
    ignored = tuple(sorted(k for k in body if k not in known))
    clash = sorted(CORE_KEYWORDS.intersection(params))
    if clash:  # pragma: no cover - no Anthropic field is named like a Core keyword; kept as the chat parser's guard
        raise MalformedRequestError(f"{clash[0]!r} is not a Messages parameter", clash[0])
    return MessagesBody(model=model, messages=messages, stream=stream, params=params, dropped_tools=dropped,
                        ignored_fields=ignored)


def _system(system: Any) -> list[dict[str, Any]]:
    if system is None or system == "" or system == []:
        return []
    if isinstance(system, str):
        return [{"role": "system", "content": system}]
    if isinstance(system, list) and all(isinstance(b, Mapping) and b.get("type") == "text" for b in system):
        return [{"role": "system", "content": "\n\n".join(str(b.get("text", "")) for b in system)}]
    raise MalformedRequestError("'system' must be a string or an array of text blocks", "system")


def _blocks(content: Any, where: str) -> list[Mapping[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if isinstance(content, list) and all(isinstance(b, Mapping) and isinstance(b.get("type"), str) for b in content):
        return content
    raise MalformedRequestError(f"{where}.content must be a string or an array of content blocks with a 'type'",
                                f"{where}.content")


def _turn(turn: Any, index: int) -> list[dict[str, Any]]:
    where = f"messages[{index}]"
    if not isinstance(turn, Mapping) or turn.get("role") not in ("user", "assistant"):
        raise MalformedRequestError(f"{where} must be an object whose role is 'user' or 'assistant'", where)
    blocks = _blocks(turn.get("content"), where)
    if turn["role"] == "assistant":
        return [_assistant(blocks, where)]
    return _user(blocks, where)


def _assistant(blocks: list[Mapping[str, Any]], where: str) -> dict[str, Any]:
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for number, block in enumerate(blocks):
        kind = block["type"]
        if kind == "text":
            texts.append(str(block.get("text", "")))
        elif kind == "tool_use":
            name, call_id = block.get("name"), block.get("id")
            if not isinstance(name, str) or not isinstance(call_id, str):
                raise MalformedRequestError(f"{where}.content[{number}]: a tool_use block needs 'id' and 'name'",
                                            f"{where}.content[{number}]")
            arguments = json.dumps(block.get("input") or {}, ensure_ascii=False, separators=(",", ":"))
            calls.append({"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}})
        elif kind not in ("thinking", "redacted_thinking"):
            raise MalformedRequestError(f"{where}.content[{number}]: an assistant turn cannot carry a {kind!r} block "
                                        "here; send text, tool_use or thinking blocks", f"{where}.content[{number}]")
    message: dict[str, Any] = {"role": "assistant", "content": "".join(texts) or None}
    if calls:
        message["tool_calls"] = calls
    return message


def _user(blocks: list[Mapping[str, Any]], where: str) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for number, block in enumerate(blocks):
        kind = block["type"]
        if kind == "tool_result":
            tool_use_id = block.get("tool_use_id")
            if not isinstance(tool_use_id, str):
                raise MalformedRequestError(f"{where}.content[{number}]: a tool_result block needs 'tool_use_id'",
                                            f"{where}.content[{number}]")
            results.append({"role": "tool", "tool_call_id": tool_use_id,
                            "content": _result_text(block.get("content"), block.get("is_error") is True)})
        elif kind == "text":
            parts.append({"type": "text", "text": str(block.get("text", ""))})
        elif kind == "image":
            parts.append({"type": "image_url", "image_url": {"url": _image_url(block, f"{where}.content[{number}]")}})
        else:
            raise MalformedRequestError(f"{where}.content[{number}]: a user turn cannot carry a {kind!r} block here; "
                                        "send text, image or tool_result blocks", f"{where}.content[{number}]")
    if not parts:
        return results
    if all(part["type"] == "text" for part in parts):
        return [*results, {"role": "user", "content": "".join(part["text"] for part in parts)}]
    return [*results, {"role": "user", "content": parts}]


def _result_text(content: Any, is_error: bool) -> str:
    if isinstance(content, list):
        text = "".join(str(b.get("text", "")) for b in content if isinstance(b, Mapping) and b.get("type") == "text")
    else:
        text = "" if content is None else str(content)
    # Chat completions has no error flag on a tool message; the model reads the failure in the text.
    return f"Error: {text}" if is_error else text


def _image_url(block: Mapping[str, Any], where: str) -> str:
    source = block.get("source")
    if isinstance(source, Mapping) and source.get("type") == "base64":
        return f"data:{source.get('media_type', 'image/png')};base64,{source.get('data', '')}"
    if isinstance(source, Mapping) and source.get("type") == "url" and isinstance(source.get("url"), str):
        return str(source["url"])
    raise MalformedRequestError(f"{where}: an image block needs a base64 or url source", where)


def _tools(tools: Any) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
    if tools is None:
        return [], ()
    if not isinstance(tools, list) or not all(isinstance(t, Mapping) for t in tools):
        raise MalformedRequestError("'tools' must be an array of tool definitions", "tools")
    functions: list[dict[str, Any]] = []
    dropped: list[str] = []
    for number, tool in enumerate(tools):
        name = tool.get("name")
        if tool.get("input_schema") is None and tool.get("type") not in (None, "custom"):
            dropped.append(f"{name or tool.get('type')} ({tool.get('type')})")
            continue
        if not isinstance(name, str) or not isinstance(tool.get("input_schema"), Mapping):
            raise MalformedRequestError(f"tools[{number}] needs a 'name' and an 'input_schema' object",
                                        f"tools[{number}]")
        function: dict[str, Any] = {"name": name, "parameters": dict(tool["input_schema"])}
        if isinstance(tool.get("description"), str):
            function["description"] = tool["description"]
        functions.append({"type": "function", "function": function})
    return functions, tuple(dropped)


def _tool_choice(choice: Any) -> dict[str, Any]:
    if choice is None:
        return {}
    kind = choice.get("type") if isinstance(choice, Mapping) else None
    mapped: Any
    if kind == "auto":
        mapped = "auto"
    elif kind == "any":
        mapped = "required"
    elif kind == "none":
        mapped = "none"
    elif kind == "tool" and isinstance(choice.get("name"), str):
        mapped = {"type": "function", "function": {"name": choice["name"]}}
    else:
        raise MalformedRequestError("'tool_choice' must be {\"type\": \"auto\" | \"any\" | \"none\"} or "
                                    "{\"type\": \"tool\", \"name\": ...}", "tool_choice")
    out: dict[str, Any] = {"tool_choice": mapped}
    if choice.get("disable_parallel_tool_use") is True:
        out["parallel_tool_calls"] = False
    return out


def _reasoning_effort(thinking: Any, output_config: Any) -> str | None:
    if not isinstance(thinking, Mapping):
        return None
    kind = thinking.get("type")
    if kind == "enabled":
        budget = thinking.get("budget_tokens")
        if not isinstance(budget, int) or isinstance(budget, bool):
            raise MalformedRequestError("thinking.budget_tokens must be an integer", "thinking.budget_tokens")
        return "high" if budget >= HIGH_BUDGET else "medium" if budget >= MEDIUM_BUDGET else "low"
    if kind == "adaptive" and isinstance(output_config, Mapping):
        return EFFORTS.get(str(output_config.get("effort")))
    if kind in ("adaptive", "disabled"):
        return None
    raise MalformedRequestError("thinking.type must be 'enabled', 'adaptive' or 'disabled'", "thinking.type")
