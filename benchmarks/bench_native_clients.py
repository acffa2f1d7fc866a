"""CPU per call of the native adapter's two HTTP paths: sync (httpx) and async (aiohttp), issue 16.

    python -m benchmarks.bench_native_clients [--calls 300] [--rounds 3]

One process: the fake xAI server runs in a thread of it, so each figure includes the fake's share
of the CPU, equally for every path (compare them with each other, not with the proxy's figures).
Each round runs ``core.complete``, ``core.acomplete``, ``core.stream`` and ``core.astream`` ``--calls``
times through a Core whose model is served by the native adapter; medians over the rounds.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import llmcore
from llmcore.domain.core import Core
from llmcore.testing.fake_xai import FakeXAIServer

HI = [{"role": "user", "content": "hi"}]
ALIAS = "grok"


def _config(base_url: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix="llmcore-native-clients-")) / "llmcore.yaml"
    path.write_text("general_settings: {llmcore_adapter: native}\nmodel_list:\n"
                    f"  - model_name: {ALIAS}\n    litellm_params: {{model: openai/grok-code-fast-1, "
                    f"api_key: os.environ/BENCH_KEY, api_base: '{base_url}', max_retries: 0}}\n", encoding="utf-8")
    return path


def _sync_stream(core: Core) -> None:
    with core.stream(ALIAS, HI) as session:
        for _ in session:
            pass


async def _async_calls(core: Core, calls: int, stream: bool) -> None:
    async with core:  # the loop's aiohttp session closes before the loop ends
        for _ in range(calls):
            if stream:
                async with core.astream(ALIAS, HI) as session:
                    async for _ in session:
                        pass
            else:
                await core.acomplete(ALIAS, HI)


def measure(calls: int, rounds: int) -> dict[str, list[float]]:
    """Per path: CPU milliseconds per call, one figure per round."""
    figures: dict[str, list[float]] = {}
    with FakeXAIServer(event_delay=0.0) as server:
        core = llmcore.load(_config(server.base_url), env={"BENCH_KEY": "xai-bench-" + "0" * 20})
        paths: dict[str, Callable[[], None]] = {
            "sync complete (httpx)": lambda: [core.complete(ALIAS, HI) for _ in range(calls)] and None,
            "async acomplete (aiohttp)": lambda: asyncio.run(_async_calls(core, calls, stream=False)),
            "sync stream (httpx)": lambda: [_sync_stream(core) for _ in range(calls)] and None,
            "async astream (aiohttp)": lambda: asyncio.run(_async_calls(core, calls, stream=True)),
        }
        for run in paths.values():  # warm-up: first connections, lazy imports
            run()
        for _ in range(rounds):
            for name, run in paths.items():
                started = time.process_time()
                run()
                figures.setdefault(name, []).append((time.process_time() - started) / calls * 1000)
        core.close()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_native_clients", description=__doc__)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    print("| path | CPU ms per call (median) | rounds |\n|---|---|---|")
    for name, values in measure(args.calls, args.rounds).items():
        print(f"| {name} | {statistics.median(values):.3f} | {', '.join(f'{v:.3f}' for v in values)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
