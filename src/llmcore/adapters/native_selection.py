"""Which completion adapter serves each model (Decision 18), and the port that sends each request to it.

The choice is data on the model: ``model_info.adapter`` (``litellm`` or ``native``) wins, then the
file-wide ``general_settings.llmcore_adapter``, then ``litellm``. ``native`` serves only upstreams
that speak the OpenAI chat-completions wire (the ``openai/`` route with a base URL: xAI and generic
OpenAI-compatible endpoints; and providers LiteLLM itself classes as OpenAI-compatible); for any
other (``anthropic/``, ``bedrock/``, ``vertex_ai/``, ...) the model is unavailable with a reason that
says to use ``litellm``, and the rest of the file keeps serving.

:class:`PerModelCompletion` is the composition root's port: each request goes to the adapter its spec
names; LiteLLM is imported only when a request for a ``litellm`` model arrives (or at warm-up, when
some model uses it), so a file whose models are all ``native`` never imports LiteLLM.
"""
from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from attrs import frozen

from llmcore.adapters.native_convert import HeaderHook
from llmcore.adapters.provider_profiles import OPENAI_COMPATIBLE, profile_named
from llmcore.domain.chat import ChatRequest, ChatResponse, StreamChunk
from llmcore.domain.model_spec import ADAPTERS, AdapterName, ModelSpec
from llmcore.ports.completion import DuplexCompletionPort
from llmcore.ports.resources import PooledResources

GLOBAL_SETTING = "general_settings.llmcore_adapter"
ENTRY_SETTING = "model_info.adapter"


@frozen
class AdapterChoice:
    """The adapter a model entry asked for, where that came from (``models show``), and a problem in the file."""

    adapter: AdapterName
    source: str
    problem: str | None = None


def _unknown(value: str, where: str) -> str:
    return f"{where}: unknown adapter {value!r}; use one of {', '.join(ADAPTERS)}"


def _name(value: str) -> AdapterName:
    return "native" if value == "native" else "litellm"


def file_adapter(value: str | None, problems: list[str]) -> str | None:
    """``general_settings.llmcore_adapter`` when it names an adapter; else None, and a problem if it is set."""
    if value is not None and value not in ADAPTERS:
        problems.append(_unknown(value, GLOBAL_SETTING))
        return None
    return value


def choose_adapter(entry_value: str | None, file_value: str | None, where: str) -> AdapterChoice:
    """``model_info.adapter`` > ``general_settings.llmcore_adapter`` (checked by :func:`file_adapter`) > ``litellm``."""
    if entry_value is not None:
        if entry_value not in ADAPTERS:
            return AdapterChoice("litellm", ENTRY_SETTING, _unknown(entry_value, f"{where}.{ENTRY_SETTING}"))
        return AdapterChoice(_name(entry_value), ENTRY_SETTING)
    if file_value is not None:
        return AdapterChoice(_name(file_value), GLOBAL_SETTING)
    return AdapterChoice("litellm", "default")


def native_refusal(spec: ModelSpec, source: str) -> str | None:
    """Why ``spec`` cannot be served by the native adapter, or None when it can."""
    profile = profile_named(spec.provider) or OPENAI_COMPATIBLE
    fix = f"set {ENTRY_SETTING}: litellm for this model (the default), which serves every provider LiteLLM knows"
    if not (spec.route == "openai" or spec.provider == "openai" or profile.openai_compatible):
        return (f"adapter native (from {source}) speaks only the OpenAI chat-completions wire, and provider "
                f"{spec.provider!r} (route {spec.route or 'bare model name'}) does not; {fix}")
    if spec.base_url and urlsplit(spec.base_url).username is not None:
        return (f"adapter native (from {source}) cannot send a base URL holding user:password: aiohttp will not "
                "send those credentials beside the API key's Authorization header; take them out of the URL, "
                f"or {fix}")
    if not spec.base_url and not spec.credentials.base_url_required:
        # LiteLLM knows such an endpoint itself; llmcore's native adapter is told it (a missing required
        # base URL is reported by the registry already).
        return (f"adapter native (from {source}) needs the endpoint's base URL; add litellm_params.api_base "
                f"(e.g. https://api.openai.com/v1), or {fix}")
    extra = sorted({*spec.provider_params, *spec.secret_params})
    if extra:
        return (f"adapter native (from {source}) sends no LiteLLM call params, and litellm_params sets "
                f"{', '.join(extra)}; remove them, or {fix}")
    return None


class PerModelCompletion:
    """Implements DuplexCompletionPort and PooledResources by sending each request to its spec's adapter.

    ``uses_litellm`` says whether any configured model is served by LiteLLM: only then does
    ``warm_up`` import it. Adapters are built on first use. ``extra_headers`` is the per-request
    header hook (W3C ``traceparent`` from a tracing adapter) handed to the native adapter, which
    sends what it returns on every upstream request.
    """

    def __init__(
        self, *, uses_litellm: bool = True, native: Any = None, litellm: Any = None,
        extra_headers: HeaderHook | None = None,
    ) -> None:
        self._uses_litellm = uses_litellm
        self._native = native
        self._litellm = litellm
        self._extra_headers = extra_headers

    @classmethod
    def for_specs(cls, specs: Iterable[ModelSpec], extra_headers: HeaderHook | None = None) -> PerModelCompletion:
        """The port for these configured models."""
        return cls(uses_litellm=any(spec.adapter == "litellm" for spec in specs), extra_headers=extra_headers)

    def _for(self, spec: ModelSpec) -> DuplexCompletionPort:
        if spec.adapter == "native":
            if self._native is None:
                from llmcore.adapters.native_openai import NativeOpenAICompletion

                self._native = NativeOpenAICompletion(extra_headers=self._extra_headers)
            return self._native  # type: ignore[no-any-return]
        if self._litellm is None:
            from llmcore.adapters.litellm_completion import LiteLLMCompletion  # does not import LiteLLM yet

            self._litellm = LiteLLMCompletion()
        return self._litellm  # type: ignore[no-any-return]

    def warm_up(self) -> None:
        """Import LiteLLM and build its lazy parts now, if some model uses it; native needs no warm-up."""
        if self._uses_litellm:
            self._for(ModelSpec(alias="warm-up", upstream_model="warm-up")).warm_up()  # type: ignore[attr-defined]

    def _pooled(self) -> list[Any]:
        # LiteLLM pools its clients per process, not per adapter: when it is loaded (by this Core or any
        # other), its clients of this loop are released here too, as LiteLLMCompletion.close/aclose did
        # for every Core before adapters were chosen per model. Nothing is imported for that.
        runtime = sys.modules.get("llmcore.adapters.litellm_runtime")
        if self._litellm is None and runtime is not None and runtime.is_loaded():
            self._for(ModelSpec(alias="close", upstream_model="close"))
        return [a for a in (self._native, self._litellm) if isinstance(a, PooledResources)]

    def close(self) -> None:
        """Close the sync clients of every adapter opened, and LiteLLM's when it is loaded."""
        for adapter in self._pooled():
            adapter.close()

    async def aclose(self) -> None:
        """Close every client of the running loop (and the sync ones), LiteLLM's when it is loaded."""
        for adapter in self._pooled():
            await adapter.aclose()

    def complete(self, request: ChatRequest) -> ChatResponse:
        return self._for(request.spec).complete(request)

    async def acomplete(self, request: ChatRequest) -> ChatResponse:
        return await self._for(request.spec).acomplete(request)

    def stream(self, request: ChatRequest) -> Iterator[StreamChunk]:
        return self._for(request.spec).stream(request)

    def astream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        return self._for(request.spec).astream(request)
