"""What OpenTelemetry tracing costs a library call: CPU per ``core.complete()`` and per ``core.stream()``.

Real LiteLLM against the fake xAI server (a subprocess, 20-chunk streams), one child
process per mode, because a process can set its global tracer provider only once:

- ``off``: OpenTelemetry never imported (the default for a host without the extra or a provider);
- ``api``: the API imported, no provider set (what a host with the extra but no setup has);
- ``sdk``: the SDK's provider, BatchSpanProcessor, an exporter that drops the spans (span work only);
- ``otlp``: the SDK's provider exporting over OTLP/HTTP to the test receiver (tests/otlp_receiver.py,
  in another subprocess): span work plus protobuf encoding and the HTTP export, all in this process's CPU.

Each call runs inside a host span in the ``sdk`` and ``otlp`` modes, as a traced host calls.
Figures: the median over batches of per-call CPU (``time.process_time``, every thread of the
process, the exporter's included), in ms.

``--proxy`` measures ``llmcore proxy`` instead: the proxy process's CPU (``/proc``) per request,
sequential requests from this process, with traces off and with ``OTEL_TRACES_EXPORTER=otlp``
(SERVER and CLIENT spans exported to the receiver), alternating rounds.

    python -m benchmarks.bench_otel [--batches 7] [--calls 200] [--proxy] [--json PATH]
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MODES = ("off", "api", "sdk", "otlp")
MESSAGES = [{"role": "user", "content": "Say hi in Portuguese."}]

RECEIVER = """
import sys, time
from tests.otlp_receiver import OtlpReceiver
with OtlpReceiver() as receiver:
    print(receiver.endpoint, flush=True)
    sys.stdin.read()
    print(len(receiver.received()), flush=True)
"""


def child(mode: str, base_url: str, key: str, batches: int, calls: int) -> dict[str, Any]:
    """Runs in the child process: per-call CPU of complete() and stream() in ``mode``."""
    import llmcore
    from llmcore.adapters.litellm_runtime import litellm_module

    host_span: Any = None
    provider: Any = None
    if mode != "off":
        from opentelemetry import trace
    if mode in ("sdk", "otlp"):
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

        class Dropping(SpanExporter):
            def export(self, spans: Any) -> SpanExportResult:
                return SpanExportResult.SUCCESS

        if mode == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            exporter: Any = OTLPSpanExporter()
        else:
            exporter = Dropping()
        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        host_span = trace.get_tracer("bench").start_span("host")

    core = llmcore.load(env={"GROK_API_KEY": key, "GROK_BASE_URL": base_url})
    litellm_module()

    def one_complete() -> None:
        core.complete("grok-code-fast-1", MESSAGES)

    def one_stream() -> None:
        with core.stream("grok-code-fast-1", MESSAGES) as session:
            for _ in session:
                pass

    def measure(call: Any) -> float:
        for _ in range(20):
            call()
        medians = []
        for _ in range(batches):
            per_call = []
            for _ in range(calls):
                started = time.process_time()
                call()
                per_call.append(time.process_time() - started)
            medians.append(statistics.median(per_call))
        return round(statistics.median(medians) * 1000, 4)

    if host_span is not None:
        from opentelemetry import trace as api

        with api.use_span(host_span, end_on_exit=True):
            figures = {"complete_cpu_ms": measure(one_complete), "stream_cpu_ms": measure(one_stream)}
    else:
        figures = {"complete_cpu_ms": measure(one_complete), "stream_cpu_ms": measure(one_stream)}
    if provider is not None:
        provider.force_flush()
    figures["otel_imported"] = "opentelemetry" in sys.modules
    return figures


def proxy_cpu(fake_url: str, endpoint: str, env: dict[str, str], workdir: Path, rounds: int,
              calls: int) -> dict[str, Any]:
    """CPU ms per request of the proxy process, traces off and on, non-stream and stream."""
    import httpx

    from benchmarks import procfs
    from benchmarks.targets import MODEL, llmcore_proxy, write_config

    config = write_config(workdir / "llmcore.yaml", [dict(
        alias=MODEL, upstream=MODEL, key_env="GROK_API_KEY", base_env="GROK_BASE_URL", max_retries=0)])
    master = "sk-bench-" + secrets.token_hex(8)
    auth = {"Authorization": f"Bearer {master}"}
    body = {"model": MODEL, "messages": MESSAGES}
    figures: dict[str, list[float]] = {}
    for _ in range(rounds):
        for traced in (False, True):
            extra = {"GROK_BASE_URL": fake_url, "BENCH_MASTER_KEY": master}
            if traced:
                extra.update(OTEL_TRACES_EXPORTER="otlp", OTEL_EXPORTER_OTLP_ENDPOINT=endpoint)
            proxy = llmcore_proxy(config, {**env, **extra}, workdir / "proxy.log", None)
            proxy.start(auth)
            try:
                with httpx.Client(trust_env=False, timeout=30, headers=auth) as http:
                    for stream in (False, True):
                        count = calls if not stream else calls // 4
                        for _ in range(20):
                            http.post(proxy.url, json={**body, "stream": stream}).read()
                        before = procfs.tree_cpu(proxy.pid)
                        for _ in range(count):
                            http.post(proxy.url, json={**body, "stream": stream}).read()
                        per_request = (procfs.tree_cpu(proxy.pid) - before) / count * 1000
                        key = f"{'on' if traced else 'off'}_{'stream' if stream else 'complete'}_cpu_ms"
                        figures.setdefault(key, []).append(per_request)
            finally:
                proxy.stop()
    return {k: round(statistics.median(v), 3) for k, v in sorted(figures.items())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_otel", description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=7)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--proxy", action="store_true", help="measure the proxy process instead of the library")
    parser.add_argument("--rounds", type=int, default=3, help="--proxy: off/on rounds")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        figures = child(args.child, args.base_url, os.environ["GROK_API_KEY"], args.batches, args.calls)
        print(json.dumps(figures), flush=True)
        return 0

    from benchmarks.targets import FakeUpstream, base_env

    key = "xai-bench-" + secrets.token_hex(12)
    env = base_env({"GROK_API_KEY": key})
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as workdir:
        fake = FakeUpstream(env, "GROK_API_KEY", Path(workdir) / "fake.log", None).start()
        receiver = subprocess.Popen([sys.executable, "-c", RECEIVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    text=True, env=env)
        try:
            assert receiver.stdout is not None and receiver.stdin is not None
            endpoint = receiver.stdout.readline().strip()
            if args.proxy:
                results["proxy"] = proxy_cpu(fake.base_url, endpoint, env, Path(workdir), args.rounds, args.calls)
            for mode in () if args.proxy else MODES:
                child_env = {**env, "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_SERVICE_NAME": "bench"}
                done = subprocess.run(
                    [sys.executable, "-m", "benchmarks.bench_otel", "--child", mode, "--base-url", fake.base_url,
                     "--batches", str(args.batches), "--calls", str(args.calls)],
                    env=child_env, capture_output=True, text=True, check=True)
                results[mode] = json.loads(done.stdout.strip().splitlines()[-1])
                print(f"{mode:5} {results[mode]}", flush=True)
            receiver.stdin.close()
            results["otlp_spans_received"] = int(receiver.stdout.readline().strip() or 0)
        finally:
            receiver.kill()
            receiver.wait()
            fake.stop()
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
