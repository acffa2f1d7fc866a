"""The gunicorn application behind ``llmcore proxy --workers N``, without forking: its settings from the
CLI's options, the run directory, and how worker exits become the exit code. The real two-worker
run is tests/e2e/test_proxy_workers.py; the metrics aggregation across processes is
tests/unit/test_prometheus_multiprocess.py.
"""
from __future__ import annotations

import os
import types
from pathlib import Path

import pytest

from llmcore.bootstrap import load_config
from llmcore.entrypoints.proxy_drain import DrainReport
from llmcore.entrypoints.proxy_options import (
    EXIT_DRAIN_INCOMPLETE,
    ProxyOptions,
    available_cpus,
    max_workers,
    parse_workers,
)
from llmcore.entrypoints.proxy_workers import (
    GunicornProxy, LoguruGunicornLogger, RunDirectory, UVLoopProxyWorker, bind_address, gunicorn_log_level,
    worker_class,
)


@pytest.fixture
def run_dir(tmp_path: Path) -> RunDirectory:
    environ: dict[str, str] = {}
    made = RunDirectory.create(environ)
    yield made
    made.remove()


def application(options: ProxyOptions, run_dir: RunDirectory, level: str = "INFO") -> GunicornProxy:
    env = {"GROK_API_KEY": "xai-test-" + "k" * 8}
    return GunicornProxy(options, config_path=None, env=env, config=load_config(None, env), log_level=level,
                         run_dir=run_dir)


# --- the options ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("given", "count"), [("1", 1), ("4", 4), (" 2 ", 2), (3, 3)])
def test_workers_is_a_whole_number(given: str, count: int) -> None:
    assert parse_workers(given) == count


def test_auto_workers_are_the_cpus_in_this_process_affinity() -> None:
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert parse_workers("auto") == parse_workers("AUTO") == available_cpus() == expected


def test_auto_workers_fall_back_to_the_cpu_count_without_affinity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    assert available_cpus() == 6
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert available_cpus() == 1


@pytest.mark.parametrize("given", ["0", "-2", "many", "1.5", ""])
def test_workers_refuses_what_cannot_serve(given: str) -> None:
    with pytest.raises(ValueError, match="1 or more|neither"):
        parse_workers(given)


# --- gunicorn's settings ---------------------------------------------------------------------------

def test_the_cli_options_become_gunicorns_settings(run_dir: RunDirectory) -> None:
    options = ProxyOptions(host="0.0.0.0", port=8080, workers=3, grace_seconds=7.5, preload=False)
    cfg = application(options, run_dir, level="WARNING").cfg
    assert cfg.bind == ["0.0.0.0:8080"]
    assert cfg.workers == 3
    assert cfg.graceful_timeout == 8  # whole seconds, never below the drain's grace
    assert cfg.preload_app is False
    assert cfg.loglevel == "warning"
    assert cfg.proc_name == "llmcore-proxy"
    assert cfg.accesslog is None
    assert cfg.logger_class is LoguruGunicornLogger
    assert cfg.worker_class is UVLoopProxyWorker
    if "control_socket_disable" in cfg.settings:  # gunicorn 25.1+: no shared $HOME/.gunicorn/gunicorn.ctl
        assert cfg.control_socket_disable is True


def test_preload_is_the_default(run_dir: RunDirectory) -> None:
    assert application(ProxyOptions(workers=2), run_dir).cfg.preload_app is True


def test_ipv6_hosts_are_bracketed_and_trace_is_debug_for_gunicorn() -> None:
    assert bind_address("::", 4000) == "[::]:4000"
    assert bind_address("127.0.0.1", 0) == "127.0.0.1:0"
    assert gunicorn_log_level("TRACE") == "debug" and gunicorn_log_level("ERROR") == "error"


def test_the_worker_runs_on_uvloop_where_it_is_installed() -> None:
    assert worker_class() == "llmcore.entrypoints.proxy_workers.UVLoopProxyWorker"


def test_gunicorns_own_lines_go_to_the_root_logger_not_a_handler_of_its_own(run_dir: RunDirectory) -> None:
    cfg = application(ProxyOptions(workers=2), run_dir).cfg
    log = LoguruGunicornLogger(cfg)
    assert log.error_log.handlers == [] and log.error_log.propagate is True


# --- the run directory ------------------------------------------------------------------------------

def test_the_run_directory_exports_a_fresh_metrics_dir_and_is_removed(tmp_path: Path) -> None:
    environ: dict[str, str] = {}
    made = RunDirectory.create(environ)
    assert environ["PROMETHEUS_MULTIPROC_DIR"] == str(made.metrics) and made.metrics.is_dir()
    assert made.owns_metrics and made.metrics.parent == made.root
    made.write_report(DrainReport(pid=41, in_flight=3, cut=1, seconds=2.5))
    assert made.read_report(41) == DrainReport(pid=41, in_flight=3, cut=1, seconds=2.5)
    assert made.read_report(42) is None
    made.remove()
    assert not made.root.exists()


def test_an_operators_metrics_dir_is_used_emptied_of_stale_files_and_kept(tmp_path: Path) -> None:
    given = tmp_path / "prom"
    given.mkdir()
    (given / "counter_1234.db").write_bytes(b"stale")
    (given / "notes.txt").write_text("the operator's")
    environ = {"PROMETHEUS_MULTIPROC_DIR": str(given)}
    made = RunDirectory.create(environ)
    assert made.metrics == given and not made.owns_metrics
    assert not (given / "counter_1234.db").exists(), "a previous run's counts must not add to this one's"
    (given / "counter_99.db").write_bytes(b"ours")
    made.remove()
    assert given.is_dir() and (given / "notes.txt").exists() and not list(given.glob("*.db"))


def test_a_report_that_cannot_be_read_counts_as_no_report(run_dir: RunDirectory) -> None:
    run_dir.report_path(7).write_text("{not json", "utf-8")
    assert run_dir.read_report(7) is None


# --- worker exits -> exit code ------------------------------------------------------------------------

def worker(pid: int) -> types.SimpleNamespace:
    return types.SimpleNamespace(pid=pid)


def test_every_worker_drained_means_drained(run_dir: RunDirectory) -> None:
    app = application(ProxyOptions(workers=2), run_dir)
    for pid in (101, 102):
        run_dir.write_report(DrainReport(pid=pid, in_flight=2, cut=0, seconds=0.4))
        app.child_exit(None, worker(pid))
    assert app.drained


@pytest.mark.parametrize("second", [DrainReport(pid=102, in_flight=4, cut=2, seconds=9.0), None])
def test_a_worker_that_cut_requests_or_left_no_report_is_an_incomplete_drain(
    run_dir: RunDirectory, second: DrainReport | None,
) -> None:
    app = application(ProxyOptions(workers=2), run_dir)
    run_dir.write_report(DrainReport(pid=101, in_flight=0, cut=0, seconds=0.0))
    if second is not None:
        run_dir.write_report(second)
    app.child_exit(None, worker(101))
    app.child_exit(None, worker(102))
    assert not app.drained
    assert EXIT_DRAIN_INCOMPLETE == 5


def test_an_exited_worker_leaves_the_live_gauges(run_dir: RunDirectory) -> None:
    for name in ("gauge_livemostrecent_103.db", "gauge_livemostrecent_104.db", "counter_103.db"):
        (run_dir.metrics / name).write_bytes(b"")
    application(ProxyOptions(workers=2), run_dir).child_exit(None, worker(103))
    left = sorted(p.name for p in run_dir.metrics.iterdir())
    assert left == ["counter_103.db", "gauge_livemostrecent_104.db"], "counts stay, its live gauge goes"


def test_workers_refuse_to_start_where_prometheus_client_already_counts_per_process() -> None:
    import prometheus_client.values  # noqa: F401  (this test process: imported without the variable)

    from llmcore.entrypoints.proxy_workers import refuse_single_process_metrics

    with pytest.raises(RuntimeError, match="PROMETHEUS_MULTIPROC_DIR was set"):
        refuse_single_process_metrics()


def test_the_access_log_names_the_request_id_and_the_serving_pid() -> None:
    import logging

    from llmcore.entrypoints.proxy import ACCESS_LOG_FORMAT, access_logger

    assert access_logger(False) is None
    assert access_logger(True) is logging.getLogger("aiohttp.access")  # routed into the masked sink by log_setup
    assert "%{x-request-id}o" in ACCESS_LOG_FORMAT and "pid=%P" in ACCESS_LOG_FORMAT


def test_workers_past_four_per_cpu_are_refused_saying_the_limit_and_why(monkeypatch: pytest.MonkeyPatch) -> None:
    # Finding 14 of the new-user tester's report: --workers 1000 on 2 CPUs forked until killed.
    import llmcore.entrypoints.proxy_options as proxy_options

    monkeypatch.setattr(proxy_options, "available_cpus", lambda: 2)
    assert parse_workers("8") == 8 and max_workers() == 8
    with pytest.raises(ValueError, match=r"1000 workers is more than the 8 .* 2 CPU\(s\) .*4 per CPU.*'auto'"):
        parse_workers("1000")
    with pytest.raises(ValueError, match="9 workers is more than the 8"):
        ProxyOptions(workers=9)


NATIVE_ONLY_LOAD = """
import sys, tempfile
from pathlib import Path
from llmcore.bootstrap import load_config
from llmcore.entrypoints.proxy_options import ProxyOptions
from llmcore.entrypoints.proxy_workers import GunicornProxy, RunDirectory

env = {"GROK_API_KEY": "xai-canary-native-only-123", "GROK_BASE_URL": "http://127.0.0.1:9/v1"}
config = load_config(Path(sys.argv[1]), env)
app = GunicornProxy(ProxyOptions(workers=2), config_path=Path(sys.argv[1]), env=env, config=config,
                    log_level="INFO", run_dir=RunDirectory.create({}))
app.load()
print(app.uses_litellm, app._litellm_state(), "litellm" in sys.modules, "tiktoken" in sys.modules)
"""


@pytest.mark.parametrize(("adapter", "expected"), [
    ("native", "False not used: every model is native False False"),
    ("litellm", "True preloaded True"),
])
def test_the_master_preloads_litellm_only_when_a_model_uses_it(tmp_path: Path, adapter: str, expected: str) -> None:
    # Finding 4b of the new-user tester's report: a native-only config preloaded LiteLLM in the master
    # (4.7 s to ready, ~195 MB per worker); docs/configuration.md promises it is never imported then.
    import subprocess
    import sys

    config = tmp_path / "llmcore.yaml"
    config.write_text("model_list:\n  - model_name: grok-code-fast-1\n    litellm_params:\n"
                      "      model: openai/grok-code-fast-1\n      api_key: os.environ/GROK_API_KEY\n"
                      "      api_base: os.environ/GROK_BASE_URL\n"
                      f"    model_info:\n      adapter: {adapter}\n", "utf-8")
    out = subprocess.run([sys.executable, "-c", NATIVE_ONLY_LOAD, str(config)], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path, env={**os.environ, "TMPDIR": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().startswith(expected), out.stdout


@pytest.mark.parametrize(("variables", "named"), [
    ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER"),
    ({"OTEL_TRACES_EXPORTER": "console", "OTEL_PROPAGATORS": "nope"}, "OTEL_PROPAGATORS"),
])
def test_a_bad_tracing_setting_stops_the_master_before_any_worker_forks(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, variables: dict[str, str], named: str) -> None:
    # Each worker installs the tracer provider itself: without the master's check, every worker failed
    # to boot (gunicorn's exit 3 and a traceback) or, for an unknown exporter, the proxy ran on untraced.
    import llmcore.entrypoints.proxy_workers as workers
    from llmcore.domain.errors import ConfigError

    monkeypatch.setattr(workers, "refuse_single_process_metrics", lambda: None)
    monkeypatch.setattr(workers, "GunicornProxy", lambda *args, **kwargs: pytest.fail("gunicorn was started"))
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    config = tmp_path / "llmcore.yaml"
    config.write_text("model_list:\n  - model_name: grok-code-fast-1\n    litellm_params:\n"
                      "      model: openai/grok-code-fast-1\n", "utf-8")
    with pytest.raises(ConfigError, match=named):
        workers.run_workers(ProxyOptions(workers=2), config_path=config, env={"GROK_API_KEY": "xai-w-" + "0" * 8},
                            log_level="INFO")
