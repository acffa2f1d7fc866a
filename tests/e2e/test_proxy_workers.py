"""``llmcore proxy --workers N`` as a real subprocess: gunicorn, two workers, real LiteLLM, the fake xAI
server on 127.0.0.1, driven over HTTP.

What it must show (issue 14): 200 requests (streamed and not, concurrent) served by both workers,
``/metrics`` counting all 200 whichever worker answers the scrape; then a SIGTERM in the middle of
20 open streams ends each of them cleanly (complete, or the SSE error event and ``[DONE]``), new
connections are refused, and the exit code says the drain could not complete for all of them.

Which worker served a request is read from the access log (``--access-log``: the request id and the
pid of the process that served it), not from a response header: a pid is nobody's business outside
the host, while the access log is what an operator reads anyway.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from llmcore.testing.fake_xai import FakeXAIServer, Fault

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings(r"ignore:Accessing the '\w+' attribute on the instance is deprecated"),
]

GROK = "grok-code-fast-1"
HELLO = [{"role": "user", "content": "Say hi in Portuguese."}]
CONFIG = """\
model_list:
  - model_name: grok-code-fast-1
    litellm_params:
      model: openai/grok-code-fast-1
      api_key: os.environ/GROK_API_KEY
      api_base: os.environ/GROK_BASE_URL
      max_retries: 0
general_settings:
  master_key: os.environ/LLMCORE_MASTER_KEY
"""
START_SECONDS = 90  # two workers importing and warming LiteLLM on a shared 2-core machine
EXIT_DRAIN_INCOMPLETE = 5


class WorkersProxy:
    """``llmcore --log-json proxy --workers N`` in a subprocess; its JSON log lines collected as they come."""

    def __init__(self, tmp_path: Path, env: dict[str, str], *args: str) -> None:
        command = [sys.executable, "-m", "llmcore.entrypoints.cli", "--log-json", "proxy", "--port", "0",
                   "--access-log", *args]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        env=env, cwd=tmp_path)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)

    def records(self) -> list[dict[str, Any]]:
        found = []
        for line in list(self.lines):
            try:
                found.append(json.loads(line))
            except ValueError:
                continue
        return found

    def events(self, name: str) -> list[dict[str, Any]]:
        return [r for r in self.records() if r.get("event") == name]

    def wait_listening(self) -> str:
        """The URL, as soon as the master has bound the port (the workers may still be starting)."""
        deadline = time.monotonic() + START_SECONDS
        while not self.events("proxy_started"):
            assert self.process.poll() is None and time.monotonic() < deadline, "".join(self.lines)
            time.sleep(0.05)
        return re.search(r"http://[\d.]+:\d+", self.events("proxy_started")[0]["message"]).group(0)

    def wait_ready(self, workers: int) -> str:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "".join(self.lines)
            started, ready = self.events("proxy_started"), self.events("worker_ready")
            if started and len(ready) >= workers:
                return re.search(r"http://[\d.]+:\d+", started[0]["message"]).group(0)
            time.sleep(0.2)
        raise AssertionError(f"{workers} workers not ready in {START_SECONDS} s:\n{''.join(self.lines)}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.kill()
        code = self.process.wait(30)
        self._reader.join(10)
        if self.process.stdout is not None:
            self.process.stdout.close()
        if self.process.stderr is not None:
            self.process.stderr.close()
        return code


@pytest.fixture
def keys() -> dict[str, str]:
    return {"grok": "xai-canary-" + secrets.token_hex(12), "master": "sk-master-canary-" + secrets.token_hex(12)}


def child_env(fake: FakeXAIServer, keys: dict[str, str], tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLMCORE_", "GROK_", "PROMETHEUS_"))}
    config = tmp_path / "llmcore.yaml"
    config.write_text(CONFIG, "utf-8")
    return {**env, "GROK_API_KEY": keys["grok"], "GROK_BASE_URL": fake.base_url, "LLMCORE_MASTER_KEY": keys["master"],
            "LLMCORE_CONFIG": str(config), "HOME": str(tmp_path), "TMPDIR": str(tmp_path)}


def fresh_connections(master_key: str) -> httpx.Client:
    # No keep-alive: every request is a new connection, so the kernel hands them to either worker.
    return httpx.Client(trust_env=False, timeout=30, headers={"Authorization": f"Bearer {master_key}"},
                        limits=httpx.Limits(max_keepalive_connections=0))


def data_lines(response: httpx.Response) -> Iterator[str]:
    for line in response.iter_lines():
        if line.startswith("data: "):
            yield line[len("data: "):]


def one_request(url: str, master_key: str, stream: bool) -> str:
    """One chat request; the request id the proxy answered with."""
    body = {"model": GROK, "messages": HELLO, "stream": stream}
    with fresh_connections(master_key) as http:
        if not stream:
            response = http.post(f"{url}/v1/chat/completions", json=body)
            assert response.status_code == 200, response.text
            return response.headers["x-request-id"]
        with http.stream("POST", f"{url}/v1/chat/completions", json=body) as response:
            assert response.status_code == 200
            assert list(data_lines(response))[-1] == "[DONE]"
            return response.headers["x-request-id"]


def served_by(proxy: WorkersProxy) -> dict[str, int]:
    """request id -> pid of the worker that served it, from the access log."""
    served = {}
    for record in proxy.records():
        message = record.get("message", "")
        if record.get("logger") == "aiohttp.access" and "POST /v1/chat/completions" in message:
            served[re.search(r"request_id=(\S+)", message).group(1)] = int(re.search(r"pid=<?(\d+)", message).group(1))
    return served


def requests_counted(metrics: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
               if line.startswith("llmcore_requests_total{") and f'model="{GROK}"' in line)


class OpenStream(threading.Thread):
    """A streamed request read to its end; ``first`` is set once its first event arrived."""

    def __init__(self, url: str, master_key: str) -> None:
        super().__init__(daemon=True)
        self.url, self.master_key = url, master_key
        self.first = threading.Event()
        self.events: list[str] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with fresh_connections(self.master_key) as http, http.stream(
                    "POST", f"{self.url}/v1/chat/completions",
                    json={"model": GROK, "messages": HELLO, "stream": True}) as response:
                for event in data_lines(response):
                    self.events.append(event)
                    self.first.set()
        except BaseException as error:  # a cut connection is what this test must never see
            self.error = error

    @property
    def ending(self) -> str:
        """complete, drained (the shutting-down error event) or cut (no [DONE])."""
        if self.error is not None or not self.events or self.events[-1] != "[DONE]":
            return "cut"
        last = json.loads(self.events[-2])
        if "error" in last:
            assert last["error"]["code"] == "server_shutting_down", last
            return "drained"
        assert last["choices"][0]["finish_reason"] == "stop", last
        return "complete"


def test_two_workers_share_the_load_count_it_together_and_drain_every_stream(tmp_path: Path, keys) -> None:
    # 20-chunk streams: instant for the 200 requests, then paced for the drain (scripted below).
    with FakeXAIServer(api_key=keys["grok"], stream_chunks=20) as fake:
        proxy = WorkersProxy(tmp_path, child_env(fake, keys, tmp_path), "--workers", "2", "--grace-seconds", "4")
        try:
            url = proxy.wait_ready(2)
            worker_pids = {r["pid"] for r in proxy.events("worker_ready")}
            assert len(worker_pids) == 2 and proxy.process.pid not in worker_pids

            # 200 requests, half streamed, 16 at a time, each on a new connection.
            with ThreadPoolExecutor(16) as pool:
                request_ids = list(pool.map(lambda i: one_request(url, keys["master"], i % 2 == 0), range(200)))
            time.sleep(0.5)  # the access log line of the last request is written after its last byte
            served = served_by(proxy)
            assert set(request_ids) <= served.keys()
            pids = {served[request_id] for request_id in request_ids}
            assert pids == worker_pids, f"both workers serve: {pids} vs {worker_pids}"

            # Every scrape, whichever worker answers it, counts all 200.
            with fresh_connections(keys["master"]) as http:
                for _ in range(6):
                    metrics = http.get(f"{url}/metrics")
                    assert metrics.status_code == 200
                    assert requests_counted(metrics.text) == 200
                    assert 'llmcore_model_available{model="grok-code-fast-1"} 1.0' in metrics.text

            # 20 open streams: 10 finish within the grace (3 s of chunks), 10 could not (20 s).
            fake.script(*[Fault.slow_chunks(0.15)] * 10, *[Fault.slow_chunks(1.0)] * 10)
            streams = [OpenStream(url, keys["master"]) for _ in range(20)]
            for stream in streams:
                stream.start()
            for stream in streams:
                assert stream.first.wait(30), "every stream started before the SIGTERM"
            assert all(s.is_alive() for s in streams)
            signalled = time.monotonic()
            proxy.process.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            with httpx.Client(trust_env=False, timeout=5) as http, pytest.raises(httpx.ConnectError):
                http.get(f"{url}/health")  # new connections are refused while the streams drain
            for stream in streams:
                stream.join(15)
            code = proxy.process.wait(15)
            stopped_after = time.monotonic() - signalled
        finally:
            proxy.stop()
    endings = [stream.ending for stream in streams]
    assert "cut" not in endings, [(s.events[-2:], s.error) for s in streams if s.ending == "cut"]
    assert endings.count("complete") == 10 and endings.count("drained") == 10, endings
    assert code == EXIT_DRAIN_INCOMPLETE  # the grace ran out with streams open: said by the exit code
    assert stopped_after < 4 + 3, "the workers leave within the grace (plus the master's own exit)"
    log = "".join(proxy.lines)
    assert {r["cut"] for r in proxy.events("proxy_drain_incomplete")} <= {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
    assert sum(r["cut"] for r in proxy.events("proxy_drain_incomplete")) == 10
    assert keys["grok"] not in log and keys["master"] not in log


def test_auto_workers_without_preload_drain_an_idle_server_and_exit_0(tmp_path: Path, keys) -> None:
    with FakeXAIServer(api_key=keys["grok"]) as fake:
        proxy = WorkersProxy(tmp_path, child_env(fake, keys, tmp_path), "--workers", "auto", "--no-preload")
        try:
            expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
            url = proxy.wait_listening()
            # Asked while the workers still import LiteLLM: the connection waits until a warmed-up worker
            # accepts it; nothing answers readiness before that.
            with httpx.Client(trust_env=False, timeout=START_SECONDS) as http:
                assert http.get(f"{url}/health/readiness").status_code == 200
            proxy.wait_ready(expected)
            first_answer = next(i for i, r in enumerate(proxy.records()) if r.get("logger") == "aiohttp.access")
            answered_by = int(re.search(r"pid=<?(\d+)", proxy.records()[first_answer]["message"]).group(1))
            assert any(r.get("event") == "worker_ready" and r["pid"] == answered_by
                       for r in proxy.records()[:first_answer]), "readiness answered only once its worker was warm"
            run_dirs = list(tmp_path.glob("llmcore-proxy-*"))
            assert len(run_dirs) == 1 and (run_dirs[0] / "metrics").is_dir()
            proxy.process.send_signal(signal.SIGTERM)
            code = proxy.process.wait(30)
        finally:
            proxy.stop()
    assert code == 0, "".join(proxy.lines)
    assert "loaded per worker" in proxy.events("proxy_started")[0]["message"]
    assert len(proxy.events("worker_ready")) == expected
    assert not list(tmp_path.glob("llmcore-proxy-*")), "the run directory is removed at exit"
