"""A fake xAI chat-completions server for tests and benchmarks.

It replays real recorded ``api.x.ai`` answers for ``grok-code-fast-1`` (``fake_xai_replay``),
honours ``n`` and ``logprobs`` in OpenAI's wire format (``fake_choices``),
enforces xAI's own validation and auth answers, and misbehaves on demand through scripted
``Fault`` values (``fake_xai_faults``). It runs its own event loop in a daemon thread, so sync
and async tests use it alike, and a control API lets another process script it.

    with FakeXAIServer(api_key="xai-test-key") as server:
        server.script(Fault.rate_limit(retry_after=1), Fault.ok())
        ...  # point the client at server.base_url
        assert server.requests[0].key_tail == "-key"

Run standalone: ``python -m llmcore.testing.fake_xai --port 0`` prints ``FAKE_XAI_URL=...``.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
from aiohttp import web

from llmcore.testing.fake_choices import expand_body, expand_events, wanted
from llmcore.testing.fake_xai_faults import (
    Fault, HttpReply, fault_reply, incorrect_key_reply, invalid_argument_reply, missing_auth_reply,
    model_not_found_reply, validation_reply,
)
from llmcore.testing.fake_xai_replay import (
    RECORDED_MODEL, Ending, StreamEvents, choose_turn, exchange_for_model, plan_stream, reshaped_body,
    reshaped_events, synthetic_stream,
)

__all__ = ["FakeXAIServer", "Fault", "RecordedRequest", "main"]

# Replayed recordings are paced so that a client closing a stream early is still seen by the
# server (written all at once, the whole stream sits in socket buffers before the client reads).
DEFAULT_EVENT_DELAY = 0.001
SHUTDOWN_GRACE_SECONDS = 0.5
START_TIMEOUT_SECONDS = 10.0


@attrs.frozen
class RecordedRequest:
    """What the fake saw of one chat request. The API key itself is never kept."""

    path: str
    model: str | None
    body: dict[str, Any] = attrs.field(eq=False, hash=False)
    body_keys: tuple[str, ...]
    key_tail: str | None
    stream: bool
    headers_lower_keys: tuple[str, ...]
    disconnected: bool = False
    # The W3C trace context the client sent, for tests of trace propagation (never a credential).
    traceparent: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def bearer_token(authorization: str | None) -> str | None:
    if authorization is None:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else authorization.strip()


def _record_of(request: web.Request, body: dict[str, Any], sent_key: str | None) -> RecordedRequest:
    model = body.get("model")
    return RecordedRequest(
        path=request.path,
        model=model if isinstance(model, str) else None,
        body=body,
        body_keys=tuple(sorted(body)),
        key_tail=None if sent_key is None else sent_key[-4:],
        stream=body.get("stream") is True,
        headers_lower_keys=tuple(name.lower() for name in request.headers.keys()),
        traceparent=request.headers.get("traceparent"),
    )


class _ServerState:
    """Records and fault queues, shared by the server thread and the test thread."""

    def __init__(self) -> None:
        self._changed = threading.Condition(threading.Lock())
        self._records: list[RecordedRequest] = []
        self._faults: deque[Fault] = deque()
        self._faults_by_model: dict[str, deque[Fault]] = {}

    def queue(self, faults: Iterable[Fault], model: str | None) -> None:
        with self._changed:
            target = self._faults if model is None else self._faults_by_model.setdefault(model, deque())
            target.extend(faults)

    def next_fault(self, model: str | None) -> Fault:
        with self._changed:
            for queue in (self._faults_by_model.get(model or ""), self._faults):
                if queue:
                    return queue.popleft()
        return Fault.ok()

    def record(self, record: RecordedRequest) -> None:
        with self._changed:
            self._records.append(record)

    def mark_disconnected(self, record: RecordedRequest) -> None:
        # Records are frozen: swap in an updated copy, matched by identity (a clear() may have run).
        with self._changed:
            for index, candidate in enumerate(self._records):
                if candidate is record:
                    self._records[index] = attrs.evolve(record, disconnected=True)
            self._changed.notify_all()

    def snapshot(self) -> list[RecordedRequest]:
        with self._changed:
            return list(self._records)

    def clear(self) -> None:
        with self._changed:
            self._records.clear()
            self._faults.clear()
            self._faults_by_model.clear()

    def wait_for_disconnect(self, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(
                lambda: any(record.disconnected for record in self._records), timeout=timeout
            )


@attrs.frozen
class _Config:
    api_key: str | None
    served_model: str | None
    stream_chunks: int | None
    event_delay: float | None
    # None: every model id is served (the default); else the ids the fake knows, any other answered 404.
    known_models: frozenset[str] | None = None


def _to_response(reply: HttpReply) -> web.Response:
    # Content-Type goes in the headers: aiohttp's content_type= refuses a "; charset=" suffix.
    headers = {"Content-Type": reply.content_type, **dict(reply.headers)}
    return web.Response(status=reply.status, body=reply.body, headers=headers)


def _json_response(document: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=json.dumps(document).encode(), content_type="application/json")


async def _read_json_object(request: web.Request) -> dict[str, Any] | None:
    try:
        document = json.loads(await request.read())
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _wants_usage(body: dict[str, Any]) -> bool:
    options = body.get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True


class _FakeXAIHandlers:
    """The aiohttp route handlers; all run on the server's own event loop."""

    def __init__(self, config: _Config, state: _ServerState) -> None:
        self._config = config
        self._state = state
        self.stopping = False

    def application(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.chat_completions)
        app.router.add_get("/v1/models", self.list_models)
        app.router.add_post("/_fake/script", self.control_script)
        app.router.add_get("/_fake/requests", self.control_requests)
        app.router.add_post("/_fake/clear", self.control_clear)
        return app

    def _auth_reply(self, request: web.Request) -> HttpReply | None:
        if self._config.api_key is None:
            return None
        sent_key = bearer_token(request.headers.get("Authorization"))
        if sent_key is None:
            return missing_auth_reply()
        return None if sent_key == self._config.api_key else incorrect_key_reply(sent_key)

    def _model_out(self, body: dict[str, Any]) -> str:
        return self._config.served_model or body.get("model") or RECORDED_MODEL

    async def chat_completions(self, request: web.Request) -> web.StreamResponse:
        body = await _read_json_object(request)
        sent_key = bearer_token(request.headers.get("Authorization"))
        record = _record_of(request, body or {}, sent_key)
        self._state.record(record)
        refusal = self._auth_reply(request)
        if refusal is not None:
            return _to_response(refusal)
        if body is None:
            return _to_response(invalid_argument_reply("Failed to parse the request body as a JSON object."))
        known = self._config.known_models
        if known is not None and record.model is not None and record.model not in known:
            return _to_response(model_not_found_reply(record.model))
        fault = self._state.next_fault(record.model)
        if fault.kind == "drop_connection":
            return self._drop_connection(request)
        await self._pause_if_slow(fault, record)
        refusal = fault_reply(fault, sent_key) or self._validation_reply(body)
        if refusal is not None:
            return _to_response(refusal)
        if record.stream:
            return await self._stream(request, body, fault, record)
        answer = reshaped_body(self._answer(body), fault)
        return web.Response(body=expand_body(answer, *wanted(body)), content_type="application/json")

    @staticmethod
    def _validation_reply(body: dict[str, Any]) -> HttpReply | None:
        return validation_reply(body)

    def _answer(self, body: dict[str, Any]) -> bytes:
        return exchange_for_model(choose_turn(body), self._model_out(body)).body

    async def _pause_if_slow(self, fault: Fault, record: RecordedRequest) -> None:
        if fault.kind != "slow":
            return
        try:
            await asyncio.sleep(fault.param("seconds"))
        except asyncio.CancelledError:
            # A streaming client that gives up before the first byte also left before the end.
            if record.stream and not self.stopping:
                self._state.mark_disconnected(record)
            raise

    def _drop_connection(self, request: web.Request) -> web.Response:
        # Close the socket before any byte of a response. aiohttp then fails to write the
        # returned response, which it treats as a client disconnect and skips quietly.
        if request.transport is not None:
            request.transport.close()
        return web.Response()

    def _stream_events(self, body: dict[str, Any]) -> StreamEvents:
        model = self._model_out(body)
        if self._config.stream_chunks is not None:
            return synthetic_stream(self._config.stream_chunks, model)
        return exchange_for_model(choose_turn(body), model).stream

    def _event_delay(self, fault: Fault) -> float:
        if fault.kind == "slow_chunks":
            delay: float = fault.param("delay")
            return delay
        if self._config.event_delay is not None:
            return self._config.event_delay
        # Synthetic streams exist for benchmarks: no pacing unless asked for.
        return 0.0 if self._config.stream_chunks is not None else DEFAULT_EVENT_DELAY

    async def _stream(
        self, request: web.Request, body: dict[str, Any], fault: Fault, record: RecordedRequest
    ) -> web.StreamResponse:
        plan = plan_stream(reshaped_events(self._stream_events(body), fault), fault, _wants_usage(body))
        events = expand_events(plan.events, *wanted(body))
        delay = self._event_delay(fault)
        headers = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        response = web.StreamResponse(headers=headers)
        response.enable_chunked_encoding()
        try:
            await response.prepare(request)
            for index, event in enumerate(events):
                if delay and index:
                    await asyncio.sleep(delay)
                await response.write(event)  # one event per chunk: the client sees true streaming
            await self._end_stream(request, response, plan.ending)
        except ConnectionError:
            self._state.mark_disconnected(record)
        except asyncio.CancelledError:
            # aiohttp cancels the handler when the client goes away (handler_cancellation=True).
            if not self.stopping:
                self._state.mark_disconnected(record)
            raise
        return response

    @staticmethod
    async def _end_stream(request: web.Request, response: web.StreamResponse, ending: Ending) -> None:
        if ending is Ending.ABORT:
            # Tear the connection down inside an unfinished chunked body: the client must see a
            # protocol error, exactly like a TCP connection that broke mid-stream.
            if request.transport is not None:
                request.transport.abort()
            return
        # DONE (its [DONE] event is already written) and CLEAN_EOF both end the chunked body properly.
        await response.write_eof()

    async def list_models(self, request: web.Request) -> web.Response:
        refusal = self._auth_reply(request)
        if refusal is not None:
            return _to_response(refusal)
        listed = sorted(self._config.known_models) if self._config.known_models is not None else [RECORDED_MODEL]
        ids = dict.fromkeys([*listed, self._config.served_model or RECORDED_MODEL])
        models = [{"id": model, "object": "model", "created": 1755302400, "owned_by": "xai"} for model in ids]
        return _json_response({"object": "list", "data": models})

    async def control_script(self, request: web.Request) -> web.Response:
        document = await _read_json_object(request)
        try:
            if document is None or not isinstance(document.get("faults"), list):
                raise ValueError('expected {"faults": [...], "model": null}')
            faults = [Fault.from_dict(item) for item in document["faults"]]
        except (ValueError, AttributeError, TypeError) as error:
            return _json_response({"error": str(error)}, status=400)
        self._state.queue(faults, document.get("model"))
        return _json_response({"queued": len(faults)})

    async def control_requests(self, request: web.Request) -> web.Response:
        return _json_response([record.to_dict() for record in self._state.snapshot()])

    async def control_clear(self, request: web.Request) -> web.Response:
        self._state.clear()
        return _json_response({"cleared": True})


class FakeXAIServer:
    """The fake xAI API on ``127.0.0.1`` (ephemeral port), served from a background thread."""

    def __init__(
        self,
        api_key: str | None = None,
        served_model: str | None = None,
        stream_chunks: int | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        event_delay: float | None = None,
        known_models: Iterable[str] | None = None,
    ) -> None:
        """``known_models``: the model ids served (any other is xAI's 404 "does not exist"); None serves any id."""
        self._host = host
        self._requested_port = port
        self._state = _ServerState()
        known = None if known_models is None else frozenset(known_models)
        config = _Config(api_key, served_model, stream_chunks, event_delay, known)
        self._handlers = _FakeXAIHandlers(config, self._state)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_requested: asyncio.Event | None = None
        self._start_error: BaseException | None = None
        self._port: int | None = None

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise RuntimeError("FakeXAIServer is not running; call start() or use it as a context manager")
        return f"http://{self._host}:{self._port}/v1"

    @property
    def requests(self) -> list[RecordedRequest]:
        return self._state.snapshot()

    def script(self, *faults: Fault, model: str | None = None) -> None:
        """Queue faults for the next requests, in order; with ``model`` only for that model."""
        for fault in faults:
            if not isinstance(fault, Fault):
                raise TypeError(f"expected Fault, got {fault!r}")
        self._state.queue(faults, model)

    def clear(self) -> None:
        self._state.clear()

    def wait_for_disconnect(self, timeout: float = 2.0) -> bool:
        """True once some streaming client went away before its stream finished."""
        return self._state.wait_for_disconnect(timeout)

    def start(self) -> FakeXAIServer:
        if self._thread is not None:
            raise RuntimeError("FakeXAIServer is already running")
        ready = threading.Event()
        self._start_error = None
        self._handlers.stopping = False
        self._thread = threading.Thread(target=self._run, args=(ready,), name="fake-xai", daemon=True)
        self._thread.start()
        if not ready.wait(START_TIMEOUT_SECONDS):
            raise RuntimeError("FakeXAIServer did not start in time")
        if self._start_error is not None:
            self._thread.join()
            self._thread = None
            raise self._start_error
        return self

    def stop(self) -> None:
        thread, loop, stop_requested = self._thread, self._loop, self._stop_requested
        if thread is None:
            return
        if loop is not None and stop_requested is not None and thread.is_alive():
            loop.call_soon_threadsafe(stop_requested.set)
        thread.join()
        self._thread = self._loop = self._stop_requested = None
        self._port = None

    def __enter__(self) -> FakeXAIServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self, ready: threading.Event) -> None:
        try:
            asyncio.run(self._serve(ready))
        except BaseException as error:  # handed to start(), which re-raises it in the caller's thread
            self._start_error = error
        finally:
            ready.set()

    async def _serve(self, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_requested = asyncio.Event()
        runner = web.AppRunner(
            self._handlers.application(), access_log=None, handler_cancellation=True,
            shutdown_timeout=SHUTDOWN_GRACE_SECONDS,
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._requested_port)
            await site.start()
            self._port = runner.addresses[0][1]
            ready.set()
            await self._stop_requested.wait()
        finally:
            self._handlers.stopping = True
            await runner.cleanup()


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m llmcore.testing.fake_xai", description="Serve a fake xAI chat-completions API."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--api-key-env", metavar="NAME", help="require the key held in this env variable")
    parser.add_argument("--served-model", help="model id the answers report (e.g. grok-4.3)")
    parser.add_argument("--stream-chunks", type=int, help="synthetic streams of N content deltas")
    args = parser.parse_args(argv)
    if args.api_key_env and not os.environ.get(args.api_key_env):
        parser.error(f"environment variable {args.api_key_env} is not set")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until SIGTERM or SIGINT; announce the URL as one ``FAKE_XAI_URL=...`` line on stdout."""
    args = _parse_args(argv)
    api_key = os.environ[args.api_key_env] if args.api_key_env else None
    stop_requested = threading.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: stop_requested.set())
    server = FakeXAIServer(api_key, args.served_model, args.stream_chunks, host=args.host, port=args.port)
    with server:
        sys.stdout.write(f"FAKE_XAI_URL={server.base_url}\n")
        sys.stdout.flush()
        while not stop_requested.wait(0.2):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
