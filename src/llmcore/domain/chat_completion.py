"""ChatCompletion: one request from alias to normalised answer, sync and async."""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from attrs import evolve, frozen

from llmcore.domain.chat import ChatRequest, ChatResponse, InvalidMessageError, Message, ParamAdjustment
from llmcore.domain.errors import LLMCoreError, UpstreamError
from llmcore.domain.model_spec import ModelSpec
from llmcore.domain.param_policy import ParamPolicy
from llmcore.domain.registry import ModelRegistry
from llmcore.ports.completion import AsyncCompletionPort, CompletionPort
from llmcore.ports.telemetry import Telemetry


@frozen(kw_only=True)
class PreparedRequest:
    """A request that passed resolution and the param policy, ready for a port."""

    spec: ModelSpec
    request: ChatRequest
    adjustments: tuple[ParamAdjustment, ...]
    started: float


def served_by_warning(spec: ModelSpec, served: str) -> str | None:
    """A warning when the upstream says another model answered (xAI serves retired models with grok-4.3)."""
    if not served:
        return None
    bare = served.split("/", 1)[1] if served.startswith(f"{spec.route}/") else served
    if bare == spec.upstream_model:
        return None
    expected = " (as its lifecycle says)" if bare == spec.lifecycle.served_by else ""
    return (
        f"{spec.alias}: asked for {spec.upstream_model}, the upstream answered as {bare}{expected}; "
        "behaviour and price follow the serving model"
    )


class ChatCompletion:
    """Resolves the model, applies the param policy, calls the port, normalises usage, reports telemetry."""

    def __init__(
        self,
        registry: ModelRegistry,
        telemetry: Telemetry,
        port: CompletionPort | None = None,
        async_port: AsyncCompletionPort | None = None,
        policy: ParamPolicy | None = None,
        clock: Callable[[], float] = time.perf_counter,
        log_content: bool = False,
    ) -> None:
        self._registry = registry
        self._telemetry = telemetry
        self._port = port
        self._async_port = async_port
        self._policy = policy or ParamPolicy()
        self._clock = clock
        self._log_content = log_content

    @property
    def telemetry(self) -> Telemetry:
        return self._telemetry

    @property
    def clock(self) -> Callable[[], float]:
        return self._clock

    @property
    def log_content(self) -> bool:
        """Whether prompts and answers go to telemetry (off unless the operator asked)."""
        return self._log_content

    def prepare(
        self,
        alias: str,
        messages: Sequence[Mapping[str, Any] | Message],
        params: Mapping[str, Any],
        request_id: str | None = None,
    ) -> PreparedRequest:
        """Resolve ``alias`` and fit the request to it; raises before anything is sent."""
        started = self._clock()
        spec = self._registry.resolve(alias)
        if not messages:
            raise InvalidMessageError("messages must hold at least one message")
        parsed = [Message.from_dict(m, i) for i, m in enumerate(messages)]
        result = self._policy.apply(spec, params, parsed)
        for adjustment in result.adjustments:
            self._telemetry.param_adjusted(spec, adjustment, request_id)
        request = ChatRequest(spec=spec, messages=result.messages, params=result.params, request_id=request_id)
        return PreparedRequest(spec=spec, request=request, adjustments=result.adjustments, started=started)

    def complete(
        self, alias: str, messages: Sequence[Mapping[str, Any] | Message], params: Mapping[str, Any],
        request_id: str | None = None,
    ) -> ChatResponse:
        prepared = self.prepare(alias, messages, params, request_id)
        port = self._require(self._port, "complete")
        try:
            response = port.complete(prepared.request)
        except LLMCoreError as exc:
            self._failed(prepared, exc)
            raise
        return self._finish(prepared, response)

    async def acomplete(
        self, alias: str, messages: Sequence[Mapping[str, Any] | Message], params: Mapping[str, Any],
        request_id: str | None = None,
    ) -> ChatResponse:
        prepared = self.prepare(alias, messages, params, request_id)
        port = self._require(self._async_port, "acomplete")
        try:
            response = await port.acomplete(prepared.request)
        except LLMCoreError as exc:
            self._failed(prepared, exc)
            raise
        return self._finish(prepared, response)

    def _finish(self, prepared: PreparedRequest, response: ChatResponse) -> ChatResponse:
        spec = prepared.spec
        usage = response.usage.under(spec.usage_convention).priced(spec.prices, response.cost_in_usd_ticks)
        warnings = list(response.warnings)
        mismatch = served_by_warning(spec, response.model)
        if mismatch:
            warnings.append(mismatch)
            self._telemetry.model_mismatch(spec, response.model, prepared.request.request_id)
        self._telemetry.request_finished(
            spec, outcome="ok", seconds=self._clock() - prepared.started, usage=usage, stream=False,
            request_id=prepared.request.request_id,
        )
        if self._log_content:
            self._telemetry.content_exchanged(
                spec, prepared.request.messages_as_dicts(), response.content, response.reasoning_content,
                prepared.request.request_id,
            )
        return evolve(
            response, usage=usage, adjustments=prepared.adjustments, warnings=tuple(warnings),
            request_id=prepared.request.request_id,
        )

    def _failed(self, prepared: PreparedRequest, exc: LLMCoreError) -> None:
        if isinstance(exc, UpstreamError):
            self._telemetry.upstream_failed(prepared.spec, exc, prepared.request.request_id)
        self._telemetry.request_finished(
            prepared.spec, outcome=type(exc).__name__, seconds=self._clock() - prepared.started, usage=None,
            stream=False, request_id=prepared.request.request_id,
        )

    @staticmethod
    def _require(port: Any, method: str) -> Any:
        if port is None:
            raise LLMCoreError(f"no completion adapter is configured for {method}(); build the core with bootstrap")
        return port

    def stream_port(self) -> CompletionPort:
        return self._require(self._port, "stream")

    def async_stream_port(self) -> AsyncCompletionPort:
        return self._require(self._async_port, "astream")
