"""OtelTelemetry: the Telemetry port's events as OpenTelemetry span events on the request's span.

The request's span is the *current* span when the core reports: the proxy's
SERVER span (every event of a proxy request is reported from its handler's task),
or the span a host made current around its ``core.complete`` / ``core.stream``
call. Without a recording current span (no tracer provider, or a library call
outside any span) the events go nowhere; the attempts' CLIENT spans
(``otel_completion``) are recorded either way. A stream found abandoned by the
garbage collector is reported wherever the collector ran: on whatever span is
current then, possibly none.

Events (attribute names in ``otel_semconv``):

- ``llmcore.param_adjusted``: a param dropped, renamed or transformed (``llmcore.param``,
  ``llmcore.action``, ``llmcore.reason``);
- ``llmcore.retry``: an attempt failed and another follows (``llmcore.attempt``,
  ``llmcore.wait_s``, ``error.type``); ``llmcore.upstream_failed``, ``llmcore.fallback``,
  ``llmcore.deployment_cooldown``, ``llmcore.model_mismatch``;
- ``llmcore.stream.incomplete``: a stream ended early (``llmcore.reason``: ``connection_lost``,
  ``no_finish_reason``, ``no_events``, ...);
- ``llmcore.request.end``: the request's one ending (``llmcore.outcome``: ``ok``,
  ``incomplete``, ``cancelled``, ``abandoned`` or the error class, ``domain.outcomes``;
  ``llmcore.stream``; token usage);
- ``llmcore.content``: prompts and answer as ``gen_ai.input.messages`` /
  ``gen_ai.output.messages`` (JSON), only when content logging is on
  (``LLMCORE_LOG_CONTENT=1``), masked like the logs.

No event carries a key or an upstream's error text (it may quote the prompt): errors
appear as their class name. Every event names its alias and request id.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from llmcore.adapters.otel_semconv import (
    ALIAS,
    ERROR_TYPE,
    INPUT_MESSAGES,
    OUTCOME,
    OUTPUT_MESSAGES,
    REQUEST_ID,
    RESPONSE_MODEL,
    STREAM,
    usage_attributes,
)
from llmcore.adapters.otel_tracer import recording_span
from llmcore.domain.chat import ParamAdjustment
from llmcore.domain.errors import UpstreamError
from llmcore.domain.model_spec import ModelSpec
from llmcore.domain.redaction import redact
from llmcore.domain.secret import Secret
from llmcore.domain.usage import Usage


class OtelTelemetry:
    """Implements the Telemetry port as span events; never raises, never blocks (events are buffered by the SDK).

    ``secrets`` (the configured keys) are masked out of the content event; nothing else
    an event carries is free text from outside.
    """

    def __init__(self, secrets: Iterable[Secret | str] = ()) -> None:
        self._secrets = list(secrets)

    def _event(self, name: str, spec: ModelSpec, request_id: str | None, **attributes: Any) -> None:
        span = recording_span()
        if span is None:
            return
        attributes[ALIAS] = spec.alias
        if request_id:
            attributes[REQUEST_ID] = request_id
        try:
            span.add_event(name, {k: v for k, v in attributes.items() if v is not None})
        except Exception:  # noqa: BLE001 - the port's rule: telemetry never raises into a request
            pass

    def param_adjusted(self, spec: ModelSpec, adjustment: ParamAdjustment, request_id: str | None) -> None:
        self._event("llmcore.param_adjusted", spec, request_id, **{
            "llmcore.param": adjustment.param, "llmcore.action": adjustment.action,
            "llmcore.reason": adjustment.reason, "llmcore.new_name": adjustment.new_name})

    def retrying(
        self, spec: ModelSpec, attempt: int, wait: float, error: UpstreamError, request_id: str | None
    ) -> None:
        self._event("llmcore.retry", spec, request_id, **{
            "llmcore.attempt": attempt, "llmcore.wait_s": float(wait), ERROR_TYPE: type(error).__name__})

    def upstream_failed(self, spec: ModelSpec, error: UpstreamError, request_id: str | None) -> None:
        self._event("llmcore.upstream_failed", spec, request_id, **{ERROR_TYPE: type(error).__name__})

    def stream_incomplete(self, spec: ModelSpec, reason: str, detail: str, request_id: str | None) -> None:
        # ``detail`` is left out: for a broken stream it is the upstream error's text.
        self._event("llmcore.stream.incomplete", spec, request_id, **{"llmcore.reason": reason})

    def model_mismatch(self, spec: ModelSpec, served_by: str, request_id: str | None) -> None:
        self._event("llmcore.model_mismatch", spec, request_id, **{RESPONSE_MODEL: served_by})

    def fallback_used(self, spec: ModelSpec, fallback: str, error: UpstreamError, request_id: str | None) -> None:
        self._event("llmcore.fallback", spec, request_id, **{
            "llmcore.fallback_alias": fallback, ERROR_TYPE: type(error).__name__})

    def deployment_cooled_down(
        self, spec: ModelSpec, seconds: float, error: UpstreamError, request_id: str | None
    ) -> None:
        self._event("llmcore.deployment_cooldown", spec, request_id, **{
            "llmcore.deployment_id": spec.deployment.id, "llmcore.cooldown_s": float(seconds),
            ERROR_TYPE: type(error).__name__})

    def content_exchanged(
        self, spec: ModelSpec, messages: list[dict[str, Any]], content: str | None, reasoning: str | None,
        request_id: str | None,
    ) -> None:
        output = [{"role": "assistant", "content": content, "reasoning_content": reasoning}]
        self._event("llmcore.content", spec, request_id, **{
            INPUT_MESSAGES: redact(json.dumps(messages, default=str), self._secrets),
            OUTPUT_MESSAGES: redact(json.dumps(output), self._secrets)})

    def config_warning(self, message: str) -> None:
        """Not a span event: a config warning belongs to no request (the logs carry it)."""

    def request_finished(
        self, spec: ModelSpec, *, outcome: str, seconds: float, usage: Usage | None, stream: bool,
        request_id: str | None,
    ) -> None:
        self._event("llmcore.request.end", spec, request_id, **{
            OUTCOME: outcome, STREAM: stream, "llmcore.duration_s": float(seconds), **usage_attributes(usage)})
