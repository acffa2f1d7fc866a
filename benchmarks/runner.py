"""``python -m benchmarks``: every target side by side, rounds interleaved, one Markdown table and one JSON file.

Targets: (a) direct to the fake xAI upstream, (b) the llmcore proxy with the LiteLLM adapter,
(b2) the llmcore proxy with the native adapter (``general_settings.llmcore_adapter: native``,
issue 16), (c) the LiteLLM proxy 1.110.2 in its own venv, (d) ``litellm.acompletion`` in one
process. Scenarios: non-stream and stream at concurrency 1 and 32, time to ready, RSS idle and
after load; plus the library ratio (benchmarks.bench_library) and the wall time of short commands
(benchmarks.startup).
Each round starts the proxies afresh, then runs every scenario over the targets in an order
that rotates from round to round. Every process started here is stopped in a ``finally``.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import secrets
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import litellm_venv, procfs, report, startup
from benchmarks.inprocess import InProcessWorker
from benchmarks.loadgen import LoadClient, chat_body
from benchmarks.targets import (
    MODEL, FakeUpstream, ProxyProcess, ServerDied, base_env, litellm_proxy, llmcore_proxy, write_config,
)

RESULTS = Path(__file__).resolve().parent / "results"
LIBRARY_TIMEOUT = 1800.0
ORDER = ("direct", "llmcore", "llmcore_native", "litellm_proxy", "inprocess")


@dataclass(frozen=True)
class Scenario:
    key: str
    stream: bool
    concurrency: int
    requests: int
    quick_requests: int

    def warmup(self, quick: bool) -> int:
        return max(5 if quick else 20, 2 * self.concurrency)


SCENARIOS = (
    Scenario("nonstream_c1", False, 1, 400, 40),
    Scenario("nonstream_c32", False, 32, 2000, 200),
    Scenario("stream_c1", True, 1, 200, 20),
    Scenario("stream_c32", True, 32, 800, 100),
)


def revision() -> str:
    """The commit the run measured, and whether src/ had uncommitted changes (the install is editable)."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                                timeout=30).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "src"], cwd=root, capture_output=True, text=True,
                               timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{commit or 'unknown'}{' with uncommitted changes in src/' if dirty else ''}"


def machine() -> dict[str, Any]:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        memory_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                         if line.startswith("MemTotal:"))
    except (OSError, StopIteration):
        memory_kb = 0
    cpus = os.cpu_count() or 0
    info = {"nproc": len(os.sched_getaffinity(0)), "cpu_count": cpus, "cpu_model": model,
            "memory_gib": round(memory_kb / 2**20, 1), "kernel": platform.release(),
            "python": platform.python_version()}
    info["summary"] = (f"{info['nproc']} CPUs ({model}), {info['memory_gib']} GiB RAM, Linux {info['kernel']}, "
                       f"Python {info['python']}")
    return info


class Bench:
    """One run: the shared fake upstream, the targets of the current round, the figures so far."""

    def __init__(self, args: argparse.Namespace, out_dir: Path) -> None:
        self.args = args
        self.out_dir = out_dir
        self.logs = out_dir / "logs"
        self.cores = procfs.Cores()
        self.key = "xai-bench-" + secrets.token_hex(8)
        self.master = "sk-bench-" + secrets.token_hex(12)
        self.env = base_env({"GROK_API_KEY": self.key, "BENCH_MASTER_KEY": self.master})
        self.fake: FakeUpstream | None = None
        self.config: Path | None = None
        self.native_config: Path | None = None
        self.litellm_cli: Path | None = None
        self.unavailable: dict[str, str] = {}
        self.proxies: dict[str, ProxyProcess] = {}
        self.worker: InProcessWorker | None = None

    # --- set-up -------------------------------------------------------------------------------

    def start_fake(self) -> None:
        self.fake = FakeUpstream(self.env, "GROK_API_KEY", self.logs / "fake-xai.log", self.cores.loadgen).start()
        self.env = {**self.env, "GROK_BASE_URL": self.fake.base_url}
        models = [dict(alias=MODEL, upstream=MODEL, key_env="GROK_API_KEY", base_env="GROK_BASE_URL", max_retries=0)]
        self.config = write_config(self.out_dir / "bench-config.yaml", models)
        self.native_config = write_config(self.out_dir / "bench-config-native.yaml", models, adapter="native")

    def prepare_litellm_proxy(self) -> None:
        if self.args.skip_litellm_proxy:
            self.unavailable["litellm_proxy"] = "skipped (--skip-litellm-proxy)"
            return
        try:
            self.litellm_cli = litellm_venv.ensure()
        except (litellm_venv.VenvError, OSError, subprocess.SubprocessError) as error:
            self.unavailable["litellm_proxy"] = f"its venv could not be built: {error}"

    # --- one round ----------------------------------------------------------------------------

    def start_round(self) -> dict[str, dict[str, Any]]:
        """Start the proxies and the in-process worker one after another; their start-up figures."""
        assert self.config is not None
        figures: dict[str, dict[str, Any]] = {"direct": {}}
        auth = {"Authorization": f"Bearer {self.master}"}
        self.proxies["llmcore"] = llmcore_proxy(self.config, self.env, self.logs / "llmcore-proxy.log",
                                                self.cores.server)
        if not self.args.skip_native:
            assert self.native_config is not None
            self.proxies["llmcore_native"] = llmcore_proxy(
                self.native_config, self.env, self.logs / "llmcore-native-proxy.log", self.cores.server,
                name="llmcore proxy (native)")
        if self.litellm_cli is not None and "litellm_proxy" not in self.unavailable:
            self.proxies["litellm_proxy"] = litellm_proxy(self.litellm_cli, self.config, self.env,
                                                          self.logs / "litellm-proxy.log", self.cores.server)
        for name, proxy in list(self.proxies.items()):
            try:
                figures[name] = proxy.start(auth)
            except (ServerDied, TimeoutError, OSError) as error:
                if name in ("llmcore", "llmcore_native"):
                    raise
                self.unavailable[name] = f"did not start: {error}"
                proxy.stop()
                del self.proxies[name]
        assert self.fake is not None
        self.worker = InProcessWorker(self.fake.base_url, self.env, self.logs / "inprocess.log", self.cores.loadgen)
        figures["inprocess"] = self.worker.start()
        return figures

    def stop_round(self) -> None:
        for proxy in self.proxies.values():
            proxy.stop()
        self.proxies.clear()
        if self.worker is not None:
            self.worker.stop()
            self.worker = None

    def server_pid(self, target: str) -> int:
        assert self.fake is not None
        if target == "direct":
            return self.fake.pid
        if target == "inprocess":
            assert self.worker is not None
            return self.worker.pid
        return self.proxies[target].pid

    def place(self, target: str) -> None:
        """The server under test on the server CPU; the fake upstream with the load generator otherwise."""
        assert self.fake is not None
        if target in ("direct", "inprocess"):
            procfs.pin(self.fake.pid, self.cores.server)
            if self.worker is not None:
                procfs.pin(self.worker.pid, self.cores.loadgen)
        else:
            procfs.pin(self.fake.pid, self.cores.loadgen)
            procfs.pin(self.proxies[target].pid, self.cores.server)

    def measure(self, target: str, scenario: Scenario) -> dict[str, Any]:
        """One scenario against one target; ``foreign_cpu_s`` is CPU that processes not started here used meanwhile."""
        ours, busy = procfs.tree_cpu(os.getpid()), procfs.machine_busy_seconds()
        summary = self._measure(target, scenario)
        foreign = (procfs.machine_busy_seconds() - busy) - (procfs.tree_cpu(os.getpid()) - ours)
        summary["foreign_cpu_s"] = round(max(0.0, foreign), 2)
        return summary

    def _measure(self, target: str, scenario: Scenario) -> dict[str, Any]:
        assert self.fake is not None
        quick = self.args.quick
        requests = self.args.requests or (scenario.quick_requests if quick else scenario.requests)
        self.place(target)
        self.fake.control("/_fake/clear")
        if target == "inprocess":
            assert self.worker is not None
            return self.worker.run(scenario.stream, scenario.concurrency, requests, scenario.warmup(quick),
                                   self.args.time_cap)
        if target == "direct":
            url, auth = self.fake.base_url + "/chat/completions", {"Authorization": f"Bearer {self.key}"}
        else:
            url, auth = self.proxies[target].url, {"Authorization": f"Bearer {self.master}"}
        return asyncio.run(_http_measure(url, auth, scenario, requests, scenario.warmup(quick), self.args.time_cap,
                                         self.server_pid(target)))

    def run_round(self, index: int) -> dict[str, Any]:
        figures = self.start_round()
        try:
            present = [t for t in ORDER if t in figures and (not self.args.only or t in self.args.only.split(","))]
            rotation = index % len(present)
            order = present[rotation:] + present[:rotation]
            results: dict[str, Any] = {t: {"start": figures[t], "scenarios": {}} for t in present}
            for scenario in SCENARIOS:
                for target in order:
                    summary = self.measure(target, scenario)
                    results[target]["scenarios"][scenario.key] = summary
                    _progress(f"round {index + 1} {scenario.key:<14} {target:<14} rps {summary.get('rps')} "
                              f"p50 {summary.get('p50_ms')} ms errors {summary.get('errors')} "
                              f"foreign CPU {summary['foreign_cpu_s']} s")
            for target in present:
                if target != "direct":
                    rss = procfs.tree_rss(self.server_pid(target))
                    results[target]["start"]["rss_after_load_mb"] = round(rss / 2**20, 1)
            return results
        finally:
            self.stop_round()

    def stop(self) -> None:
        self.stop_round()
        if self.fake is not None:
            self.fake.stop()


async def _http_measure(url: str, auth: Mapping[str, str], scenario: Scenario, requests: int, warmup: int,
                        time_cap: float, server_pid: int) -> dict[str, Any]:
    body = chat_body(MODEL, scenario.stream)
    async with LoadClient(url, [body], auth, scenario.concurrency) as client:
        await client.phase(warmup, time_cap)
        before = procfs.tree_cpu(server_pid)
        result = await client.phase(requests, time_cap)
        result.cpu_seconds = procfs.tree_cpu(server_pid) - before
    return result.summary()


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run_library(args: argparse.Namespace, out_dir: Path) -> tuple[dict[str, Any] | None, str | None]:
    """benchmarks.bench_library in a fresh process (it pins itself and starts its own fake upstream)."""
    target = out_dir / "library.json"
    argv = [sys.executable, "-m", "benchmarks.bench_library", "--json", str(target)]
    if args.quick:
        argv.append("--quick")
    try:
        done = subprocess.run(argv, cwd=str(Path(__file__).resolve().parent.parent), capture_output=True,
                              text=True, timeout=LIBRARY_TIMEOUT, preexec_fn=procfs.unpin_self)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {LIBRARY_TIMEOUT:g} s"
    (out_dir / "logs" / "bench-library.out").write_text(done.stdout + done.stderr, encoding="utf-8")
    if done.returncode != 0 or not target.exists():
        return None, f"exit {done.returncode}: {done.stderr.strip().splitlines()[-1:] or ''}"
    return json.loads(target.read_text()), None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one round, small counts: a smoke check")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 3, quick 1)")
    parser.add_argument("--requests", type=int, default=None, help="requests per measurement, every scenario")
    parser.add_argument("--time-cap", type=float, default=None, help="seconds per measurement (default 30, quick 8)")
    parser.add_argument("--skip-litellm-proxy", action="store_true", help="leave the LiteLLM proxy column out")
    parser.add_argument("--skip-library", action="store_true", help="leave benchmarks.bench_library out")
    parser.add_argument("--skip-native", action="store_true", help="leave the llmcore (native) column out")
    parser.add_argument("--only", default=None,
                        help="measure only these targets, comma-separated (e.g. llmcore_native,direct)")
    parser.add_argument("--skip-cli", action="store_true", help="leave the command wall times out")
    parser.add_argument("--soak", action="store_true", help="also run benchmarks.soak after the rounds (5-10 min)")
    parser.add_argument("--soak-requests", type=int, default=50_000, help="requests of the soak (default 50,000)")
    parser.add_argument("--out", type=Path, default=None, help="results directory (default benchmarks/results/<time>)")
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.time_cap = args.time_cap or (8.0 if args.quick else 30.0)
    if args.rounds < 1 or args.rounds > 20:
        parser.error("--rounds must be between 1 and 20")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = dt.datetime.now().strftime("%Y-%m-%dT%H-%M-%S")
    out_dir = args.out or RESULTS / started
    (out_dir / "logs").mkdir(parents=True, exist_ok=True)
    info = machine()  # before pinning: it counts the CPUs this process may use
    bench = Bench(args, out_dir)
    procfs.pin(os.getpid(), bench.cores.loadgen)
    result: dict[str, Any] = {"started": started, "revision": revision(), "machine": info, "settings": {
        "rounds": args.rounds, "quick": args.quick, "time_cap_s": args.time_cap, "pinning": bench.cores.describe(),
        "requests": args.requests or {s.key: (s.quick_requests if args.quick else s.requests) for s in SCENARIOS},
        "stream_chunks": 20,
    }}
    try:
        library, library_error = (None, "skipped") if args.skip_library else run_library(args, out_dir)
        result.update(library=library, library_error=library_error)
        _progress("library ratio done" if library else f"library ratio: {library_error}")
        bench.start_fake()
        bench.prepare_litellm_proxy()
        if not args.skip_cli:
            assert bench.config is not None
            result["cli"] = startup.measure(bench.config, bench.env, bench.cores.server, runs=5)
            _progress(f"command wall times: {json.dumps({k: v['median_s'] for k, v in result['cli'].items()})}")
        rounds = [bench.run_round(index) for index in range(args.rounds)]
    finally:
        bench.stop()
    if args.soak:
        from benchmarks import soak

        _progress(f"soak: {args.soak_requests} requests at concurrency 64")
        result["soak"] = soak.run(args.soak_requests, 64, 0.05, 600.0, out_dir / "soak")
    result["rounds"] = rounds
    result["unavailable"] = bench.unavailable
    result["medians"] = report.aggregate(rounds)
    result["verdicts"] = report.verdicts(result["medians"], library, result.get("cli"),
                                         bench.unavailable.get("litellm_proxy"))
    table = report.markdown(result)
    (out_dir / "results.json").write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    (out_dir / "results.md").write_text(table, encoding="utf-8")
    print(table)
    print(f"JSON: {out_dir / 'results.json'}\nMarkdown: {out_dir / 'results.md'}")
    return 0
