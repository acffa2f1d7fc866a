"""The proxy's SERVER spans: one per request, continuing the client's W3C trace context (OpenTelemetry, optional).

``add_tracing(app, secrets)`` installs the tracer provider the ``OTEL_*``
environment asks for (``adapters.otel_setup``: opt-in with
``OTEL_TRACES_EXPORTER=otlp``) and, when a tracer provider is configured
(that one, or an embedding host's), a middleware that wraps each request in a
SERVER span named ``{method} {route}`` (``POST /v1/chat/completions``) with
``http.request.method``, ``http.route``, ``url.path``,
``http.response.status_code``, ``llmcore.request_id`` and, for a 5xx or an
exception, ``error.type`` and an ERROR status. The incoming ``traceparent``
(read by the global propagator, ``OTEL_PROPAGATORS``) is its parent, and the
span is current while the handler runs, so the core's events and the
upstream attempts' CLIENT spans land inside it. Health probes and ``/metrics``
are not traced: probes every few seconds would bury the traffic.

Without the ``otel`` extra or any provider, nothing is added and nothing of
OpenTelemetry is imported.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import web

from llmcore.adapters.otel_semconv import ERROR_TYPE, HTTP_METHOD, HTTP_ROUTE, HTTP_STATUS, REQUEST_ID, URL_PATH
from llmcore.adapters.otel_setup import install_tracer_provider
from llmcore.adapters.otel_tracer import HostTracer
from llmcore.domain.redaction import redact
from llmcore.domain.secret import Secret

UNTRACED_PATHS = frozenset({"/health", "/v1/health", "/health/readiness", "/v1/health/readiness", "/metrics"})
FLUSH_TIMEOUT_MS = 5000

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def add_tracing(app: web.Application, secrets: Iterable[Secret | str]) -> bool:
    """Trace ``app``'s requests when a tracer provider is configured (installing the one ``OTEL_*`` asks for).

    Returns whether it does. Raises ConfigError when the environment asks for traces the
    installed packages cannot send (``adapters.otel_setup``).
    """
    provider = install_tracer_provider()
    tracer = HostTracer().get()
    if tracer is None:
        return False
    app.middlewares.append(_server_spans(tracer, tuple(secrets)))
    if provider is not None:
        app.on_cleanup.append(_flush(provider))
    return True


def _flush(provider: Any) -> Callable[[web.Application], Awaitable[None]]:
    # The last requests' spans leave before the process does (the SDK's exit hook would too, later).
    async def flush(app: web.Application) -> None:
        await asyncio.to_thread(provider.force_flush, FLUSH_TIMEOUT_MS)
    return flush


def _route(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else request.path


def _server_spans(tracer: Any, secrets: tuple[Secret | str, ...]) -> Any:
    from opentelemetry import context, propagate, trace

    @web.middleware
    async def server_span(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in UNTRACED_PATHS:
            return await handler(request)
        route = _route(request)
        parent = propagate.extract(request.headers)
        span = tracer.start_span(
            f"{request.method} {route}", context=parent, kind=trace.SpanKind.SERVER,
            # url.path is what the client sent: a key pasted into a path is masked like in the logs.
            attributes={HTTP_METHOD: request.method, HTTP_ROUTE: route, URL_PATH: redact(request.path, secrets)},
        )
        token = context.attach(trace.set_span_in_context(span, parent))
        status: int | None = None
        error_type, request_id = "", None
        try:
            response = await handler(request)
            status, request_id = response.status, response.headers.get("x-request-id")
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        except asyncio.CancelledError:
            error_type = "cancelled"  # the client left; nothing was answered
            raise
        except BaseException as exc:
            status, error_type = 500, type(exc).__name__  # aiohttp answers 500
            raise
        finally:
            context.detach(token)
            _end(span, status, error_type, request_id)

    return server_span


def _end(span: Any, status: int | None, error_type: str, request_id: str | None) -> None:
    from opentelemetry.trace import Status, StatusCode

    if status is not None:
        span.set_attribute(HTTP_STATUS, status)
    if request_id:
        span.set_attribute(REQUEST_ID, request_id)
    # HTTP conventions: a SERVER span is an error for a 5xx (the server's fault), not for a 4xx.
    if error_type or (status is not None and status >= 500):
        error_type = error_type or str(status)
        span.set_attribute(ERROR_TYPE, error_type)
        span.set_status(Status(StatusCode.ERROR, error_type))
    span.end()
