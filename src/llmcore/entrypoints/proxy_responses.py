"""``POST /v1/responses``: the OpenAI Responses API, stateless, over the same Core as chat completions.

The handler translates (``responses_request``, ``responses_input``), calls
``core.acomplete`` / ``core.astream`` exactly as the chat-completions handler
does (alias resolution, availability, param policy with its drop log and
counter, retries before the first byte, fallbacks, usage and cost,
served-by warnings, masking, request ids), and renders the answer as a
``response`` object or the Responses event stream (``responses_wire``,
``responses_stream``). Requests finish with the telemetry label
``api="responses"``. The upstream is always called through chat
completions, never its own ``/v1/responses``: one domain path, and
chat-only upstreams serve it too.

Auth as on every OpenAI route: ``Authorization: Bearer <master key>``,
compared in constant time, never forwarded. Errors are OpenAI-shaped, from
the one table in ``openai_wire``; a stream that fails after its first event
ends with ``response.failed``.
"""
from __future__ import annotations

import time
from collections.abc import Iterable

from aiohttp import web
from loguru import logger

from llmcore.adapters.request_api import RESPONSES, request_api
from llmcore.bootstrap import Runtime
from llmcore.domain.secret import Secret
from llmcore.domain.stream_session import AsyncStreamSession
from llmcore.entrypoints.openai_wire import error_kind, error_text
from llmcore.entrypoints.proxy_drain import SHUTTING_DOWN_MESSAGE
from llmcore.entrypoints.proxy_handlers import (
    SERVED_ALIAS_HEADER, ProxyHandlers, json_response, report_left_out, set_overhead,
)
from llmcore.entrypoints.proxy_relay import relay_events
from llmcore.entrypoints.proxy_request import request_id_of
from llmcore.entrypoints.proxy_streaming import OverheadTimer, first_chunk
from llmcore.entrypoints.responses_request import ResponsesBody, parse_responses_body
from llmcore.entrypoints.responses_stream import SSE_HEADERS, ResponseEvents
from llmcore.entrypoints.responses_wire import failure, response, response_id

RESPONSES_ROUTE = "/v1/responses"


class ResponsesHandlers:
    """The Responses route; one per application, holding no per-request state."""

    def __init__(self, runtime: Runtime, proxy: ProxyHandlers, secrets: Iterable[Secret | str]) -> None:
        self._runtime = runtime
        self._core = runtime.core
        self._proxy = proxy
        self._master_key = runtime.core.settings.master_key
        self._secrets = tuple(secrets)

    def _report_left_out(self, body: ResponsesBody, request_id: str) -> None:
        """Hosted tools and unknown fields are dropped like params: the same log line and counter."""
        left_out = [(f"tools[{tool}]", "a tool the model cannot run through chat completions; the function tools "
                     "are sent") for tool in body.dropped_tools]
        left_out += [(name, "not a Responses API field llmcore translates") for name in body.ignored_fields]
        report_left_out(self._runtime, body.model, request_id, left_out)

    async def responses(self, request: web.Request) -> web.StreamResponse:
        timer = OverheadTimer(time.perf_counter())
        request_id = request_id_of(request, self._secrets)
        with logger.contextualize(request_id=request_id), request_api(RESPONSES):
            try:
                self._proxy.check_master_key(request)
                body = parse_responses_body(await self._proxy.read_body(request))
                self._report_left_out(body, request_id)
                if body.stream:
                    return await self._stream(request, timer, request_id, body)
                waiting = time.perf_counter()
                try:
                    answer = await self._core.acomplete(body.model, body.messages, request_id=request_id,
                                                        **body.params)
                finally:
                    timer.upstream += time.perf_counter() - waiting
                reply = json_response(response(answer, body.model, request_id, body.echo, body.namespaces), 200,
                                      {"x-request-id": request_id, SERVED_ALIAS_HEADER: answer.served_alias})
            except Exception as exc:  # LLMCoreErrors by the table; anything else an OpenAI-shaped 500
                reply = self._proxy.error_answer(exc, request_id)
            set_overhead(self._runtime, RESPONSES_ROUTE, reply, timer)
            return reply

    async def _stream(
        self, request: web.Request, timer: OverheadTimer, request_id: str, body: ResponsesBody
    ) -> web.StreamResponse:
        session = self._core.astream(body.model, body.messages, request_id=request_id, **body.params)
        try:
            # Pulled before the status line: a failure before it is an ordinary JSON error with its status.
            first = await first_chunk(session, timer)
            reply = web.StreamResponse(headers={**SSE_HEADERS, "x-request-id": request_id,
                                                SERVED_ALIAS_HEADER: session.spec.alias})
            set_overhead(self._runtime, RESPONSES_ROUTE, reply, timer)
            events = ResponseEvents(body.model, response_id(first.id if first is not None else "", request_id),
                                    body.echo, body.namespaces, int(time.time()))
            try:
                await reply.prepare(request)
                await reply.write(events.start() + (events.feed(first) if first is not None else b""))
                await self._relay(reply, session, events)
                await reply.write_eof()
            except ConnectionError:
                # Codex CLI closes the connection as soon as it has read response.completed.
                logger.bind(event="client_disconnected", model=body.model).info(
                    "client disconnected mid-stream; closing the upstream stream")
            return reply
        finally:
            # Also on cancellation (the client went away): closes the upstream stream.
            await session.aclose()

    async def _relay(self, reply: web.StreamResponse, session: AsyncStreamSession, events: ResponseEvents) -> None:
        def failed(exc: Exception) -> bytes:
            if error_kind(exc).status == 500:
                logger.opt(exception=exc).bind(event="proxy_error", status=500).error(
                    "stream failed after its first event")
            return events.fail(**failure(exc, error_text(exc, self._secrets)))

        await relay_events(reply, session, events, failed=failed,
                           incomplete=lambda message: events.fail("server_error", message),
                           shutting_down=lambda: events.fail("server_error", SHUTTING_DOWN_MESSAGE))
