"""ChatCompletion: one request from alias to normalised answer, sync and async.

The alias's router picks the deployment (``domain.router``); a retry moves to
another deployment through ``ChatRequest.reroute``; once the alias has spent
its retries on a transient error or a rate limit, its fallback aliases are
tried in order, each with its own policy and param rules, and the answer
names the alias that served it (``ChatResponse.served_alias``, a warning, the
``fallback_used`` telemetry event).
"""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from attrs import evolve, frozen

from llmcore.domain.chat import ChatRequest, ChatResponse, InvalidMessageError, Message, ParamAdjustment
from llmcore.domain.errors import LLMCoreError, ModelUnavailableError, UnknownModelError, UpstreamError
from llmcore.domain.model_spec import ModelSpec
from llmcore.domain.outcomes import OK, outcome_of
from llmcore.domain.param_policy import ParamPolicy
from llmcore.domain.registry import ModelRegistry
from llmcore.domain.router import Router
from llmcore.domain.usage import Usage
from llmcore.ports.completion import AsyncCompletionPort, CompletionPort
from llmcore.ports.telemetry import Telemetry

Port = TypeVar("Port")


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
        router: Router | None = None,
    ) -> None:
        self._registry = registry
        self._router = router or Router(registry, telemetry=telemetry)
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
    def router(self) -> Router:
        return self._router

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
        """Pick a deployment of ``alias`` and fit the request to it; raises before anything is sent."""
        started = self._clock()
        spec = self._router.pick(alias)
        if not messages:
            raise InvalidMessageError("messages must hold at least one message")
        parsed = [Message.from_dict(m, i) for i, m in enumerate(messages)]
        result = self._policy.apply(spec, params, parsed)
        for adjustment in result.adjustments:
            self._telemetry.param_adjusted(spec, adjustment, request_id)
        reroute = _Reroute(self._router, self._policy, alias, parsed, params, request_id)
        request = ChatRequest(spec=spec, messages=result.messages, params=result.params, request_id=request_id,
                              reroute=reroute)
        return PreparedRequest(spec=spec, request=request, adjustments=result.adjustments, started=started)

    def chain(self, alias: str) -> tuple[str, ...]:
        """``alias`` and then its fallbacks, in the order they are tried."""
        return (alias, *self._router.fallbacks(alias))

    def complete(
        self, alias: str, messages: Sequence[Mapping[str, Any] | Message], params: Mapping[str, Any],
        request_id: str | None = None,
    ) -> ChatResponse:
        port = self._require(self._port, "complete")
        failure: UpstreamError | None = None
        tried: PreparedRequest | None = None
        for name in self.chain(alias):
            prepared = self.prepare_in_chain(name, alias, messages, params, request_id)
            if prepared is None:
                continue
            tried = prepared
            try:
                return self._finish(prepared, port.complete(prepared.request), alias, failure)
            except LLMCoreError as exc:
                failure = self._fall_back_from(prepared, exc, name, alias)
            except BaseException as exc:  # cancelled, or a bug in an adapter or in llmcore: still counted once
                self._ended(prepared, exc)
                raise
        return self._unserved(tried, failure)

    async def acomplete(
        self, alias: str, messages: Sequence[Mapping[str, Any] | Message], params: Mapping[str, Any],
        request_id: str | None = None,
    ) -> ChatResponse:
        port = self._require(self._async_port, "acomplete")
        failure: UpstreamError | None = None
        tried: PreparedRequest | None = None
        for name in self.chain(alias):
            prepared = self.prepare_in_chain(name, alias, messages, params, request_id)
            if prepared is None:
                continue
            tried = prepared
            try:
                return self._finish(prepared, await port.acomplete(prepared.request), alias, failure)
            except LLMCoreError as exc:
                failure = self._fall_back_from(prepared, exc, name, alias)
            except BaseException as exc:  # asyncio cancellation (a client that went away) included
                self._ended(prepared, exc)
                raise
        return self._unserved(tried, failure)

    def prepare_in_chain(
        self, name: str, alias: str, messages: Sequence[Mapping[str, Any] | Message], params: Mapping[str, Any],
        request_id: str | None,
    ) -> PreparedRequest | None:
        """The prepared request for ``name``; for a fallback that cannot serve, None (the next one is tried)."""
        if name == alias:
            return self.prepare(name, messages, params, request_id)
        try:
            return self.prepare(name, messages, params, request_id)
        except (UnknownModelError, ModelUnavailableError):
            return None  # named at load (router.routing_warnings) or reported by the registry
        except LLMCoreError:
            return None  # the fallback refuses this request (a param it does not take, drop_params off)

    def _fall_back_from(self, prepared: PreparedRequest, exc: LLMCoreError, name: str, alias: str) -> UpstreamError:
        """The error to fall back from, or ``exc`` raised when no fallback applies (Decision 13).

        Counting is per client request (``domain.outcomes``): an alias handing the request on reports
        only its upstream failure; ``request_finished`` comes from the alias that ends the request.
        """
        if not falls_back(exc) or name == self.chain(alias)[-1]:
            self._ended(prepared, exc)
            raise exc
        assert isinstance(exc, UpstreamError)
        self._telemetry.upstream_failed(prepared.spec, exc, prepared.request.request_id)
        return exc

    def _unserved(self, tried: PreparedRequest | None, failure: UpstreamError | None) -> ChatResponse:
        """Every fallback left after ``failure`` was unservable: the request ends with ``failure``."""
        # The chain is never empty and its first name either returns or fails, so both are set here.
        assert tried is not None and failure is not None
        self._report(tried, outcome_of(failure))
        raise failure

    def _finish(
        self, prepared: PreparedRequest, response: ChatResponse, requested: str, failure: UpstreamError | None,
    ) -> ChatResponse:
        spec = prepared.spec
        usage = response.usage.under(spec.usage_convention).priced(spec.prices, response.cost_in_usd_ticks)
        warnings = list(response.warnings)
        if spec.alias != requested and failure is not None:
            warnings.append(self.fallback_used(requested, spec.alias, failure, prepared.request.request_id))
        mismatch = served_by_warning(spec, response.model)
        if mismatch:
            warnings.append(mismatch)
            self._telemetry.model_mismatch(spec, response.model, prepared.request.request_id)
        answer = evolve(
            response, usage=usage, adjustments=prepared.adjustments, warnings=tuple(warnings),
            request_id=prepared.request.request_id, served_alias=spec.alias,
        )
        # Reported last: anything above that raises is counted by the caller's handler instead, once.
        self._report(prepared, OK, usage)
        if self._log_content:
            self._telemetry.content_exchanged(
                spec, prepared.request.messages_as_dicts(), response.content, response.reasoning_content,
                prepared.request.request_id,
            )
        return answer

    def fallback_used(self, requested: str, fallback: str, failure: UpstreamError, request_id: str | None) -> str:
        """Report that ``fallback`` served a request for ``requested``; returns the warning for the caller."""
        self._telemetry.fallback_used(self._registry.spec(requested), fallback, failure, request_id)
        return (f"{requested}: served by fallback {fallback} after {type(failure).__name__} on {requested} "
                "(its retries were spent)")

    def _ended(self, prepared: PreparedRequest, exc: BaseException) -> None:
        """``exc`` ends the request: its upstream failure (if one) and its one ``request_finished``."""
        if isinstance(exc, UpstreamError):
            self._telemetry.upstream_failed(prepared.spec, exc, prepared.request.request_id)
        self._report(prepared, outcome_of(exc))

    def _report(self, prepared: PreparedRequest, outcome: str, usage: Usage | None = None) -> None:
        self._telemetry.request_finished(
            prepared.spec, outcome=outcome, seconds=self._clock() - prepared.started, usage=usage, stream=False,
            request_id=prepared.request.request_id,
        )

    @staticmethod
    def _require(port: Port | None, method: str) -> Port:
        if port is None:
            raise LLMCoreError(f"no completion adapter is configured for {method}(); build the core with bootstrap")
        return port

    def stream_port(self) -> CompletionPort:
        return self._require(self._port, "stream")

    def async_stream_port(self) -> AsyncCompletionPort:
        return self._require(self._async_port, "astream")


class _Reroute:
    """``ChatRequest.reroute`` for one request: after a failed attempt, count it for the deployment's cooldown;
    a transient failure moves the next attempt to another deployment when there is one, refitted to that
    deployment's param rules. (A small object, not a closure: a closure naming itself would make every
    request a reference cycle for the garbage collector.)"""

    def __init__(self, router: Router, policy: ParamPolicy, alias: str, messages: list[Message],
                 params: Mapping[str, Any], request_id: str | None) -> None:
        self._router = router
        self._policy = policy
        self._alias = alias
        self._messages = messages
        self._params = params
        self._request_id = request_id
        self._tried: set[str] = set()

    def __call__(self, current: ChatRequest, error: Exception) -> ChatRequest:
        if isinstance(error, UpstreamError):
            self._router.failed(current.spec, error, self._request_id)
        self._tried.add(current.spec.deployment.id)
        if not (isinstance(error, UpstreamError) and error.retryable):
            return current
        following = self._router.pick(self._alias, exclude=self._tried)
        if following.deployment.id == current.spec.deployment.id:
            return current
        try:
            fitted = self._policy.apply(following, self._params, self._messages)
        except LLMCoreError:
            return current  # that deployment refuses a param this request needs (drop_params off)
        return ChatRequest(spec=following, messages=fitted.messages, params=fitted.params,
                           request_id=self._request_id, reroute=self)


def falls_back(error: Exception) -> bool:
    """Whether an alias's final error hands the request to its fallbacks: a transient error or a rate limit."""
    return isinstance(error, UpstreamError) and error.retryable
