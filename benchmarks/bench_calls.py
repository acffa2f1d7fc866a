"""Python function calls per request: a deterministic measure of llmcore's own work, immune to machine load.

    python -m benchmarks.bench_calls [--baseline-src DIR] [--requests 600] [--json PATH]

The timed benchmarks (``bench_library``, the proxy table) move by several percent between runs on a
shared machine; a count of the Python function calls made per request does not (cProfile counts
every call, C functions included). It answers "did llmcore's own work grow?" exactly, and
"by how much?" in the currency that costs CPU in CPython.

What is counted, each with the fake xAI upstream in another process:

- **library** ``core.complete()`` / ``core.acomplete()`` / ``core.stream()`` against bare
  ``litellm.completion()`` / ``acompletion()`` with exactly the kwargs llmcore sent (captured as in
  ``bench_library``): calls per request of each side and their ratio, over ``--library-calls`` calls.
- **proxy** non-stream and stream at concurrency 32: the proxy runs under ``python -m cProfile``
  twice, for ``--requests // 6`` and ``--requests`` requests; calls per request is the slope, so
  start-up and import work cancel out.

``--baseline-src DIR`` repeats the counts with llmcore imported from another checkout's ``src``
(e.g. a ``git worktree`` of an older commit) and prints the change, so a suspected regression in
the timed benchmarks can be confirmed or ruled out. Counts vary by a few calls between runs
(garbage collection, LiteLLM's own caches), not by percents.
"""
from __future__ import annotations

import argparse
import asyncio
import copy
import cProfile
import json
import os
import pstats
import secrets
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.bench_library import MESSAGES, Recorder
from benchmarks.loadgen import LoadClient, chat_body
from benchmarks.targets import MODEL, FakeUpstream, base_env, llmcore_proxy, write_config

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
WARMUP = 30
CONCURRENCY = 32


def calls_of(run: Callable[[], None]) -> int:
    """Python function calls made while ``run()`` runs (cProfile's primitive and recursive calls)."""
    profile = cProfile.Profile()
    profile.enable()
    run()
    profile.disable()
    return int(pstats.Stats(profile).total_calls)  # type: ignore[attr-defined]


def _consume(iterable: Any) -> None:
    for _ in iterable:
        pass


def library_counts(core: Any, litellm: Any, calls: int) -> dict[str, dict[str, float]]:
    """Calls per request of llmcore and of bare LiteLLM (same kwargs), sync, async and stream."""
    def stream_once() -> None:
        with core.stream(MODEL, MESSAGES) as session:
            _consume(session)

    with Recorder(litellm) as recorder:
        core.complete(MODEL, MESSAGES)
        stream_once()
    sides: dict[str, tuple[Callable[[], None], Callable[[dict[str, Any]], None]]] = {
        "complete": (lambda: core.complete(MODEL, MESSAGES), lambda kw: litellm.completion(**kw)),
        "stream": (stream_once, lambda kw: _consume(litellm.completion(**kw))),
    }
    kinds = {"complete": "sync", "stream": "stream"}
    out: dict[str, dict[str, float]] = {}
    for name, (mine, bare) in sides.items():
        kwargs = [copy.deepcopy(recorder.seen[kinds[name]]) for _ in range(calls + WARMUP)]
        for index in range(WARMUP):
            mine()
            bare(kwargs[index])

        def run_mine(side: Callable[[], None] = mine) -> None:
            for _ in range(calls):
                side()

        def run_bare(side: Callable[[dict[str, Any]], None] = bare, prepared: list[Any] = kwargs) -> None:
            for kw in prepared[WARMUP:]:
                side(kw)

        out[name] = _row(calls_of(run_mine) / calls, calls_of(run_bare) / calls)
    out["acomplete"] = asyncio.run(_async_counts(core, litellm, calls))
    return out


async def _async_counts(core: Any, litellm: Any, calls: int) -> dict[str, float]:
    try:
        with Recorder(litellm) as recorder:
            await core.acomplete(MODEL, MESSAGES)
        kwargs = [copy.deepcopy(recorder.seen["async"]) for _ in range(calls + WARMUP)]
        for index in range(WARMUP):
            await core.acomplete(MODEL, MESSAGES)
            await litellm.acompletion(**kwargs[index])

        async def mine() -> None:
            for _ in range(calls):
                await core.acomplete(MODEL, MESSAGES)

        async def bare() -> None:
            for kw in kwargs[WARMUP:]:
                await litellm.acompletion(**kw)

        counts = []
        for side in (mine, bare):
            profile = cProfile.Profile()
            profile.enable()
            await side()
            profile.disable()
            counts.append(int(pstats.Stats(profile).total_calls))  # type: ignore[attr-defined]
        return _row(counts[0] / calls, counts[1] / calls)
    finally:
        await litellm.close_litellm_async_clients()


def _row(mine: float, bare: float) -> dict[str, float]:
    return {"llmcore": round(mine, 1), "litellm": round(bare, 1), "ratio": round(mine / bare, 4),
            "added": round(mine - bare, 1)}


def proxy_counts(config: Path, env: dict[str, str], master: str, requests: int, stream: bool,
                 work: Path) -> float:
    """Calls per request of the proxy under load: the slope between a short and a long profiled run."""
    def profiled_run(count: int) -> tuple[int, int]:
        proxy = llmcore_proxy(config, env, work / "llmcore-proxy.log", None)
        stats = work / f"proxy-{count}-{'stream' if stream else 'json'}.prof"
        proxy.argv = [sys.executable, "-m", "cProfile", "-o", str(stats), *proxy.argv]
        proxy.start({"Authorization": f"Bearer {master}"})
        try:
            completed, errors = asyncio.run(_load(proxy.url, master, count, stream))
        finally:
            assert proxy.process is not None
            proxy.process.send_signal(signal.SIGTERM)  # a clean exit, so cProfile writes its stats
            proxy.process.wait(timeout=60)
        if errors:
            raise RuntimeError(f"{errors} of {count} proxy requests failed; see {work / 'llmcore-proxy.log'}")
        return completed, int(pstats.Stats(str(stats)).total_calls)  # type: ignore[attr-defined]

    short, long = profiled_run(max(requests // 6, 20)), profiled_run(requests)
    return round((long[1] - short[1]) / (long[0] - short[0]), 1)


async def _load(url: str, master: str, count: int, stream: bool) -> tuple[int, int]:
    async with LoadClient(url, [chat_body(MODEL, stream)], {"Authorization": f"Bearer {master}"},
                          CONCURRENCY) as client:
        result = await client.phase(requests=count, time_cap=600.0)
    return result.completed, result.errors


def measure(requests: int, library_calls: int) -> dict[str, Any]:
    """Every count for the llmcore importable in this process."""
    key, master = "xai-bench-" + secrets.token_hex(8), "sk-bench-" + secrets.token_hex(12)
    env = base_env({"GROK_API_KEY": key, "BENCH_MASTER_KEY": master})
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]  # the proxy imports the same llmcore as this process
    with tempfile.TemporaryDirectory(prefix="llmcore-calls-") as workdir:
        work = Path(workdir)
        fake = FakeUpstream(env, "GROK_API_KEY", work / "fake-xai.log", None)
        try:
            fake.start()
            env["GROK_BASE_URL"] = fake.base_url
            os.environ.update({k: v for k, v in env.items() if k.startswith("LITELLM_")})
            config = write_config(work / "llmcore.yaml", [dict(
                alias=MODEL, upstream=MODEL, key_env="GROK_API_KEY", base_env="GROK_BASE_URL", max_retries=0)])
            import llmcore
            from llmcore.adapters.litellm_runtime import litellm_module

            core = llmcore.load(config, env=env)
            try:
                library = library_counts(core, litellm_module(), library_calls)
            finally:
                getattr(core, "close", lambda: None)()  # a Core has close() from Decision 20 on
            proxy = {kind: proxy_counts(config, env, master, requests, kind == "stream", work)
                     for kind in ("non-stream", "stream")}
        finally:
            fake.stop()
    return {"llmcore": str(Path(llmcore.__file__).parent), "library": library, "proxy": proxy}


def _measure_elsewhere(src: Path, requests: int, library_calls: int) -> dict[str, Any]:
    """The same counts in a subprocess that imports llmcore from ``src`` (another checkout)."""
    env = {**os.environ, "PYTHONPATH": str(src.resolve())}
    done = subprocess.run([sys.executable, "-m", "benchmarks.bench_calls", "--requests", str(requests),
                           "--library-calls", str(library_calls), "--json", "-"],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the baseline run failed ({done.returncode}): {done.stderr[-2000:]}")
    return dict(json.loads(done.stdout))


def render(current: dict[str, Any], baseline: dict[str, Any] | None) -> str:
    head = "| measure | llmcore calls/request | LiteLLM calls/request | ratio |"
    rule = "|---|---|---|---|"
    if baseline:
        head += " baseline llmcore calls/request | change |"
        rule += "---|---|"
    lines = [head, rule]

    def change(now: float, before: float) -> str:
        return f" {before:,.0f} | {100 * (now - before) / before:+.2f} % |"

    for name, row in current["library"].items():
        line = f"| library {name} | {row['llmcore']:,.0f} | {row['litellm']:,.0f} | {row['ratio']:.4f} |"
        if baseline:
            line += change(row["llmcore"], baseline["library"][name]["llmcore"])
        lines.append(line)
    for kind, count in current["proxy"].items():
        line = f"| proxy {kind}, c={CONCURRENCY} | {count:,.0f} | — | — |"
        if baseline:
            line += change(count, baseline["proxy"][kind])
        lines.append(line)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_calls", description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=600, help="proxy requests in the long profiled run")
    parser.add_argument("--library-calls", type=int, default=100, help="library calls per side and pair")
    parser.add_argument("--baseline-src", type=Path, help="another checkout's src directory to compare with")
    parser.add_argument("--json", help="write the counts here ('-': stdout, and print nothing else)")
    args = parser.parse_args(argv)
    current = measure(args.requests, args.library_calls)
    baseline = _measure_elsewhere(args.baseline_src, args.requests, args.library_calls) if args.baseline_src else None
    result = {"current": current, "baseline": baseline}
    if args.json == "-":
        print(json.dumps(current))
        return 0
    print(render(current, baseline))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
