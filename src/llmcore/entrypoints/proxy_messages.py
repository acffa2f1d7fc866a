"""``POST /v1/messages`` and ``POST /v1/messages/count_tokens``: the Anthropic Messages API over the same Core.

The handler translates (``anthropic_request``), calls ``core.acomplete`` /
``core.astream`` exactly as the chat-completions handler does (alias
resolution, availability, param policy with its drop log and counter, retries
before the first byte, fallbacks, usage and cost, served-by warnings,
masking, request ids), and renders the answer in Anthropic's shape
(``anthropic_wire``, ``anthropic_stream``). Requests finish with the
telemetry label ``api="messages"``.

Auth: with a master key, ``x-api-key: <key>`` (what the Anthropic SDKs send)
or ``Authorization: Bearer <key>`` (Claude Code with ``ANTHROPIC_AUTH_TOKEN``);
compared in constant time, never forwarded. ``anthropic-version`` and
``anthropic-beta`` headers are accepted and not needed; ``?beta=true`` (Claude
Code) is accepted. Responses carry ``request-id`` (Anthropic's header, which
the SDK exposes as ``_request_id``) besides ``x-request-id``.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

from aiohttp import web
from loguru import logger

from llmcore.adapters import litellm_tokens, tiktoken_tokens
from llmcore.adapters.request_api import MESSAGES, request_api
from llmcore.bootstrap import Runtime
from llmcore.domain.secret import Secret
from llmcore.domain.stream_session import AsyncStreamSession
from llmcore.entrypoints.anthropic_request import MessagesBody, parse_messages_body
from llmcore.entrypoints.anthropic_stream import SSE_HEADERS, MessageEvents
from llmcore.entrypoints.anthropic_wire import anthropic_error, error_status, message, message_id
from llmcore.entrypoints.openai_wire import MasterKeyError
from llmcore.entrypoints.proxy_drain import SHUTTING_DOWN_MESSAGE
from llmcore.entrypoints.proxy_handlers import (
    SERVED_ALIAS_HEADER, ProxyHandlers, bearer_token, json_response, log_error_answer, report_left_out, set_overhead,
)
from llmcore.entrypoints.proxy_relay import relay_events
from llmcore.entrypoints.proxy_request import request_id_of
from llmcore.entrypoints.proxy_streaming import OverheadTimer, first_chunk

MESSAGES_ROUTE = "/v1/messages"
COUNT_TOKENS_ROUTE = "/v1/messages/count_tokens"


class MessagesHandlers:
    """The Messages routes; one per application, holding no per-request state."""

    def __init__(self, runtime: Runtime, proxy: ProxyHandlers, secrets: Iterable[Secret | str]) -> None:
        self._runtime = runtime
        self._core = runtime.core
        self._proxy = proxy
        self._master_key = runtime.core.settings.master_key
        self._secrets = tuple(secrets)

    def _check_key(self, request: web.BaseRequest) -> None:
        if self._master_key is None:
            return
        sent = request.headers.get("x-api-key", "").strip() or bearer_token(request)
        if not sent:
            raise MasterKeyError("this proxy needs its master key in 'x-api-key' or 'Authorization: Bearer'")
        if not self._master_key.matches(sent):
            raise MasterKeyError("the API key is not this proxy's master key")

    def _error(self, exc: BaseException, request_id: str) -> web.Response:
        rendered = anthropic_error(exc, self._secrets)
        log_error_answer(exc, rendered.status, rendered.body["error"]["message"])
        return json_response(rendered.body, rendered.status,
                             {"x-request-id": request_id, "request-id": request_id, **rendered.headers})

    def _report_left_out(self, body: MessagesBody, request_id: str) -> None:
        """Server tools and unknown fields are dropped like params: the same log line and counter."""
        left_out = [(f"tools[{tool}]", "a server tool the model cannot run; its function tools are sent")
                    for tool in body.dropped_tools]
        left_out += [(name, "not a Messages API field llmcore translates") for name in body.ignored_fields]
        report_left_out(self._runtime, body.model, request_id, left_out)

    async def messages(self, request: web.Request) -> web.StreamResponse:
        timer = OverheadTimer(time.perf_counter())
        request_id = request_id_of(request, self._secrets)
        with logger.contextualize(request_id=request_id), request_api(MESSAGES):
            try:
                self._check_key(request)
                body = parse_messages_body(await self._proxy.read_body(request))
                self._report_left_out(body, request_id)
                if body.stream:
                    return await self._stream(request, timer, request_id, body)
                waiting = time.perf_counter()
                try:
                    response = await self._core.acomplete(body.model, body.messages, request_id=request_id,
                                                          **body.params)
                finally:
                    timer.upstream += time.perf_counter() - waiting
                reply = json_response(message(response, body.model, request_id), 200, {
                    "x-request-id": request_id, "request-id": request_id,
                    SERVED_ALIAS_HEADER: response.served_alias})
            except Exception as exc:  # LLMCoreErrors by the table; anything else an Anthropic-shaped 500
                reply = self._error(exc, request_id)
            set_overhead(self._runtime, MESSAGES_ROUTE, reply, timer)
            return reply

    async def _stream(
        self, request: web.Request, timer: OverheadTimer, request_id: str, body: MessagesBody
    ) -> web.StreamResponse:
        session = self._core.astream(body.model, body.messages, request_id=request_id, **body.params)
        try:
            # Pulled before the status line: a failure before it is an ordinary JSON error with its status.
            first = await first_chunk(session, timer)
            response = web.StreamResponse(headers={
                **SSE_HEADERS, "x-request-id": request_id, "request-id": request_id,
                SERVED_ALIAS_HEADER: session.spec.alias})
            set_overhead(self._runtime, MESSAGES_ROUTE, response, timer)
            events = MessageEvents(body.model, message_id(first.id if first is not None else "", request_id))
            try:
                await response.prepare(request)
                await response.write(events.start() + (events.feed(first) if first is not None else b""))
                await self._relay(response, session, events)
                await response.write_eof()
            except ConnectionError:
                logger.bind(event="client_disconnected", model=body.model).info(
                    "client disconnected mid-stream; closing the upstream stream")
            return response
        finally:
            # Also on cancellation (the client went away): closes the upstream stream.
            await session.aclose()

    async def _relay(self, response: web.StreamResponse, session: AsyncStreamSession, events: MessageEvents) -> None:
        def failed(exc: Exception) -> bytes:
            status, kind = error_status(exc)
            if status == 500:
                logger.opt(exception=exc).bind(event="proxy_error", status=500).error(
                    "stream failed after its first event")
            return events.error(anthropic_error(exc, self._secrets).body["error"]["message"], kind)

        await relay_events(response, session, events, failed=failed,
                           incomplete=lambda message: events.error(message, "api_error"),
                           shutting_down=lambda: events.error(SHUTTING_DOWN_MESSAGE, "overloaded_error"))

    async def count_tokens(self, request: web.Request) -> web.Response:
        request_id = request_id_of(request, self._secrets)
        with logger.contextualize(request_id=request_id):
            try:
                self._check_key(request)
                body = parse_messages_body(await self._proxy.read_body(request), count_only=True)
                spec = self._core.registry.available_deployments(body.model)[0]
                tools = body.params.get("tools", [])
                # A native model is counted with tiktoken alone: a native-only proxy never imports LiteLLM.
                counter = tiktoken_tokens if spec.adapter == "native" else litellm_tokens
                # Tokenizing a long agent prompt takes milliseconds: off the event loop.
                count = await asyncio.to_thread(counter.count_prompt_tokens, spec, body.messages, tools)
                return json_response({"input_tokens": count}, 200, {"x-request-id": request_id,
                                                                    "request-id": request_id})
            except Exception as exc:
                return self._error(exc, request_id)
