"""Profile the llmcore proxy under load with py-spy; print where its CPU time goes.

    .venv/bin/pip install py-spy      # a tool, not a dependency of the project
    python -m benchmarks.profile_proxy [--stream] [--seconds 20] [--concurrency 32]

Starts the fake xAI upstream and the llmcore proxy (pinned as in the benchmark), warms up,
then samples the proxy with ``py-spy record --format raw`` while the load generator keeps it
busy. Prints the share of samples by package (inclusive and self), and the top self-time and
inclusive frames inside llmcore. The raw collapsed stacks stay in benchmarks/results/ for a
flame graph (e.g. speedscope or inferno).
"""
from __future__ import annotations

import argparse
import asyncio
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from benchmarks import procfs
from benchmarks.loadgen import LoadClient, chat_body
from benchmarks.targets import MODEL, FakeUpstream, base_env, llmcore_proxy, write_config

RESULTS = Path(__file__).resolve().parent / "results"
FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")
PACKAGES = (
    ("llmcore", "/llmcore/"), ("litellm", "/litellm/"), ("openai", "/openai/"), ("httpx", "/httpx/"),
    ("httpcore", "/httpcore/"), ("aiohttp", "/aiohttp/"), ("pydantic", "/pydantic"), ("loguru", "/loguru/"),
    ("prometheus_client", "/prometheus_client/"), ("tenacity", "/tenacity/"), ("attrs", "/attr"),
    ("yarl/multidict", "/yarl/"), ("yarl/multidict", "/multidict/"), ("tiktoken", "/tiktoken"),
    ("asyncio", "/asyncio/"), ("json", "/json/"), ("logging", "/logging/"), ("threading", "threading.py"),
    ("concurrent", "/concurrent/"),
)


def package_of(path: str) -> str:
    for name, marker in PACKAGES:
        if marker in path:
            return name
    return "stdlib" if "/lib/python3" in path else "other"


def parse(raw: Path) -> list[tuple[list[tuple[str, str]], int]]:
    """py-spy's collapsed stacks: [(frames root→leaf as (function, file)), count)]."""
    stacks = []
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = []
        for part in stack.split(";"):
            match = FRAME.match(part.strip())
            if match:
                frames.append((match["function"], match["file"]))
        stacks.append((frames, int(count)))
    return stacks


def _is_runner(function: str, path: str) -> bool:
    return path.endswith("entrypoints/cli.py") or (path.endswith("entrypoints/proxy.py") and function in (
        "run", "serve"))


def owned(frames: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The frames below the start-up chain (so an event-loop sample is not counted as llmcore's)."""
    return [(fn, path) for fn, path in frames if not _is_runner(fn, path)]


def bucket_of(frames: list[tuple[str, str]]) -> str:
    """Who a sample's CPU belongs to: LiteLLM's call, llmcore's own code (and what it calls), or the server."""
    thread = "background thread: " if frames and frames[0][0] == "Thread._bootstrap" else ""
    frames = owned(frames)
    packages = [package_of(path) for _, path in frames]
    if "litellm" in packages:
        return thread + "LiteLLM (its call, with the OpenAI SDK, httpx/aiohttp client and pydantic below it)"
    if "llmcore" in packages:
        leaf = packages[-1]
        if leaf == "llmcore":
            return thread + "llmcore's own code"
        return thread + f"llmcore → {leaf}"
    leaf = packages[-1] if packages else "other"
    if leaf in ("aiohttp", "asyncio", "yarl/multidict"):
        return thread + "event loop and aiohttp server (HTTP parsing, writing, scheduling)"
    return thread + f"other ({leaf})"


def summarise(stacks: list[tuple[list[tuple[str, str]], int]], top: int = 25) -> str:
    total = sum(count for _, count in stacks) or 1
    buckets: Counter[str] = Counter()
    self_pkg: Counter[str] = Counter()
    self_llmcore: Counter[str] = Counter()
    incl_llmcore: Counter[str] = Counter()
    self_any: Counter[str] = Counter()
    for frames, count in stacks:
        if not frames:
            continue
        buckets[bucket_of(frames)] += count
        leaf_fn, leaf_file = frames[-1]
        self_pkg[package_of(leaf_file)] += count
        self_any[f"{leaf_fn} ({_short(leaf_file)})"] += count
        packages = [package_of(path) for _, path in frames]
        if "litellm" in packages:
            continue  # below this point: llmcore's own work, outside the LiteLLM call
        owners = [f for f in owned(frames) if package_of(f[1]) == "llmcore"]
        if owners:
            fn, path = owners[-1]
            self_llmcore[f"{fn} ({_short(path)})"] += count
        for key in {f"{fn} ({_short(path)})" for fn, path in owners}:
            incl_llmcore[key] += count

    def block(title: str, counter: Counter[str], limit: int) -> list[str]:
        lines = [title]
        for key, count in counter.most_common(limit):
            lines.append(f"  {100 * count / total:6.2f} %  {key}")
        return lines

    out = [f"{total} samples of the thread holding the GIL"]
    out += block("where the CPU goes:", buckets, 20)
    out += block("self time by package (the leaf frame's package):", self_pkg, 20)
    out += block("top llmcore frames outside the LiteLLM call, self (the innermost llmcore frame, with the "
                 "libraries it calls):", self_llmcore, top)
    out += block("top llmcore frames outside the LiteLLM call, inclusive:", incl_llmcore, top)
    out += block("top self-time frames overall:", self_any, top)
    return "\n".join(out)


def _short(path: str) -> str:
    for marker in ("site-packages/", "/src/", "/lib/python3"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


async def _load(url: str, master: str, stream: bool, concurrency: int, seconds: float) -> None:
    async with LoadClient(url, [chat_body(MODEL, stream)], {"Authorization": f"Bearer {master}"},
                          concurrency) as client:
        result = await client.phase(requests=1_000_000, time_cap=seconds)
    print(f"load: {result.summary()['rps']} requests/s, {result.errors} errors", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_proxy")
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--adapter", choices=("litellm", "native"), default="litellm",
                        help="the adapter the proxy serves the model with (general_settings.llmcore_adapter)")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    parser.add_argument("--raw", type=Path, help="only summarise an existing collapsed-stacks file")
    args = parser.parse_args(argv)
    if args.raw:
        print(summarise(parse(args.raw)))
        return 0
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        parser.error("py-spy is not installed: .venv/bin/pip install py-spy")
    cores = procfs.Cores()
    procfs.pin(__import__("os").getpid(), cores.loadgen)
    out_dir = RESULTS / ("profile-" + time.strftime("%Y-%m-%dT%H-%M-%S"))
    out_dir.mkdir(parents=True, exist_ok=True)
    key, master = "xai-bench-" + secrets.token_hex(8), "sk-bench-" + secrets.token_hex(12)
    env = base_env({"GROK_API_KEY": key, "BENCH_MASTER_KEY": master})
    fake = FakeUpstream(env, "GROK_API_KEY", out_dir / "fake-xai.log", cores.loadgen)
    proxy = None
    spy = None
    try:
        fake.start()
        env["GROK_BASE_URL"] = fake.base_url
        config = write_config(out_dir / "bench-config.yaml", [dict(
            alias=MODEL, upstream=MODEL, key_env="GROK_API_KEY", base_env="GROK_BASE_URL", max_retries=0)],
            adapter=args.adapter)
        proxy = llmcore_proxy(config, env, out_dir / "llmcore-proxy.log", cores.server)
        print(f"proxy started: {proxy.start({'Authorization': f'Bearer {master}'})}", file=sys.stderr)
        asyncio.run(_load(proxy.url, master, args.stream, args.concurrency, 3.0))  # warm-up
        raw = out_dir / (("stream" if args.stream else "nonstream") + ".collapsed.txt")
        spy = subprocess.Popen([py_spy, "record", "--pid", str(proxy.pid), "--duration", str(int(args.seconds)),
                                "--rate", str(args.rate), "--format", "raw", "--output", str(raw),
                                # Only the thread holding the GIL: CPU spent in Python, not threads waiting.
                                "--gil", "--full-filenames"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(0.5)
        asyncio.run(_load(proxy.url, master, args.stream, args.concurrency, args.seconds + 1))
        spy.wait(timeout=args.seconds + 60)
        print(summarise(parse(raw)))
        print(f"collapsed stacks: {raw}", file=sys.stderr)
    finally:
        if spy is not None and spy.poll() is None:
            spy.kill()
            spy.wait(timeout=10)
        if proxy is not None:
            proxy.stop()
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
