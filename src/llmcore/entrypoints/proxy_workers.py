"""``llmcore proxy --workers N``: N worker processes serving one port, run by gunicorn.

gunicorn's arbiter is the supervisor (no home-made one): it binds the port, forks the workers,
replaces one that dies, and on SIGTERM closes the listening socket, sends every worker SIGTERM
and SIGKILLs what is left after ``graceful_timeout`` (= ``--grace-seconds``). Each worker is
aiohttp's gunicorn worker (``GunicornUVLoopWebWorker``, ``GunicornWebWorker`` where uvloop is
absent) serving the same application as the single-process proxy, with its own drain
(``proxy_drain``).

What happens where:

- **the master** (this process, the CLI): the config is loaded and checked (a bad one exits 2
  before anything forks), the log sinks are set up, the run directory is made and, with
  ``preload`` (the default), LiteLLM is imported once before the fork (only when some model uses
  the ``litellm`` adapter: a native-only config never imports it), so the workers share its
  pages copy-on-write (docs/performance.md, "Workers", has RSS and PSS with and without). Nothing
  with a socket, a thread or an event loop is made here: LiteLLM's warm-up call starts a logging
  thread and an event loop, so it runs in each worker.
- **each worker**, after the fork, in its own event loop: its own Runtime (Core, metrics, pooled
  clients, health probe), LiteLLM's warm-up, then the application. A worker accepts connections
  only after that, so whichever answers ``/health/readiness`` is warmed up.

Metrics: prometheus_client's multiprocess mode (``adapters/prometheus_telemetry``). The run
directory (a fresh temporary directory) holds ``metrics/``, exported as
``PROMETHEUS_MULTIPROC_DIR`` before prometheus_client is imported anywhere (an operator's own
``PROMETHEUS_MULTIPROC_DIR`` is used instead, emptied of stale ``*.db`` files at start), and one
drain report per worker. ``child_exit`` marks an exited worker dead for the live gauges. At exit
the run directory is removed (and the operator's metrics directory emptied of our files).

Exit code (``run_workers``): 0 when every worker drained; ``EXIT_DRAIN_INCOMPLETE`` (5) when one
ended requests at its deadline or exited without a drain report (SIGKILLed at
``graceful_timeout``, crashed); gunicorn's own 3 (a worker failed to boot) and 4 (the
application failed to load).
"""
from __future__ import annotations

import asyncio
import contextlib
import gc
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.worker import GunicornUVLoopWebWorker, GunicornWebWorker
from attrs import frozen
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.glogging import Logger as GunicornLogger
from loguru import logger

from llmcore.adapters.log_setup import add_secrets
from llmcore.adapters.yaml_config import LoadedConfig
from llmcore.bootstrap import Runtime, build_runtime
from llmcore.domain.errors import ConfigError
from llmcore.entrypoints.proxy_drain import Drain, DrainReport
from llmcore.entrypoints.proxy_options import EXIT_DRAIN_INCOMPLETE, ProxyOptions

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
PROC_NAME = "llmcore-proxy"


class ProxyWorker(GunicornWebWorker):
    """aiohttp's gunicorn worker, with two changes that keep a shutdown within ``graceful_timeout``.

    - The drain starts as soon as SIGTERM arrives: aiohttp's worker notices ``alive = False`` at its
      next heartbeat, up to 1 s later, so it wakes its serve loop the way aiohttp's own SIGINT
      handler does.
    - Once drained and cleaned up, the worker leaves with ``os._exit``: the interpreter's teardown
      of LiteLLM's ~3,000 modules took 1.5-2.5 s of CPU per worker here (it writes to every
      copy-on-write page it frees), time taken from the grace, after which gunicorn SIGKILLs.
      Nothing is left to finalize: the drain report is written, the pooled clients are closed,
      every log line is flushed as it is written.
    """

    def handle_exit(self, sig: int, frame: Any) -> None:
        super().handle_exit(sig, frame)
        wake = getattr(self, "_notify_waiter_done", None)
        if wake is not None:
            wake()

    def run(self) -> None:
        try:
            super().run()
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        self.log.info("Worker exiting (pid: %s)", self.pid)
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


class UVLoopProxyWorker(ProxyWorker, GunicornUVLoopWebWorker):
    """:class:`ProxyWorker` on uvloop (what the single-process proxy runs on too)."""


def worker_class() -> str:
    """The uvloop worker where uvloop is installed (everywhere but Windows), else the asyncio one."""
    try:
        import uvloop  # noqa: F401
    except ImportError:  # pragma: no cover - uvloop is a dependency on every platform gunicorn runs on
        return f"{__name__}.ProxyWorker"
    return f"{__name__}.UVLoopProxyWorker"


class LoguruGunicornLogger(GunicornLogger):
    """gunicorn's own lines (boot, signals, worker exits) through the proxy's masked sink, JSON or text,
    instead of a stderr handler of gunicorn's with another format."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in list(log.handlers):
                log.removeHandler(handler)
            log.propagate = True  # to the root logger, which log_setup routes into loguru


def gunicorn_log_level(level: str) -> str:
    """gunicorn's name for a loguru level (it has no TRACE)."""
    return "debug" if level.upper() == "TRACE" else level.lower()


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def refuse_single_process_metrics() -> None:
    """RuntimeError when prometheus_client is already imported in single-process mode: the workers would
    inherit it, and each would count alone (prometheus_client picks its mode once, at import)."""
    values = sys.modules.get("prometheus_client.values")
    if values is not None and getattr(values, "ValueClass", None) is getattr(values, "MutexValue", None):
        raise RuntimeError("prometheus_client was imported before PROMETHEUS_MULTIPROC_DIR was set, so the "
                           "workers' metrics could not be aggregated; start the workers from a fresh process")


@frozen
class RunDirectory:
    """Where the workers of one server leave their metrics and drain reports; removed at exit."""

    root: Path
    metrics: Path
    owns_metrics: bool

    @classmethod
    def create(cls, environ: dict[str, str] | os._Environ[str] | None = None) -> RunDirectory:
        """Make it and export ``PROMETHEUS_MULTIPROC_DIR``, which must precede prometheus_client's import."""
        environ = os.environ if environ is None else environ
        root = Path(tempfile.mkdtemp(prefix="llmcore-proxy-"))
        given = environ.get(MULTIPROCESS_ENV)
        metrics = Path(given) if given else root / "metrics"
        metrics.mkdir(parents=True, exist_ok=True)
        for stale in metrics.glob("*.db"):  # a previous run's counts would be added to this one's
            stale.unlink()
        environ[MULTIPROCESS_ENV] = str(metrics)
        return cls(root, metrics, owns_metrics=not given)

    def report_path(self, pid: int) -> Path:
        return self.root / f"drain-{pid}.json"

    def write_report(self, report: DrainReport) -> None:
        self.report_path(report.pid).write_text(report.to_json(), "utf-8")

    def read_report(self, pid: int) -> DrainReport | None:
        try:
            return DrainReport.from_json(self.report_path(pid).read_text("utf-8"))
        except (OSError, ValueError, KeyError):
            return None

    def remove(self) -> None:
        if not self.owns_metrics:
            for ours in self.metrics.glob("*.db"):
                ours.unlink(missing_ok=True)
        shutil.rmtree(self.root, ignore_errors=True)


class GunicornProxy(BaseApplication):
    """The proxy as a gunicorn application, configured from :class:`ProxyOptions`, run in-process."""

    def __init__(self, options: ProxyOptions, *, config_path: Path | None, env: Mapping[str, str],
                 config: LoadedConfig, log_level: str, run_dir: RunDirectory) -> None:
        self.options = options
        self.config_path = config_path
        self.env = dict(env)
        self.config = config
        self.log_level = log_level
        self.run_dir = run_dir
        self.master_pid = os.getpid()
        self.runtime: Runtime | None = None  # a worker's own, built after the fork
        self.exits: dict[int, DrainReport | None] = {}
        super().__init__(prog="llmcore proxy")

    def settings(self) -> dict[str, Any]:
        """gunicorn's settings from the CLI's options; gunicorn's command line and config files are not read."""
        return {
            "bind": [bind_address(self.options.host, self.options.port)],
            "workers": self.options.workers,
            "worker_class": worker_class(),
            "graceful_timeout": math.ceil(self.options.grace_seconds),  # gunicorn takes whole seconds
            "preload_app": self.options.preload,
            "proc_name": PROC_NAME,
            "loglevel": gunicorn_log_level(self.log_level),
            "logger_class": LoguruGunicornLogger,
            "errorlog": "-",
            "accesslog": None,  # aiohttp writes the access log (--access-log), in the worker that served
            # gunicorn 25.1+ opens a control socket at $HOME/.gunicorn/gunicorn.ctl; two servers on one host
            # would share it, and nothing here uses it (FACTS.md, "Found while building the first wave").
            "control_socket_disable": True,
            "when_ready": self.when_ready,
            "post_fork": self.post_fork,
            "child_exit": self.child_exit,
        }

    def load_config(self) -> None:
        for key, value in self.settings().items():
            if key in self.cfg.settings:  # control_socket_disable exists from gunicorn 25.1
                self.cfg.set(key, value)

    @property
    def uses_litellm(self) -> bool:
        """Whether some configured model is served by LiteLLM (``model_info.adapter``, Decision 18): only
        then is it imported, here or in the workers (docs/configuration.md)."""
        return any(spec.adapter == "litellm" for spec in self.config.specs)

    def load(self) -> Any:
        """In the master with preload (gunicorn calls it before forking), else in each worker."""
        if self.uses_litellm:
            from llmcore.adapters.litellm_runtime import litellm_module

            litellm_module()  # the ~3 s, ~200 MB import; no thread, socket or loop (the warm-up call is per worker)
        if os.getpid() == self.master_pid:
            # What the workers inherit stays out of their garbage collections, which would otherwise write
            # to (and so copy) every shared page holding a tracked object (the gc module's advice for fork).
            gc.collect()
            gc.freeze()
        return self.application

    def when_ready(self, server: Any) -> None:
        addresses = ", ".join(f"http://{bind_address(*listener.sock.getsockname()[:2])}"
                              for listener in server.LISTENERS)
        logger.bind(event="proxy_started", workers=self.options.workers).info(
            f"llmcore proxy listening on {addresses} with {self.options.workers} workers "
            f"(master pid {os.getpid()}, LiteLLM {self._litellm_state()})")

    def _litellm_state(self) -> str:
        if not self.uses_litellm:
            return "not used: every model is native"
        return "preloaded" if self.options.preload else "loaded per worker"

    def post_fork(self, server: Any, worker: Any) -> None:
        """In the new worker, first thing: every log line names the worker that wrote it."""
        logger.configure(extra={"pid": os.getpid()})

    async def application(self) -> web.AppRunner:
        """The worker's application, built after the fork (aiohttp's gunicorn worker calls it in the
        worker's event loop, then listens): its own Runtime, warmed up, and the drain."""
        from llmcore.entrypoints.proxy import ACCESS_LOG_FORMAT, access_logger, create_app, known_secrets

        runtime = self.runtime = build_runtime(self.config_path, self.env, config=self.config)
        # LiteLLM's warm-up is a blocking call: in a thread, so this loop keeps handling signals (a
        # SIGTERM during the warm-up still stops the worker at once). The sites open only after it.
        await asyncio.get_running_loop().run_in_executor(None, runtime.warm_up)
        app = create_app(runtime)
        add_secrets(known_secrets(runtime))
        Drain(self.options.grace_seconds, os.getpid(), on_finished=self.run_dir.write_report).install(app)
        ready = sum(1 for status in runtime.core.models() if status.available)
        logger.bind(event="worker_ready").info(
            f"worker {os.getpid()} ready ({ready} of {len(runtime.core.models())} models available)")
        return web.AppRunner(app, access_log=access_logger(self.options.access_log),
                             access_log_format=ACCESS_LOG_FORMAT, handler_cancellation=True,
                             shutdown_timeout=self.options.grace_seconds)

    def child_exit(self, server: Any, worker: Any) -> None:
        """In the master, for every worker that exited: drop it from the live gauges, keep its drain report."""
        from prometheus_client.multiprocess import mark_process_dead

        # prometheus_client's multiprocess helpers carry no annotations
        mark_process_dead(worker.pid, str(self.run_dir.metrics))  # type: ignore[no-untyped-call]
        report = self.run_dir.read_report(worker.pid)
        self.exits[worker.pid] = report
        if report is None:
            logger.bind(event="worker_not_drained", worker_pid=worker.pid).warning(
                f"worker {worker.pid} exited without draining (killed at the grace deadline, or crashed): "
                "the requests it had open were cut")

    @property
    def drained(self) -> bool:
        """True when every worker that exited drained completely."""
        return all(report is not None and report.completed for report in self.exits.values())

    def serve(self) -> int:
        """Run gunicorn's arbiter until it exits; the exit code (see the module docstring)."""
        try:
            arbiter = Arbiter(self)
            arbiter.run()
        except RuntimeError as error:  # gunicorn's way to say it cannot start (as BaseApplication.run)
            logger.bind(event="proxy_failed").error(f"gunicorn could not start: {error}")
            return 1
        except SystemExit as done:
            if os.getpid() != self.master_pid:
                raise  # a worker leaving through the master's stack: its own exit code
            status = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        else:  # pragma: no cover - gunicorn's arbiter always leaves with SystemExit
            status = 0
        # Still listed: SIGKILLed at graceful_timeout and gone before the arbiter could reap them.
        for pid in arbiter.WORKERS:
            self.exits.setdefault(pid, None)
            logger.bind(event="worker_not_drained", worker_pid=pid).warning(
                f"worker {pid} was killed at the end of the grace: the requests it had open were cut")
        if status == 0 and not self.drained:
            return EXIT_DRAIN_INCOMPLETE
        return status


def run_workers(options: ProxyOptions, *, config_path: Path | None, env: Mapping[str, str],
                log_level: str) -> int:
    """Serve with ``options.workers`` processes until SIGTERM; the exit code. Raises ConfigError for a
    config that cannot serve (before anything forks)."""
    from llmcore.adapters.otel_setup import check_tracing_settings
    from llmcore.bootstrap import load_config

    master_pid = os.getpid()
    refuse_single_process_metrics()
    run_dir = RunDirectory.create()
    try:
        config = load_config(config_path, env)
        check_tracing_settings()  # each worker installs the tracer provider; a bad OTEL_* stops us first
        if config.master_key_problem:
            raise ConfigError(f"general_settings.master_key: {config.master_key_problem}; "
                              "the proxy will not start without it")
        application = GunicornProxy(options, config_path=config_path, env=env, config=config,
                                    log_level=log_level, run_dir=run_dir)
        code = application.serve()
        logger.bind(event="proxy_stopped", drained=application.drained, exit_code=code).info(
            f"llmcore proxy stopped (exit code {code})")
        return code
    finally:
        if os.getpid() == master_pid:  # a worker leaves through this frame too; the master cleans up
            run_dir.remove()
