"""The host's OpenTelemetry setup, found without importing OpenTelemetry.

llmcore traces through the *global* tracer provider, the one a host (or llmcore's
own proxy, ``otel_setup``) installed with ``trace.set_tracer_provider``. A
process that never imported ``opentelemetry.trace`` has configured no provider,
so the check is one ``sys.modules`` lookup: ``import llmcore`` and every call
stay free of OpenTelemetry when the extra is absent or unused. With the API
imported but no provider set (its ``ProxyTracerProvider``) or a no-op one, there
is nothing to record either, and llmcore makes no spans at all.
"""
from __future__ import annotations

import sys
from typing import Any

from llmcore.adapters.otel_semconv import INSTRUMENTATION_NAME, SEMCONV_VERSION

SCHEMA_URL = f"https://opentelemetry.io/schemas/{SEMCONV_VERSION}"


def _llmcore_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("llmcore")
    except PackageNotFoundError:  # pragma: no cover - a source tree run without installing
        return None


class HostTracer:
    """llmcore's tracer from the global tracer provider, or None while no provider is configured.

    Cached per provider: a host that installs its provider after ``llmcore.load()`` is
    picked up on the next call. Safe to share between threads (the worst race builds
    the same tracer twice).
    """

    def __init__(self) -> None:
        self._provider: Any = None
        self._tracer: Any = None

    def get(self) -> Any | None:
        trace = sys.modules.get("opentelemetry.trace")
        if trace is None:
            return None
        provider = trace.get_tracer_provider()
        if provider is self._provider:
            return self._tracer
        tracer = None
        if not isinstance(provider, (trace.ProxyTracerProvider, trace.NoOpTracerProvider)):
            tracer = provider.get_tracer(INSTRUMENTATION_NAME, _llmcore_version(), schema_url=SCHEMA_URL)
        self._provider, self._tracer = provider, tracer
        return tracer


def recording_span() -> Any | None:
    """The current span when there is one that records (the proxy's SERVER span, a host's span), else None."""
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None:
        return None
    span = trace.get_current_span()
    return span if span.is_recording() else None
