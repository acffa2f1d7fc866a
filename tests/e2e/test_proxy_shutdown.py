"""``llmcore proxy`` (one process) as a real subprocess over the fake xAI server: a second SIGTERM or
SIGINT during the drain ends the drain early and cleanly (finding 3 of the new-user tester's report).

Before: the signal handlers were removed when the drain began, so a second SIGTERM killed the
process (exit 143) and a second SIGINT raised KeyboardInterrupt (click's "Aborted!", exit 1), each
with the open streams cut mid-way and no ``proxy_stopped``. Now each open stream gets its API's
failure ending (chat: the ``server_shutting_down`` error event and ``[DONE]``; Messages: ``error``;
Responses: ``response.failed``) and the exit code is 5, as with ``--workers``.
"""
from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from llmcore.testing.fake_xai import FakeXAIServer, Fault
from tests.e2e.test_proxy_workers import WorkersProxy, child_env

pytestmark = [pytest.mark.slow]

GROK = "grok-code-fast-1"
NATIVE_CONFIG = """\
model_list:
  - model_name: grok-code-fast-1
    litellm_params:
      model: openai/grok-code-fast-1
      api_key: os.environ/GROK_API_KEY
      api_base: os.environ/GROK_BASE_URL
      max_retries: 0
    model_info:
      adapter: native
general_settings:
  master_key: os.environ/LLMCORE_MASTER_KEY
"""
# The grace a natural drain would need: far more than the test waits, so only the second signal ends it.
GRACE_SECONDS = "60"
STREAMS: dict[str, dict[str, Any]] = {
    "/v1/chat/completions": {"model": GROK, "messages": [{"role": "user", "content": "hi"}], "stream": True},
    "/v1/messages": {"model": GROK, "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}],
                     "stream": True},
    "/v1/responses": {"model": GROK, "input": "hi", "stream": True},
}


class RawStream(threading.Thread):
    """One streamed request; every non-blank SSE line kept; ``first`` set at the first ``data:`` line."""

    def __init__(self, url: str, path: str, master_key: str) -> None:
        super().__init__(daemon=True)
        self.url, self.path, self.master_key = url, path, master_key
        self.first = threading.Event()
        self.lines: list[str] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.master_key}", "x-api-key": self.master_key}
        try:
            with httpx.Client(trust_env=False, timeout=30, headers=headers) as http, http.stream(
                    "POST", f"{self.url}{self.path}", json=STREAMS[self.path]) as response:
                for line in response.iter_lines():
                    if line.strip():
                        self.lines.append(line)
                    if line.startswith("data: "):
                        self.first.set()
        except BaseException as error:  # a cut connection is what this test must never see
            self.error = error

    def data(self) -> list[str]:
        return [line[len("data: "):] for line in self.lines if line.startswith("data: ")]

    def events(self) -> list[str]:
        return [line[len("event: "):] for line in self.lines if line.startswith("event: ")]


def assert_ended_by_the_drain(stream: RawStream) -> None:
    assert stream.error is None, stream.error
    data = stream.data()
    if stream.path == "/v1/chat/completions":
        assert data[-1] == "[DONE]", data[-3:]
        assert json.loads(data[-2])["error"]["code"] == "server_shutting_down", data[-2]
    elif stream.path == "/v1/messages":
        assert stream.events()[-1] == "error", stream.events()[-3:]
        assert "shutting down" in json.loads(data[-1])["error"]["message"], data[-1]
    else:
        assert stream.events()[-1] == "response.failed", stream.events()[-3:]
        # The Responses API's error codes have no server_shutting_down; its server_error and the message say it.
        error = json.loads(data[-1])["response"]["error"]
        assert error["code"] == "server_error" and "shutting down" in error["message"], error


@pytest.mark.parametrize("second", [signal.SIGTERM, signal.SIGINT], ids=["two-TERMs", "two-INTs"])
def test_a_second_signal_during_the_drain_ends_every_open_stream_cleanly_and_exits_5(
        tmp_path: Path, second: signal.Signals) -> None:
    keys = {"grok": "xai-canary-shutdown-0123456789", "master": "sk-master-canary-shutdown-0123456789"}
    with FakeXAIServer(api_key=keys["grok"], stream_chunks=200) as fake:
        env = child_env(fake, keys, tmp_path)
        Path(env["LLMCORE_CONFIG"]).write_text(NATIVE_CONFIG, "utf-8")
        proxy = WorkersProxy(tmp_path, env, "--grace-seconds", GRACE_SECONDS)
        try:
            url = proxy.wait_listening()
            fake.script(*[Fault.slow_chunks(0.3)] * len(STREAMS))
            streams = [RawStream(url, path, keys["master"]) for path in STREAMS]
            for stream in streams:
                stream.start()
            for stream in streams:
                assert stream.first.wait(20), (stream.path, stream.error, "".join(proxy.lines))
            signalled = time.monotonic()
            proxy.process.send_signal(second)
            time.sleep(0.5)  # the drain has begun
            assert all(stream.is_alive() for stream in streams), "60 s of grace: the streams still run"
            proxy.process.send_signal(second)
            code = proxy.process.wait(15)
            stopped_after = time.monotonic() - signalled
            for stream in streams:
                stream.join(10)
        finally:
            proxy.stop()
    log = "".join(proxy.lines)
    for stream in streams:
        assert_ended_by_the_drain(stream)
    assert code == 5, log
    assert stopped_after < 10, "the second signal ends the 60 s drain at once"
    assert proxy.events("proxy_drain_ended_early") and proxy.events("proxy_stopped"), log
    assert proxy.events("proxy_drain_incomplete")[0]["cut"] == len(STREAMS)
    assert "Aborted" not in log and keys["grok"] not in log and keys["master"] not in log
