"""Telemetry as Prometheus metrics, in a registry of this adapter's own.

Never the global default registry: two Cores in one process (two services,
two tests) would otherwise collide on metric names or mix their counts. The
proxy serves ``render()`` at ``GET /metrics``.

Metric names are a contract (docs/operations.md lists them); ``model`` is
the configured alias, so the label set stays as small as the config. Every
label value is masked like a log line, since a label must never carry a key.

Several processes (``llmcore proxy --workers N``): prometheus_client's
multiprocess mode. It is chosen by ``PROMETHEUS_MULTIPROC_DIR`` being set when
prometheus_client is first imported (``prometheus_client.values``); then every
value lives in an mmap file of that directory per process and ``render()``
serves the aggregate of all of them (``MultiProcessCollector``): counters and
histograms sum over the processes, dead ones included (totals never go back);
the one gauge, ``llmcore_model_available``, is ``livemostrecent``: the latest
value any live process set (each worker's health probe observes the same
upstream, so the newest observation is the best one). The proxy's entrypoint
creates and cleans the directory and marks exited workers dead
(``entrypoints/proxy_workers``).
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import values as prometheus_values
from prometheus_client.multiprocess import MultiProcessCollector

from llmcore.adapters.loguru_telemetry import never_raises
from llmcore.adapters.param_labels import param_label
from llmcore.adapters.request_api import current_api
from llmcore.domain.chat import ParamAdjustment
from llmcore.domain.errors import UpstreamError
from llmcore.domain.model_spec import ModelSpec
from llmcore.domain.redaction import redact
from llmcore.domain.secret import Secret
from llmcore.domain.usage import Usage

# An LLM call takes from tens of milliseconds (an error, a cached answer) to
# minutes (a long reasoning stream), so the buckets span both.
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600)
# What the proxy adds on top of the upstream call: sub-millisecond when healthy.
OVERHEAD_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05)

# Long enough for any model id or class name; short enough that a stray
# upstream string cannot bloat every scrape.
_LABEL_LIMIT = 120
# Label values come from a small set (aliases, params, class names); the caches stop growing past this.
_CHILD_CACHE_LIMIT = 10_000

TOKEN_KINDS = ("prompt", "completion", "reasoning", "cached")
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> str | None:
    """The directory of prometheus_client's multiprocess mode when this process is in it, else None.

    In it means both: the variable is set (prometheus_client also reads the lower-case
    ``prometheus_multiproc_dir``) and prometheus_client chose its file-backed values at import,
    which it does only when the variable was set before that import.
    """
    path = os.environ.get(MULTIPROCESS_ENV) or os.environ.get(MULTIPROCESS_ENV.lower())
    if not path or prometheus_values.ValueClass is prometheus_values.MutexValue:
        return None
    return path


class PrometheusTelemetry:
    """The Telemetry port as Prometheus counters, histograms and gauges; ``render()`` is the scrape body."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, registry: CollectorRegistry | None = None, *,
                 secrets: Iterable[Secret | str | None] = ()) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self._secrets: tuple[Secret | str, ...] = tuple(s for s in secrets if s)
        self._masked: dict[str, str] = {}
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}
        r = self.registry
        self.requests_total = Counter(
            "llmcore_requests_total", "Requests by model, outcome (ok, incomplete, cancelled, abandoned or "
            "the error class), whether they streamed and the wire API they came in through (chat_completions, "
            "messages, responses); one per client request.",
            ["model", "outcome", "stream", "api"], registry=r)
        self.request_duration_seconds = Histogram(
            "llmcore_request_duration_seconds", "Time from request to the last byte, upstream included, by "
            "wire API.", ["model", "stream", "api"], buckets=DURATION_BUCKETS, registry=r)
        self.retries_total = Counter(
            "llmcore_retries_total", "Retries after a transient upstream error, by error class.",
            ["model", "error"], registry=r)
        self.upstream_errors_total = Counter(
            "llmcore_upstream_errors_total", "Requests that failed upstream after any retries, by HTTP status "
            "(none when there was no response) and error class.", ["model", "status", "error"], registry=r)
        self.param_adjustments_total = Counter(
            "llmcore_param_adjustments_total", "Request params dropped, renamed or transformed for the model.",
            ["model", "param", "action"], registry=r)
        self.stream_incomplete_total = Counter(
            "llmcore_stream_incomplete_total", "Streams that broke or ended without a finish reason.",
            ["model", "reason"], registry=r)
        self.model_mismatch_total = Counter(
            "llmcore_model_mismatch_total", "Responses served by another model than the one configured.",
            ["model", "served_by"], registry=r)
        self.fallbacks_total = Counter(
            "llmcore_fallbacks_total", "Requests served by a fallback alias once the requested alias's retries "
            "were spent, by requested alias and fallback.", ["alias", "fallback"], registry=r)
        self.cooldowns_total = Counter(
            "llmcore_deployment_cooldowns_total", "Deployments put into cooldown after more than allowed_fails "
            "failures in a minute, by alias and deployment id.", ["model", "deployment"], registry=r)
        self.tokens_total = Counter(
            "llmcore_tokens_total", "Tokens by kind: prompt, completion (without reasoning, whatever the "
            "provider's convention), reasoning, cached; prompt + completion + reasoning is the upstream's total.",
            ["model", "kind"], registry=r)
        self.cost_usd_total = Counter(
            "llmcore_cost_usd_total", "Cost in USD, by source: upstream (the provider's figure) or prices "
            "(computed from the configured prices).", ["model", "source"], registry=r)
        # Several workers: the latest value any live worker set (see the module docstring).
        self.availability = Gauge(
            "llmcore_model_available", "1 when the model can serve, 0 when it is configured but unavailable.",
            ["model"], registry=r, multiprocess_mode="livemostrecent")
        self.overhead_seconds = Histogram(
            "llmcore_overhead_seconds", "Time the proxy spends on a request outside the upstream call.",
            ["route"], buckets=OVERHEAD_BUCKETS, registry=r)

    @property
    def secrets(self) -> tuple[Secret | str, ...]:
        return self._secrets

    def add_secrets(self, secrets: Iterable[Secret | str | None]) -> None:
        """Mask these in label values too from now on (e.g. the proxy's master key)."""
        self._secrets = self._secrets + tuple(s for s in secrets if s)
        self._masked.clear()

    def _label(self, value: object) -> str:
        text = "none" if value is None else str(value)
        masked = self._masked.get(text)
        if masked is None:
            masked = redact(text, self._secrets)[:_LABEL_LIMIT]
            if len(self._masked) < _CHILD_CACHE_LIMIT:
                self._masked[text] = masked
        return masked

    def _child(self, metric: Any, *labels: str) -> Any:
        """``metric.labels(*labels)``, remembered: label lookups and masking cost more than the count itself."""
        key = (id(metric), labels)
        child = self._children.get(key)
        if child is None:
            child = metric.labels(*labels)
            if len(self._children) < _CHILD_CACHE_LIMIT:
                self._children[key] = child
        return child

    def _model(self, spec: ModelSpec) -> str:
        return self._label(spec.alias)

    @never_raises
    def param_adjusted(self, spec: ModelSpec, adjustment: ParamAdjustment, request_id: str | None) -> None:
        # A bounded label (adapters.param_labels): clients name fields and tools; the log line keeps the name.
        self._child(self.param_adjustments_total, self._model(spec), self._label(param_label(spec, adjustment.param)),
                    self._label(adjustment.action)).inc()

    @never_raises
    def retrying(
        self, spec: ModelSpec, attempt: int, wait: float, error: UpstreamError, request_id: str | None
    ) -> None:
        self._child(self.retries_total, self._model(spec), self._label(type(error).__name__)).inc()

    @never_raises
    def upstream_failed(self, spec: ModelSpec, error: UpstreamError, request_id: str | None) -> None:
        status = self._label(getattr(error, "status_code", None))
        self._child(self.upstream_errors_total, self._model(spec), status, self._label(type(error).__name__)).inc()

    @never_raises
    def stream_incomplete(self, spec: ModelSpec, reason: str, detail: str, request_id: str | None) -> None:
        self._child(self.stream_incomplete_total, self._model(spec), self._label(reason)).inc()

    @never_raises
    def model_mismatch(self, spec: ModelSpec, served_by: str, request_id: str | None) -> None:
        self._child(self.model_mismatch_total, self._model(spec), self._label(served_by)).inc()

    @never_raises
    def fallback_used(self, spec: ModelSpec, fallback: str, error: UpstreamError, request_id: str | None) -> None:
        self._child(self.fallbacks_total, self._model(spec), self._label(fallback)).inc()

    @never_raises
    def deployment_cooled_down(
        self, spec: ModelSpec, seconds: float, error: UpstreamError, request_id: str | None
    ) -> None:
        self._child(self.cooldowns_total, self._model(spec), self._label(spec.deployment.id)).inc()

    @never_raises
    def request_finished(
        self, spec: ModelSpec, *, outcome: str, seconds: float, usage: Usage | None, stream: bool,
        request_id: str | None,
    ) -> None:
        model = self._model(spec)
        streamed = "true" if stream else "false"
        api = self._label(current_api.get())
        self._child(self.requests_total, model, self._label(outcome), streamed, api).inc()
        self._child(self.request_duration_seconds, model, streamed, api).observe(max(float(seconds), 0.0))
        if usage is None:
            return
        # completion is counted without reasoning whatever the provider's convention, so the kinds add up:
        # prompt + completion + reasoning == the upstream's total for every model.
        counts = (usage.prompt_tokens, usage.text_tokens, usage.reasoning_tokens, usage.cached_tokens)
        for kind, count in zip(TOKEN_KINDS, counts):
            if count > 0:
                self._child(self.tokens_total, model, kind).inc(count)
        if usage.cost_usd is not None and usage.cost_usd > 0:
            self._child(self.cost_usd_total, model, self._label(usage.cost_source)).inc(usage.cost_usd)

    @never_raises
    def model_available(self, alias: str, available: bool) -> None:
        self._child(self.availability, self._label(alias)).set(1 if available else 0)

    @never_raises
    def model_unavailable(self, alias: str, reason: str) -> None:
        self._child(self.availability, self._label(alias)).set(0)

    @never_raises
    def content_exchanged(self, *args: Any, **kwargs: Any) -> None:
        """Content is for logs only; a metric never carries it."""

    @never_raises
    def config_warning(self, message: str) -> None:
        """Nothing to count; present so a FanoutTelemetry over logs and metrics passes warnings on."""

    @never_raises
    def observe_overhead(self, route: str, seconds: float) -> None:
        self._child(self.overhead_seconds, self._label(route)).observe(max(float(seconds), 0.0))

    def render(self) -> bytes:
        """The registry in the Prometheus text format, for ``GET /metrics`` (send with ``content_type``).

        In prometheus_client's multiprocess mode (:func:`multiprocess_dir`), the aggregate of every
        process writing to that directory: which worker answers the scrape does not matter.
        """
        path = multiprocess_dir()
        if path is None:
            return generate_latest(self.registry)
        aggregate = CollectorRegistry()
        MultiProcessCollector(aggregate, path=path)  # type: ignore[no-untyped-call]  # unannotated in prometheus_client
        return generate_latest(aggregate)
