"""PrometheusTelemetry in prometheus_client's multiprocess mode (``llmcore proxy --workers N``).

prometheus_client picks its mode once, when it is imported, from ``PROMETHEUS_MULTIPROC_DIR``; so each
"worker" here is a fresh interpreter, as a forked gunicorn worker is a process of its own.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

WORKER = textwrap.dedent("""
    import os, sys
    from llmcore.adapters.prometheus_telemetry import PrometheusTelemetry, multiprocess_dir

    telemetry = PrometheusTelemetry()
    count, available = int(sys.argv[1]), sys.argv[2] == "1"
    telemetry.requests_total.labels(model="grok", outcome="ok", stream="false", api="chat_completions").inc(count)
    telemetry.overhead_seconds.labels(route="/v1/chat/completions").observe(0.001)
    telemetry.model_available("grok", available)
    print(os.getpid(), multiprocess_dir())
    sys.stdout.flush()
    if len(sys.argv) > 3:
        sys.stdout.buffer.write(telemetry.render())
""")


def worker(directory: Path | None, count: int, available: bool, render: bool = False) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if k.lower() != "prometheus_multiproc_dir"}
    if directory is not None:
        env["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    args = [sys.executable, "-c", WORKER, str(count), "1" if available else "0"] + (["render"] if render else [])
    out = subprocess.run(args, capture_output=True, text=True, env=env, timeout=60, check=True).stdout
    head, _, body = out.partition("\n")
    return int(head.split()[0]), head.split()[1] + "\n" + body


def sample(text: str, name: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))


def aggregate(directory: Path) -> str:
    """What any worker's scrape reads from the directory (without adding a process of its own)."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(directory))
    return generate_latest(registry).decode()


@pytest.mark.slow
def test_the_scrape_sums_every_process_and_the_gauge_is_the_latest_live_value(tmp_path: Path) -> None:
    worker(tmp_path, 3, available=True)
    second, _ = worker(tmp_path, 4, available=False)  # set later: the most recent value
    scrape = aggregate(tmp_path)
    assert sample(scrape, "llmcore_requests_total{") == 7.0, "counters sum over the processes, exited ones too"
    assert sample(scrape, "llmcore_overhead_seconds_count{") == 2.0
    assert sample(scrape, 'llmcore_model_available{model="grok"}') == 0.0
    mark_process_dead(second, str(tmp_path))  # what child_exit does when a worker exits
    scrape = aggregate(tmp_path)
    assert sample(scrape, "llmcore_requests_total{") == 7.0
    assert sample(scrape, 'llmcore_model_available{model="grok"}') == 1.0, "a dead worker's gauge no longer counts"


@pytest.mark.slow
def test_a_workers_render_serves_the_aggregate(tmp_path: Path) -> None:
    worker(tmp_path, 5, available=True)
    _, scrape = worker(tmp_path, 1, available=True, render=True)
    assert scrape.startswith(str(tmp_path)), "the worker is in multiprocess mode"
    assert sample(scrape, "llmcore_requests_total{") == 6.0


@pytest.mark.slow
def test_without_the_directory_a_process_renders_only_its_own_counts(tmp_path: Path) -> None:
    _, scrape = worker(None, 2, available=True, render=True)
    assert scrape.startswith("None")
    assert sample(scrape, "llmcore_requests_total{") == 2.0
    assert not list(tmp_path.iterdir())
