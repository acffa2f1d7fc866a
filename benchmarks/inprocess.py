"""Target (d): ``litellm.acompletion`` as a library, N concurrent calls in the process that makes the load.

This module is that process: the runner starts ``python -m benchmarks.inprocess --base-url URL``
(key in ``GROK_API_KEY``), which imports LiteLLM, announces itself with one JSON line on stdout,
then runs one scenario per JSON command line on stdin and answers with one JSON result line.
It is a process of its own so that LiteLLM's import (seconds, ~200 MB of heap and the garbage
collector's walks over it) stays out of the HTTP load generator that measures the other targets.
The calls carry the kwargs a plain LiteLLM user would pass: model, messages, api_key, api_base,
timeout and max_retries=0.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from benchmarks.loadgen import LoadResult
from benchmarks.targets import MODEL, READY_TIMEOUT, ServerDied, stop

MESSAGES = [{"role": "user", "content": "Say hi in Portuguese."}]
COMMAND_TIMEOUT = 900.0
MAX_COMMANDS = 10_000


def call_kwargs(base_url: str, key: str, stream: bool) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"model": f"openai/{MODEL}", "messages": MESSAGES, "api_key": key,
                              "api_base": base_url, "timeout": 60, "max_retries": 0}
    if stream:
        kwargs.update(stream=True, stream_options={"include_usage": True})
    return kwargs


async def _one(litellm: Any, kwargs: dict[str, Any], stream: bool, result: LoadResult) -> None:
    started = time.perf_counter()
    try:
        response = await litellm.acompletion(**{**kwargs, "messages": [dict(m) for m in MESSAGES]})
        first = None
        if stream:
            async for _chunk in response:
                if first is None:
                    first = time.perf_counter()
        result.record(started, first, "ok")
    except Exception as exc:  # any failure is an error of this request, counted and sampled
        result.record(started, None, f"exception_{type(exc).__name__}", str(exc))


async def _phase(litellm: Any, kwargs: dict[str, Any], stream: bool, concurrency: int, requests: int,
                 time_cap: float) -> LoadResult:
    result = LoadResult(concurrency)
    tickets = iter(range(requests))
    deadline = time.perf_counter() + time_cap

    async def worker() -> None:
        for _ in tickets:
            if time.perf_counter() >= deadline:
                return
            await _one(litellm, kwargs, stream, result)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(min(concurrency, max(requests, 1)))))
    result.elapsed = time.perf_counter() - started
    return result


async def _serve(base_url: str, key: str) -> None:
    started = time.perf_counter()
    import litellm

    litellm.suppress_debug_info = True
    _emit({"ready": True, "import_s": round(time.perf_counter() - started, 3), "pid": os.getpid()})
    loop = asyncio.get_running_loop()
    for _ in range(MAX_COMMANDS):
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        command = json.loads(line)
        if command.get("quit"):
            break
        stream = bool(command["stream"])
        kwargs = call_kwargs(base_url, key, stream)
        await _phase(litellm, kwargs, stream, command["concurrency"], command["warmup"], command["time_cap"])
        cpu_before = time.process_time()
        result = await _phase(litellm, kwargs, stream, command["concurrency"], command["requests"],
                              command["time_cap"])
        result.cpu_seconds = time.process_time() - cpu_before
        _emit(result.summary())
    await litellm.close_litellm_async_clients()


def _emit(document: Mapping[str, Any]) -> None:
    sys.stdout.write(json.dumps(document) + "\n")
    sys.stdout.flush()


class InProcessWorker:
    """The runner's handle on the worker process."""

    name = "litellm.acompletion in-process"

    def __init__(self, base_url: str, env: Mapping[str, str], log: Path, cpus: set[int] | None) -> None:
        self._argv = [sys.executable, "-m", "benchmarks.inprocess", "--base-url", base_url]
        self._env = {**env, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
        self._log = log
        self._cpus = cpus
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> dict[str, Any]:
        from benchmarks import procfs

        spawned = time.perf_counter()
        cpus = self._cpus
        with self._log.open("ab") as log:
            self.process = subprocess.Popen(
                self._argv, env=self._env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                start_new_session=True, preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None,
            )
        hello = self._read(READY_TIMEOUT)
        ready = time.perf_counter()
        return {"ready_s": round(ready - spawned, 3), "import_s": hello.get("import_s"),
                "rss_idle_mb": round(procfs.tree_rss(self.pid) / 2**20, 1)}

    def run(self, stream: bool, concurrency: int, requests: int, warmup: int, time_cap: float) -> dict[str, Any]:
        assert self.process is not None and self.process.stdin is not None
        command = {"stream": stream, "concurrency": concurrency, "requests": requests, "warmup": warmup,
                   "time_cap": time_cap}
        self.process.stdin.write((json.dumps(command) + "\n").encode())
        self.process.stdin.flush()
        return self._read(2 * time_cap + COMMAND_TIMEOUT)

    def _read(self, timeout: float) -> dict[str, Any]:
        import select

        assert self.process is not None and self.process.stdout is not None
        readable, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline() if readable else b""
        if not line:
            raise ServerDied(f"the in-process worker gave no answer (exit {self.process.poll()}); see {self._log}")
        return json.loads(line)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None and self.process.stdin is not None:
            try:
                self.process.stdin.write(b'{"quit": true}\n')
                self.process.stdin.flush()
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass
        if self.process is not None and self.process.stdin is not None:
            self.process.stdin.close()
        stop(self.process)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.inprocess")
    parser.add_argument("--base-url", required=True)
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.base_url, os.environ["GROK_API_KEY"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
