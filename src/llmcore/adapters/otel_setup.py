"""The proxy's own tracer provider, from the standard ``OTEL_*`` environment variables (opt-in).

A library never installs a tracer provider (the host owns it); an application may.
``llmcore proxy`` installs one only when asked: ``OTEL_TRACES_EXPORTER`` names
``otlp`` (OTLP over HTTP, protobuf) or ``console`` (stdout, for a quick look).
Unset, ``none`` or ``OTEL_SDK_DISABLED=true``: no provider, no spans, no cost
beyond one environment read. The specification's default (``otlp`` when unset)
is deliberately not followed: a proxy that starts sending to
``localhost:4318`` because nobody said otherwise would surprise more than help.

Everything else is the SDK's own reading of the standard variables, unchanged:
``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` (default
``http://localhost:4318/v1/traces``), ``OTEL_EXPORTER_OTLP_HEADERS``,
``OTEL_EXPORTER_OTLP_TIMEOUT``, ``OTEL_EXPORTER_OTLP_COMPRESSION``,
``OTEL_SERVICE_NAME`` (llmcore's default: ``llmcore-proxy``),
``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_TRACES_SAMPLER`` / ``_ARG``, ``OTEL_BSP_*``
(batching), ``OTEL_PROPAGATORS`` (what the proxy reads from incoming requests).
Only ``http/protobuf`` is offered as ``OTEL_EXPORTER_OTLP_PROTOCOL``; gRPC would
need another exporter package and its native dependency.

Errors are ``ConfigError`` (exit 2 from the CLI) naming the variable and the fix.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from llmcore.domain.errors import ConfigError

DEFAULT_SERVICE_NAME = "llmcore-proxy"
EXPORTERS = ("otlp", "console")
OTLP_PROTOCOL = "http/protobuf"


def requested_exporters(env: Mapping[str, str]) -> tuple[str, ...]:
    """The trace exporters ``env`` asks for (``otlp``, ``console``); empty when tracing is not asked for.

    Raises ConfigError for an exporter or OTLP protocol llmcore does not offer.
    """
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return ()
    named = [e.strip().lower() for e in env.get("OTEL_TRACES_EXPORTER", "").split(",") if e.strip()]
    wanted = tuple(dict.fromkeys(e for e in named if e != "none"))
    unknown = [e for e in wanted if e not in EXPORTERS]
    if unknown:
        raise ConfigError(
            f"OTEL_TRACES_EXPORTER={env.get('OTEL_TRACES_EXPORTER')!r}: llmcore exports traces with otlp "
            f"(OTLP over HTTP) or console, not {', '.join(unknown)}; set it to otlp, or unset it")
    protocol = (env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
                or OTLP_PROTOCOL).strip()
    if "otlp" in wanted and protocol != OTLP_PROTOCOL:
        raise ConfigError(
            f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r}: llmcore's proxy sends OTLP over HTTP only; set it to "
            f"{OTLP_PROTOCOL} (collectors take it on port 4318)")
    return wanted


def install_tracer_provider(env: Mapping[str, str] | None = None) -> Any | None:
    """Install the SDK's tracer provider as the global one when ``env`` asks for traces; returns it, else None.

    ``env`` (default ``os.environ``) decides whether; the SDK itself reads the rest of
    the ``OTEL_*`` variables from ``os.environ``.

    Idempotent within a process (a second call returns the provider the first one
    installed; so does a call after a host installed its own SDK provider). Raises
    ConfigError when traces are asked for but the ``otel`` extra is not installed.
    """
    env = os.environ if env is None else env
    exporters = requested_exporters(env)
    if not exporters:
        return None
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
    except ImportError as exc:
        raise ConfigError(
            f"OTEL_TRACES_EXPORTER={env.get('OTEL_TRACES_EXPORTER')!r} asks for traces, but the OpenTelemetry SDK "
            f"is not installed ({exc.name} is missing): pip install 'llmcore[otel]', or unset OTEL_TRACES_EXPORTER"
        ) from None
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    named = "service.name=" in env.get("OTEL_RESOURCE_ATTRIBUTES", "") or env.get("OTEL_SERVICE_NAME")
    # Resource.create reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES itself; what it is given here wins
    # over them, so llmcore's default is given only when the operator named no service.
    resource = Resource.create({} if named else {"service.name": DEFAULT_SERVICE_NAME})
    provider = TracerProvider(resource=resource)
    for name in exporters:
        exporter: SpanExporter
        if name == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter()
        else:
            exporter = ConsoleSpanExporter()
        # Batched in a background thread: a request never waits for the collector. The SDK restarts
        # the thread in a forked worker process.
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider
