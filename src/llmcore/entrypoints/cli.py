"""The ``llmcore`` command line: a thin shell that parses input, calls the library and renders the result.

Exit codes: 0 ok, 1 upstream or runtime error, 2 usage or config error, 5 (proxy)
a shutdown whose grace ran out with requests open (docs/deploy.md). An
error is one ``error: ...`` line on stderr (one per problem for a bad config);
the traceback is shown only at ``--log-level debug`` or ``trace``.

Nothing at module level imports LiteLLM or the telemetry adapters: ``models``,
``config check`` and ``--help`` read the config without building any adapter,
so they answer in a fraction of a second. ``chat``, ``proxy`` and ``smoke``
import what they need when they run. Tests hand in a :class:`CliWiring` as
click's ``obj`` to replace those builders instead of patching.
"""
from __future__ import annotations

import json
import math
import os
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import click
from attrs import field, frozen

import llmcore
from llmcore.adapters.recording_telemetry import NullTelemetry
from llmcore.adapters.yaml_config import LoadedConfig
from llmcore.bootstrap import Runtime, build, build_runtime, load_config, registry_for
from llmcore.certify import CHECK_IDS, DEFAULT_BUDGET_USD, UPSTREAMS
from llmcore.domain.chat import InvalidMessageError
from llmcore.domain.core import CORE_KEYWORDS, CORE_OWNED_PARAMS, Core
from llmcore.domain.errors import (
    ConfigError, LLMCoreError, ModelUnavailableError, ParamNotSupportedError, UnknownModelError, UpstreamError,
)
from llmcore.domain.redaction import redact
from llmcore.domain.registry import ModelRegistry, base_url_problem, key_problem
from llmcore.domain.secret import Secret
from llmcore.entrypoints import cli_config_report as config_report
from llmcore.entrypoints import cli_render as render
from llmcore.entrypoints.proxy_options import DEFAULT_GRACE_SECONDS, EXIT_DRAIN_INCOMPLETE, ProxyOptions, parse_workers

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2

# The one table from error to exit code; the first class that matches decides.
EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (ConfigError, EXIT_USAGE),
    (UnknownModelError, EXIT_USAGE),
    (ModelUnavailableError, EXIT_USAGE),
    (ParamNotSupportedError, EXIT_USAGE),
    (InvalidMessageError, EXIT_USAGE),
    (UpstreamError, EXIT_FAILURE),
    (LLMCoreError, EXIT_FAILURE),
)

TRACEBACK_LEVELS = frozenset({"TRACE", "DEBUG"})
DEFAULT_LOG_LEVEL = "WARNING"  # a terminal wants answers, not request logs
PROXY_LOG_LEVEL = "INFO"  # a server's log is its only output: "listening on ...", dropped params
TRUTHY = frozenset({"1", "true", "yes", "on"})


# --- the seam: what the commands build on --------------------------------------------------

def _configure_logging(level: str, json_logs: bool, secrets: Sequence[Secret | str]) -> None:
    from llmcore.adapters.log_setup import configure_logging

    configure_logging(level=level, json=json_logs, secrets=secrets, sink=sys.stderr)


def _serve_proxy(runtime: Runtime, options: ProxyOptions) -> int:
    from llmcore.entrypoints.proxy import run

    drained = run(runtime, options.host, options.port, grace_seconds=options.grace_seconds,
                  access_log=options.access_log)
    return EXIT_OK if drained else EXIT_DRAIN_INCOMPLETE


def _serve_workers(options: ProxyOptions, config_path: Path | None, env: Mapping[str, str], log_level: str) -> int:
    from llmcore.entrypoints.proxy_workers import run_workers  # gunicorn and aiohttp: only when serving

    return run_workers(options, config_path=config_path, env=env, log_level=log_level)


def _run_smoke(json_output: bool) -> int:
    from llmcore.entrypoints.smoke import run_smoke

    return run_smoke(out=sys.stdout, json_output=json_output)


@frozen(kw_only=True)
class CliWiring:
    """The environment and the builders the commands use; ``main()`` takes the defaults.

    ``core_factory`` serves ``chat`` (a Core whose telemetry logs through the
    CLI's sinks); ``runtime_factory`` serves ``proxy`` (a Core plus the metrics
    it exports). Both take ``(config_path, env)``; ``core_factory`` also takes
    ``telemetry=`` (None for the library's default logs and metrics).
    ``proxy_server`` serves one process, ``workers_server`` several (gunicorn;
    each worker builds its own runtime); both return the exit code.
    """

    env: Mapping[str, str] = field(factory=lambda: dict(os.environ))
    core_factory: Callable[..., Core] = build
    runtime_factory: Callable[[Path | None, Mapping[str, str]], Runtime] = build_runtime
    logging_setup: Callable[[str, bool, Sequence[Secret | str]], None] = _configure_logging
    proxy_server: Callable[[Runtime, ProxyOptions], int] = _serve_proxy
    workers_server: Callable[[ProxyOptions, Path | None, Mapping[str, str], str], int] = _serve_workers
    smoke_runner: Callable[[bool], int] = _run_smoke


@frozen(kw_only=True)
class Invocation:
    """One run of the CLI: the wiring plus the global options, shared by every command."""

    wiring: CliWiring
    config_path: Path | None
    log_level: str | None  # from --log-level or LLMCORE_LOG_LEVEL, validated; None: the command's default
    log_json: bool
    json_output: bool

    @property
    def env(self) -> Mapping[str, str]:
        return self.wiring.env

    @property
    def shows_tracebacks(self) -> bool:
        return self.log_level in TRACEBACK_LEVELS

    @property
    def logs_requested(self) -> bool:
        return self.log_level is not None or self.log_json

    def wants_json(self, command_flag: bool) -> bool:
        return self.json_output or command_flag

    def load_config(self) -> LoadedConfig:
        return load_config(self.config_path, self.env)

    def registry(self, config: LoadedConfig | None = None) -> ModelRegistry:
        """The models and their availability, judged without building any adapter (no LiteLLM import)."""
        return registry_for(config or self.load_config(), self.env)

    def start_logging(self, default_level: str) -> None:
        """Give the library's logs a sink, masking every configured key (read first, so nothing leaks before)."""
        secrets = self.load_config().secrets()
        self.wiring.logging_setup(self.log_level or default_level, self.log_json, secrets)

    def core(self) -> Core:
        self.start_logging(DEFAULT_LOG_LEVEL)
        # chat prints every request outcome itself (notes, warnings, the error line); the library's event
        # logs would say each one twice, so they are on only when --log-level, LLMCORE_LOG_LEVEL or JSON logs ask.
        telemetry = None if self.logs_requested else NullTelemetry()
        return self.wiring.core_factory(self.config_path, self.env, telemetry=telemetry)

    def runtime(self) -> Runtime:
        self.start_logging(PROXY_LOG_LEVEL)
        return self.wiring.runtime_factory(self.config_path, self.env)


# --- errors -------------------------------------------------------------------------------

def exit_code_for(error: BaseException) -> int:
    return next((code for kind, code in EXIT_CODES if isinstance(error, kind)), EXIT_FAILURE)


def report_error(error: BaseException, shows_tracebacks: bool) -> int:
    """Print the error as ``error: ...`` lines on stderr (after its traceback at debug level); its exit code."""
    if shows_tracebacks:
        click.echo(redact("".join(traceback.format_exception(error))), err=True, nl=False)
    for line in render.error_lines(error, shows_tracebacks):
        click.echo(f"error: {line}", err=True)
    return exit_code_for(error)


class ErrorReportingGroup(click.Group):
    """The root group: turns any error a command raises into its exit code and one line on stderr."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as error:
            shows_tracebacks = isinstance(ctx.obj, Invocation) and ctx.obj.shows_tracebacks
            ctx.exit(report_error(error, shows_tracebacks))


# --- the commands -------------------------------------------------------------------------

# Set by `llmcore chat` itself or by the Core; as --param they would collide with its arguments.
RESERVED_PARAMS = CORE_OWNED_PARAMS | CORE_KEYWORDS


def parse_params(ctx: click.Context, param: click.Parameter, values: Sequence[str]) -> dict[str, Any]:
    """``--param key=value`` pairs; a value that parses as JSON is taken as JSON (numbers, lists), else as text."""
    params: dict[str, Any] = {}
    for item in values:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE (e.g. temperature=0.2)", ctx, param)
        if key in RESERVED_PARAMS:
            raise click.BadParameter(f"{key!r} is set by llmcore chat itself", ctx, param)
        try:
            params[key] = json.loads(raw)
        except ValueError:
            params[key] = raw
    return params


def json_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "json_flag", is_flag=True, help="Machine-readable JSON on stdout.")(command)


def emit_json(document: Any) -> None:
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


@click.group(cls=ErrorReportingGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Config file (default: $LLMCORE_CONFIG, else ./llmcore.yaml, else the built-in catalog).")
@click.option("--log-level", default=None, metavar="LEVEL",
              help=f"trace, debug, info, warning or error (default: $LLMCORE_LOG_LEVEL, else "
                   f"{DEFAULT_LOG_LEVEL.lower()}; {PROXY_LOG_LEVEL.lower()} for proxy). debug and trace also show "
                   "tracebacks. chat shows the library's own event logs only when a level is given.")
@click.option("--log-json", is_flag=True, help="Logs as JSON lines on stderr (also LLMCORE_LOG_JSON=1).")
@click.option("--json", "json_output", is_flag=True, help="Machine-readable JSON on stdout.")
@click.version_option(llmcore.__version__, "--version", prog_name="llmcore", message="%(prog)s %(version)s")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, log_level: str | None, log_json: bool,
        json_output: bool) -> None:
    """llmcore: grok-code-fast-1 and friends behind one shared configuration."""
    from llmcore.adapters.log_setup import parse_level  # stdlib and loguru only: as light as llmcore itself

    wiring = ctx.obj if isinstance(ctx.obj, CliWiring) else CliWiring()
    given_level = log_level or wiring.env.get("LLMCORE_LOG_LEVEL") or None
    try:
        level = parse_level(given_level) if given_level else None
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="'--log-level' (or LLMCORE_LOG_LEVEL)") from None
    log_json = log_json or wiring.env.get("LLMCORE_LOG_JSON", "").strip().lower() in TRUTHY
    ctx.obj = Invocation(wiring=wiring, config_path=config_path, log_level=level, log_json=log_json,
                         json_output=json_output)


@cli.group()
def models() -> None:
    """The configured models and their availability."""


@models.command("list")
@json_option
@click.pass_obj
def models_list(state: Invocation, json_flag: bool) -> None:
    """List every model: upstream, provider, availability, lifecycle."""
    statuses = state.registry().statuses()
    if state.wants_json(json_flag):
        emit_json([render.status_document(s) for s in statuses])
    else:
        click.echo(render.models_table(statuses))


@models.command("show")
@click.argument("alias")
@json_option
@click.pass_obj
def models_show(state: Invocation, alias: str, json_flag: bool) -> None:
    """Show what llmcore resolved for ALIAS, and where each value came from."""
    registry = state.registry()
    spec, status = registry.spec(alias), registry.status(alias)
    if state.wants_json(json_flag):
        emit_json(render.spec_document(spec, status))
    else:
        click.echo(render.model_detail(spec, status))


@cli.group("config")
def config_group() -> None:
    """The config file."""


@config_group.command("check")
@click.option("--strict", is_flag=True,
              help="Also exit 2 when a model's key or base URL (or the master key) is missing or malformed.")
@json_option
@click.pass_context
def config_check(ctx: click.Context, strict: bool, json_flag: bool) -> None:
    """Validate the config: every problem is listed (exit 2); else each model with its masked key and sources.

    A model unavailable for its credentials is reported and still exits 0, so
    one missing key does not fail a deploy that serves the others; --strict
    makes it exit 2.
    """
    state: Invocation = ctx.obj
    as_json = state.wants_json(json_flag)
    try:
        config = state.load_config()
    except ConfigError as error:
        if as_json:
            emit_json({"ok": False, "source": error.source, "problems": list(error.problems)})
        else:
            report_error(error, shows_tracebacks=False)
        ctx.exit(EXIT_USAGE)
    # Judged per entry, not through the registry: a repeated model_name is one deployment per entry,
    # and each deployment is shown with its own credentials and availability.
    environment = state.env.get("LLMCORE_ENV") or None
    statuses = [config_report.deployment_status(spec, environment) for spec in config.specs]
    unusable = [spec.alias for spec in config.specs if key_problem(spec) or base_url_problem(spec)]
    if config.master_key_problem:
        unusable.append("the master key")
    strict_failure = strict and bool(unusable)
    report = config_report.ConfigReport(config=config, statuses=statuses, environment=environment)
    if as_json:
        emit_json(report.document(ok=not strict_failure))
    else:
        click.echo(report.text())
        verdict = render.credentials_verdict(list(dict.fromkeys(unusable)), strict)
        if verdict:
            click.echo(verdict, err=True)
    ctx.exit(EXIT_USAGE if strict_failure else EXIT_OK)


@cli.command()
@click.argument("alias")
@click.argument("prompt")
@click.option("--system", default=None, help="A system message before the prompt.")
@click.option("--param", "raw_params", multiple=True, metavar="KEY=VALUE", callback=parse_params,
              help="A request param, repeatable; VALUE is parsed as JSON when it parses, else taken as a string.")
@click.option("--stream/--no-stream", default=True, show_default=True, help="Stream the answer as it arrives.")
@click.option("--show-reasoning", is_flag=True, help="Print the model's reasoning on stderr (dimmed on a terminal).")
@json_option
@click.pass_context
def chat(ctx: click.Context, alias: str, prompt: str, system: str | None, raw_params: dict[str, Any],
         stream: bool, show_reasoning: bool, json_flag: bool) -> None:
    """Ask ALIAS one question. PROMPT '-' reads it from stdin.

    Params the model does not take are dropped with a note on stderr; a usage
    line follows the answer. A stream that breaks keeps its partial text and exits 1.
    """
    state: Invocation = ctx.obj
    text = sys.stdin.read() if prompt == "-" else prompt
    if not text.strip():
        raise click.BadParameter("the prompt is empty", param_hint="PROMPT")
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": text})
    printer = render.ChatPrinter(show_reasoning=show_reasoning, as_json=state.wants_json(json_flag))
    with state.core() as core:  # its pooled connections close before the process exits
        if stream:
            with core.stream(alias, messages, **raw_params) as session:
                printer.notes(session.adjustments)
                for chunk in session:
                    printer.delta(chunk.content, chunk.reasoning_content)
            answer = render.Answer.from_session(alias, session)
        else:
            response = core.complete(alias, messages, **raw_params)
            printer.notes(response.adjustments)
            printer.delta(response.content, response.reasoning_content)
            answer = render.Answer.from_response(alias, response)
    printer.finish(answer)
    ctx.exit(EXIT_OK if answer.complete else EXIT_FAILURE)


def parse_workers_option(ctx: click.Context, param: click.Parameter, value: str) -> int:
    try:
        return parse_workers(value)
    except ValueError as error:
        raise click.BadParameter(str(error), ctx, param) from None


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=4000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--workers", default="1", show_default=True, metavar="N|auto", callback=parse_workers_option,
              help="Worker processes on the one port (gunicorn); auto: one per CPU this process may use. "
                   "1 serves from this process.")
@click.option("--grace-seconds", default=DEFAULT_GRACE_SECONDS, show_default=True, type=click.FloatRange(min=0),
              help="The longest a shutdown takes: requests in flight get it minus 1 s (minus a tenth under "
                   "10 s) to finish, then end with a server_shutting_down error (exit code 5). A second "
                   "SIGTERM/SIGINT ends the drain at once the same way.")
@click.option("--preload/--no-preload", default=True, show_default=True,
              help="With workers: import LiteLLM once before forking, so the workers share its memory.")
@click.option("--access-log", is_flag=True,
              help="One log line per request, with the pid of the process that served it.")
@click.pass_context
def proxy(ctx: click.Context, host: str, port: int, workers: int, grace_seconds: float, preload: bool,
          access_log: bool) -> None:
    """Serve the OpenAI-compatible proxy.

    POST /v1/chat/completions, GET /v1/models, /health, /health/readiness and /metrics.
    Exit codes: 0 after a complete drain, 5 when the grace ran out with requests open.
    """
    state: Invocation = ctx.obj
    options = ProxyOptions(host=host, port=port, workers=workers, grace_seconds=grace_seconds, preload=preload,
                           access_log=access_log)
    if options.workers == 1:
        ctx.exit(state.wiring.proxy_server(state.runtime(), options))
    # Several processes: the master only loads and checks the config; each worker builds its own runtime.
    state.start_logging(PROXY_LOG_LEVEL)
    ctx.exit(state.wiring.workers_server(options, state.config_path, state.env, state.log_level or PROXY_LOG_LEVEL))


@cli.command()
@json_option
@click.pass_context
def smoke(ctx: click.Context, json_flag: bool) -> None:
    """Run the offline end-to-end check; exit 0 when it worked.

    A fake xAI server, a stub key and the proxy on loopback ports; one plain and
    one streamed request; then the answers, log lines and metrics they produced.
    """
    state: Invocation = ctx.obj
    ctx.exit(state.wiring.smoke_runner(state.wants_json(json_flag)))


def _finite_budget(ctx: click.Context, param: click.Parameter, value: float) -> float:
    # FloatRange(min=0) lets nan and inf through; the budget then refused them only after the config loaded.
    if not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a number of dollars; give a finite amount such as 0.05")
    return value


def _ready_out_dir(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    # Checked before any request: an --out that cannot take the reports must not cost a paid run first.
    if value is None:
        return None
    from llmcore.certify.report import out_dir_problem

    problem = out_dir_problem(value)
    if problem is not None:
        raise click.BadParameter(problem)
    return value


@cli.command()
@click.argument("aliases", nargs=-1, required=True, metavar="ALIAS...")
@click.option("--budget-usd", type=click.FloatRange(min=0), default=DEFAULT_BUDGET_USD, show_default=True,
              callback=_finite_budget,
              help="Most the run may spend per alias; it stops before a check that could pass it (exit 1).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), metavar="DIRECTORY", default=None,
              callback=_ready_out_dir,
              help="Write certify-<alias>-<UTC time>.json and .md reports into this directory (created if "
                   "missing; checked before any request).")
@click.option("--upstream", type=click.Choice(UPSTREAMS), default="configured", show_default=True,
              help="configured: the alias's real upstream; fake: the shipped fake xAI server (no key needed).")
@click.option("--fake-fault", type=click.Choice(CHECK_IDS), default=None, hidden=True,
              help="With --upstream fake: make the fake fail this check (tests).")
@json_option
@click.pass_context
def certify(ctx: click.Context, aliases: tuple[str, ...], budget_usd: float, out_dir: Path | None, upstream: str,
            fake_fault: str | None, json_flag: bool) -> None:
    """Prove each ALIAS against its upstream: seven live checks within a budget, with a report.

    Exit 0 when every check passed, 1 when one failed or the budget stopped the
    run, 2 for a usage or config error (an alias without a key is refused at once).
    See docs/certify.md.
    """
    from llmcore.certify.command import run

    state: Invocation = ctx.obj
    if fake_fault is not None and upstream != "fake":
        raise click.BadParameter("only with --upstream fake", param_hint="'--fake-fault'")
    telemetry = None if state.logs_requested else NullTelemetry()
    code = run(
        config=state.load_config(), env=state.env, aliases=aliases, budget_usd=budget_usd, out_dir=out_dir,
        upstream="fake" if upstream == "fake" else "configured", fake_fault=fake_fault,
        build_core=lambda config: state.wiring.core_factory(state.config_path, state.env, telemetry=telemetry,
                                                            config=config),
        start_logging=lambda secrets: state.wiring.logging_setup(
            state.log_level or DEFAULT_LOG_LEVEL, state.log_json, secrets),
        echo=click.echo, json_output=state.wants_json(json_flag),
    )
    ctx.exit(code)


def main() -> None:
    """The console script ``llmcore``: it owns its process, so LiteLLM is configured process-wide."""
    from llmcore.adapters.litellm_runtime import own_process  # does not import LiteLLM

    own_process()
    cli(prog_name="llmcore")


if __name__ == "__main__":
    main()
