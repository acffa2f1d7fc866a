"""The OpenAI chat-completions wire, both ways, as plain JSON data: llmcore's request out, the answer in.

What goes out is what the LiteLLM adapter's ``openai/`` route sends (``litellm_convert.call_kwargs``):
the policy-checked params, ``model`` = the upstream model, the messages, ``stream`` and
``stream_options.include_usage`` on streams; the key, base URL and headers are explicit on every
request and nothing is read from the environment. What comes in is kept as sent (Decision 16):
every choice, ``logprobs``, ``refusal``, ``system_fingerprint``, tool-call deltas with exactly the
fields sent, usage as the upstream counts it, and xAI's ``cost_in_usd_ticks`` on streams too.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from attrs import evolve, frozen

from llmcore.adapters.answer_checks import MalformedAnswer, listed, mapping, text_or_none
from llmcore.adapters.json_codec import dumps
from llmcore.adapters.litellm_convert import OWNED_KWARGS, cost_in_usd_ticks, to_usage, wire_chunks
from llmcore.domain.chat import ChatRequest, ChatResponse, Choice, StreamChunk, with_arguments_text
from llmcore.domain.errors import InvalidRequestError, UpstreamAuthError
from llmcore.domain.usage import Usage

# Per-request headers beyond the model's own (W3C traceparent, baggage...): the hook a tracing adapter
# fills. Called once per upstream request; what it returns is sent as given, after the model's headers.
HeaderHook = Callable[[ChatRequest], Mapping[str, str]]

# Keys llmcore owns in the body; a request param of the same name never overrides them.
OWNED_BODY_KEYS = OWNED_KWARGS


@frozen(kw_only=True)
class WireRequest:
    """One upstream HTTP request: where, what and how long to wait (seconds, per read, as the OpenAI SDK)."""

    url: str
    body: bytes
    headers: dict[str, str]
    timeout: float


def wire_request(request: ChatRequest, *, stream: bool, extra_headers: HeaderHook | None = None) -> WireRequest:
    """The HTTP request for ``request``; raises UpstreamAuthError / InvalidRequestError without key or base URL."""
    spec = request.spec
    key = spec.api_key.reveal() if spec.api_key is not None else ""
    if not key and spec.credentials.key_required:
        raise UpstreamAuthError(f"no API key configured for {spec.alias}", provider=spec.provider,
                                model=spec.upstream_model, hint=spec.credentials.key_hint)
    if not spec.base_url:
        raise InvalidRequestError(f"no base URL configured for {spec.alias}", provider=spec.provider,
                                  model=spec.upstream_model, hint=spec.credentials.base_url_hint)
    body: dict[str, Any] = {k: v for k, v in request.params.items() if k not in OWNED_BODY_KEYS}
    body["model"] = spec.upstream_model
    # A key with no value is left out, as LiteLLM's openai/ route sends it (an assistant turn carrying
    # only tool_calls goes without "content": null, as the OpenAI SDKs write it).
    body["messages"] = [{k: v for k, v in m.items() if v is not None} for m in request.messages_as_dicts()]
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream" if stream else "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    headers.update({str(k): str(v) for k, v in spec.extra_headers.items()})
    if request.request_id:
        headers["x-request-id"] = request.request_id
    if extra_headers is not None:
        headers.update({str(k): str(v) for k, v in extra_headers(request).items()})
    timeout = (spec.stream_timeout or spec.timeout) if stream else spec.timeout
    return WireRequest(url=spec.base_url.rstrip("/") + "/chat/completions",
                       body=dumps(body, default=_plain),
                       headers=headers, timeout=timeout)


def _plain(value: Any) -> Any:
    # The request's params and messages are read-only mappings (frozen_mapping) and tuples.
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


# --- Answers -------------------------------------------------------------------------------------

def to_response(document: Mapping[str, Any]) -> ChatResponse:
    """A ``chat.completion`` JSON object as a ChatResponse: every choice, usage and ticks as sent.

    Raises MalformedAnswer for a document that is no chat completion (no choices, a choice without a
    message, a field of the wrong type), as LiteLLM refuses it on the other adapter.
    """
    choices = tuple(_choice(choice, position) for position, choice in enumerate(listed(document.get("choices"),
                                                                                       "choices")))
    if not choices:
        raise MalformedAnswer("choices is empty" if "choices" in document else "there is no choices field")
    first = choices[0]
    raw_usage = document.get("usage")
    return ChatResponse(
        content=first.content,
        reasoning_content=first.reasoning_content,
        tool_calls=first.tool_calls,
        finish_reason=first.finish_reason,
        model=_text(document.get("model")) or "",
        id=_text(document.get("id")) or "",
        usage=to_usage(raw_usage) or Usage(),
        cost_in_usd_ticks=cost_in_usd_ticks(raw_usage),
        choices=choices,
        system_fingerprint=_text(document.get("system_fingerprint")),
        service_tier=_text(document.get("service_tier")),
    )


def _choice(raw: Any, position: int) -> Choice:
    where = f"choices[{position}]"
    choice = mapping(raw, where, optional=False)
    message = mapping(choice.get("message"), f"{where}.message", optional=False)
    index = choice.get("index")
    logprobs = choice.get("logprobs")
    return Choice(
        index=index if isinstance(index, int) else position,
        content=text_or_none(message.get("content"), f"{where}.message.content"),
        # xAI and most servers say reasoning_content; some (vLLM, OpenRouter) say reasoning.
        reasoning_content=_text(message.get("reasoning_content")) or _text(message.get("reasoning")),
        refusal=_text(message.get("refusal")),
        tool_calls=tuple(_call(call, where) for call in listed(message.get("tool_calls"),
                                                               f"{where}.message.tool_calls")),
        finish_reason=_text(choice.get("finish_reason")),
        logprobs=logprobs if isinstance(logprobs, Mapping) else None,
    )


def _call(raw: Any, where: str) -> dict[str, Any]:
    # A tool call with exactly the fields sent (no None padding); object arguments become their JSON text.
    call = mapping(raw, f"{where}.message.tool_calls[]", optional=False)
    return with_arguments_text({k: v for k, v in call.items() if v is not None})


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


_SHOWN_DELTA_TEXTS = ("content", "reasoning_content", "reasoning", "refusal")


def shows_output(document: Mapping[str, Any]) -> bool:
    """Whether a ``chat.completion.chunk`` surely gives a stream's reader a chunk to see: a choice with a
    finish reason, or a delta with text or tool calls (what ``to_chunks`` turns into ``has_output``).

    Conservative: an event this says no to (a role alone, an empty delta, usage, logprobs alone) may
    still be seen; only a yes is relied on, by the ``more_in_hand`` hint of the chunks read before it.
    """
    choices = document.get("choices")
    if not isinstance(choices, list):
        return False  # not a chunk to_chunks can read: it raises, and nothing is relied on
    for choice in choices:
        if not isinstance(choice, Mapping):
            continue
        if _text(choice.get("finish_reason")):
            return True
        delta = choice.get("delta")
        if isinstance(delta, Mapping) and (
                delta.get("tool_calls") or any(_text(delta.get(key)) for key in _SHOWN_DELTA_TEXTS)):
            return True
    return False


def to_chunks(document: Mapping[str, Any], *, more_in_hand: bool = False) -> list[StreamChunk]:
    """One ``chat.completion.chunk`` as StreamChunks (one per choice; see ``wire_chunks``).

    The usage chunk keeps xAI's ``cost_in_usd_ticks``, which the LiteLLM path loses on streams.
    """
    chunks = wire_chunks(document, more_in_hand=more_in_hand)
    usage = document.get("usage")
    if chunks and usage is not None:
        ticks = cost_in_usd_ticks(usage)
        if ticks is not None and chunks[-1].usage is not None:
            chunks[-1] = evolve(chunks[-1], cost_in_usd_ticks=ticks)
    return chunks
