"""Logging set-up for applications (CLI, proxy, smoke): one masked sink, stdlib logging routed in.

The library never calls this (design decision 9): an application owns the
sinks. ``configure_logging`` replaces every loguru sink with one of ours,
enables the ``llmcore`` logger, installs a patcher that masks the message,
the bound fields and the exception text of every record before any sink sees
it, and routes the standard ``logging`` loggers (the root, LiteLLM's, httpx,
aiohttp's access log) into loguru so their text is masked too.

JSON mode writes one object per line with stable names: ``time`` (ISO 8601
UTC), ``level``, ``event``, ``message``, ``model``, ``request_id``,
``logger``, then every other bound field flat, then ``exception`` when there
is one. Text mode writes
``2026-11-26 10:00:00.123 | INFO | param_dropped model=grok-code-fast-1 param=stop | message``.

Loguru and ``logging`` are process-wide, so the state here is too: one
``_Setup`` holds it, behind a lock.
"""
from __future__ import annotations

import datetime as dt
import logging
import sys
import threading
import traceback
from collections.abc import Callable, Iterable
from json import dumps
from types import FrameType
from typing import Any, TextIO

from loguru import logger

from llmcore.domain.redaction import redact
from llmcore.domain.secret import Secret

LEVELS = ("TRACE", "DEBUG", "INFO", "WARNING", "ERROR")
STABLE_FIELDS = ("time", "level", "event", "message", "model", "request_id", "logger")

# The stdlib loggers whose records must never reach a handler of their own:
# LiteLLM adds a stream handler to its three at import (lazily, after we ran),
# and "LiteLLM Proxy.stdout" propagates to its parent's handlers, not filters.
ROUTED_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "LiteLLM Proxy.stdout", "httpx", "httpx2",
                  "aiohttp.access")
# Chatty below WARNING (LiteLLM's per-call debug, httpx's per-request INFO); heard only at DEBUG and TRACE.
QUIET_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "LiteLLM Proxy.stdout", "httpx", "httpx2")

_UNMASKABLE = "[log record could not be masked; dropped its text]"


def _forward(record: logging.LogRecord) -> None:
    """Hand a stdlib record to loguru, as if its original caller had logged it there."""
    try:
        level: str | int = logger.level(record.levelname).name
    except ValueError:
        level = record.levelno
    frame: FrameType | None = sys._getframe(0)
    depth = 0
    while frame is not None and frame.f_code.co_filename in (logging.__file__, __file__):
        frame, depth = frame.f_back, depth + 1
    logger.opt(depth=depth, exception=record.exc_info or None).bind(logger=record.name).log(
        level, record.getMessage())


class InterceptHandler(logging.Handler):
    """On the root logger: every record that propagates there goes to loguru, masked on the way."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            _forward(record)
        except Exception:  # noqa: BLE001 - logging must not fail the caller
            self.handleError(record)


class ForwardToLoguru(logging.Filter):
    """On a named logger: forwards each record to loguru and rejects it for every handler there.

    A filter on the logger runs before any of its handlers, so a handler added
    later (LiteLLM's, at its lazy import) never prints a record unmasked.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            _forward(record)
        except Exception:  # noqa: BLE001 - a filter that raises would fail the caller's log call
            pass
        return False


def _leave_record_as_is(record: Any) -> None:
    pass


class _Masker:
    """The loguru patcher: masks message, bound fields and exception text with every secret registered."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: tuple[Secret | str, ...] = ()

    def add(self, secrets: Iterable[Secret | str | None]) -> None:
        with self._lock:
            self._secrets = self._secrets + tuple(s for s in secrets if s)

    def clear(self) -> None:
        with self._lock:
            self._secrets = ()

    def __call__(self, record: Any) -> None:
        try:
            self._mask(record, self._secrets)
        except Exception:  # noqa: BLE001 - never let unmasked text through, never fail the log call
            record["message"] = _UNMASKABLE
            record["extra"].clear()
            record["exception"] = None

    @staticmethod
    def _mask(record: Any, secrets: tuple[Secret | str, ...]) -> None:
        record["message"] = redact(record["message"], secrets)
        extra = record["extra"]
        for key, value in extra.items():
            if isinstance(value, str):
                extra[key] = redact(value, secrets)
            elif value is not None and not isinstance(value, (bool, int, float)):
                extra[key] = redact(str(value), secrets)
        exception = record["exception"]
        if exception is not None:
            # Rendered and masked here, then taken off the record, so no sink formats the raw exception.
            if exception.type is not None:
                text = "".join(traceback.format_exception(exception.type, exception.value, exception.traceback))
                extra["exception"] = redact(text.rstrip("\n"), secrets)
            record["exception"] = None


def _utc(record: Any) -> dt.datetime:
    moment: dt.datetime = record["time"]
    return moment.astimezone(dt.timezone.utc)


def json_line(record: Any) -> str:
    """One JSON object with the stable fields first, then the other bound fields flat."""
    extra = dict(record["extra"])
    line: dict[str, Any] = {
        "time": _utc(record).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "level": record["level"].name,
        "event": extra.pop("event", None),
        "message": record["message"],
        "model": extra.pop("model", None),
        "request_id": extra.pop("request_id", None),
        "logger": extra.pop("logger", None) or record["name"],
    }
    exception = extra.pop("exception", None)
    for key, value in extra.items():
        line[f"extra_{key}" if key in line else key] = value
    if exception:
        line["exception"] = exception
    return dumps(line, default=str)


def _text_value(value: Any) -> str:
    if isinstance(value, str) and value and not any(c in value for c in ' ="|\n\t'):
        return value
    return dumps(value, default=str, ensure_ascii=False)


def text_line(record: Any) -> str:
    """``time | LEVEL | event key=value ... | message``, with the exception on the lines after."""
    extra = dict(record["extra"])
    exception = extra.pop("exception", None)
    head = extra.pop("event", None) or extra.pop("logger", None) or record["name"]
    fields = " ".join(f"{key}={_text_value(value)}" for key, value in extra.items() if value is not None)
    stamp = _utc(record).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    line = f"{stamp} | {record['level'].name} | {head}{' ' + fields if fields else ''} | {record['message']}"
    return f"{line}\n{exception}" if exception else line


class _LineSink:
    """A loguru sink that writes our own line format to a stream or hands it to a callable."""

    def __init__(self, target: TextIO | Callable[[str], object], json: bool) -> None:
        self._format = json_line if json else text_line
        # A stream's write, else the target is itself the callable; mypy cannot narrow through getattr.
        self._write: Callable[[str], object] = getattr(target, "write", target)  # type: ignore[arg-type]
        self._flush: Callable[[], object] = getattr(target, "flush", lambda: None)

    def __call__(self, message: Any) -> None:
        self._write(self._format(message.record) + "\n")
        self._flush()


class _Setup:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.masker = _Masker()
        self.sink_id: int | None = None
        self.saved: dict[str, tuple[int, list[logging.Handler]]] | None = None


_setup = _Setup()


def parse_level(level: str) -> str:
    """The loguru level name for ``level`` in any case; ValueError naming the valid ones otherwise."""
    name = str(level).strip().upper()
    if name not in LEVELS:
        raise ValueError(f"invalid log level {level!r}: use one of {', '.join(LEVELS)}")
    return name


def configure_logging(
    level: str = "INFO",
    json: bool = False,
    secrets: Iterable[Secret | str | None] = (),
    sink: TextIO | Callable[[str], object] | None = None,
) -> None:
    """Own the logging of this process: one masked sink (``sink``, default ``sys.stderr``) at ``level``.

    Call again to change level, mode or sink; secrets only accumulate (masking
    one too many costs nothing). ``LLMCORE_LOG_LEVEL`` / ``LLMCORE_LOG_JSON``
    are the caller's to read.
    """
    name = parse_level(level)
    with _setup.lock:
        _setup.masker.add(secrets)
        logger.remove()
        logger.configure(patcher=_setup.masker)
        _setup.sink_id = logger.add(
            _LineSink(sys.stderr if sink is None else sink, json), level=name, format="{message}",
            diagnose=False, backtrace=False, colorize=False, catch=True,
        )
        logger.enable("llmcore")
        _route_stdlib(name)


def add_secrets(secrets: Iterable[Secret | str | None]) -> None:
    """Mask these too from now on, e.g. the proxy's master key once it is known."""
    _setup.masker.add(secrets)


def reset_logging() -> None:
    """Undo configure_logging: remove our sink and patcher, give stdlib loggers back, disable ``llmcore``."""
    with _setup.lock:
        if _setup.sink_id is not None:
            try:
                logger.remove(_setup.sink_id)
            except ValueError:
                pass  # already removed by someone owning the sinks after us
            _setup.sink_id = None
        logger.configure(patcher=_leave_record_as_is)
        logger.disable("llmcore")
        _setup.masker.clear()
        for logger_name, (std_level, handlers) in (_setup.saved or {}).items():
            target = logging.getLogger(logger_name or None)
            target.setLevel(std_level)
            for old in [f for f in target.filters if isinstance(f, ForwardToLoguru)]:
                target.removeFilter(old)
            if not logger_name:
                target.handlers = handlers
        _setup.saved = None


def _route_stdlib(level_name: str) -> None:
    verbose = level_name in ("TRACE", "DEBUG")
    std_level = logging.DEBUG if verbose else getattr(logging, level_name)
    names = _routed_names()
    root = logging.getLogger()
    if _setup.saved is None:
        _setup.saved = {"": (root.level, list(root.handlers))}
    for name in names:
        _setup.saved.setdefault(name, (logging.getLogger(name).level, []))
    # Any other handler on the root would print records unmasked.
    root.handlers = [InterceptHandler()]
    root.setLevel(std_level)
    for name in names:
        target = logging.getLogger(name)
        for old in [f for f in target.filters if isinstance(f, ForwardToLoguru)]:
            target.removeFilter(old)
        target.addFilter(ForwardToLoguru())
        quiet = name in QUIET_LOGGERS or name.split(".")[0] in QUIET_LOGGERS
        target.setLevel(logging.DEBUG if verbose else (logging.WARNING if quiet else std_level))


def _routed_names() -> list[str]:
    """ROUTED_LOGGERS and the children of theirs that exist now (a child's records skip its parents' filters)."""
    existing = [n for n, v in logging.root.manager.loggerDict.items() if isinstance(v, logging.Logger)]
    children = [n for n in existing if n not in ROUTED_LOGGERS and n.startswith(tuple(r + "." for r in ROUTED_LOGGERS))]
    return list(ROUTED_LOGGERS) + sorted(children)
