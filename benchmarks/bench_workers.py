"""``llmcore proxy --workers N`` side by side: 1 worker, 2 workers with preload, 2 without.

    python -m benchmarks.bench_workers [--rounds 3] [--quick]

For each configuration, in interleaved rounds (1, 2, 2-no-preload, then again, each round
starting from another one so drift in the machine's load spreads evenly): the proxy as a
subprocess in front of the fake xAI server (20-chunk streams, 0 ms), a warm-up, then plain requests
and streams at concurrency 32 from this process's aiohttp load generator. Measured:

- **CPU per request**: user + system CPU of the proxy's whole process tree (master and workers)
  over the phase, divided by the requests served; what one core serves is 1000 / that.
- **RPS**: requests per second at concurrency 32. Nothing is pinned: the load generator, the fake
  upstream and the workers share the machine's cores, so RPS says how the configurations compare
  under the same contention, not what a dedicated core does; CPU per request is the sizing figure.
- **RSS and PSS per worker**, after the load, from ``/proc/<pid>/smaps_rollup``: PSS divides each
  shared page among the processes mapping it, so the sum of PSS is what the workers really cost
  together; with preload, LiteLLM's pages are shared copy-on-write with the master.

Results: ``benchmarks/results/workers-<time>.json`` and a markdown table on stdout
(docs/performance.md, "Workers", quotes one run). The machine is shared: read ratios within a run.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import procfs
from benchmarks.loadgen import LoadClient, chat_body
from benchmarks.runner import revision
from benchmarks.targets import (
    MODEL, REPO, VENV_BIN, FakeUpstream, base_env, free_port, spawn, stop, wait_until_ok, write_config,
)

CONFIGURATIONS = (("1 worker", 1, True), ("2 workers", 2, True), ("2 workers, no preload", 2, False))
CONCURRENCY = 32
SCENARIOS = (("plain", False, 1500, 200), ("stream", True, 400, 64))  # name, stream, requests, warm-up
TIME_CAP = 20.0


def memory(pid: int) -> dict[str, float]:
    """Rss and Pss of one process in MiB (``/proc/<pid>/smaps_rollup``)."""
    values = {}
    for line in (procfs.PROC / str(pid) / "smaps_rollup").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("Rss", "Pss"):
            values[key.lower() + "_mb"] = round(int(rest.split()[0]) / 1024, 1)
    return values


def workers_of(pid: int, expected: int) -> list[int]:
    """The worker pids under a gunicorn master (the process itself when it serves alone)."""
    if expected == 1:
        return [pid]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = procfs.children(pid)
        if len(found) == expected:
            return sorted(found)
        time.sleep(0.2)
    raise RuntimeError(f"{expected} workers expected under {pid}, found {procfs.children(pid)}")


async def load(url: str, auth: dict[str, str], stream: bool, requests: int, warmup: int, server: int,
               fake: int, quick: bool) -> dict[str, Any]:
    """One phase; ``foreign_cpu_s``: CPU the machine spent meanwhile outside this benchmark's processes."""
    async with LoadClient(url, [chat_body(MODEL, stream)], auth, CONCURRENCY) as client:
        await client.phase(warmup if not quick else 32, TIME_CAP)
        before, ours, busy = procfs.tree_cpu(server), procfs.cpu_seconds([os.getpid(), fake]), \
            procfs.machine_busy_seconds()
        result = await client.phase(requests if not quick else requests // 5, TIME_CAP)
        result.cpu_seconds = procfs.tree_cpu(server) - before
        foreign = (procfs.machine_busy_seconds() - busy) - result.cpu_seconds - (
            procfs.cpu_seconds([os.getpid(), fake]) - ours)
    summary = result.summary()
    figures = {k: summary[k] for k in ("requests_ok", "errors", "rps", "p50_ms", "p99_ms",
                                       "server_cpu_ms_per_request")}
    return {**figures, "elapsed_s": summary["elapsed_s"], "foreign_cpu_s": round(max(0.0, foreign), 1)}


def one_run(workers: int, preload: bool, config: Path, env: dict[str, str], auth: dict[str, str], log: Path,
            fake: int, quick: bool) -> dict[str, Any]:
    port = free_port()
    argv = [str(VENV_BIN / "llmcore"), "--config", str(config), "proxy", "--port", str(port), "--workers",
            str(workers)] + ([] if preload else ["--no-preload"])
    started = time.perf_counter()
    process = spawn(argv, env, None, log)
    try:
        wait_until_ok(process, port, "/health", log)
        pids = workers_of(process.pid, workers)
        ready_s = round(time.perf_counter() - started, 2)
        url = f"http://127.0.0.1:{port}/v1/chat/completions"
        scenarios = {name: asyncio.run(load(url, auth, stream, requests, warmup, process.pid, fake, quick))
                     for name, stream, requests, warmup in SCENARIOS}
        per_worker = [memory(pid) for pid in pids]
        master = memory(process.pid) if workers > 1 else None
        return {"ready_s": ready_s, "scenarios": scenarios, "workers": per_worker, "master": master}
    finally:
        stop(process)


def median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 2) if present else None


def table(runs: dict[str, list[dict[str, Any]]]) -> str:
    rows = ["| configuration | ready s | CPU ms / plain request | CPU ms / stream | plain RPS (c=32) "
            "| streams/s (c=32) | plain requests one core serves | RSS per worker MiB | PSS per worker MiB "
            "| PSS all workers MiB | master RSS / PSS MiB |", "|" + "---|" * 11]
    for name, rounds in runs.items():
        def scenario(key: str, field: str) -> float | None:
            return median([r["scenarios"][key][field] for r in rounds])
        cpu = scenario("plain", "server_cpu_ms_per_request")
        rss = median([statistics.mean(w["rss_mb"] for w in r["workers"]) for r in rounds])
        pss = median([statistics.mean(w["pss_mb"] for w in r["workers"]) for r in rounds])
        pss_all = median([sum(w["pss_mb"] for w in r["workers"]) for r in rounds])
        masters = [r["master"] for r in rounds if r["master"]]
        master = (f"{median([m['rss_mb'] for m in masters])} / {median([m['pss_mb'] for m in masters])}"
                  if masters else "-")
        rows.append(f"| {name} | {median([r['ready_s'] for r in rounds])} | {cpu} "
                    f"| {scenario('stream', 'server_cpu_ms_per_request')} "
                    f"| {scenario('plain', 'rps')} | {scenario('stream', 'rps')} "
                    f"| {round(1000 / cpu) if cpu else '-'} | {rss} | {pss} | {pss_all} | {master} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_workers", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the three configurations")
    parser.add_argument("--quick", action="store_true", help="a fifth of the requests (a smoke run, not figures)")
    parser.add_argument("--only", choices=[name for name, _, _ in CONFIGURATIONS], action="append",
                        help="run only this configuration (repeatable)")
    args = parser.parse_args(argv)
    stamp = time.strftime("%Y-%m-%dT%H-%M-%S", time.gmtime())
    out = REPO / "benchmarks" / "results" / f"workers-{stamp}"
    key, master = "xai-bench-" + secrets.token_hex(8), "sk-bench-" + secrets.token_hex(12)
    env = base_env({"GROK_API_KEY": key, "BENCH_MASTER_KEY": master, "HOME": str(out)})
    fake = FakeUpstream(env, "GROK_API_KEY", out / "logs" / "fake-xai.log", None).start()
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _, _ in CONFIGURATIONS
                                             if not args.only or name in args.only}
    busy_before, started = procfs.machine_busy_seconds(), time.perf_counter()
    try:
        env["GROK_BASE_URL"] = fake.base_url
        config = write_config(out / "bench-config.yaml", [dict(
            alias=MODEL, upstream=MODEL, key_env="GROK_API_KEY", base_env="GROK_BASE_URL", max_retries=0)])
        auth = {"Authorization": f"Bearer {master}"}
        for index in range(args.rounds):
            chosen = [c for c in CONFIGURATIONS if not args.only or c[0] in args.only]
            order = chosen[index % len(chosen):] + chosen[:index % len(chosen)]
            for name, workers, preload in order:
                fake.control("/_fake/clear")
                log = out / "logs" / f"proxy-{workers}-{'preload' if preload else 'no-preload'}.log"
                result = one_run(workers, preload, config, env, auth, log, fake.pid, args.quick)
                runs[name].append(result)
                print(f"round {index + 1} {name:<22} " + json.dumps(result["scenarios"]), file=sys.stderr)
    finally:
        fake.stop()
    wall = time.perf_counter() - started
    document = {"revision": revision(), "started": stamp, "cpus": sorted(procfs.ALL_CPUS), "rounds": args.rounds,
                "quick": args.quick, "load_average": os.getloadavg(), "wall_s": round(wall, 1),
                "machine_busy_cpu_s": round(procfs.machine_busy_seconds() - busy_before, 1), "runs": runs}
    out.mkdir(parents=True, exist_ok=True)
    (out / "workers.json").write_text(json.dumps(document, indent=2), "utf-8")
    print(table(runs))
    phases = [phase for rounds in runs.values() for r in rounds for phase in r["scenarios"].values()]
    foreign = sum(phase["foreign_cpu_s"] for phase in phases)
    measured = sum(phase["elapsed_s"] for phase in phases)
    print(f"\nforeign load: {foreign:.0f} CPU-s of other processes over {measured:.0f} s of measurement "
          f"({foreign / max(measured, 1e-9):.2f} cores of {len(procfs.ALL_CPUS)})")
    print(f"\n{args.rounds} interleaved rounds, {wall:.0f} s, machine CPU busy {document['machine_busy_cpu_s']} s "
          f"(all processes), revision {document['revision']}; {out / 'workers.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
