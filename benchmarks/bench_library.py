"""The library's overhead: ``core.complete()`` over a bare ``litellm.completion()`` with the same kwargs.

Same fake xAI server (a subprocess on the other CPU), same process, same LiteLLM module state.
The bare calls get exactly the kwargs llmcore sent (captured from one real call of each kind),
so the difference is llmcore's own work: model resolution, the param policy, kwargs building,
retries, answer conversion, usage and telemetry. Batches alternate which side goes first;
the figures are medians of per-call CPU time (``time.process_time``) and wall time.
Four pairs: complete/completion, acomplete/acompletion, stream and async stream. The ratio printed is
the median over batches of each batch's ratio of per-call medians (neighbours in time, robust to other
processes' bursts); the JSON also has the ratio of the pooled medians and of the batch means.

    python -m benchmarks.bench_library [--batches 15] [--calls 100] [--quick] [--json PATH]

The PRD allows a ratio of 1.05; the target is 1.02 or less.
"""
from __future__ import annotations

import argparse
import asyncio
import copy
import gc
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from benchmarks import procfs
from benchmarks.targets import MODEL, FakeUpstream, base_env, write_config

PRD_LIMIT = 1.05
TARGET = 1.02
MESSAGES = [{"role": "user", "content": "Say hi in Portuguese."}]
SIDES = ("llmcore", "litellm")
PAIRS = {
    "sync": "core.complete() / litellm.completion()",
    "async": "core.acomplete() / litellm.acompletion()",
    "stream": "core.stream() / litellm.completion(stream=True)",
    "astream": "core.astream() / litellm.acompletion(stream=True)",
}


class Samples:
    """Per-call and per-batch CPU and wall seconds of one side of a pair."""

    def __init__(self) -> None:
        self.cpu: list[float] = []
        self.wall: list[float] = []
        self.batch_cpu: list[float] = []
        self.batch_wall: list[float] = []
        self.batch_median_cpu: list[float] = []
        self.batch_median_wall: list[float] = []

    def close_batch(self, calls: int, cpu_total: float, wall_total: float) -> None:
        self.batch_cpu.append(cpu_total / calls)
        self.batch_wall.append(wall_total / calls)
        self.batch_median_cpu.append(statistics.median(self.cpu[-calls:]))
        self.batch_median_wall.append(statistics.median(self.wall[-calls:]))

    def summary(self) -> dict[str, float]:
        def ms(values: list[float]) -> float:
            return round(statistics.median(values) * 1000, 4) if values else float("nan")

        return {"cpu_ms": ms(self.cpu), "wall_ms": ms(self.wall), "batch_mean_cpu_ms": ms(self.batch_cpu),
                "batch_mean_wall_ms": ms(self.batch_wall), "calls": len(self.cpu)}


def _ordered(batch: int, llmcore_side: Any, litellm_side: Any) -> list[tuple[str, Any]]:
    pairs = [("llmcore", llmcore_side), ("litellm", litellm_side)]
    return pairs if batch % 2 == 0 else pairs[::-1]


def run_sync_pair(llmcore_call: Callable[[], Any], bare_call: Callable[[dict[str, Any]], Any],
                  fresh: Callable[[], dict[str, Any]], batches: int, calls: int, warmup: int) -> dict[str, Samples]:
    samples = {side: Samples() for side in SIDES}
    for _ in range(warmup):
        llmcore_call()
        bare_call(fresh())
    for batch in range(batches):
        for side, call in _ordered(batch, lambda _: llmcore_call(), bare_call):
            gc.collect()
            record = samples[side]
            batch_cpu, batch_wall = time.process_time(), time.perf_counter()
            for _ in range(calls):
                kwargs = fresh()
                cpu, wall = time.process_time(), time.perf_counter()
                call(kwargs)
                record.cpu.append(time.process_time() - cpu)
                record.wall.append(time.perf_counter() - wall)
            record.close_batch(calls, time.process_time() - batch_cpu, time.perf_counter() - batch_wall)
    return samples


async def run_async_pair(llmcore_call: Callable[[], Awaitable[Any]],
                         bare_call: Callable[[dict[str, Any]], Awaitable[Any]], fresh: Callable[[], dict[str, Any]],
                         batches: int, calls: int, warmup: int) -> dict[str, Samples]:
    samples = {side: Samples() for side in SIDES}
    for _ in range(warmup):
        await llmcore_call()
        await bare_call(fresh())

    async def llmcore_side(_: dict[str, Any]) -> Any:
        return await llmcore_call()

    for batch in range(batches):
        for side, call in _ordered(batch, llmcore_side, bare_call):
            gc.collect()
            record = samples[side]
            batch_cpu, batch_wall = time.process_time(), time.perf_counter()
            for _ in range(calls):
                kwargs = fresh()
                cpu, wall = time.process_time(), time.perf_counter()
                await call(kwargs)
                record.cpu.append(time.process_time() - cpu)
                record.wall.append(time.perf_counter() - wall)
            record.close_batch(calls, time.process_time() - batch_cpu, time.perf_counter() - batch_wall)
    return samples


class Recorder:
    """Swaps ``litellm.completion`` / ``acompletion`` for wrappers that keep the kwargs of each kind of call."""

    def __init__(self, litellm: Any) -> None:
        self._litellm = litellm
        self.seen: dict[str, dict[str, Any]] = {}

    def __enter__(self) -> Recorder:
        litellm, seen = self._litellm, self.seen
        real_sync, real_async = litellm.completion, litellm.acompletion
        self._real = (real_sync, real_async)

        def completion(**kwargs: Any) -> Any:
            seen["stream" if kwargs.get("stream") else "sync"] = copy.deepcopy(kwargs)
            return real_sync(**kwargs)

        async def acompletion(**kwargs: Any) -> Any:
            seen["astream" if kwargs.get("stream") else "async"] = copy.deepcopy(kwargs)
            return await real_async(**kwargs)

        litellm.completion, litellm.acompletion = completion, acompletion
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._litellm.completion, self._litellm.acompletion = self._real


def _fresh(kwargs: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    return lambda: copy.deepcopy(kwargs)


def _consume(iterable: Any) -> None:
    for _ in iterable:
        pass


async def _aconsume(iterable: Any) -> None:
    async for _ in iterable:
        pass


def bench_sync(core: Any, litellm: Any, batches: int, calls: int, warmup: int, pairs: list[str]) -> dict[str, Any]:
    def stream_llmcore() -> None:
        with core.stream(MODEL, MESSAGES) as session:
            _consume(session)

    with Recorder(litellm) as recorder:
        core.complete(MODEL, MESSAGES)
        stream_llmcore()
    results: dict[str, Any] = {}
    if "sync" in pairs:
        results["sync"] = run_sync_pair(lambda: core.complete(MODEL, MESSAGES),
                                        lambda kw: litellm.completion(**kw), _fresh(recorder.seen["sync"]),
                                        batches, calls, warmup)
    if "stream" in pairs:
        results["stream"] = run_sync_pair(stream_llmcore, lambda kw: _consume(litellm.completion(**kw)),
                                          _fresh(recorder.seen["stream"]), batches, calls, warmup)
    return {"results": results, "kwargs": recorder.seen}


async def bench_async(core: Any, litellm: Any, batches: int, calls: int, warmup: int,
                      pairs: list[str]) -> dict[str, Any]:
    async def astream_llmcore() -> None:
        async with core.astream(MODEL, MESSAGES) as session:
            await _aconsume(session)

    async def bare(kw: dict[str, Any]) -> Any:
        return await litellm.acompletion(**kw)

    async def bare_stream(kw: dict[str, Any]) -> None:
        await _aconsume(await litellm.acompletion(**kw))

    try:
        with Recorder(litellm) as recorder:
            await core.acomplete(MODEL, MESSAGES)
            await astream_llmcore()
        results: dict[str, Any] = {}
        if "async" in pairs:
            results["async"] = await run_async_pair(lambda: core.acomplete(MODEL, MESSAGES), bare,
                                                    _fresh(recorder.seen["async"]), batches, calls, warmup)
        if "astream" in pairs:
            results["astream"] = await run_async_pair(astream_llmcore, bare_stream, _fresh(recorder.seen["astream"]),
                                                      batches, calls, warmup)
        return {"results": results, "kwargs": recorder.seen}
    finally:
        await litellm.close_litellm_async_clients()


def _masked_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    shown = dict(kwargs)
    if shown.get("api_key"):
        shown["api_key"] = "<stub key, " + str(len(shown["api_key"])) + " chars>"
    return shown


def paired_ratio(mine: list[float], bare: list[float]) -> float | None:
    """The median over batches of (llmcore's batch median / LiteLLM's batch median): each batch is compared
    with its neighbour in time, so a burst of load from other processes shifts both sides of one ratio."""
    ratios = [a / b for a, b in zip(mine, bare) if b]
    return statistics.median(ratios) if ratios else None


def summarise(raw: dict[str, dict[str, Samples]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair, samples in raw.items():
        mine, bare = samples["llmcore"].summary(), samples["litellm"].summary()
        cpu_ratio = paired_ratio(samples["llmcore"].batch_median_cpu, samples["litellm"].batch_median_cpu)
        wall_ratio = paired_ratio(samples["llmcore"].batch_median_wall, samples["litellm"].batch_median_wall)
        pooled = mine["cpu_ms"] / bare["cpu_ms"] if bare["cpu_ms"] else None
        batch_ratio = paired_ratio(samples["llmcore"].batch_cpu, samples["litellm"].batch_cpu)
        out[pair] = {
            "what": PAIRS[pair], "llmcore": mine, "litellm": bare,
            "cpu_ratio": None if cpu_ratio is None else round(cpu_ratio, 4),
            "wall_ratio": None if wall_ratio is None else round(wall_ratio, 4),
            "pooled_median_cpu_ratio": None if pooled is None else round(pooled, 4),
            "batch_mean_cpu_ratio": None if batch_ratio is None else round(batch_ratio, 4),
            "added_cpu_ms": round(mine["cpu_ms"] - bare["cpu_ms"], 4),
            "met": cpu_ratio is not None and cpu_ratio <= TARGET,
        }
    return out


def render(summary: dict[str, Any]) -> str:
    lines = [
        "| pair | llmcore CPU ms | LiteLLM CPU ms | CPU ratio (paired) | llmcore wall ms | LiteLLM wall ms "
        f"| wall ratio | ≤ {TARGET} |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for pair, row in summary.items():
        lines.append(
            f"| {row['what']} | {row['llmcore']['cpu_ms']:.3f} | {row['litellm']['cpu_ms']:.3f} | "
            f"{row['cpu_ratio']:.3f} | {row['llmcore']['wall_ms']:.3f} | {row['litellm']['wall_ms']:.3f} | "
            f"{row['wall_ratio']:.3f} | {'met' if row['met'] else 'not met'} |")
    return "\n".join(lines)


def run(batches: int, calls: int, stream_calls: int, warmup: int, pairs: list[str],
        log_dir: Path) -> dict[str, Any]:
    """Start a fake upstream, run the pairs, stop the fake; the summary with the kwargs that were compared."""
    cores = procfs.Cores()
    procfs.pin(os.getpid(), cores.loadgen)
    key = "xai-bench-" + secrets.token_hex(8)
    env = base_env({"GROK_API_KEY": key})
    fake = FakeUpstream(env, "GROK_API_KEY", log_dir / "bench-library-fake.log", cores.server)
    try:
        fake.start()
        os.environ.update({k: v for k, v in env.items() if k.startswith("LITELLM_")})
        import llmcore
        from llmcore.adapters.litellm_runtime import litellm_module

        with tempfile.TemporaryDirectory(prefix="llmcore-bench-") as workdir:
            config = write_config(Path(workdir) / "llmcore.yaml", [dict(
                alias=MODEL, upstream=MODEL, key_env="GROK_API_KEY", base_env="GROK_BASE_URL", max_retries=0)])
            core = llmcore.load(config, env={"GROK_API_KEY": key, "GROK_BASE_URL": fake.base_url,
                                             "BENCH_MASTER_KEY": "sk-bench-" + secrets.token_hex(8)})
        litellm = litellm_module()
        non_stream = [p for p in pairs if p in ("sync", "async")]
        streams = [p for p in pairs if p in ("stream", "astream")]
        raw: dict[str, Any] = {}
        kwargs: dict[str, Any] = {}
        for chosen, count in ((non_stream, calls), (streams, stream_calls)):
            if not chosen:
                continue
            done = bench_sync(core, litellm, batches, count, warmup, chosen)
            raw.update(done["results"])
            kwargs.update(done["kwargs"])
            done = asyncio.run(bench_async(core, litellm, batches, count, warmup, chosen))
            raw.update(done["results"])
            kwargs.update(done["kwargs"])
    finally:
        fake.stop()
    ordered = {pair: raw[pair] for pair in PAIRS if pair in raw}
    return {
        "batches": batches, "calls_per_batch": calls, "stream_calls_per_batch": stream_calls,
        "pinning": cores.describe(), "target": TARGET, "prd_limit": PRD_LIMIT,
        "pairs": summarise(ordered),
        "kwargs": {name: _masked_kwargs(kw) for name, kw in kwargs.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_library", description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=15)
    parser.add_argument("--calls", type=int, default=100, help="calls per batch and side (non-stream)")
    parser.add_argument("--stream-calls", type=int, default=None, help="calls per batch and side for streams")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--pairs", default=",".join(PAIRS), help=f"comma-separated subset of {','.join(PAIRS)}")
    parser.add_argument("--quick", action="store_true", help="3 batches of 20 calls: a smoke check")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if args.quick:
        args.batches, args.calls, args.warmup = 3, 20, 5
    pairs = [p.strip() for p in args.pairs.split(",") if p.strip()]
    unknown = sorted(set(pairs) - set(PAIRS))
    if unknown:
        parser.error(f"unknown pairs: {', '.join(unknown)}")
    log_dir = Path(__file__).resolve().parent / "results" / "logs"
    result = run(args.batches, args.calls, args.stream_calls or args.calls, args.warmup, pairs, log_dir)
    print(f"core.complete() over bare litellm.completion(), same kwargs ({result['batches']} batches, "
          f"{result['calls_per_batch']} calls per side per batch, streams {result['stream_calls_per_batch']}; "
          f"{result['pinning']}):")
    print(render(result["pairs"]))
    for pair, row in result["pairs"].items():
        print(f"{pair}: CPU ratio {row['cpu_ratio']:.4f}, wall ratio {row['wall_ratio']:.4f} "
              f"(PRD ≤ {PRD_LIMIT}, target ≤ {TARGET})")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
