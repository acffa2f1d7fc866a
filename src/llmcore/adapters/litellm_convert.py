"""Pure conversions between llmcore's values and LiteLLM's: the kwargs of one call, and its answers.

Nothing here imports LiteLLM: its answers are read by attribute, so the
functions take LiteLLM's pydantic objects and plain test doubles alike.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import evolve

from llmcore.adapters.answer_checks import MalformedAnswer, listed, mapping, token_count
from llmcore.adapters.provider_profiles import OPENAI_WIRE_ROUTES
from llmcore.domain.chat import ChatRequest, ChatResponse, Choice, StreamChunk, with_arguments_text
from llmcore.domain.errors import InvalidRequestError, UpstreamAuthError
from llmcore.domain.model_spec import ModelSpec
from llmcore.domain.usage import Usage

# The kwargs llmcore owns on every call; a request param of the same name never overrides them.
OWNED_KWARGS = frozenset({
    "model", "messages", "api_key", "api_base", "base_url", "timeout", "max_retries", "num_retries",
    "extra_headers", "stream", "stream_options", "input_cost_per_token", "output_cost_per_token",
})

# OpenAI request fields LiteLLM does not send on those routes although the client set them: ``user``
# only goes to models in OpenAI's own catalog (gpt_transformation.py, for Azure AI's sake), and
# ``metadata`` is LiteLLM's own logging kwarg on every route. They travel in ``extra_body`` instead.
BODY_ONLY_PARAMS = ("user", "metadata")


def call_kwargs(request: ChatRequest, *, stream: bool) -> dict[str, Any]:
    """The kwargs of one ``litellm.completion`` / ``acompletion`` call for ``request``.

    ``model`` is ``spec.litellm_model`` (``openai/grok-code-fast-1``, ``anthropic/claude-...``,
    ``azure/<deployment>``). ``api_key`` and ``api_base`` are explicit whenever llmcore has them:
    left out, LiteLLM reads its own environment, and on the ``openai/`` route sends
    ``OPENAI_API_KEY`` to ``OPENAI_BASE_URL`` (FACTS.md section 0.9); a provider LiteLLM
    authenticates itself (the AWS chain, Google ADC) gets none. The provider's own params
    (``api_version``, ``aws_region_name``, ``vertex_project``...) go as LiteLLM's kwargs of the
    same name; its credential params (``aws_secret_access_key``, ``vertex_credentials``,
    ``azure_ad_token``...) are revealed here and nowhere else. ``max_retries=0`` turns the
    OpenAI SDK's hidden retries off; the retry policy owns retries. A request param never
    overrides any of these. Every container is fresh, so nothing LiteLLM does to one call's
    dicts reaches the request or another call. On the OpenAI-wire routes, ``user`` and
    ``metadata`` go in ``extra_body``: LiteLLM would not send them (:data:`BODY_ONLY_PARAMS`).
    """
    spec = request.spec
    key, base_url = _credentials(spec)
    headers = {str(k): str(v) for k, v in spec.extra_headers.items()}
    if request.request_id:
        headers["x-request-id"] = request.request_id
    owned = OWNED_KWARGS | spec.provider_params.keys() | spec.secret_params.keys()
    kwargs: dict[str, Any] = {k: _plain(v) for k, v in request.params.items() if k not in owned}
    kwargs.update({str(k): _plain(v) for k, v in spec.provider_params.items()})
    kwargs.update({str(k): secret.reveal() for k, secret in spec.secret_params.items()})
    kwargs.update(
        model=spec.litellm_model,
        messages=_plain(request.messages_as_dicts()),
        timeout=(spec.stream_timeout or spec.timeout) if stream else spec.timeout,
        max_retries=0,
        extra_headers=headers,
    )
    for name, value in (("api_key", key), ("api_base", base_url)):
        if value is not None:
            kwargs[name] = value
    if (spec.route or spec.provider) in OPENAI_WIRE_ROUTES:
        _move_to_body(kwargs, [name for name in BODY_ONLY_PARAMS if name in request.params])
    if stream:
        kwargs.update(stream=True, stream_options={"include_usage": True})
    if spec.prices.known:
        # Saves LiteLLM a failing price-map search per call (~13 %, FACTS.md section 7); it
        # only changes LiteLLM's own response_cost, which llmcore does not read.
        kwargs.update(input_cost_per_token=spec.prices.input_per_token,
                      output_cost_per_token=spec.prices.output_per_token)
    return kwargs


def _move_to_body(kwargs: dict[str, Any], names: list[str]) -> None:
    if not names:
        return
    body = dict(kwargs.get("extra_body") or {})
    for name in names:
        value = kwargs.pop(name)
        body.setdefault(name, value)  # an operator's extra_body (litellm_params) keeps its own value
    kwargs["extra_body"] = body


def _credentials(spec: ModelSpec) -> tuple[str | None, str | None]:
    # The registry refuses such a model before it gets here; this guards the key from ever being None
    # where the provider needs one (xAI, generic endpoints, Anthropic...), and the base URL likewise.
    creds = spec.credentials
    key = spec.api_key.reveal() if spec.api_key is not None else None
    if creds.key_required and not key:
        raise UpstreamAuthError(
            f"no API key configured for {spec.alias}", provider=spec.provider, model=spec.upstream_model,
            hint=creds.key_hint,
        )
    if creds.base_url_required and not spec.base_url:
        raise InvalidRequestError(
            f"no base URL configured for {spec.alias}", provider=spec.provider, model=spec.upstream_model,
            hint=creds.base_url_hint,
        )
    return key, spec.base_url or None


def _plain(value: Any) -> Any:
    """A fresh, JSON-ready copy: mappings to dicts, sequences to lists (read-only mappings included)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


# --- Answers -------------------------------------------------------------------------------------

def to_response(response: Any) -> ChatResponse:
    """A non-streamed LiteLLM ``ModelResponse`` as a ChatResponse: every choice, usage and ticks as sent."""
    raw_choices = getattr(response, "choices", None) or ()
    choices = tuple(_choice(choice, position) for position, choice in enumerate(raw_choices))
    if not choices:  # LiteLLM lets {"choices": []} through; the native adapter refuses it alike
        raise MalformedAnswer("choices is empty")
    first = choices[0]
    raw_usage = getattr(response, "usage", None)
    return ChatResponse(
        content=first.content,
        reasoning_content=first.reasoning_content,
        tool_calls=first.tool_calls,
        finish_reason=first.finish_reason,
        model=served_model(response),
        id=getattr(response, "id", None) or "",
        usage=to_usage(raw_usage) or Usage(),
        cost_in_usd_ticks=cost_in_usd_ticks(raw_usage),
        choices=choices,
        system_fingerprint=_text(getattr(response, "system_fingerprint", None)),
        service_tier=_text(getattr(response, "service_tier", None)),
    )


def _choice(choice: Any, position: int) -> Choice:
    message = getattr(choice, "message", None)
    index = getattr(choice, "index", None)
    return Choice(
        index=index if isinstance(index, int) else position,
        content=getattr(message, "content", None),
        reasoning_content=getattr(message, "reasoning_content", None) or None,
        refusal=_text(getattr(message, "refusal", None)),
        tool_calls=tuple(_dump(call) for call in (getattr(message, "tool_calls", None) or ())),
        finish_reason=getattr(choice, "finish_reason", None) or None,
        logprobs=_logprobs(getattr(choice, "logprobs", None)),
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _logprobs(value: Any) -> dict[str, Any] | None:
    """OpenAI's logprobs object as plain data; LiteLLM keeps it as a pydantic object or a dict."""
    if value is None:
        return None
    if hasattr(value, "model_dump"):
        value = value.model_dump()
    return _plain(value) if isinstance(value, Mapping) else None


def to_chunk(chunk: Any, served: str = "") -> StreamChunk:
    """One LiteLLM stream chunk as a StreamChunk; ``served`` is the serving model an earlier chunk named.

    For routes whose upstream chunks llmcore cannot see (those not streamed
    through the OpenAI SDK; see ``litellm_stream``). Usage is kept only when
    it is real: LiteLLM's own chunks for a stream with no events carry none
    or all zeros, and must not look like output. The stream reader replaces
    it with the upstream's own figures (``stream_usage``).
    """
    fields = _fields(chunk)
    choices = fields.get("choices") or []
    choice = _fields(choices[0] if choices else None)
    delta = _fields(choice.get("delta"))
    index = choice.get("index")
    return StreamChunk(
        content=delta.get("content") or None,
        reasoning_content=delta.get("reasoning_content") or None,
        tool_calls=tuple(_dump(call) for call in (delta.get("tool_calls") or ())),
        finish_reason=choice.get("finish_reason") or None,
        role=delta.get("role") or None,
        model=served_model(chunk, served),
        id=fields.get("id") or "",
        usage=to_usage(fields.get("usage")),
        index=index if isinstance(index, int) else 0,
        refusal=_text(delta.get("refusal")),
        logprobs=_logprobs(choice.get("logprobs")),
        system_fingerprint=_text(fields.get("system_fingerprint")),
    )


def wire_chunks(document: Mapping[str, Any], *, more_in_hand: bool = False) -> list[StreamChunk]:
    """One ``chat.completion.chunk`` as the upstream sent it (plain JSON data), as StreamChunks, one per choice.

    Only fields present in ``document`` are read, so a tool-call continuation
    stays ``{"index", "function": {"arguments"}}``. Usage on a chunk that also
    carries choices rides on its last StreamChunk; a chunk with neither
    choices nor usage yields nothing. ``more_in_hand`` is set on every chunk
    (the transport hint of ``StreamChunk``; the native adapter knows it).
    """
    common: dict[str, Any] = dict(
        model=document.get("model") or "", id=document.get("id") or "",
        system_fingerprint=_text(document.get("system_fingerprint")),
        service_tier=_text(document.get("service_tier")),
    )
    if more_in_hand:
        common["more_in_hand"] = True
    usage = to_usage(document.get("usage"))
    out: list[StreamChunk] = []
    for position, raw_choice in enumerate(listed(document.get("choices"), "choices")):
        choice = mapping(raw_choice, f"choices[{position}]", optional=False)
        delta = mapping(choice.get("delta"), f"choices[{position}].delta")
        index = choice.get("index")
        out.append(StreamChunk(
            index=index if isinstance(index, int) else position,
            role=_text(delta.get("role")),
            content=_text(delta.get("content")),
            # xAI and most servers say reasoning_content; some (vLLM, OpenRouter) say reasoning.
            reasoning_content=_text(delta.get("reasoning_content")) or _text(delta.get("reasoning")),
            refusal=_text(delta.get("refusal")),
            tool_calls=tuple(with_arguments_text(_plain(mapping(call, "delta.tool_calls[]", optional=False)))
                             for call in listed(delta.get("tool_calls"), f"choices[{position}].delta.tool_calls")),
            finish_reason=_text(choice.get("finish_reason")),
            logprobs=_plain(choice["logprobs"]) if isinstance(choice.get("logprobs"), Mapping) else None,
            **common,
        ))
    if usage is not None:
        if out:
            out[-1] = evolve(out[-1], usage=usage)
        else:
            out.append(StreamChunk(usage=usage, **common))
    return out


def _fields(obj: Any) -> Mapping[str, Any]:
    """An object's fields as one mapping, read once.

    LiteLLM keeps a delta's fields in pydantic's ``__pydantic_extra__``, where
    every ``getattr`` goes through pydantic's ``__getattr__`` (~1 us a field,
    per chunk); reading the two dicts directly costs a fraction of that.
    """
    if obj is None:
        return {}
    if isinstance(obj, Mapping):
        return obj
    extra = getattr(obj, "__pydantic_extra__", None)
    own = getattr(obj, "__dict__", None) or {}
    return {**own, **extra} if extra else own


def served_model(answer: Any, served: str = "") -> str:
    """The model the upstream says answered.

    On streams LiteLLM overwrites ``chunk.model`` with the requested name and
    keeps the upstream's in ``_hidden_params["provider_response_model"]``,
    except on the final usage chunk: there ``served`` (from earlier chunks) wins.
    """
    private = getattr(answer, "__pydantic_private__", None)
    hidden = private.get("_hidden_params") if isinstance(private, dict) else getattr(answer, "_hidden_params", None)
    if isinstance(hidden, Mapping) and hidden.get("provider_response_model"):
        return str(hidden["provider_response_model"])
    return served or getattr(answer, "model", None) or ""


def to_usage(raw: Any, *, reported: bool = True) -> Usage | None:
    """The upstream's usage figures, or None when there are none or all are zeros (LiteLLM's invention).

    ``reported`` says ``raw`` is what the upstream sent (a non-streamed answer, or the upstream's own
    usage chunk): its ``total_tokens`` is then kept as the total. LiteLLM's rebuilt streaming usage is
    not: its total is prompt + completion (xAI's reasoning lost) and, when the upstream sent no
    reasoning count, it adds one estimated from the reasoning text (``ChunkProcessor.calculate_usage``
    in LiteLLM 1.110.2). Such usage is read with ``reported=False``: no total, no reasoning count.
    """
    if raw is None:
        return None
    details = _field(raw, "completion_tokens_details")
    usage = Usage(
        prompt_tokens=token_count(_field(raw, "prompt_tokens"), "usage.prompt_tokens"),
        completion_tokens=token_count(_field(raw, "completion_tokens"), "usage.completion_tokens"),
        reasoning_tokens=token_count(_field(details, "reasoning_tokens"),
                                     "usage.completion_tokens_details.reasoning_tokens") if reported else 0,
        cached_tokens=token_count(_field(_field(raw, "prompt_tokens_details"), "cached_tokens"),
                                  "usage.prompt_tokens_details.cached_tokens"),
        reported_total=(token_count(_field(raw, "total_tokens"), "usage.total_tokens") or None) if reported else None,
    )
    if not (usage.prompt_tokens or usage.completion_tokens or usage.reasoning_tokens):
        return None
    return usage


def stream_usage(wrapper: Any, final_usage: Any) -> Usage | None:
    """The usage of a finished LiteLLM stream as the upstream sent it.

    LiteLLM's final usage chunk is rebuilt (see ``to_usage``); the upstream's own usage chunk
    stays in the stream wrapper's ``chunks`` (``CustomStreamWrapper.chunks``), the latest one
    holding the totals. Without it, LiteLLM's rebuilt figures are used minus what it invents.
    """
    for chunk in reversed(getattr(wrapper, "chunks", None) or ()):
        raw = _field(chunk, "usage")
        if raw is not None:
            found = to_usage(raw)
            if found is not None:
                return found
    return to_usage(final_usage, reported=False)


def cost_in_usd_ticks(raw: Any) -> int | None:
    """xAI's exact cost, which LiteLLM passes through on non-streamed ``openai/`` answers (as an extra field)."""
    ticks = _field(raw, "cost_in_usd_ticks")
    if isinstance(ticks, bool) or not isinstance(ticks, (int, float)):
        return None
    return int(ticks)


def _field(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _dump(call: Any) -> dict[str, Any]:
    """A tool call (or tool-call delta) as a plain dict, without LiteLLM's None-valued padding."""
    if isinstance(call, Mapping):
        raw = dict(call)
    elif hasattr(call, "model_dump"):
        # LiteLLM keeps an upstream's object arguments in a str field; pydantic's warning about it is noise here.
        raw = call.model_dump(warnings=False)
    else:
        raw = dict(vars(call))
    return with_arguments_text({k: _plain(v) for k, v in raw.items() if v is not None})
