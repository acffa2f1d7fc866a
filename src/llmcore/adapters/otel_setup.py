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

Errors are ``ConfigError`` (exit 2 from the CLI) naming the variable and the fix: an
exporter or protocol llmcore does not offer, an OTLP endpoint that is not an http(s) URL
with a host (checked at start; the SDK would accept it and log an ERROR per batch), a
propagator in ``OTEL_PROPAGATORS`` no installed package provides, and batch settings
(``OTEL_BSP_*``) the SDK refuses with ``ValueError``. No message shows the value of an
``OTEL_EXPORTER_OTLP_*`` variable: headers and endpoints may carry credentials.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any
from urllib.parse import urlsplit

from llmcore.domain.errors import ConfigError

DEFAULT_SERVICE_NAME = "llmcore-proxy"
EXPORTERS = ("otlp", "console")
OTLP_PROTOCOL = "http/protobuf"
# The traces-specific variable wins over the general one (OTLP exporter specification).
ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
# The entry-point group the SDK's opentelemetry.propagate loads OTEL_PROPAGATORS names from.
PROPAGATOR_GROUP = "opentelemetry_propagator"


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
    if "otlp" in wanted:
        check_otlp_endpoint(env)
    return wanted


def check_otlp_endpoint(env: Mapping[str, str]) -> None:
    """Raise ConfigError unless the effective OTLP endpoint variable, when set, is an http(s) URL with a host.

    The value is never shown (it may hold userinfo).
    """
    for name in ENDPOINT_VARIABLES:
        value = env.get(name, "").strip()
        if not value:
            continue
        try:
            parts = urlsplit(value)
            valid = parts.scheme in ("http", "https") and bool(parts.hostname)
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
        except ValueError:
            valid = False
        if not valid:
            raise ConfigError(
                f"{name} is not an http(s) URL with a host; set it to the collector's OTLP/HTTP address "
                f"(e.g. http://otel-collector:4318), or unset it for http://localhost:4318")
        return  # the first set variable is the one the exporter uses


def check_propagators(env: Mapping[str, str]) -> None:
    """Raise ConfigError naming each ``OTEL_PROPAGATORS`` entry no installed package provides.

    Mirrors the SDK's loading (``opentelemetry.propagate``), which raises a bare ValueError
    at import: unset or empty means the default (tracecontext,baggage); ``none`` means none.
    """
    configured = env.get("OTEL_PROPAGATORS", "")
    if not configured:
        return
    names = [name.strip() for name in configured.split(",")]
    if any(name.lower() == "none" for name in names):
        return
    missing = [name for name in names if not entry_points(group=PROPAGATOR_GROUP, name=name)]
    if missing:
        shown = ", ".join(repr(name[:40]) for name in missing)
        raise ConfigError(
            f"OTEL_PROPAGATORS names {shown}, which no installed package provides; use tracecontext, "
            f"baggage (the default when unset), b3 or jaeger with their opentelemetry-propagator package, or none")


def check_tracing_settings(env: Mapping[str, str] | None = None) -> None:
    """The ``OTEL_*`` checks :func:`install_tracer_provider` makes, installing nothing.

    For a process that will not trace itself but starts processes that do (the gunicorn master
    of ``llmcore proxy --workers``): a bad setting stops it before any worker forks, as a
    ConfigError naming the variable, instead of every worker failing to boot.
    """
    env = os.environ if env is None else env
    if requested_exporters(env):
        check_propagators(os.environ)  # read from os.environ by the SDK, as in install_tracer_provider


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
    check_propagators(os.environ)  # the SDK reads them from os.environ when the proxy first extracts
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
        try:
            processor = BatchSpanProcessor(exporter)
        except ValueError as exc:
            raise _batch_settings_refused(exc) from None
        provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    return provider


def _batch_settings_refused(exc: ValueError) -> ConfigError:
    """A ConfigError naming the ``OTEL_BSP_*`` variables set in os.environ (the SDK's source) and its reason."""
    named = sorted(name for name in os.environ if name.startswith("OTEL_BSP_"))
    listed = ", ".join(f"{name}={os.environ[name][:40]!r}" for name in named) or "OTEL_BSP_*"
    return ConfigError(
        f"the OpenTelemetry SDK refused the batch span processor's settings ({str(exc)[:200].rstrip('.')}); "
        f"fix {listed} (sizes are positive integers, the batch size at most the queue size), or unset them")
