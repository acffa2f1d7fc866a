"""The OpenAI-compatible HTTP proxy (aiohttp.web): parse, call the Core, render. Nothing else.

Routes: ``POST /v1/chat/completions``, ``POST /v1/messages`` and
``POST /v1/messages/count_tokens`` (Anthropic's Messages API, see
``proxy_messages``), ``POST /v1/responses`` (OpenAI's Responses API,
stateless, see ``proxy_responses``), ``GET /v1/models``, ``GET /health``
(liveness), ``GET /health/readiness`` (per-model availability, never a paid call
unless the optional probe is on), each also with and without the ``/v1`` prefix;
``GET /metrics``.

Master key: when ``general_settings.master_key`` is set, every route except the
two health routes needs ``Authorization: Bearer <master key>``, ``/metrics``
included (metrics name the models and their traffic; Prometheus sends the key
with ``authorization: {credentials: ...}`` in its scrape config). Readiness
answers everyone, but without the master key only each model's alias and
up/down: the reasons (env var names, secret file paths) need the key. The header is
compared in constant time, never logged and never forwarded: the upstream call
is built by the Core from the model's own key.

Request id: ``x-request-id`` from the client when it is at most 128 characters
of ``[A-Za-z0-9._-]``, else a fresh ``uuid4().hex``; passed to the Core, bound
to every log line of the request, returned on every response.

``x-llmcore-overhead-ms`` (also the overhead histogram): the time the proxy
spent on a chat request outside the Core's call. For a JSON answer, the
handler's time up to the response minus the time awaiting ``core.acomplete``;
for a stream, the time to the first byte minus the time awaiting the first
chunk. The Core's own work (param policy, LiteLLM's request building) sits
inside the awaited call, so it counts as upstream here.

Shutdown: SIGTERM or SIGINT stops accepting and drains (``proxy_drain``): in-flight
requests get ``grace_seconds`` minus 1 s (minus a tenth under 10 s) to finish, or until a second
SIGTERM/SIGINT ends the drain early; still open then,
a stream ends with an SSE error event and ``[DONE]``, a request without an answer yet
gets 503 ``server_shutting_down``; LiteLLM's pooled clients close and ``serve`` returns
whether the drain completed (the CLI's exit code: 0, or 5 when the grace ran out or a second
signal ended it with requests open).
Several worker processes on one port: ``proxy_workers`` (gunicorn).

Access log (``access_log=True``, ``llmcore proxy --access-log``): one INFO line per
request through the ``aiohttp.access`` logger (so masked like every log line) in
:data:`ACCESS_LOG_FORMAT`, naming the request id and the pid of the process that served it.

This module is the application and its lifecycle; the handlers are in
``proxy_handlers``, body parsing in ``proxy_request``, SSE in
``proxy_streaming``, the Messages API in ``proxy_messages``, readiness and the probe in ``proxy_health``, the wire
shapes and the error table in ``openai_wire``.
"""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import suppress

from aiohttp import web
from loguru import logger

from llmcore.adapters.litellm_runtime import own_process
from llmcore.adapters.log_setup import add_secrets
from llmcore.bootstrap import Runtime
from llmcore.domain.errors import ConfigError
from llmcore.domain.secret import Secret
from llmcore.entrypoints.proxy_drain import Drain
from llmcore.entrypoints.proxy_handlers import CHAT_ROUTE, ProxyHandlers
from llmcore.entrypoints.proxy_health import ModelHealth
from llmcore.entrypoints.proxy_messages import COUNT_TOKENS_ROUTE, MESSAGES_ROUTE, MessagesHandlers
from llmcore.entrypoints.proxy_options import DEFAULT_GRACE_SECONDS
from llmcore.entrypoints.proxy_responses import RESPONSES_ROUTE, ResponsesHandlers
from llmcore.entrypoints.proxy_tracing import add_tracing

__all__ = ["ACCESS_LOG_FORMAT", "access_logger", "create_app", "run", "serve"]

# aiohttp's access-log format: client, request line, status, bytes, seconds, the request id the
# proxy answered with and the pid of the process that served it (which worker, with --workers).
ACCESS_LOG_FORMAT = '%a "%r" %s %b %Tf request_id=%{x-request-id}o pid=%P'


def access_logger(enabled: bool) -> logging.Logger | None:
    """aiohttp's access logger when the access log is on (log_setup routes it into the masked sink)."""
    return logging.getLogger("aiohttp.access") if enabled else None


def known_secrets(runtime: Runtime) -> list[Secret | str]:
    """Every model key and the master key: what the runtime's log masking already knows."""
    return list(runtime.logs.secrets)


def refuse_unreadable_master_key(runtime: Runtime) -> None:
    """A master key that is configured but unreadable (its env var unset) must not mean an open proxy."""
    problem = runtime.core.settings.master_key_problem
    if problem:
        raise ConfigError(f"general_settings.master_key: {problem}; the proxy will not start without it")


def create_app(runtime: Runtime, *, secrets: Iterable[Secret | str] | None = None) -> web.Application:
    """The proxy application. Refuses (ConfigError) when the configured master key cannot be read: fail closed."""
    refuse_unreadable_master_key(runtime)
    handlers = ProxyHandlers(runtime, known_secrets(runtime) if secrets is None else secrets)
    # The handler checks Content-Length itself (to answer an OpenAI-shaped 413); aiohttp's limit
    # catches bodies sent without one. aiohttp refuses a body *equal* to its limit, hence the + 1.
    app = web.Application(client_max_size=handlers.max_bytes + 1)
    # OpenTelemetry SERVER spans, when OTEL_TRACES_EXPORTER=otlp or a host configured a provider (proxy_tracing).
    add_tracing(app, known_secrets(runtime) if secrets is None else secrets)
    app.router.add_post(CHAT_ROUTE, handlers.chat_completions)
    app.router.add_post("/chat/completions", handlers.chat_completions)
    # The Anthropic Messages API; Anthropic clients always put /v1 in the path themselves.
    messages = MessagesHandlers(runtime, handlers, known_secrets(runtime) if secrets is None else secrets)
    app.router.add_post(MESSAGES_ROUTE, messages.messages)
    app.router.add_post(COUNT_TOKENS_ROUTE, messages.count_tokens)
    # The OpenAI Responses API, with and without /v1 like every OpenAI-style route.
    responses = ResponsesHandlers(runtime, handlers, known_secrets(runtime) if secrets is None else secrets)
    app.router.add_post(RESPONSES_ROUTE, responses.responses)
    app.router.add_post("/responses", responses.responses)
    # Every OpenAI-style route answers with and without /v1, as OpenAI-compatible servers do
    # (clients differ on whether their base URL ends in /v1).
    for prefix in ("/v1", ""):
        app.router.add_get(f"{prefix}/models", handlers.list_models)
        app.router.add_get(f"{prefix}/health", handlers.liveness)
        app.router.add_get(f"{prefix}/health/readiness", handlers.readiness)
    app.router.add_get("/metrics", handlers.metrics)
    app.router.add_route("*", "/{tail:.*}", handlers.not_found)
    app.cleanup_ctx.append(_probe_context(handlers.health))
    app.on_cleanup.append(_close_upstream_clients(runtime))
    return app


def _close_upstream_clients(runtime: Runtime) -> Callable[[web.Application], Awaitable[None]]:
    # LiteLLM pools its HTTP clients per event loop, process-wide; they must close while this loop runs.
    async def close(app: web.Application) -> None:
        await runtime.aclose()
    return close


def _probe_context(health: ModelHealth) -> Callable[[web.Application], AsyncIterator[None]]:
    async def probe_running(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(health.run_forever()) if health.enabled else None
        yield
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
    return probe_running


async def serve(
    runtime: Runtime,
    host: str = "127.0.0.1",
    port: int = 4000,
    grace_seconds: float = DEFAULT_GRACE_SECONDS,
    on_ready: Callable[[int], None] | None = None,
    *,
    stop: asyncio.Event | None = None,
    secrets: Iterable[Secret | str] | None = None,
    access_log: bool = False,
) -> bool:
    """Serve until SIGTERM/SIGINT (main thread only) or ``stop`` is set; then stop accepting, drain
    the requests in flight within ``grace_seconds`` (``proxy_drain``) and return whether the drain
    completed (False: the grace ran out with requests open). ``on_ready`` gets the bound port."""
    app = create_app(runtime, secrets=secrets)
    drain = Drain(grace_seconds, os.getpid()).install(app)
    # The log sinks belong to the application; make sure they mask the master key too.
    add_secrets(known_secrets(runtime))
    runner = web.AppRunner(app, access_log=access_logger(access_log), access_log_format=ACCESS_LOG_FORMAT,
                           handler_cancellation=True, shutdown_timeout=grace_seconds)
    await runner.setup()
    stop = stop or asyncio.Event()
    installed = _install_signal_handlers(_on_signal(stop, drain))
    try:
        await web.TCPSite(runner, host, port).start()
        bound = runner.addresses[0][1]
        ready = sum(1 for s in runtime.core.models() if s.available)
        logger.bind(event="proxy_started").info(
            f"llmcore proxy listening on http://{host}:{bound} ({ready} of {len(runtime.core.models())} models "
            "available)")
        if on_ready is not None:
            on_ready(bound)
        await stop.wait()
        logger.bind(event="proxy_stopping").info(
            f"llmcore proxy stopping: no new connections; in-flight requests get {drain.deadline:g} s "
            "(a second SIGTERM or SIGINT ends them now)")
    finally:
        try:
            await runner.cleanup()  # the drain: the signal handlers stay, so a repeat ends it early, cleanly
        finally:
            _remove_signal_handlers(installed)
    logger.bind(event="proxy_stopped", drained=drain.completed).info("llmcore proxy stopped")
    return drain.completed


def _on_signal(stop: asyncio.Event, drain: Drain) -> Callable[[], None]:
    """The first SIGTERM/SIGINT starts the shutdown; a repeat during the drain ends the drain early (each
    open request gets its API's failure ending, exit code 5), as the workers mode does, instead of the
    default action killing the process with streams cut mid-way."""
    def on_signal() -> None:
        if stop.is_set():
            drain.end_early()
        else:
            stop.set()
    return on_signal


def _install_signal_handlers(on_signal: Callable[[], None]) -> list[int]:
    if threading.current_thread() is not threading.main_thread():
        return []  # asyncio takes signal handlers in the main thread only
    loop = asyncio.get_running_loop()
    installed: list[int] = []
    for number in (signal.SIGTERM, signal.SIGINT):
        with suppress(NotImplementedError):
            loop.add_signal_handler(number, on_signal)
            installed.append(number)
    return installed


def _remove_signal_handlers(installed: list[int]) -> None:
    loop = asyncio.get_running_loop()
    for number in installed:
        loop.remove_signal_handler(number)


def run(
    runtime: Runtime, host: str = "127.0.0.1", port: int = 4000, *, grace_seconds: float = DEFAULT_GRACE_SECONDS,
    on_ready: Callable[[int], None] | None = None, warm_up: bool = True, access_log: bool = False,
) -> bool:
    """Serve in the foreground (the CLI's ``llmcore proxy``); returns after a graceful shutdown, True
    when the drain completed (see ``serve``).

    ``warm_up`` imports LiteLLM (~3 s) before the port opens, so the first request does not pay
    for it and readiness means ready. A second SIGINT/SIGTERM during the grace period ends the drain at
    once, each open request with its server_shutting_down ending (returns False: exit code 5).
    """
    refuse_unreadable_master_key(runtime)
    own_process()  # a foreground server owns its process: LiteLLM offline and quiet process-wide
    if warm_up:
        runtime.warm_up()
    serving = serve(runtime, host, port, grace_seconds, on_ready, access_log=access_log)
    try:
        import uvloop  # a dependency everywhere but Windows, where the default loop serves
    except ImportError:
        return asyncio.run(serving)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(serving)
