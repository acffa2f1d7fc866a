"""The soak: 50,000 requests at concurrency 64 through the llmcore proxy, 5 % of them meeting a fault.

    python -m benchmarks.soak [--requests 50000] [--concurrency 64] [--fault-rate 0.05] [--time-cap 600]

Two models, each with its own fake xAI server and its own key. Each fake is scripted (control
API ``POST /_fake/script``) with one fault every ``1 / fault-rate`` upstream requests, cycling
through transient faults llmcore retries (429 with Retry-After, 500, 503, an HTML 502, a dropped
connection), permanent ones it must pass on (credits exhausted: 429; incorrect key: 502) and a
stream cut mid-way (an SSE error event). One request in ten is streamed. Unexpected failures are
every outcome other than a 200 and the statuses those faults map to (goal: 0). The proxy's RSS is
read after a fault-free warm-up and after the soak (goal: growth under 10 %).
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import http.client
import json
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import procfs
from benchmarks.loadgen import LoadClient, LoadResult, chat_body
from benchmarks.targets import FakeUpstream, ProxyProcess, base_env, llmcore_proxy, write_config

RESULTS = Path(__file__).resolve().parent / "results"
MODELS = ("grok-code-fast-1", "grok-code-fast-1-b")
# What the proxy answers for each injected fault when it is not (or no longer) retried.
FAULTS: tuple[tuple[dict[str, Any], str], ...] = (
    ({"kind": "rate_limit", "retry_after": 1}, "retried; 429 if the retries run out"),
    ({"kind": "server_error"}, "retried; 502 if the retries run out"),
    ({"kind": "credits_exhausted"}, "not retried: 429 insufficient_quota"),
    ({"kind": "unavailable"}, "retried; 502/503 if the retries run out"),
    ({"kind": "bad_gateway_html"}, "retried; 502 if the retries run out"),
    ({"kind": "bad_key"}, "not retried: 502 upstream_auth_failed"),
    ({"kind": "drop_connection"}, "retried; 502 if the retries run out"),
    ({"kind": "cut_mid_stream", "after_events": 5}, "a stream: SSE error event then [DONE]; non-stream: 200"),
)
EXPECTED_OUTCOMES = frozenset({"ok", "http_429", "http_502", "http_503", "http_504", "stream_error_event"})
RETRY_INFO = """\
    model_info:
      retry: {backoff_base: 0.01, backoff_max: 0.05, retry_after_max: 0.05}
"""
SCRIPT_BATCH = 5000
RSS_SAMPLE_EVERY = 10.0
WARMUP_REQUESTS = 1000


def fault_script(upstream_requests: int, rate: float) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """One fault every 1/rate entries (the rest ``ok``), cycling through FAULTS; and how many of each."""
    every = max(1, round(1 / rate))
    script: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    injected = 0
    for index in range(upstream_requests):
        if index % every == every // 2:
            fault = FAULTS[injected % len(FAULTS)][0]
            injected += 1
            counts[fault["kind"]] = counts.get(fault["kind"], 0) + 1
            script.append(fault)
        else:
            script.append({"kind": "ok"})
    return script, counts


def _upstream_record(fake: FakeUpstream, key: str) -> dict[str, int]:
    """How many chat requests a fake saw, and how many carried a key other than its own."""
    connection = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=300)
    try:
        connection.request("GET", "/_fake/requests")
        records = json.loads(connection.getresponse().read())
    finally:
        connection.close()
    return {"upstream_requests": len(records),
            "foreign_key_requests": sum(1 for r in records if r.get("key_tail") != key[-4:])}


def bodies() -> list[Any]:
    """Twenty bodies, alternating the models; two of them (one per model) streamed: 10 % streams."""
    return [chat_body(MODELS[i % 2], stream=i in (4, 15)) for i in range(20)]


async def _soak(proxy: ProxyProcess, master: str, requests: int, concurrency: int, time_cap: float,
                rss_samples: list[tuple[float, float]]) -> LoadResult:
    auth = {"Authorization": f"Bearer {master}"}
    started = time.perf_counter()

    async def sample_rss() -> None:
        for _ in range(int(time_cap / RSS_SAMPLE_EVERY) + 2):
            rss_samples.append((round(time.perf_counter() - started, 1), procfs.tree_rss(proxy.pid) / 2**20))
            await asyncio.sleep(RSS_SAMPLE_EVERY)

    sampler = asyncio.create_task(sample_rss())
    try:
        async with LoadClient(proxy.url, bodies(), auth, concurrency) as client:
            return await client.phase(requests, time_cap)
    finally:
        sampler.cancel()


async def _warm_up(proxy: ProxyProcess, master: str, concurrency: int) -> LoadResult:
    async with LoadClient(proxy.url, bodies(), {"Authorization": f"Bearer {master}"}, concurrency) as client:
        return await client.phase(WARMUP_REQUESTS, 120)


def run(requests: int, concurrency: int, fault_rate: float, time_cap: float, out_dir: Path) -> dict[str, Any]:
    cores = procfs.Cores()
    procfs.pin(os.getpid(), cores.loadgen)
    keys = ["xai-soak-a-" + secrets.token_hex(8), "xai-soak-b-" + secrets.token_hex(8)]
    master = "sk-soak-" + secrets.token_hex(12)
    env = base_env({"SOAK_KEY_A": keys[0], "SOAK_KEY_B": keys[1], "BENCH_MASTER_KEY": master})
    fakes = [FakeUpstream(env, name, out_dir / f"fake-{tag}.log", cores.loadgen)
             for name, tag in (("SOAK_KEY_A", "a"), ("SOAK_KEY_B", "b"))]
    proxy: ProxyProcess | None = None
    try:
        for fake in fakes:
            fake.start()
        env.update(SOAK_BASE_A=fakes[0].base_url, SOAK_BASE_B=fakes[1].base_url)
        config = write_config(out_dir / "soak-config.yaml", [
            dict(alias=MODELS[0], upstream="grok-code-fast-1", key_env="SOAK_KEY_A", base_env="SOAK_BASE_A",
                 max_retries=2, model_info=RETRY_INFO),
            dict(alias=MODELS[1], upstream="grok-code-fast-1", key_env="SOAK_KEY_B", base_env="SOAK_BASE_B",
                 max_retries=2, model_info=RETRY_INFO),
        ])
        proxy = llmcore_proxy(config, env, out_dir / "llmcore-proxy.log", cores.server)
        start = proxy.start({"Authorization": f"Bearer {master}"})
        warm = asyncio.run(_warm_up(proxy, master, concurrency))
        rss_before = procfs.tree_rss(proxy.pid) / 2**20
        injected: dict[str, int] = {}
        for fake in fakes:
            fake.control("/_fake/clear")  # forget the warm-up's records: the script starts at the soak's first request
            script, counts = fault_script(requests // 2 + requests // 20, fault_rate)
            for offset in range(0, len(script), SCRIPT_BATCH):
                fake.control("/_fake/script", {"faults": script[offset:offset + SCRIPT_BATCH], "model": None})
            for kind, count in counts.items():
                injected[kind] = injected.get(kind, 0) + count
        rss_samples: list[tuple[float, float]] = []
        cpu_before = procfs.tree_cpu(proxy.pid)
        result = asyncio.run(_soak(proxy, master, requests, concurrency, time_cap, rss_samples))
        cpu = procfs.tree_cpu(proxy.pid) - cpu_before
        rss_after = procfs.tree_rss(proxy.pid) / 2**20
        seen = [_upstream_record(fake, key) for fake, key in zip(fakes, keys)]
    finally:
        if proxy is not None:
            proxy.stop()
        for fake in fakes:
            fake.stop()
    consumed: dict[str, int] = {}
    for record in seen:
        script, _ = fault_script(requests // 2 + requests // 20, fault_rate)
        for fault in script[:record["upstream_requests"]]:
            if fault["kind"] != "ok":
                consumed[fault["kind"]] = consumed.get(fault["kind"], 0) + 1
    summary = result.summary()
    total = sum(result.outcomes.values())
    unexpected = {k: v for k, v in result.outcomes.items() if k not in EXPECTED_OUTCOMES}
    return {
        "requests_planned": requests, "requests_sent": total, "concurrency": concurrency,
        "fault_rate": fault_rate, "elapsed_s": round(result.elapsed, 1), "rps": round(total / result.elapsed, 1),
        "proxy_start": start, "warmup_errors": warm.errors,
        "faults_scripted": injected, "faults_consumed": consumed,
        "never_retried_faults": consumed.get("credits_exhausted", 0) + consumed.get("bad_key", 0),
        "error_answers": sum(n for outcome, n in result.outcomes.items() if outcome.startswith("http_")),
        "upstream_requests": [r["upstream_requests"] for r in seen],
        "foreign_key_requests": sum(r["foreign_key_requests"] for r in seen),
        "faults_meaning": {f["kind"]: meaning for f, meaning in FAULTS},
        "outcomes": dict(result.outcomes), "unexpected_failures": sum(unexpected.values()),
        "unexpected_by_outcome": unexpected, "error_samples": result.error_samples,
        "latency_ms": {k: summary[k] for k in ("p50_ms", "p90_ms", "p99_ms")},
        "server_cpu_ms_per_request": round(cpu * 1000 / total, 3) if total else None,
        "rss_before_mb": round(rss_before, 1), "rss_after_mb": round(rss_after, 1),
        "rss_growth_pct": round(100 * (rss_after - rss_before) / rss_before, 2) if rss_before else None,
        "rss_samples_mb": [(t, round(v, 1)) for t, v in rss_samples],
        "pinning": cores.describe(),
    }


def render(report: dict[str, Any]) -> str:
    growth = report["rss_growth_pct"]
    lines = [
        f"Soak: {report['requests_sent']:,} of {report['requests_planned']:,} requests at concurrency "
        f"{report['concurrency']} in {report['elapsed_s']} s ({report['rps']} requests/s), two models, "
        f"{report['fault_rate']:.0%} of upstream requests faulted; {report['pinning']}.",
        "",
        "| figure | value | goal |",
        "|---|---|---|",
        f"| unexpected failures | {report['unexpected_failures']} {report['unexpected_by_outcome'] or ''} | 0 |",
        f"| outcomes | {report['outcomes']} | 200, or the status of an injected fault |",
        f"| upstream requests (fake A, fake B; retries included) | {report['upstream_requests']} | |",
        f"| faults that met a request (both fakes) | {report['faults_consumed']} | |",
        f"| error answers expected from the faults that are never retried (credits exhausted → 429, incorrect "
        f"key → 502) | {report['never_retried_faults']} (seen: {report['error_answers']} error answers) | |",
        f"| upstream requests carrying the other model's key | {report['foreign_key_requests']} | 0 |",
        f"| RSS before (after a fault-free warm-up) / after | {report['rss_before_mb']} MB / "
        f"{report['rss_after_mb']} MB | |",
        f"| RSS growth | {growth} % | < 10 % |",
        f"| latency p50 / p90 / p99 (successful requests) | {report['latency_ms']['p50_ms']} / "
        f"{report['latency_ms']['p90_ms']} / {report['latency_ms']['p99_ms']} ms | |",
        f"| proxy CPU per request | {report['server_cpu_ms_per_request']} ms | |",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--fault-rate", type=float, default=0.05)
    parser.add_argument("--time-cap", type=float, default=600.0, help="seconds; no request is started after it")
    args = parser.parse_args(argv)
    if not 0 < args.fault_rate < 1:
        parser.error("--fault-rate must be between 0 and 1")
    out_dir = RESULTS / ("soak-" + dt.datetime.now().strftime("%Y-%m-%dT%H-%M-%S"))
    out_dir.mkdir(parents=True, exist_ok=True)
    report = run(args.requests, args.concurrency, args.fault_rate, min(args.time_cap, 3600.0), out_dir)
    (out_dir / "soak.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    table = render(report)
    (out_dir / "soak.md").write_text(table, encoding="utf-8")
    print(table)
    print(f"JSON: {out_dir / 'soak.json'}")
    ok = (report["unexpected_failures"] == 0 and (report["rss_growth_pct"] or 0) < 10
          and report["foreign_key_requests"] == 0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
