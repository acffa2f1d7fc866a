"""Where the core reports what happened, for logs and metrics."""
from __future__ import annotations

from typing import Any, Protocol

from llmcore.domain.chat import ParamAdjustment
from llmcore.domain.errors import UpstreamError
from llmcore.domain.model_spec import ModelSpec
from llmcore.domain.usage import Usage


class Telemetry(Protocol):
    """Receives events; must never raise and never block for long.

    ``request_finished`` comes exactly once per request, its ``outcome`` one of
    ``domain.outcomes`` (``ok``, ``incomplete``, ``cancelled``, ``abandoned`` or the
    error class name). Implementations mask secrets before anything is emitted.
    These are every event the domain and the composition root report;
    LoguruTelemetry, PrometheusTelemetry, OtelTelemetry, RecordingTelemetry, NullTelemetry
    and FanoutTelemetry implement all of them (tests/unit/test_ports_complete.py checks
    each). What an application reads from one adapter only
    (``PrometheusTelemetry.render``, ``model_available``, ``observe_overhead``;
    ``LoguruTelemetry.secrets``, ``add_secrets``; ``model_unavailable``, reported by
    the application at start-up) stays on that adapter: the core never calls it.
    """

    def param_adjusted(self, spec: ModelSpec, adjustment: ParamAdjustment, request_id: str | None) -> None: ...

    def retrying(
        self, spec: ModelSpec, attempt: int, wait: float, error: UpstreamError, request_id: str | None
    ) -> None: ...

    def upstream_failed(self, spec: ModelSpec, error: UpstreamError, request_id: str | None) -> None: ...

    def stream_incomplete(self, spec: ModelSpec, reason: str, detail: str, request_id: str | None) -> None: ...

    def model_mismatch(self, spec: ModelSpec, served_by: str, request_id: str | None) -> None: ...

    def fallback_used(self, spec: ModelSpec, fallback: str, error: UpstreamError, request_id: str | None) -> None:
        """``spec``'s alias spent its retries on ``error``; the fallback alias ``fallback`` served instead."""

    def deployment_cooled_down(
        self, spec: ModelSpec, seconds: float, error: UpstreamError, request_id: str | None
    ) -> None:
        """The deployment ``spec.deployment.id`` failed more than ``allowed_fails`` times in a minute (the last
        failure is ``error``) and is left out of picks for ``seconds`` (this process only)."""

    def content_exchanged(
        self, spec: ModelSpec, messages: list[dict[str, Any]], content: str | None, reasoning: str | None,
        request_id: str | None,
    ) -> None:
        """Prompts and the answer; called only when content logging was asked for (LLMCORE_LOG_CONTENT=1)."""

    def config_warning(self, message: str) -> None:
        """A configuration problem that does not stop serving (e.g. a key LiteLLM accepts that llmcore does
        not use, a fallback naming an unknown alias); reported once, when the Core is built."""

    def request_finished(
        self,
        spec: ModelSpec,
        *,
        outcome: str,
        seconds: float,
        usage: Usage | None,
        stream: bool,
        request_id: str | None,
    ) -> None: ...
