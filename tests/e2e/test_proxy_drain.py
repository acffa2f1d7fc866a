"""The drain on shutdown (entrypoints/proxy_drain.py), in one process: the proxy in a background thread
over the scripted fake, stopped while requests are in flight.

Within the deadline a request finishes as usual; past it, a stream that has sent chunks ends with the
``server_shutting_down`` SSE error event and ``[DONE]``, a request with no answer yet gets 503
``server_shutting_down``, and ``serve`` reports that the drain did not complete. The two-worker run
under gunicorn is tests/e2e/test_proxy_workers.py.
"""
from __future__ import annotations

import json
import re
import secrets
import threading
import time
from pathlib import Path

import httpx
import pytest

from llmcore.adapters.scripted_completion import ScriptedCompletion
from llmcore.bootstrap import Runtime, build_runtime
from llmcore.domain.chat import StreamChunk
from llmcore.entrypoints.proxy_drain import drain_deadline, is_drain_cut
from llmcore.entrypoints.proxy_thread import BackgroundProxy

pytestmark = pytest.mark.slow

GROK = "grok-code-fast-1"
HELLO = [{"role": "user", "content": "hi"}]


def runtime_over(tmp_path: Path, completion: ScriptedCompletion) -> Runtime:
    config = tmp_path / "llmcore.yaml"
    config.write_text("model_list:\n  - model_name: grok-code-fast-1\n    litellm_params:\n"
                      "      model: openai/grok-code-fast-1\n", "utf-8")
    return build_runtime(config, {"GROK_API_KEY": "xai-" + secrets.token_hex(8)}, completion=completion,
                         retry=False)


def long_stream(chunks: int) -> list[StreamChunk]:
    return [StreamChunk(content=f"part {i} ", model=GROK, id="s1") for i in range(chunks)] + [
        StreamChunk(finish_reason="stop", model=GROK, id="s1")]


class Caller(threading.Thread):
    """One request against the proxy, read to its end in a thread."""

    def __init__(self, url: str, stream: bool) -> None:
        super().__init__(daemon=True)
        self.url, self.stream = url, stream
        self.first = threading.Event()
        self.events: list[str] = []
        self.status: int | None = None
        self.body: dict | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        body = {"model": GROK, "messages": HELLO, "stream": self.stream}
        try:
            with httpx.Client(trust_env=False, timeout=20) as http:
                if not self.stream:
                    self.first.set()
                    response = http.post(f"{self.url}/v1/chat/completions", json=body)
                    self.status, self.body = response.status_code, response.json()
                    return
                with http.stream("POST", f"{self.url}/v1/chat/completions", json=body) as response:
                    self.status = response.status_code
                    for line in response.iter_lines():
                        if line.startswith("data: "):
                            self.events.append(line[len("data: "):])
                            self.first.set()
        except BaseException as error:
            self.error = error


def stop_while(proxy: BackgroundProxy, callers: list[Caller]) -> float:
    for caller in callers:
        caller.start()
    for caller in callers:
        assert caller.first.wait(10)
    time.sleep(0.1)  # the non-streamed request is inside the Core's call by now
    started = time.monotonic()
    proxy.stop()
    for caller in callers:
        caller.join(10)
    return time.monotonic() - started


def test_a_stream_still_open_at_the_deadline_ends_with_the_error_event_and_done(tmp_path: Path) -> None:
    completion = ScriptedCompletion(chunk_delay=0.2)
    completion.enqueue(long_stream(100))  # 20 s of chunks
    proxy = BackgroundProxy(runtime_over(tmp_path, completion), grace_seconds=1.0).start()
    caller = Caller(proxy.url, stream=True)
    took = stop_while(proxy, [caller])
    assert caller.error is None and caller.status == 200
    assert caller.events[-1] == "[DONE]"
    ending = json.loads(caller.events[-2])["error"]
    assert ending["code"] == "server_shutting_down" and ending["type"] == "service_unavailable_error"
    assert "retry the request" in ending["message"]
    assert json.loads(caller.events[0])["choices"][0]["delta"]["content"] == "part 0 "
    assert proxy.drained is False
    assert completion.closed_streams == 1, "the upstream stream is closed too"
    assert took < 1.0 + 0.5, "within the grace"


def test_requests_without_an_answer_at_the_deadline_get_503_shutting_down(tmp_path: Path) -> None:
    completion = ScriptedCompletion(delay=5.0)  # neither the answer nor a stream's first chunk comes in time
    proxy = BackgroundProxy(runtime_over(tmp_path, completion), grace_seconds=0.5).start()
    callers = [Caller(proxy.url, stream=False), Caller(proxy.url, stream=True)]
    for caller in callers:
        caller.start()
    time.sleep(0.3)
    proxy.stop()
    for caller in callers:
        caller.join(10)
        assert caller.error is None and caller.status == 503
    assert callers[0].body["error"]["code"] == "server_shutting_down"
    assert proxy.drained is False


def test_requests_that_finish_within_the_deadline_drain_completely(tmp_path: Path) -> None:
    completion = ScriptedCompletion(chunk_delay=0.1)
    completion.enqueue(long_stream(5))  # 0.5 s of chunks
    proxy = BackgroundProxy(runtime_over(tmp_path, completion), grace_seconds=3.0).start()
    caller = Caller(proxy.url, stream=True)
    took = stop_while(proxy, [caller])
    assert caller.events[-1] == "[DONE]"
    assert json.loads(caller.events[-2])["choices"][0]["finish_reason"] == "stop"
    assert proxy.drained is True
    assert took < 2.0, "the drain ends when the last request does, not at the deadline"


def test_an_idle_server_drains_at_once() -> None:
    assert drain_deadline(10) == 9.0 and drain_deadline(2) == pytest.approx(1.8) and drain_deadline(0) == 0.0
    assert drain_deadline(-3) == 0.0


def test_the_deadline_docs_deploy_md_states_is_the_one_the_drain_uses() -> None:
    # Finding 15 of the new-user tester's report: the docs said "minus its last second", the code
    # keeps a tenth of the grace under 10 s (3 -> 2.7 s). The docs' worked figures must be the code's.
    shutdown = (Path(__file__).parents[2] / "docs" / "deploy.md").read_text("utf-8").split("## Shutdown", 1)[1]
    stated = re.findall(r"(\d+) → \**(\d+(?:\.\d+)?) s", shutdown)
    assert {grace for grace, _ in stated} >= {"10", "3", "1"}, stated
    for grace, deadline in stated:
        assert drain_deadline(float(grace)) == pytest.approx(float(deadline)), (grace, deadline)


@pytest.mark.parametrize("when", ["before the drain", "during the drain"])
def test_end_early_ends_a_60_s_drain_at_once_answering_503_shutting_down(when: str) -> None:
    # What a second SIGTERM/SIGINT does in the single-process proxy (entrypoints/proxy.py).
    import asyncio

    import aiohttp
    from aiohttp import web

    from llmcore.entrypoints.proxy_drain import Drain

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(60)
        return web.Response(text="late")  # pragma: no cover - the drain ends it first

    async def scenario() -> tuple[int, dict, float, Drain]:
        app = web.Application()
        app.router.add_get("/slow", slow)
        drain = Drain(60, 1).install(app)
        runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=60)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        port = runner.addresses[0][1]
        async with aiohttp.ClientSession() as http:
            call = asyncio.create_task(http.get(f"http://127.0.0.1:{port}/slow"))
            await asyncio.sleep(0.3)  # the request is in flight
            started = time.monotonic()
            if when == "before the drain":
                drain.end_early()
            else:
                asyncio.get_running_loop().call_later(0.3, drain.end_early)
            await runner.cleanup()
            took = time.monotonic() - started
            response = await call
            return response.status, await response.json(), took, drain

    status, body, took, drain = asyncio.run(scenario())
    assert status == 503 and body["error"]["code"] == "server_shutting_down"
    assert took < 5, "not the 59 s the grace would give"
    assert drain.report is not None and drain.report.cut == 1 and drain.completed is False


def test_only_the_drains_own_cancellation_counts_as_a_cut() -> None:
    import asyncio

    from llmcore.entrypoints.proxy_drain import DRAIN_CANCEL

    assert is_drain_cut(asyncio.CancelledError(DRAIN_CANCEL))
    assert not is_drain_cut(asyncio.CancelledError())
    assert not is_drain_cut(RuntimeError(DRAIN_CANCEL))


@pytest.mark.parametrize(("path", "body", "ending"), [
    ("/v1/messages", {"model": GROK, "max_tokens": 64, "messages": HELLO, "stream": True}, "error"),
    ("/v1/responses", {"model": GROK, "input": "hi", "stream": True}, "response.failed"),
])
def test_messages_and_responses_streams_open_at_the_deadline_end_in_their_own_failure_event(
        tmp_path: Path, path: str, body: dict, ending: str) -> None:
    completion = ScriptedCompletion(chunk_delay=0.2)
    completion.enqueue(long_stream(100))
    proxy = BackgroundProxy(runtime_over(tmp_path, completion), grace_seconds=1.0).start()
    events: list[str] = []
    first = threading.Event()

    def read() -> None:
        with httpx.Client(trust_env=False, timeout=20) as http:
            with http.stream("POST", f"{proxy.url}{path}", json=body) as response:
                for line in response.iter_lines():
                    if line.startswith("event: "):
                        events.append(line[len("event: "):])
                        first.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert first.wait(10)
    proxy.stop()
    reader.join(10)
    assert events[-1] == ending, events[-3:]
    assert proxy.drained is False and completion.closed_streams == 1
