"""An asyncio + aiohttp load generator for OpenAI-compatible chat endpoints on 127.0.0.1.

Bounded: a phase sends at most ``requests`` requests and stops starting new ones at its time
cap; every request has a timeout. Streams are read to their end: ``data: [DONE]`` (chat completions),
``message_stop`` (Anthropic Messages) or ``response.completed`` (OpenAI Responses).

    async with LoadClient(url, [Body(payload, stream=False)], headers, concurrency=32) as client:
        await client.phase(requests=64, time_cap=10)      # warm-up, discarded
        result = await client.phase(requests=2000, time_cap=30)
    result.summary()  # rps, p50/p90/p99 ms, ttfb, errors
"""
from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp

REQUEST_TIMEOUT = 60.0
LOOPBACK = ("127.0.0.1", "localhost", "::1")
MAX_ERROR_SAMPLES = 5
DONE = b"data: [DONE]"
# How each wire API's stream ends well, and how it ends badly (the start of the data line).
ENDS = (b'data: {"type":"message_stop"', b'data: {"type":"response.completed"')
FAILURES = (b'data: {"type":"response.failed"', b'data: {"type":"error"')


@dataclass(frozen=True)
class Body:
    """One request body and whether it asks for a stream."""

    payload: bytes
    stream: bool


def chat_body(model: str, stream: bool, content: str = "Say hi in Portuguese.") -> Body:
    document: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": content}]}
    if stream:
        document.update(stream=True, stream_options={"include_usage": True})
    return Body(json.dumps(document).encode(), stream)


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile of ``values`` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(fraction * len(ordered) + 0.5)) - 1))
    return ordered[index]


@dataclass
class LoadResult:
    """What one phase measured; times in seconds inside, milliseconds in ``summary()``."""

    concurrency: int
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    ttfbs: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    cpu_seconds: float | None = None  # of the server under test, filled in by the caller

    @property
    def completed(self) -> int:
        return len(self.latencies)

    @property
    def errors(self) -> int:
        return sum(n for outcome, n in self.outcomes.items() if outcome != "ok")

    def record(self, started: float, first_byte: float | None, outcome: str, detail: str = "") -> None:
        self.outcomes[outcome] += 1
        if outcome == "ok":
            self.latencies.append(time.perf_counter() - started)
            if first_byte is not None:
                self.ttfbs.append(first_byte - started)
        elif len(self.error_samples) < MAX_ERROR_SAMPLES:
            self.error_samples.append(f"{outcome}: {detail}"[:300])

    def summary(self) -> dict[str, Any]:
        def ms(value: float | None) -> float | None:
            return None if value is None else round(value * 1000, 3)

        done = self.completed
        cpu_ms = None
        if self.cpu_seconds is not None and done:
            cpu_ms = round(self.cpu_seconds * 1000 / done, 3)
        return {
            "concurrency": self.concurrency,
            "requests_ok": done,
            "errors": self.errors,
            "outcomes": dict(self.outcomes),
            "error_samples": list(self.error_samples),
            "elapsed_s": round(self.elapsed, 3),
            "rps": round(done / self.elapsed, 1) if self.elapsed > 0 else None,
            "p50_ms": ms(percentile(self.latencies, 0.50)),
            "p90_ms": ms(percentile(self.latencies, 0.90)),
            "p99_ms": ms(percentile(self.latencies, 0.99)),
            "ttfb_p50_ms": ms(percentile(self.ttfbs, 0.50)),
            "ttfb_p90_ms": ms(percentile(self.ttfbs, 0.90)),
            "server_cpu_ms_per_request": cpu_ms,
        }


def require_loopback(url: str) -> None:
    host = urlsplit(url).hostname
    if host not in LOOPBACK:
        raise ValueError(f"the load generator only sends traffic to this machine's loopback, not to {host!r}")


async def _read_stream(response: aiohttp.ClientResponse, started: float) -> tuple[float | None, str, str]:
    """(time of the first event, outcome, detail) for an SSE answer read to its end."""
    first_byte: float | None = None
    done = False
    error = ""
    async for line in response.content:
        if not line.startswith(b"data:"):
            continue
        if first_byte is None:
            first_byte = time.perf_counter()
        if line.startswith(DONE) or line.startswith(ENDS):
            done = True
        elif b'"error"' in line[:40] or line.startswith(FAILURES):
            error = line[:200].decode(errors="replace")
    if error:
        return first_byte, "stream_error_event", error
    return first_byte, ("ok" if done else "stream_without_done"), ""


class LoadClient:
    """A pool of ``concurrency`` keep-alive connections to one URL, sending the bodies in turn."""

    def __init__(self, url: str, bodies: Sequence[Body], headers: Mapping[str, str], concurrency: int) -> None:
        require_loopback(url)
        if not bodies:
            raise ValueError("at least one body is needed")
        self._url = url
        self._bodies = tuple(bodies)
        self._headers = {"Content-Type": "application/json", **headers}
        self.concurrency = concurrency
        self._session: aiohttp.ClientSession | None = None
        self._sent = 0

    async def __aenter__(self) -> LoadClient:
        connector = aiohttp.TCPConnector(limit=self.concurrency, limit_per_host=self.concurrency)
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT), trust_env=False,
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _one(self, body: Body, result: LoadResult) -> None:
        assert self._session is not None
        started = time.perf_counter()
        first_byte: float | None = None
        try:
            async with self._session.post(self._url, data=body.payload, headers=self._headers) as response:
                if response.status != 200:
                    text = await response.text(errors="replace")
                    result.record(started, None, f"http_{response.status}", text[:200])
                    return
                if body.stream:
                    first_byte, outcome, detail = await _read_stream(response, started)
                    result.record(started, first_byte, outcome, detail)
                else:
                    await response.read()
                    result.record(started, None, "ok")
        except asyncio.TimeoutError:
            result.record(started, None, "timeout", f"no complete answer in {REQUEST_TIMEOUT:g} s")
        except (aiohttp.ClientError, ConnectionError) as exc:
            result.record(started, None, f"exception_{type(exc).__name__}", str(exc))

    async def phase(self, requests: int, time_cap: float) -> LoadResult:
        """Send up to ``requests`` requests with ``concurrency`` workers; none is started after ``time_cap``."""
        result = LoadResult(self.concurrency)
        tickets = iter(range(requests))
        deadline = time.perf_counter() + time_cap

        async def worker() -> None:
            for _ in tickets:  # shared: the workers together take exactly `requests` tickets
                if time.perf_counter() >= deadline:
                    return
                body = self._bodies[self._sent % len(self._bodies)]
                self._sent += 1
                await self._one(body, result)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(min(self.concurrency, max(requests, 1)))))
        result.elapsed = time.perf_counter() - started
        return result
