"""The llmcore proxy of this checkout against another checkout's, side by side: did a change cost throughput?

    git worktree add --detach /tmp/llmcore-base <commit>
    python -m benchmarks.bench_baseline --baseline-src /tmp/llmcore-base/src [--rounds 5] [--requests 1000]
        [--adapter native]

Both proxies run at once (the same fake xAI upstream, the same venv and LiteLLM; only ``llmcore``
is imported from a different ``src``), and the rounds alternate which one is loaded first, so a
burst of foreign load hits both sides of a ratio. Per round and kind (non-stream, stream, c=32):
requests per second and the server's CPU milliseconds per request (``utime + stime`` from
``/proc``). The ratios printed are medians over rounds of this checkout's figure over the
baseline's. Absolute figures move with the machine; the paired ratios are what to quote. For an
exact count of the work added, see ``benchmarks.bench_calls``. ``--adapter native`` serves the model
with the native adapter on both sides (``general_settings.llmcore_adapter``); the fake upstream's own
CPU per request is measured in the same phases, the floor issue 16 sets the proxy against.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import procfs
from benchmarks.loadgen import LoadClient, chat_body
from benchmarks.targets import MODEL, FakeUpstream, ProxyProcess, base_env, llmcore_proxy, write_config

KINDS = ("non-stream", "stream")
CONCURRENCY = 32
WARMUP_REQUESTS = 200


async def _phase(url: str, master: str, stream: bool, requests: int) -> tuple[float, int]:
    async with LoadClient(url, [chat_body(MODEL, stream)], {"Authorization": f"Bearer {master}"},
                          CONCURRENCY) as client:
        result = await client.phase(requests=requests, time_cap=300.0)
    return float(result.summary()["rps"]), result.errors


def measure_round(
    proxy: ProxyProcess, master: str, stream: bool, requests: int, fake_pid: int
) -> dict[str, float]:
    """One loaded phase against ``proxy``: RPS, server CPU ms per request and the fake upstream's CPU ms per request."""
    cpu_before, fake_before = procfs.tree_cpu(proxy.pid), procfs.tree_cpu(fake_pid)
    rps, errors = asyncio.run(_phase(proxy.url, master, stream, requests))
    cpu, fake_cpu = procfs.tree_cpu(proxy.pid) - cpu_before, procfs.tree_cpu(fake_pid) - fake_before
    if errors:
        raise RuntimeError(f"{proxy.name}: {errors} of {requests} requests failed; see {proxy.log}")
    return {"rps": rps, "cpu_ms": 1000 * cpu / requests, "fake_cpu_ms": 1000 * fake_cpu / requests}


def run(baseline_src: Path, rounds: int, requests: int, work: Path, adapter: str | None = None) -> dict[str, Any]:
    key, master = "xai-bench-" + secrets.token_hex(8), "sk-bench-" + secrets.token_hex(12)
    env = base_env({"GROK_API_KEY": key, "BENCH_MASTER_KEY": master})
    fake = FakeUpstream(env, "GROK_API_KEY", work / "fake-xai.log", None)
    proxies: dict[str, ProxyProcess] = {}
    try:
        fake.start()
        env["GROK_BASE_URL"] = fake.base_url
        config = write_config(work / "llmcore.yaml", [dict(
            alias=MODEL, upstream=MODEL, key_env="GROK_API_KEY", base_env="GROK_BASE_URL", max_retries=0)],
            adapter=adapter)
        baseline_env = {**env, "PYTHONPATH": str(baseline_src.resolve())}
        proxies["current"] = llmcore_proxy(config, env, work / "current.log", None)
        proxies["baseline"] = llmcore_proxy(config, baseline_env, work / "baseline.log", None)
        for proxy in proxies.values():
            proxy.name += " (baseline)" if proxy.env is baseline_env else " (this checkout)"
            proxy.start({"Authorization": f"Bearer {master}"})
            for kind in KINDS:
                measure_round(proxy, master, kind == "stream", WARMUP_REQUESTS, fake.pid)
        samples: dict[str, dict[str, list[dict[str, float]]]] = {
            kind: {side: [] for side in proxies} for kind in KINDS}
        for index in range(rounds):
            order = ["current", "baseline"] if index % 2 == 0 else ["baseline", "current"]
            for kind in KINDS:
                count = requests if kind == "non-stream" else max(requests // 4, 50)
                for side in order:
                    samples[kind][side].append(
                        measure_round(proxies[side], master, kind == "stream", count, fake.pid))
    finally:
        for proxy in proxies.values():
            proxy.stop()
        fake.stop()
    return {kind: summarise(by_side) for kind, by_side in samples.items()}


def summarise(by_side: dict[str, list[dict[str, float]]]) -> dict[str, Any]:
    pairs = list(zip(by_side["current"], by_side["baseline"]))
    return {
        "current": {name: round(statistics.median(s[name] for s in by_side["current"]), 3)
                    for name in ("rps", "cpu_ms", "fake_cpu_ms")},
        "baseline": {name: round(statistics.median(s[name] for s in by_side["baseline"]), 3)
                     for name in ("rps", "cpu_ms", "fake_cpu_ms")},
        "rps_ratio": round(statistics.median(a["rps"] / b["rps"] for a, b in pairs), 4),
        "cpu_ratio": round(statistics.median(a["cpu_ms"] / b["cpu_ms"] for a, b in pairs), 4),
        "rps_ratio_range": [round(min(a["rps"] / b["rps"] for a, b in pairs), 4),
                            round(max(a["rps"] / b["rps"] for a, b in pairs), 4)],
        # The proxy's CPU over the fake upstream's own in the same phase (issue 16's "within 3x").
        "fake_ratio": {side: round(statistics.median(s["cpu_ms"] / s["fake_cpu_ms"] for s in samples), 2)
                       for side, samples in by_side.items()},
        "rounds": len(pairs),
    }


def render(result: dict[str, Any]) -> str:
    lines = ["| c=32 | RPS this / baseline | RPS ratio (range) | CPU ms/request this / baseline | CPU ratio "
             "| fake upstream CPU ms/request | proxy / fake this / baseline |",
             "|---|---|---|---|---|---|---|"]
    for kind, row in result.items():
        low, high = row["rps_ratio_range"]
        lines.append(f"| {kind} | {row['current']['rps']:.0f} / {row['baseline']['rps']:.0f} | "
                     f"{row['rps_ratio']:.3f} ({low:.3f}-{high:.3f}) | {row['current']['cpu_ms']:.2f} / "
                     f"{row['baseline']['cpu_ms']:.2f} | {row['cpu_ratio']:.3f} | "
                     f"{row['current']['fake_cpu_ms']:.3f} | "
                     f"{row['fake_ratio']['current']:.2f}x / {row['fake_ratio']['baseline']:.2f}x |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_baseline", description=__doc__.split("\n")[0])
    parser.add_argument("--baseline-src", type=Path, required=True, help="another checkout's src directory")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=1000, help="non-stream requests per round (streams: a quarter)")
    parser.add_argument("--adapter", choices=("litellm", "native"), default=None,
                        help="the adapter both proxies serve the model with (default: the config's default, litellm)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if not (args.baseline_src / "llmcore" / "__init__.py").is_file():
        parser.error(f"--baseline-src {args.baseline_src}: no llmcore package there (give the checkout's src)")
    before = procfs.machine_busy_seconds()
    with tempfile.TemporaryDirectory(prefix="llmcore-baseline-") as workdir:
        result = run(args.baseline_src, args.rounds, args.requests, Path(workdir), args.adapter)
    print(render(result))
    print(f"foreign load: {procfs.machine_busy_seconds() - before:.1f} CPU-seconds during the run "
          "(both sides share it; the ratios are paired per round)", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
