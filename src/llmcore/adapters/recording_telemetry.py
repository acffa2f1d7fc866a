"""Telemetry fakes: one that records every event for assertions, one that discards them."""
from __future__ import annotations

import threading
from typing import Any

from attrs import frozen

from llmcore.domain.chat import ParamAdjustment
from llmcore.domain.errors import UpstreamError
from llmcore.domain.model_spec import ModelSpec
from llmcore.domain.usage import Usage
from llmcore.ports.telemetry import Telemetry


@frozen
class Event:
    """One recorded telemetry call: its name, the model alias and its details."""

    name: str
    model: str
    details: dict[str, Any]


class RecordingTelemetry:
    """Records events in order; ``named(name)`` filters them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.events: list[Event] = []
        # Apart from ``events``: a config warning belongs to no model and comes before any request.
        self.config_warnings: list[str] = []

    def _add(self, name: str, spec: ModelSpec, **details: Any) -> None:
        with self._lock:
            self.events.append(Event(name, spec.alias, details))

    def named(self, name: str) -> list[Event]:
        with self._lock:
            return [e for e in self.events if e.name == name]

    def param_adjusted(self, spec: ModelSpec, adjustment: ParamAdjustment, request_id: str | None) -> None:
        self._add("param_adjusted", spec, adjustment=adjustment, request_id=request_id)

    def retrying(
        self, spec: ModelSpec, attempt: int, wait: float, error: UpstreamError, request_id: str | None
    ) -> None:
        self._add("retrying", spec, attempt=attempt, wait=wait, error=error, request_id=request_id)

    def upstream_failed(self, spec: ModelSpec, error: UpstreamError, request_id: str | None) -> None:
        self._add("upstream_failed", spec, error=error, request_id=request_id)

    def stream_incomplete(self, spec: ModelSpec, reason: str, detail: str, request_id: str | None) -> None:
        self._add("stream_incomplete", spec, reason=reason, detail=detail, request_id=request_id)

    def model_mismatch(self, spec: ModelSpec, served_by: str, request_id: str | None) -> None:
        self._add("model_mismatch", spec, served_by=served_by, request_id=request_id)

    def fallback_used(self, spec: ModelSpec, fallback: str, error: UpstreamError, request_id: str | None) -> None:
        self._add("fallback_used", spec, fallback=fallback, error=error, request_id=request_id)

    def deployment_cooled_down(
        self, spec: ModelSpec, seconds: float, error: UpstreamError, request_id: str | None
    ) -> None:
        self._add("deployment_cooled_down", spec, deployment=spec.deployment.id, seconds=seconds, error=error,
                  request_id=request_id)

    def content_exchanged(self, spec: ModelSpec, messages: list[dict[str, Any]], content: str | None,
                          reasoning: str | None, request_id: str | None) -> None:
        self._add("content_exchanged", spec, messages=messages, content=content, reasoning=reasoning,
                  request_id=request_id)

    def request_finished(
        self, spec: ModelSpec, *, outcome: str, seconds: float, usage: Usage | None, stream: bool,
        request_id: str | None,
    ) -> None:
        self._add("request_finished", spec, outcome=outcome, seconds=seconds, usage=usage, stream=stream,
                  request_id=request_id)

    def config_warning(self, message: str) -> None:
        with self._lock:
            self.config_warnings.append(message)


class NullTelemetry:
    """Discards every event (the library default: a host application opts in to logs and metrics)."""

    def param_adjusted(self, *args: Any, **kwargs: Any) -> None:
        pass

    def retrying(self, *args: Any, **kwargs: Any) -> None:
        pass

    def upstream_failed(self, *args: Any, **kwargs: Any) -> None:
        pass

    def stream_incomplete(self, *args: Any, **kwargs: Any) -> None:
        pass

    def model_mismatch(self, *args: Any, **kwargs: Any) -> None:
        pass

    def request_finished(self, *args: Any, **kwargs: Any) -> None:
        pass

    def fallback_used(self, *args: Any, **kwargs: Any) -> None:
        pass

    def deployment_cooled_down(self, *args: Any, **kwargs: Any) -> None:
        pass

    def content_exchanged(self, *args: Any, **kwargs: Any) -> None:
        pass

    def config_warning(self, message: str) -> None:
        pass


class FanoutTelemetry:
    """Sends every event to several telemetry adapters (logs and metrics)."""

    def __init__(self, *targets: Telemetry) -> None:
        self._targets = targets

    def __getattr__(self, name: str) -> Any:
        methods = [getattr(t, name) for t in self._targets]

        def fan_out(*args: Any, **kwargs: Any) -> None:
            for method in methods:
                method(*args, **kwargs)
        # Built once per event name: __getattr__ is only reached when the attribute is missing.
        setattr(self, name, fan_out)
        return fan_out
