"""The route handlers of the proxy: parse, call the Core, render. See proxy.py for the contract."""
from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from aiohttp import web
from attrs import evolve
from loguru import logger

from llmcore.adapters.json_codec import dumps
from llmcore.bootstrap import Runtime
from llmcore.domain.chat import ParamAdjustment
from llmcore.domain.secret import Secret
from llmcore.entrypoints.openai_wire import (
    MasterKeyError, RequestTooLargeError, UnknownRouteError, chat_completion, wire_error,
)
from llmcore.entrypoints.proxy_health import ModelHealth
from llmcore.entrypoints.proxy_request import ChatBody, parse_chat_body, request_id_of
from llmcore.entrypoints.proxy_streaming import OverheadTimer, first_chunk, stream_response

CHAT_ROUTE = "/v1/chat/completions"
# The configured alias that served a chat request: the requested one, or a fallback
# (docs/configuration.md, "Deployments, fallbacks and usage conventions").
SERVED_ALIAS_HEADER = "x-llmcore-served-alias"


def json_response(document: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=dumps(document), status=status,
                        headers={"Content-Type": "application/json", **(headers or {})})


def bearer_token(request: web.BaseRequest) -> str:
    """The token of an ``Authorization: Bearer`` header, or "" when there is none."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def log_error_answer(exc: BaseException, status: int, message: str) -> None:
    """Log an error answer the Core's telemetry never saw: llmcore's own failure, or a refused request."""
    if status == 500:
        logger.opt(exception=exc).bind(event="proxy_error", status=500).error("request failed inside the proxy")
    elif status in (400, 401, 404, 413):
        # Upstream failures are logged by the Core's telemetry; these never reached it.
        logger.bind(event="request_refused", status=status).info(f"refused with HTTP {status}: {message}")


def set_overhead(runtime: Runtime, route: str, reply: web.StreamResponse, timer: OverheadTimer) -> None:
    """llmcore's own time on a request: the ``x-llmcore-overhead-ms`` header and the route's histogram."""
    overhead = timer.overhead()
    reply.headers["x-llmcore-overhead-ms"] = f"{overhead * 1000:.3f}"
    runtime.metrics.observe_overhead(route, overhead)


# A field or tool name longer than this is no name a client means; the log line needs no more of it.
LEFT_OUT_NAME_LIMIT = 200


def report_left_out(runtime: Runtime, model: str, request_id: str, left_out: list[tuple[str, str]]) -> None:
    """Fields and tools a translated API (Messages, Responses) cannot forward: the param-drop log line and
    counter, per ``(param, reason)``, against the alias's first deployment.

    The names are the client's: the log line shows them cut at LEFT_OUT_NAME_LIMIT characters (and
    masked, like every line); the counter's label is bounded by the metrics adapter
    (``adapters.param_labels``: ``unknown_field``, ``tools[<type>]``, ``tools[other]``).
    """
    if not left_out:
        return
    spec = runtime.core.registry.deployments(model)[0]
    for param, reason in left_out:
        adjustment = ParamAdjustment(param=param, action="dropped", reason=reason)
        shown = param if len(param) <= LEFT_OUT_NAME_LIMIT else param[:LEFT_OUT_NAME_LIMIT] + "…"
        runtime.logs.param_adjusted(spec, evolve(adjustment, param=shown), request_id)
        runtime.metrics.param_adjusted(spec, adjustment, request_id)


class ProxyHandlers:
    """The route handlers; one per application, holding no per-request state."""

    def __init__(self, runtime: Runtime, secrets: Iterable[Secret | str]) -> None:
        self._runtime = runtime
        self._core = runtime.core
        self._metrics = runtime.metrics
        settings = runtime.core.settings
        self._master_key = settings.master_key
        self.max_bytes = int(settings.max_request_size_mb * 1024 * 1024)
        self._secrets = tuple(secrets)
        self.health = ModelHealth(runtime.core, runtime.metrics, settings.health_check_interval,
                                  enabled=settings.health_checks)

    def check_master_key(self, request: web.BaseRequest) -> None:
        """Raises MasterKeyError unless the request's bearer token is the master key (when one is set)."""
        if self._master_key is None:
            return
        token = bearer_token(request)
        if not token:
            raise MasterKeyError("this proxy needs 'Authorization: Bearer <master key>'")
        if not self._master_key.matches(token):
            raise MasterKeyError("the bearer token is not this proxy's master key")

    def error_answer(self, exc: BaseException, request_id: str) -> web.Response:
        """``exc`` as an OpenAI-shaped error answer (logged when the Core never saw it)."""
        rendered = wire_error(exc, self._secrets)
        log_error_answer(exc, rendered.status, rendered.body["error"]["message"])
        return json_response(rendered.body, rendered.status, {"x-request-id": request_id, **rendered.headers})

    async def read_body(self, request: web.Request) -> bytes:
        length = request.content_length
        if length is not None and length > self.max_bytes:
            raise RequestTooLargeError(self._too_large_message())
        try:
            return await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise RequestTooLargeError(self._too_large_message()) from None

    def _too_large_message(self) -> str:
        return (f"the request body is over the proxy's limit of {self.max_bytes} bytes; "
                "shorten it or raise general_settings.max_request_size_mb")

    async def chat_completions(self, request: web.Request) -> web.StreamResponse:
        timer = OverheadTimer(time.perf_counter())
        request_id = request_id_of(request, self._secrets)
        with logger.contextualize(request_id=request_id):
            try:
                self.check_master_key(request)
                body = parse_chat_body(await self.read_body(request))
                if body.stream:
                    return await self._stream(request, timer, request_id, body)
                waiting = time.perf_counter()
                try:
                    response = await self._core.acomplete(body.model, body.messages, request_id=request_id,
                                                          **body.params)
                finally:
                    timer.upstream += time.perf_counter() - waiting
                reply = json_response(chat_completion(response, body.model, request_id), 200,
                                      {"x-request-id": request_id, SERVED_ALIAS_HEADER: response.served_alias})
            except Exception as exc:  # LLMCoreErrors by the table; anything else an OpenAI-shaped 500
                reply = self.error_answer(exc, request_id)
            set_overhead(self._runtime, CHAT_ROUTE, reply, timer)
            return reply

    async def _stream(
        self, request: web.Request, timer: OverheadTimer, request_id: str, body: ChatBody
    ) -> web.StreamResponse:
        session = self._core.astream(body.model, body.messages, request_id=request_id, **body.params)
        try:
            first = await first_chunk(session, timer)
            overhead = timer.overhead()
            self._metrics.observe_overhead(CHAT_ROUTE, overhead)
            # The first chunk is in: the alias that serves (the requested one or a fallback) is settled.
            headers = {"x-request-id": request_id, "x-llmcore-overhead-ms": f"{overhead * 1000:.3f}",
                       SERVED_ALIAS_HEADER: session.spec.alias}
            return await stream_response(request, session, first, alias=body.model, request_id=request_id,
                                         include_usage=body.include_usage, headers=headers, secrets=self._secrets)
        finally:
            # Also on cancellation (the client went away): closes the upstream stream.
            await session.aclose()

    async def list_models(self, request: web.Request) -> web.Response:
        request_id = request_id_of(request, self._secrets)
        try:
            self.check_master_key(request)
        except MasterKeyError as exc:
            return self.error_answer(exc, request_id)
        data = [{"id": s.alias, "object": "model", "created": 0, "owned_by": s.provider}
                for s in self._core.models() if s.available]
        return json_response({"object": "list", "data": data}, headers={"x-request-id": request_id})

    async def liveness(self, request: web.Request) -> web.Response:
        return json_response({"status": "ok"}, headers={"x-request-id": request_id_of(request, self._secrets)})

    def _presents_master_key(self, request: web.BaseRequest) -> bool:
        try:
            self.check_master_key(request)
        except MasterKeyError:
            return False
        return True

    async def readiness(self, request: web.Request) -> web.Response:
        # Open to probes (no 401, a load balancer sends no key); the reasons only with the master key.
        status, body = self.health.readiness(detailed=self._presents_master_key(request))
        return json_response(body, status, {"x-request-id": request_id_of(request, self._secrets)})

    async def metrics(self, request: web.Request) -> web.Response:
        request_id = request_id_of(request, self._secrets)
        try:
            self.check_master_key(request)
        except MasterKeyError as exc:
            return self.error_answer(exc, request_id)
        return web.Response(body=self._metrics.render(),
                            headers={"Content-Type": self._metrics.content_type, "x-request-id": request_id})

    async def not_found(self, request: web.Request) -> web.Response:
        routes = ("POST /v1/chat/completions, POST /v1/messages, POST /v1/responses, GET /v1/models, /health, "
                  "/health/readiness, /metrics")
        unknown = UnknownRouteError(f"no route {request.method} {request.path}; this proxy serves {routes}")
        return self.error_answer(unknown, request_id_of(request, self._secrets))
