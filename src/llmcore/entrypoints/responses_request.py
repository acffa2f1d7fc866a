"""Reading a Responses API request (``POST /v1/responses``) as a chat-completions request for the Core.

OpenAI's ``CreateResponse`` schema (``openapi.yaml``) is the reference. The
result is what ``core.acomplete`` / ``core.astream`` take; llmcore always
translates through chat completions, whatever the upstream serves.

What maps to what (``input`` items: ``responses_input``):

- ``instructions`` -> a leading ``system`` message;
- function ``tools`` -> chat function tools (``name``, ``description``,
  ``parameters``, ``strict``); a ``namespace`` group (Codex CLI) is flattened
  into its function tools, each remembered with its namespace so the answer's
  ``function_call`` carries it again; hosted tools the model cannot run
  (``web_search``, ``file_search``, ``code_interpreter``, ...) and tool types
  with no chat-completions form (``custom``, ``apply_patch``, ...) are dropped
  and reported in ``dropped_tools`` (a ``param_dropped`` line and counter),
  never a 400 that would stop an agent;
- ``tool_choice`` ``auto`` / ``none`` / ``required`` as they are, ``{type:
  function, name}`` -> the named chat function, ``allowed_tools`` -> its mode
  with the tools narrowed to the allowed ones; a choice naming a dropped
  hosted tool is dropped with it;
- ``parallel_tool_calls``, ``temperature``, ``top_p``, ``user`` as they are;
  ``max_output_tokens`` -> ``max_tokens``;
- ``reasoning.effort`` -> ``reasoning_effort``, then the model's param policy
  sends, drops (logged, counted) or refuses it: grok-code-fast-1 drops it;
- ``text.format`` ``json_schema`` / ``json_object`` -> ``response_format``;
- ``metadata``, ``store``, ``include``, ``truncation``, ``service_tier``,
  ``prompt_cache_key``, ``safety_identifier``, ``text.verbosity``,
  ``top_logprobs``, ``max_tool_calls``, ``stream_options`` are accepted and
  not forwarded (``metadata`` is echoed in the answer; llmcore stores
  nothing, whatever ``store`` says); any other unknown field is dropped and
  reported in ``ignored_fields``.

Refused with a 400 (``invalid_request_error``): ``previous_response_id`` and
``conversation`` (llmcore keeps no conversation state: send the whole input),
``prompt`` (stored prompt templates), ``background: true``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import frozen

from llmcore.entrypoints.openai_wire import MalformedRequestError
from llmcore.entrypoints.proxy_request import parse_json_object
from llmcore.entrypoints.responses_input import input_messages

HOSTED_TOOLS = frozenset({"web_search", "web_search_preview", "web_search_2025_08_26", "web_search_preview_2025_03_11",
                          "file_search", "code_interpreter", "computer_use_preview", "computer", "image_generation",
                          "mcp", "local_shell", "shell", "tool_search"})
ACCEPTED_FIELDS = frozenset({"metadata", "store", "include", "truncation", "service_tier", "prompt_cache_key",
                             "safety_identifier", "top_logprobs", "max_tool_calls", "stream_options",
                             "prompt_cache_retention"})
PASSED_FIELDS = ("temperature", "top_p", "user")
STATEFUL_FIELDS = {
    "previous_response_id": "llmcore keeps no conversation state, so it cannot continue a stored response; "
                            "send the whole conversation in 'input' (and store: false)",
    "conversation": "llmcore keeps no conversations; send the whole conversation in 'input'",
    "prompt": "llmcore keeps no stored prompts; send the instructions and input themselves",
}
KNOWN_FIELDS = frozenset({"model", "input", "instructions", "tools", "tool_choice", "parallel_tool_calls",
                          "max_output_tokens", "reasoning", "text", "stream", "background", *PASSED_FIELDS,
                          *ACCEPTED_FIELDS, *STATEFUL_FIELDS})


@frozen(kw_only=True)
class ResponsesBody:
    """A parsed ``POST /v1/responses`` body.

    ``params`` go to the Core; ``echo`` holds the request fields the ``response`` object repeats;
    ``namespaces`` maps a flattened tool's name to its namespace.
    """

    model: str
    messages: list[dict[str, Any]]
    stream: bool
    params: dict[str, Any]
    echo: dict[str, Any]
    namespaces: dict[str, str]
    dropped_tools: tuple[str, ...] = ()
    ignored_fields: tuple[str, ...] = ()


def parse_responses_body(raw: bytes) -> ResponsesBody:
    """The Responses body from raw bytes; ``MalformedRequestError`` names the field that is wrong."""
    body = parse_json_object(raw)
    for name, why in STATEFUL_FIELDS.items():
        if body.get(name) is not None:
            raise MalformedRequestError(f"'{name}' is not supported: {why}", name)
    if body.get("background") is True:
        raise MalformedRequestError("'background' responses need stored state, which llmcore does not keep; "
                                    "send background: false or leave it out", "background")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise MalformedRequestError("'model' is required: a non-empty string naming a configured model", "model")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise MalformedRequestError("'stream' must be true or false", "stream")
    instructions = body.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise MalformedRequestError("'instructions' must be a string", "instructions")
    messages = ([{"role": "system", "content": instructions}] if instructions else []) + \
        input_messages(body.get("input"))
    params: dict[str, Any] = {k: body[k] for k in PASSED_FIELDS if body.get(k) is not None}
    max_output = body.get("max_output_tokens")
    if max_output is not None:
        if not isinstance(max_output, int) or isinstance(max_output, bool) or max_output < 1:
            raise MalformedRequestError("'max_output_tokens' must be a positive integer", "max_output_tokens")
        params["max_tokens"] = max_output
    tools, namespaces, dropped = _tools(body.get("tools"))
    choice, tools = _tool_choice(body.get("tool_choice"), tools, dropped)
    if tools:
        params["tools"] = tools
        params.update(choice)
        if isinstance(body.get("parallel_tool_calls"), bool):
            params["parallel_tool_calls"] = body["parallel_tool_calls"]
    params.update(_reasoning(body.get("reasoning")))
    params.update(_text_format(body.get("text")))
    ignored = tuple(sorted(k for k in body if k not in KNOWN_FIELDS))
    return ResponsesBody(model=model, messages=messages, stream=stream, params=params,
                         echo=_echo(body, tools), namespaces=namespaces, dropped_tools=tuple(dropped),
                         ignored_fields=ignored)


def _function(tool: Mapping[str, Any], where: str) -> dict[str, Any]:
    name = tool.get("name")
    if not isinstance(name, str) or not name:
        raise MalformedRequestError(f"{where}: a function tool needs a 'name'", where)
    parameters = tool.get("parameters")
    if parameters is not None and not isinstance(parameters, Mapping):
        raise MalformedRequestError(f"{where}.parameters must be a JSON schema object", f"{where}.parameters")
    function: dict[str, Any] = {"name": name, "parameters": dict(parameters or {"type": "object", "properties": {}})}
    if isinstance(tool.get("description"), str):
        function["description"] = tool["description"]
    if isinstance(tool.get("strict"), bool):
        function["strict"] = tool["strict"]
    return {"type": "function", "function": function}


def _tools(tools: Any) -> tuple[list[dict[str, Any]], dict[str, str], list[str]]:
    if tools is None:
        return [], {}, []
    if not isinstance(tools, list) or not all(isinstance(t, Mapping) for t in tools):
        raise MalformedRequestError("'tools' must be an array of tool definitions", "tools")
    functions: list[dict[str, Any]] = []
    namespaces: dict[str, str] = {}
    dropped: list[str] = []
    for number, tool in enumerate(tools):
        kind = tool.get("type")
        if kind == "function":
            functions.append(_function(tool, f"tools[{number}]"))
        elif kind == "namespace":
            group = tool.get("tools")
            space = tool.get("name")
            if not isinstance(group, list) or not isinstance(space, str):
                raise MalformedRequestError(f"tools[{number}]: a namespace needs a 'name' and a 'tools' array",
                                            f"tools[{number}]")
            for inner, member in enumerate(group):
                where = f"tools[{number}].tools[{inner}]"
                if not isinstance(member, Mapping) or member.get("type") != "function":
                    dropped.append(f"{space}.{member.get('name') if isinstance(member, Mapping) else inner} "
                                   f"({member.get('type') if isinstance(member, Mapping) else 'invalid'})")
                    continue
                functions.append(_function(member, where))
                namespaces[functions[-1]["function"]["name"]] = space
        else:
            dropped.append(f"{tool.get('name') or tool.get('server_label') or kind} ({kind})")
    return _unique(functions, dropped), namespaces, dropped


def _unique(functions: list[dict[str, Any]], dropped: list[str]) -> list[dict[str, Any]]:
    """One tool per name: chat completions calls tools by name alone, so a later namesake is dropped."""
    seen: set[str] = set()
    kept: list[dict[str, Any]] = []
    for tool in functions:
        name = tool["function"]["name"]
        if name in seen:
            dropped.append(f"{name} (a second tool of that name)")
            continue
        seen.add(name)
        kept.append(tool)
    return kept


def _tool_choice(choice: Any, tools: list[dict[str, Any]],
                 dropped: list[str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    if choice is None:
        return {}, tools
    if choice in ("auto", "none", "required"):
        return {"tool_choice": choice}, tools
    kind = choice.get("type") if isinstance(choice, Mapping) else None
    if kind == "function" and isinstance(choice.get("name"), str):
        return {"tool_choice": {"type": "function", "function": {"name": choice["name"]}}}, tools
    if kind == "allowed_tools" and choice.get("mode") in ("auto", "required") and isinstance(choice.get("tools"), list):
        allowed = {t.get("name") for t in choice["tools"] if isinstance(t, Mapping) and t.get("type") == "function"}
        return {"tool_choice": choice["mode"]}, [t for t in tools if t["function"]["name"] in allowed]
    if isinstance(kind, str) and (kind in HOSTED_TOOLS or kind.startswith("web_search")):
        dropped.append(f"tool_choice ({kind}: a hosted tool the model cannot run)")
        return {}, tools
    raise MalformedRequestError("'tool_choice' must be 'auto', 'none', 'required', {\"type\": \"function\", "
                                "\"name\": ...} or {\"type\": \"allowed_tools\", ...}", "tool_choice")


def _reasoning(reasoning: Any) -> dict[str, Any]:
    if reasoning is None:
        return {}
    if not isinstance(reasoning, Mapping):
        raise MalformedRequestError("'reasoning' must be an object such as {\"effort\": \"low\"}", "reasoning")
    effort = reasoning.get("effort")
    if effort is None:
        return {}
    if not isinstance(effort, str):
        raise MalformedRequestError("reasoning.effort must be a string such as 'low', 'medium' or 'high'",
                                    "reasoning.effort")
    return {"reasoning_effort": effort}


def _text_format(text: Any) -> dict[str, Any]:
    if text is None:
        return {}
    form = text.get("format") if isinstance(text, Mapping) else None
    if not isinstance(text, Mapping) or (form is not None and not isinstance(form, Mapping)):
        raise MalformedRequestError("'text' must be an object such as {\"format\": {\"type\": \"json_object\"}}",
                                    "text")
    kind = form.get("type") if form else "text"
    if kind == "text":
        return {}
    if kind == "json_object":
        return {"response_format": {"type": "json_object"}}
    if kind == "json_schema" and form is not None and isinstance(form.get("schema"), Mapping):
        schema: dict[str, Any] = {"name": str(form.get("name") or "response"), "schema": dict(form["schema"])}
        for key in ("description", "strict"):
            if form.get(key) is not None:
                schema[key] = form[key]
        return {"response_format": {"type": "json_schema", "json_schema": schema}}
    raise MalformedRequestError("text.format must be {\"type\": \"text\"}, {\"type\": \"json_object\"} or "
                                "{\"type\": \"json_schema\", \"name\": ..., \"schema\": {...}}", "text.format")


def _echo(body: Mapping[str, Any], tools: list[dict[str, Any]]) -> dict[str, Any]:
    """The request fields a ``response`` object repeats; ``tools`` are the function tools the model was given."""
    text: Mapping[str, Any] = body["text"] if isinstance(body.get("text"), Mapping) else {}
    reasoning = body.get("reasoning")
    metadata = body.get("metadata")
    return {
        "instructions": body.get("instructions"),
        "tools": [{"type": "function", "name": t["function"]["name"],
                   "description": t["function"].get("description"), "parameters": t["function"]["parameters"],
                   "strict": t["function"].get("strict")} for t in tools],
        "tool_choice": body.get("tool_choice") if body.get("tool_choice") is not None else "auto",
        "parallel_tool_calls": body.get("parallel_tool_calls") is not False,
        "temperature": body.get("temperature"),
        "top_p": body.get("top_p"),
        "max_output_tokens": body.get("max_output_tokens"),
        "metadata": dict(metadata) if isinstance(metadata, Mapping) else {},
        "text": {"format": dict(text.get("format") or {"type": "text"})},
        "reasoning": {"effort": reasoning.get("effort"), "summary": reasoning.get("summary")}
        if isinstance(reasoning, Mapping) else None,
        "truncation": body.get("truncation") if body.get("truncation") in ("auto", "disabled") else "disabled",
        "store": False,
        "previous_response_id": None,
        "background": False,
    }
