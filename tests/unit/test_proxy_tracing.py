"""The proxy's SERVER-span middleware (entrypoints/proxy_tracing.py) on a small aiohttp app over real HTTP.

The spans go to a provider of the test's own (the global one is never set in this process);
tests/e2e/test_proxy_traces.py runs the whole proxy with the OTLP exporter.
"""
from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from aiohttp import web
from opentelemetry.trace import StatusCode

from llmcore.entrypoints.proxy_tracing import _server_spans
from tests.unit.otel_fakes import LocalTracer

MASTER = "mk-unit-" + "s" * 24


async def ok(request: web.Request) -> web.Response:
    return web.json_response({"ok": True}, headers={"x-request-id": "rid-1"})


async def bad_gateway(request: web.Request) -> web.Response:
    return web.json_response({"error": {}}, status=502)


async def boom(request: web.Request) -> web.Response:
    raise RuntimeError(f"a bug that quotes {MASTER}")


async def gone(request: web.Request) -> web.Response:
    raise web.HTTPNotFound()


async def slow(request: web.Request) -> web.Response:
    await asyncio.sleep(30)
    return web.Response()


def serve_and_call(tracer: LocalTracer, calls: list[tuple[str, str, dict[str, str]]]) -> list[int]:
    async def go() -> list[int]:
        app = web.Application(middlewares=[_server_spans(tracer.get(), (MASTER,))])
        for path, handler in (("/ok", ok), ("/bad", bad_gateway), ("/boom", boom), ("/gone", gone),
                              ("/slow", slow), ("/health", ok)):
            app.router.add_route("*", path, handler)
        app.router.add_route("*", "/{tail:.*}", gone)
        runner = web.AppRunner(app, handler_cancellation=True)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        statuses = []
        try:
            async with aiohttp.ClientSession() as session:
                for method, path, headers in calls:
                    try:
                        async with session.request(method, f"http://127.0.0.1:{port}{path}", headers=headers,
                                                   timeout=aiohttp.ClientTimeout(total=0.3)) as reply:
                            statuses.append(reply.status)
                    except asyncio.TimeoutError:
                        statuses.append(0)
            await asyncio.sleep(0.1)  # the server notices the client that left
        finally:
            await runner.cleanup()
        return statuses

    return asyncio.run(go())


def by_path(tracer: LocalTracer) -> dict[str, Any]:
    return {s.attributes["url.path"]: s for s in tracer.spans()}


def test_server_spans_carry_the_http_attributes_and_5xx_and_exceptions_are_errors() -> None:
    tracer = LocalTracer()
    parent = "00-" + "a" * 32 + "-" + "b" * 16 + "-01"
    statuses = serve_and_call(tracer, [
        ("POST", "/ok", {"traceparent": parent}), ("GET", "/bad", {}), ("GET", "/boom", {}), ("GET", "/gone", {}),
        ("GET", "/slow", {}), ("GET", "/health", {}), ("GET", f"/v1/{MASTER}", {}),
    ])
    assert statuses == [200, 502, 500, 404, 0, 200, 404]
    spans = by_path(tracer)
    assert "/health" not in spans  # probes are not traced
    traced = spans["/ok"]
    assert traced.name == "POST /ok"
    assert (f"{traced.context.trace_id:032x}", f"{traced.parent.span_id:016x}") == ("a" * 32, "b" * 16)
    assert dict(traced.attributes) == {"http.request.method": "POST", "http.route": "/ok", "url.path": "/ok",
                                       "http.response.status_code": 200, "llmcore.request_id": "rid-1"}
    assert traced.status.status_code == StatusCode.UNSET
    assert (spans["/bad"].attributes["error.type"], spans["/bad"].status.status_code) == ("502", StatusCode.ERROR)
    boom_span = spans["/boom"]
    assert boom_span.attributes["error.type"] == "RuntimeError"
    assert boom_span.attributes["http.response.status_code"] == 500
    assert not boom_span.events  # no exception event: its text may quote a key or the prompt
    assert "error.type" not in spans["/gone"].attributes  # a 4xx is the client's error
    assert spans["/gone"].attributes["http.response.status_code"] == 404
    left = spans["/slow"]
    assert left.attributes["error.type"] == "cancelled" and "http.response.status_code" not in left.attributes
    [masked] = [s for s in tracer.spans() if s.attributes["http.route"] == "/{tail}"]
    assert MASTER not in masked.attributes["url.path"] and masked.name == "GET /{tail}"
