"""Telemetry as structured loguru log lines, masked before they reach any sink.

Every line carries ``event`` and ``model`` (the alias) as bound fields, plus
what the event needs (``param``, ``status``, ``attempt``, ``duration_ms``...).
Masking is a patcher on this adapter's own logger, so it runs before any sink
sees the record: a host application's sinks get masked text too (design
decision 9), and nothing is redacted for a line no sink will take.

Levels follow what an operator must do about an event, listed in ``EVENTS``
(docs/operations.md is checked against it). ``request_finished`` is DEBUG:
a line per request is noise for a proxy at scale, and the metrics already
count requests, latency, tokens and cost; turn on DEBUG for an access trail.

This module logs from inside the ``llmcore`` namespace, so the library's
``logger.disable("llmcore")`` silences it until an application enables it.
Prompts and completions never reach this adapter.
"""
from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple, TypeVar, cast

from loguru import logger

from llmcore.adapters.request_api import current_api
from llmcore.domain.chat import ParamAdjustment
from llmcore.domain.errors import (
    InvalidRequestError,
    QuotaExceededError,
    TransientUpstreamError,
    UpstreamAuthError,
    UpstreamError,
)
from llmcore.domain.model_spec import ModelSpec
from llmcore.domain.redaction import redact
from llmcore.domain.secret import Secret
from llmcore.domain.usage import Usage

F = TypeVar("F", bound=Callable[..., Any])

# The served-by-another-model WARNING is remembered per (alias, served model);
# the cap keeps an upstream that invents model ids from growing the set forever.
_MISMATCH_MEMORY = 1024


class EventDoc(NamedTuple):
    """One log event: its level, what it means, and what an operator should do about it."""

    level: str
    meaning: str
    action: str


EVENTS: dict[str, EventDoc] = {
    "param_dropped": EventDoc(
        "INFO", "A request param the model does not take was removed before sending (drop_params on).",
        "Nothing; set drop_params: false to refuse such requests with HTTP 400 instead."),
    "param_renamed": EventDoc(
        "INFO", "A request param was sent under the name the upstream takes.", "Nothing."),
    "param_transformed": EventDoc(
        "INFO", "A request param or message field was changed to a form the upstream accepts.", "Nothing."),
    "retrying": EventDoc(
        "INFO", "A transient upstream error (429, 5xx, timeout, stream broken before its first chunk); "
        "llmcore waits and tries again.",
        "Nothing unless frequent; then check the provider's status and rate limits (llmcore_retries_total)."),
    "retries_exhausted": EventDoc(
        "WARNING", "A transient upstream error outlasted every retry; the caller got the error.",
        "Check the provider's status, the network and the base URL; raise litellm_params.max_retries "
        "or timeout if the outages are short."),
    "upstream_auth_failed": EventDoc(
        "ERROR", "The provider refused the model's API key (401, 403, xAI's 400 'Incorrect API key').",
        "Fix the key (GROK_API_KEY or api_key on the model entry); every request to this model fails until then."),
    "quota_exceeded": EventDoc(
        "ERROR", "The provider's account has no credits left or hit its spending limit.",
        "Add credits or raise the spending limit in the provider's console."),
    "upstream_rejected": EventDoc(
        "INFO", "The provider rejected the request as invalid (4xx); the caller got the error.",
        "Usually a client bug; if many requests fail on one param, add a drop rule for it."),
    "upstream_failed": EventDoc(
        "WARNING", "The provider failed in a way llmcore does not classify further.",
        "Read the status and message; check the provider's status."),
    "stream_incomplete": EventDoc(
        "WARNING", "A stream broke or ended without a finish reason; the caller got partial output "
        "marked incomplete.",
        "Check the provider's status and any proxy or load balancer timeouts between llmcore and it."),
    "model_mismatch": EventDoc(
        "WARNING", "The upstream answered with another model than the one configured (logged once per alias "
        "and served model; later occurrences at DEBUG).",
        "Check the served model's price and behaviour; repoint the alias or update its prices."),
    "fallback_used": EventDoc(
        "WARNING", "A model spent its retries on a transient error or a rate limit and a fallback model "
        "(router_settings.fallbacks) served the request instead; the answer names it (x-llmcore-served-alias).",
        "Check the failing model's provider (llmcore_fallbacks_total); fallbacks may differ in price and quality."),
    "deployment_cooled_down": EventDoc(
        "WARNING", "One deployment of a model failed more than allowed_fails times in a minute and is left out "
        "for cooldown_time seconds (this process only); the model's other deployments serve meanwhile.",
        "Check that deployment's provider, key and base URL (models show names them); tune "
        "router_settings.allowed_fails / cooldown_time."),
    "request_finished": EventDoc(
        "DEBUG", "A request ended: outcome, duration, tokens and cost.", "Nothing; for tracing one request."),
    "model_unavailable": EventDoc(
        "ERROR", "A configured model cannot serve (key or base URL missing or malformed, or not enabled "
        "in this environment); the other models keep serving.",
        "Do what the reason says: set the variable it names or fix the model entry."),
    "content": EventDoc(
        "DEBUG", "The prompts and the answer of one request; only with LLMCORE_LOG_CONTENT=1 (off by default).",
        "Turn it off again once the incident is understood: prompts may hold personal or secret data."),
    "config_warning": EventDoc(
        "WARNING", "The config has something llmcore accepts but does not use, or another non-fatal problem.",
        "Fix or remove what the message names."),
    "telemetry_failed": EventDoc(
        "WARNING", "A telemetry adapter raised; the request went on unaffected.",
        "Report it as an llmcore bug, with the message."),
}


def never_raises(method: F) -> F:
    """Telemetry must not fail a request: a failing method is logged as ``telemetry_failed`` and swallowed."""

    @functools.wraps(method)
    def guarded(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            method(self, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - a telemetry bug must never reach the caller
            try:
                text = redact(f"{type(self).__name__}.{method.__name__} failed: {type(exc).__name__}: {exc}",
                              getattr(self, "secrets", ()))
                logger.bind(event="telemetry_failed").warning(text)
            except Exception:  # noqa: BLE001 - nowhere left to report to
                pass

    return cast(F, guarded)


class LoguruTelemetry:
    """The Telemetry port as loguru log lines; see ``EVENTS`` for every event and its level."""

    def __init__(self, secrets: Iterable[Secret | str | None] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: tuple[Secret | str, ...] = tuple(s for s in secrets if s)
        self._mismatches_warned: set[tuple[str, str]] = set()
        self._logger = logger.patch(self._mask)

    @property
    def secrets(self) -> tuple[Secret | str, ...]:
        return self._secrets

    def add_secrets(self, secrets: Iterable[Secret | str | None]) -> None:
        """Mask these too from now on (e.g. a master key known only after configuration)."""
        with self._lock:
            self._secrets = self._secrets + tuple(s for s in secrets if s)

    def _mask(self, record: Any) -> None:
        secrets = self._secrets
        record["message"] = redact(record["message"], secrets)
        extra = record["extra"]
        for key, value in extra.items():
            if isinstance(value, str):
                extra[key] = redact(value, secrets)

    def _emit(self, level: str, event: str, message: str, spec: ModelSpec | None = None,
              request_id: str | None = None, *, model: str | None = None, **fields: Any) -> None:
        bound: dict[str, Any] = {
            "event": event, "model": spec.alias if spec is not None else model, "request_id": request_id,
        }
        if spec is not None:
            bound["upstream_model"] = spec.upstream_model
        bound.update(fields)
        # No format args: loguru leaves the message alone, so braces in upstream text are safe.
        self._logger.bind(**bound).log(level, message)

    @never_raises
    def param_adjusted(self, spec: ModelSpec, adjustment: ParamAdjustment, request_id: str | None) -> None:
        action = adjustment.action
        target = f" to {adjustment.new_name!r}" if adjustment.new_name else ""
        self._emit(
            "INFO", f"param_{action}", f"{action} param {adjustment.param!r}{target} for {spec.alias}: "
            f"{adjustment.reason}", spec, request_id,
            param=adjustment.param, action=action, reason=adjustment.reason, new_name=adjustment.new_name,
        )

    @never_raises
    def retrying(
        self, spec: ModelSpec, attempt: int, wait: float, error: UpstreamError, request_id: str | None
    ) -> None:
        attempts = spec.retry.max_retries + 1
        status = getattr(error, "status_code", None)
        cause = f"{type(error).__name__}" + (f" (HTTP {status})" if status is not None else "")
        self._emit(
            "INFO", "retrying", f"retrying {spec.alias}: attempt {attempt} of {attempts} failed with {cause}; "
            f"attempt {attempt + 1} after {wait:.2f} s", spec, request_id,
            attempt=attempt, max_attempts=attempts, wait_s=round(wait, 3), error=type(error).__name__,
            status=status,
        )

    @never_raises
    def upstream_failed(self, spec: ModelSpec, error: UpstreamError, request_id: str | None) -> None:
        event, level = _classify(error)
        status = getattr(error, "status_code", None)
        retries = spec.retry.max_retries if isinstance(error, TransientUpstreamError) else 0
        after = f" after {retries} retries" if isinstance(error, TransientUpstreamError) else ""
        self._emit(
            level, event, f"{spec.alias}: {type(error).__name__}{after}: {error}", spec, request_id,
            error=type(error).__name__, status=status, retries=retries, provider=spec.provider,
        )

    @never_raises
    def stream_incomplete(self, spec: ModelSpec, reason: str, detail: str, request_id: str | None) -> None:
        self._emit(
            "WARNING", "stream_incomplete", f"stream from {spec.alias} ended incomplete ({reason}): {detail}",
            spec, request_id, reason=reason,
        )

    @never_raises
    def model_mismatch(self, spec: ModelSpec, served_by: str, request_id: str | None) -> None:
        key = (spec.alias, str(served_by))
        with self._lock:
            first = key not in self._mismatches_warned
            if first and len(self._mismatches_warned) < _MISMATCH_MEMORY:
                self._mismatches_warned.add(key)
        level = "WARNING" if first else "DEBUG"
        self._emit(
            level, "model_mismatch", f"{spec.alias} asked upstream for {spec.upstream_model} and was served by "
            f"{served_by}; prices and behaviour are the served model's", spec, request_id, served_by=str(served_by),
        )

    @never_raises
    def fallback_used(self, spec: ModelSpec, fallback: str, error: UpstreamError, request_id: str | None) -> None:
        status = getattr(error, "status_code", None)
        self._emit(
            "WARNING", "fallback_used", f"{spec.alias} spent its retries ({type(error).__name__}); fallback "
            f"{fallback} served the request", spec, request_id, fallback=fallback, error=type(error).__name__,
            status=status,
        )

    @never_raises
    def deployment_cooled_down(
        self, spec: ModelSpec, seconds: float, error: UpstreamError, request_id: str | None
    ) -> None:
        deployment = spec.deployment.id
        self._emit(
            "WARNING", "deployment_cooled_down", f"deployment {deployment} of {spec.alias} cooled down for "
            f"{seconds:g} s after repeated failures (last: {type(error).__name__})", spec, request_id,
            deployment=deployment, cooldown_s=seconds, error=type(error).__name__,
        )

    @never_raises
    def request_finished(
        self, spec: ModelSpec, *, outcome: str, seconds: float, usage: Usage | None, stream: bool,
        request_id: str | None,
    ) -> None:
        if not debug_wanted():
            return  # the per-request line is DEBUG; building a record no sink takes costs ~5 us a request
        duration_ms = round(seconds * 1000, 1)
        tokens: dict[str, Any] = {}
        if usage is not None:
            tokens = dict(
                prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
                reasoning_tokens=usage.reasoning_tokens, cached_tokens=usage.cached_tokens,
                total_tokens=usage.total_tokens, cost_usd=usage.cost_usd, cost_source=usage.cost_source,
            )
        kind = "stream" if stream else "request"
        self._emit(
            "DEBUG", "request_finished", f"{kind} to {spec.alias} finished: {outcome} in {duration_ms} ms",
            spec, request_id, outcome=outcome, stream=stream, api=current_api.get(), duration_ms=duration_ms,
            **tokens,
        )

    @never_raises
    def model_unavailable(self, alias: str, reason: str) -> None:
        self._emit("ERROR", "model_unavailable", f"model {alias} is unavailable: {reason}", model=alias,
                   reason=reason)

    @never_raises
    def content_exchanged(self, spec: ModelSpec, messages: list[dict[str, Any]], content: str | None,
                          reasoning: str | None, request_id: str | None) -> None:
        # Only reached with LLMCORE_LOG_CONTENT=1; masked like every other line.
        self._emit("DEBUG", "content", f"content of a {spec.alias} request", spec, request_id,
                   messages=json.dumps(messages, ensure_ascii=False, default=str), content=content,
                   reasoning=reasoning)

    @never_raises
    def config_warning(self, message: str) -> None:
        self._emit("WARNING", "config_warning", str(message))


_DEBUG_LEVEL_NO = 10


def debug_wanted() -> bool:
    """Whether any sink takes DEBUG records. Loguru keeps the lowest sink level; if that ever
    moves, the answer is yes (log as usual) rather than a silently lost line."""
    min_level = getattr(getattr(logger, "_core", None), "min_level", None)
    return not isinstance(min_level, (int, float)) or min_level <= _DEBUG_LEVEL_NO


def _classify(error: UpstreamError) -> tuple[str, str]:
    """(event, level) for a request's final upstream failure, most specific class first."""
    if isinstance(error, UpstreamAuthError):
        return "upstream_auth_failed", "ERROR"
    if isinstance(error, QuotaExceededError):
        return "quota_exceeded", "ERROR"
    if isinstance(error, InvalidRequestError):
        return "upstream_rejected", "INFO"
    if isinstance(error, TransientUpstreamError):
        return "retries_exhausted", "WARNING"
    return "upstream_failed", "WARNING"
