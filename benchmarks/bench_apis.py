"""``python -m benchmarks.bench_apis``: streams through the llmcore proxy's three wire APIs, side by side.

One llmcore proxy (pinned to the server CPU) in front of the fake xAI upstream (synthetic 20-chunk
streams, on the load generator's CPU); the same question asked as ``POST /v1/chat/completions``,
``POST /v1/messages`` and ``POST /v1/responses``, streamed, at concurrency 1 and 32. Rounds are
interleaved (the order rotates per round) so drift on a shared machine falls on every API alike;
the median round is reported. Each stream is read to its own end (``data: [DONE]``,
``message_stop``, ``response.completed``). Prints one Markdown table and writes
``benchmarks/results/apis-<time>.json``. Every process started here is stopped in a ``finally``.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import secrets
import statistics
import sys
from typing import Any

from benchmarks import procfs
from benchmarks.loadgen import Body, LoadClient
from benchmarks.runner import RESULTS, machine, revision
from benchmarks.targets import MODEL, FakeUpstream, base_env, llmcore_proxy, write_config

QUESTION = "Say hi in Portuguese."
APIS: dict[str, tuple[str, dict[str, Any]]] = {
    "chat_completions": ("/v1/chat/completions", {
        "model": MODEL, "messages": [{"role": "user", "content": QUESTION}], "stream": True,
        "stream_options": {"include_usage": True}}),
    "messages": ("/v1/messages", {
        "model": MODEL, "max_tokens": 256, "messages": [{"role": "user", "content": QUESTION}], "stream": True}),
    "responses": ("/v1/responses", {"model": MODEL, "input": QUESTION, "stream": True, "store": False}),
}


async def measure(url: str, body: dict[str, Any], master: str, concurrency: int, requests: int,
                  server_pid: int) -> dict[str, Any]:
    async with LoadClient(url, [Body(json.dumps(body).encode(), True)], {"Authorization": f"Bearer {master}"},
                          concurrency) as client:
        await client.phase(max(20, concurrency * 2), 30)  # warm-up, discarded
        before = procfs.tree_cpu(server_pid)
        result = await client.phase(requests, 60)
        result.cpu_seconds = procfs.tree_cpu(server_pid) - before
    return result.summary()


def median_of(rounds: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in rounds if r.get(key) is not None]
    return round(statistics.median(values), 3) if values else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=400, help="streams per API, concurrency and round")
    args = parser.parse_args(argv)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out_dir = RESULTS / f"apis-{stamp}"
    cores = procfs.Cores()
    key, master = "xai-bench-" + secrets.token_hex(8), "sk-bench-" + secrets.token_hex(12)
    env = base_env({"GROK_API_KEY": key, "BENCH_MASTER_KEY": master})
    fake = FakeUpstream(env, "GROK_API_KEY", out_dir / "logs" / "fake-xai.log", cores.loadgen)
    proxy = None
    results: dict[str, dict[int, list[dict[str, Any]]]] = {api: {1: [], 32: []} for api in APIS}
    try:
        fake.start()
        env = {**env, "GROK_BASE_URL": fake.base_url}
        config = write_config(out_dir / "bench-config.yaml", [dict(
            alias=MODEL, upstream=MODEL, key_env="GROK_API_KEY", base_env="GROK_BASE_URL", max_retries=0)])
        proxy = llmcore_proxy(config, env, out_dir / "logs" / "llmcore-proxy.log", cores.server)
        proxy.start({"Authorization": f"Bearer {master}"})
        procfs.pin(fake.pid, cores.loadgen)
        procfs.pin(proxy.pid, cores.server)
        for index in range(args.rounds):
            order = list(APIS)[index % len(APIS):] + list(APIS)[:index % len(APIS)]
            for concurrency in (1, 32):
                for api in order:
                    path, body = APIS[api]
                    summary = asyncio.run(measure(f"http://127.0.0.1:{proxy.port}{path}", body, master, concurrency,
                                                  args.requests, proxy.pid))
                    results[api][concurrency].append(summary)
                    print(f"round {index + 1} c={concurrency:<2} {api:<16} rps {summary['rps']} p50 "
                          f"{summary['p50_ms']} ms CPU/req {summary['server_cpu_ms_per_request']} ms errors "
                          f"{summary['errors']}", file=sys.stderr, flush=True)
    finally:
        if proxy is not None:
            proxy.stop()
        fake.stop()
    table = ["| API | c | streams/s | p50 ms | TTFB p50 ms | proxy CPU ms/stream | errors |",
             "|---|---|---|---|---|---|---|"]
    for api in APIS:
        for concurrency in (1, 32):
            rounds = results[api][concurrency]
            table.append(f"| {api} | {concurrency} | {median_of(rounds, 'rps')} | {median_of(rounds, 'p50_ms')} | "
                         f"{median_of(rounds, 'ttfb_p50_ms')} | {median_of(rounds, 'server_cpu_ms_per_request')} | "
                         f"{sum(r['errors'] for r in rounds)} |")
    print("\n".join(table))
    document = {"revision": revision(), "machine": machine(), "cores": cores.describe(), "args": vars(args),
                "results": {api: {str(c): rounds for c, rounds in by_c.items()} for api, by_c in results.items()}}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"apis-{stamp}.json").write_text(json.dumps(document, indent=1), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
