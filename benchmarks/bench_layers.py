"""Which layer of llmcore costs what: ``core.acomplete()`` with the retry wrapper and telemetry switched off in turn.

    python -m benchmarks.bench_layers [--mode async|sync|astream] [--batches 15] [--calls 100]

Same method as benchmarks.bench_library (same process, same fake upstream on the other CPU, the
kwargs llmcore sent captured and replayed bare), with more variants, interleaved round-robin:
the Core as shipped, built with ``retry=False``, with ``telemetry=NullTelemetry()``, with both,
the adapter alone (``LiteLLMCompletion`` on a prepared request), and bare LiteLLM. Prints the
added CPU per call over bare LiteLLM and the paired ratio of each.
"""
from __future__ import annotations

import argparse
import asyncio
import copy
import gc
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import procfs
from benchmarks.bench_library import MESSAGES, Recorder, paired_ratio
from benchmarks.targets import MODEL, FakeUpstream, base_env, write_config

RESULTS = Path(__file__).resolve().parent / "results"


def variants(mode: str, cores: dict[str, Any], port: Any, request: Any, litellm: Any,
             kwargs: dict[str, Any]) -> dict[str, Callable[[], Any]]:
    """Zero-argument callables (coroutine functions for async modes), one per variant."""
    chosen: dict[str, Callable[[], Any]] = {}
    for name, core in cores.items():
        if mode == "sync":
            chosen[name] = lambda core=core: core.complete(MODEL, MESSAGES)
        elif mode == "async":
            chosen[name] = lambda core=core: core.acomplete(MODEL, MESSAGES)
        else:
            async def consume(core: Any = core) -> None:
                async with core.astream(MODEL, MESSAGES) as session:
                    async for _ in session:
                        pass
            chosen[name] = consume
    if mode == "sync":
        chosen["adapter alone"] = lambda: port.complete(request)
        chosen["bare LiteLLM"] = lambda: litellm.completion(**copy.deepcopy(kwargs))
    elif mode == "async":
        chosen["adapter alone"] = lambda: port.acomplete(request)
        chosen["bare LiteLLM"] = lambda: litellm.acompletion(**copy.deepcopy(kwargs))
    else:
        async def adapter() -> None:
            async for _ in port.astream(request):
                pass

        async def bare() -> None:
            async for _ in await litellm.acompletion(**copy.deepcopy(kwargs)):
                pass
        chosen["adapter alone"], chosen["bare LiteLLM"] = adapter, bare
    return chosen


async def measure(chosen: dict[str, Callable[[], Any]], is_async: bool, batches: int, calls: int,
                  warmup: int) -> dict[str, list[float]]:
    """Per variant, the median CPU seconds per call of each batch; batches rotate the variants' order."""
    async def once(call: Callable[[], Any]) -> None:
        result = call()
        if is_async:
            await result

    names = list(chosen)
    for name in names:
        for _ in range(warmup):
            await once(chosen[name])
    medians: dict[str, list[float]] = {name: [] for name in names}
    for batch in range(batches):
        order = names[batch % len(names):] + names[:batch % len(names)]
        for name in order:
            gc.collect()
            cpu: list[float] = []
            for _ in range(calls):
                started = time.process_time()
                await once(chosen[name])
                cpu.append(time.process_time() - started)
            medians[name].append(statistics.median(cpu))
    return medians


async def run(mode: str, batches: int, calls: int, warmup: int) -> list[tuple[str, float, float]]:
    cores_ = procfs.Cores()
    procfs.pin(os.getpid(), cores_.loadgen)
    key = "xai-bench-" + secrets.token_hex(8)
    env = base_env({"GROK_API_KEY": key})
    fake = FakeUpstream(env, "GROK_API_KEY", RESULTS / "logs" / "bench-layers-fake.log", cores_.server)
    try:
        fake.start()
        os.environ.update({k: v for k, v in env.items() if k.startswith("LITELLM_")})
        import llmcore
        from llmcore.adapters.litellm_completion import LiteLLMCompletion
        from llmcore.adapters.litellm_runtime import litellm_module
        from llmcore.adapters.recording_telemetry import NullTelemetry

        core_env = {"GROK_API_KEY": key, "GROK_BASE_URL": fake.base_url, "BENCH_MASTER_KEY": "sk-" + key}
        with tempfile.TemporaryDirectory(prefix="llmcore-layers-") as workdir:
            config = write_config(Path(workdir) / "llmcore.yaml", [dict(
                alias=MODEL, upstream=MODEL, key_env="GROK_API_KEY", base_env="GROK_BASE_URL", max_retries=0)])
            cores = {
                "as shipped": llmcore.load(config, core_env),
                "retry=False": llmcore.load(config, core_env, retry=False),
                "NullTelemetry": llmcore.load(config, core_env, telemetry=NullTelemetry()),
                "both off": llmcore.load(config, core_env, retry=False, telemetry=NullTelemetry()),
            }
        litellm = litellm_module()
        shipped = cores["as shipped"]
        with Recorder(litellm) as recorder:
            if mode == "sync":
                shipped.complete(MODEL, MESSAGES)
            elif mode == "async":
                await shipped.acomplete(MODEL, MESSAGES)
            else:
                async with shipped.astream(MODEL, MESSAGES) as session:
                    async for _ in session:
                        pass
        kwargs = next(iter(recorder.seen.values()))
        request = shipped._completion.prepare(MODEL, MESSAGES, {}, None).request  # noqa: SLF001 - a benchmark
        chosen = variants(mode, cores, LiteLLMCompletion(), request, litellm, kwargs)
        ours, busy = procfs.tree_cpu(os.getpid()), procfs.machine_busy_seconds()
        medians = await measure(chosen, mode != "sync", batches, calls, warmup)
        foreign = (procfs.machine_busy_seconds() - busy) - (procfs.tree_cpu(os.getpid()) - ours)
        print(f"CPU used by other processes meanwhile: {max(0.0, foreign):.1f} s (differences of a few tens of µs "
              "need a quiet machine and repeated runs)", file=sys.stderr)
        await litellm.close_litellm_async_clients()
    finally:
        fake.stop()
    bare = medians["bare LiteLLM"]
    return [(name, (statistics.median(values) - statistics.median(bare)) * 1e6, paired_ratio(values, bare) or 0.0)
            for name, values in medians.items()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_layers", description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=("sync", "async", "astream"), default="async")
    parser.add_argument("--batches", type=int, default=15)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=30)
    args = parser.parse_args(argv)
    rows = asyncio.run(run(args.mode, args.batches, args.calls, args.warmup))
    print(f"| variant ({args.mode}) | added CPU µs per call over bare LiteLLM | paired ratio |")
    print("|---|---|---|")
    for name, added, ratio in rows:
        print(f"| {name} | {added:+.0f} | {ratio:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
