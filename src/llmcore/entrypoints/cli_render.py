"""What the ``llmcore`` CLI prints: tables and reports for people, plain documents for ``--json``.

Functions from library values to text or JSON-ready dicts, plus ChatPrinter,
the one writer, so the commands in cli.py stay thin and the rendering is
tested without a terminal. Keys appear only as their mask: every key goes
through ``str(Secret)``.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import click
from attrs import asdict, frozen

from llmcore.domain.chat import ChatResponse, ParamAdjustment
from llmcore.domain.errors import ConfigError, LLMCoreError
from llmcore.domain.model_spec import Capabilities, Lifecycle, ModelSpec
from llmcore.domain.param_policy import DEFAULT_DROP_REASON
from llmcore.domain.redaction import display_url, redact
from llmcore.domain.registry import DeploymentStatus, ModelStatus
from llmcore.domain.secret import Secret
from llmcore.domain.stream_session import StreamSession
from llmcore.domain.usage import Prices, Usage

PER_MILLION = 1_000_000

COST_SOURCES = {
    "upstream": "reported by the upstream",
    "prices": "from the configured prices",
}


# --- small pieces ------------------------------------------------------------------------------

def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Columns padded to their widest cell; the last column is left ragged so long reasons do not pad."""
    all_rows = [list(header), *[list(r) for r in rows]]
    widths = [max(len(r[i]) for r in all_rows) for i in range(len(header) - 1)]
    lines = []
    for row in all_rows:
        padded = [cell.ljust(width) for cell, width in zip(row, widths)] + row[len(widths):]
        lines.append("  ".join(padded).rstrip())
    return "\n".join(lines)


def status_text(available: bool, reason: str | None) -> str:
    return "available" if available else f"unavailable: {reason}"


def masked(secret: Secret | None) -> str:
    return str(secret) if secret is not None else "none"


def money(usd: float) -> str:
    """Dollars with cents always shown and sub-cent digits only when there are any: $2.50, $0.00076625."""
    whole, _, fraction = f"{usd:.8f}".partition(".")
    return f"${whole}.{fraction.rstrip('0').ljust(2, '0')}"


def per_million(per_token: float | None) -> float | None:
    return None if per_token is None else round(per_token * PER_MILLION, 9)


def adjustment_notice(adjustment: ParamAdjustment) -> str:
    """``note: dropped stop (xAI answers HTTP 400 ...)``: what the param policy did, for stderr."""
    if adjustment.action == "renamed" and adjustment.new_name:
        return f"note: renamed {adjustment.param} to {adjustment.new_name} ({adjustment.reason})"
    return f"note: {adjustment.action} {adjustment.param} ({adjustment.reason})"


def usage_line(usage: Usage | None) -> str:
    """One line for stderr after an answer: tokens including reasoning, cost and where the cost came from."""
    if usage is None:
        return "usage: not reported by the upstream"
    prompt = f"{usage.prompt_tokens} prompt"
    if usage.cached_tokens:
        prompt += f" ({usage.cached_tokens} cached)"
    tokens = (
        f"{prompt} + {usage.completion_tokens} completion + {usage.reasoning_tokens} reasoning"
        f" = {usage.total_tokens} tokens"
    )
    if usage.cost_usd is None:
        return f"usage: {tokens}; cost unknown (no prices configured for this model)"
    source = COST_SOURCES.get(usage.cost_source, usage.cost_source)
    return f"usage: {tokens}; cost {money(usage.cost_usd)} ({source})"


# --- models list -------------------------------------------------------------------------------

def models_table(statuses: Sequence[ModelStatus]) -> str:
    if not statuses:
        return "no models configured"
    rows = [
        (s.alias, s.upstream, s.provider, status_text(s.available, s.reason), s.lifecycle_warning or "")
        for s in statuses
    ]
    return table(("ALIAS", "UPSTREAM", "PROVIDER", "STATUS", "LIFECYCLE"), rows)


def status_document(status: ModelStatus) -> dict[str, Any]:
    return {
        "alias": status.alias,
        "upstream": status.upstream,
        "provider": status.provider,
        "available": status.available,
        "reason": status.reason,
        "lifecycle_warning": status.lifecycle_warning,
        "lifecycle": lifecycle_document(status.lifecycle),
        "capabilities": asdict(status.capabilities),
    }


def lifecycle_document(lifecycle: Lifecycle) -> dict[str, Any]:
    date = lifecycle.deprecation_date
    return {
        "deprecation_date": date.isoformat() if date else None,
        "served_by": lifecycle.served_by,
        "successor": lifecycle.successor,
    }


# --- models show -------------------------------------------------------------------------------

def spec_document(spec: ModelSpec, status: ModelStatus) -> dict[str, Any]:
    """Everything llmcore resolved for one model, keys masked, with where each value came from."""
    rules = spec.param_rules
    creds = spec.credentials
    return {
        **status_document(status),
        "litellm_model": spec.litellm_model,
        "adapter": spec.adapter,
        "api_key": None if creds.api_key is None else str(creds.api_key),
        "api_key_source": creds.api_key_source,
        "base_url": display_url(creds.base_url),
        "base_url_source": creds.base_url_source,
        "param_rules": {
            "drop": [{"param": p, "reason": rules.reasons.get(p, DEFAULT_DROP_REASON)} for p in rules.drop],
            "rename": dict(rules.rename),
            "strip_name_from_non_user": rules.strip_name_from_non_user,
            "drop_params": rules.drop_params,
        },
        "retry": asdict(spec.retry),
        "timeout": spec.timeout,
        "stream_timeout": spec.stream_timeout,
        "prices_per_million_tokens": prices_document(spec.prices),
        "environments": list(spec.environments),
        "sources": dict(spec.sources),
        "deployments": [deployment_document(d) for d in status.deployments],
    }


def deployment_document(deployment: DeploymentStatus) -> dict[str, Any]:
    """One deployment of an alias: where it is served, its masked key, availability and shuffle inputs."""
    return {
        "id": deployment.id, "upstream": deployment.upstream, "provider": deployment.provider,
        "base_url_host": deployment.base_url_host, "api_key": deployment.key,
        "available": deployment.available, "reason": deployment.reason,
        "weight": deployment.weight, "rpm": deployment.rpm, "tpm": deployment.tpm, "order": deployment.order,
    }


def deployments_text(deployments: Sequence[DeploymentStatus]) -> list[str]:
    """The ``deployments`` block of ``models show``: one line per deployment (shown when there are several)."""
    lines = [f"  deployments ({len(deployments)}; simple-shuffle, cooldowns per process)"]
    for d in deployments:
        shuffle = ", ".join(f"{name} {value:g}" for name, value in
                            (("weight", d.weight), ("rpm", d.rpm), ("tpm", d.tpm), ("order", d.order))
                            if value is not None)
        lines.append(f"    {d.id}: {d.upstream} at {d.base_url_host or 'no host'}, key {d.key or 'none'}"
                     + (f", {shuffle}" if shuffle else "") + f": {status_text(d.available, d.reason)}")
    return lines


def prices_document(prices: Prices) -> dict[str, float | None]:
    return {
        "input": per_million(prices.input_per_token),
        "output": per_million(prices.output_per_token),
        "cached_input": per_million(prices.cached_input_per_token),
    }


def model_detail(spec: ModelSpec, status: ModelStatus) -> str:
    """The ``models show`` report: one labelled line per setting, rules indented beneath."""
    rules = spec.param_rules
    creds = spec.credentials
    sources = spec.sources
    lines = [
        spec.alias,
        field_line("upstream", f"{spec.upstream_model} (LiteLLM model {spec.litellm_model})"),
        field_line("provider", spec.provider),
        field_line("adapter", f"{spec.adapter}  (from {sources.get('adapter', 'default')})"),
        field_line("status", status_text(status.available, status.reason)),
        field_line("lifecycle", status.lifecycle_warning or "no deprecation known"),
        field_line("environments", ", ".join(spec.environments) or "all"),
        field_line("api key", f"{masked(creds.api_key)}  (from {creds.api_key_source})"),
        field_line("base URL", f"{display_url(creds.base_url) or 'none'}  (from {creds.base_url_source})"),
        field_line("capabilities", capabilities_text(spec.capabilities)),
        field_line("timeout", timeout_text(spec)),
        field_line("retry", retry_text(spec)),
        field_line("prices", prices_text(spec.prices)),
        field_line("drop_params", f"{str(rules.drop_params).lower()}  (from {sources.get('drop_params', 'default')})"),
        field_line("defaults from", sources.get("defaults", "none")),
        "  param rules",
    ]
    if rules.drop:
        verb = "dropped" if rules.drop_params else "refused (drop_params is off)"
        lines += [f"    {verb}: {p}: {rules.reasons.get(p, DEFAULT_DROP_REASON)}" for p in rules.drop]
    else:
        lines.append("    no params dropped")
    lines += [f"    renamed: {old} -> {new}" for old, new in rules.rename.items()]
    if rules.strip_name_from_non_user:
        lines.append("    name is stripped from non-user messages")
    if len(status.deployments) > 1:
        lines += deployments_text(status.deployments)
    return "\n".join(lines)


def field_line(label: str, value: str) -> str:
    return f"  {label:<15}{value}"


def capabilities_text(caps: Capabilities) -> str:
    flags = ("streaming", "reasoning", "tools", "tool_choice", "response_format", "vision")
    supported = [f for f in flags if getattr(caps, f)]
    missing = [f for f in flags if not getattr(caps, f)]
    text = ", ".join(supported) or "none"
    if missing:
        text += f"; not: {', '.join(missing)}"
    if caps.max_input_tokens:
        text += f"; max input {caps.max_input_tokens} tokens"
    if caps.max_output_tokens:
        text += f"; max output {caps.max_output_tokens} tokens"
    return text


def timeout_text(spec: ModelSpec) -> str:
    stream = "same" if spec.stream_timeout is None else f"{spec.stream_timeout:g} s"
    return f"{spec.timeout:g} s (streams: {stream})"


def retry_text(spec: ModelSpec) -> str:
    retry = spec.retry
    retries = "1 retry" if retry.max_retries == 1 else f"{retry.max_retries} retries"
    return (
        f"{retries} after the first try, transient errors only; backoff "
        f"{retry.backoff_base:g} s up to {retry.backoff_max:g} s; Retry-After capped at {retry.retry_after_max:g} s"
    )


def prices_text(prices: Prices) -> str:
    per_m = prices_document(prices)
    if per_m["input"] is None or per_m["output"] is None:
        return "unknown (cost cannot be computed for streams)"
    cached = "at the input price" if per_m["cached_input"] is None else money(per_m["cached_input"])
    return (
        f"{money(per_m['input'])} input, {money(per_m['output'])} output (reasoning billed as output), "
        f"cached input {cached}; per 1M tokens"
    )


# --- config check ------------------------------------------------------------------------------

def credentials_verdict(unusable: Sequence[str], strict: bool) -> str | None:
    """The closing stderr line of ``config check`` when some credentials cannot be used."""
    if not unusable:
        return None
    names = redact(", ".join(unusable))  # an alias may be a key pasted in the wrong place
    if strict:
        return f"error: --strict: credentials are missing or malformed for {names}"
    return f"note: credentials are missing or malformed for {names}; the rest serves (--strict makes this exit 2)"


# --- errors ------------------------------------------------------------------------------------

def one_line(text: str) -> str:
    """Whitespace (an upstream body's newlines) folded to single spaces, anything key-shaped masked."""
    return redact(" ".join(text.split()))


def error_lines(error: BaseException, shows_tracebacks: bool) -> list[str]:
    """The text of the ``error:`` lines: one per problem of a bad config, else exactly one."""
    if isinstance(error, ConfigError):
        where = f"{error.source}: " if error.source else ""
        return [one_line(where + problem) for problem in error.problems]
    if isinstance(error, LLMCoreError):
        return [one_line(str(error))]
    hint = "" if shows_tracebacks else " (rerun with --log-level debug to see the traceback)"
    return [one_line(f"unexpected {type(error).__name__}: {error}") + hint]


# --- chat --------------------------------------------------------------------------------------

@frozen(kw_only=True)
class Answer:
    """A finished chat answer, streamed or not, in the one shape the printer reads."""

    alias: str
    content: str
    reasoning: str
    model: str
    finish_reason: str | None
    complete: bool
    usage: Usage | None
    adjustments: tuple[ParamAdjustment, ...]
    warnings: tuple[str, ...]
    tool_calls: tuple[Any, ...]

    @classmethod
    def from_session(cls, alias: str, session: StreamSession) -> Answer:
        return cls(
            alias=alias, content=session.text, reasoning=session.reasoning_text, model=session.model,
            finish_reason=session.finish_reason, complete=session.complete, usage=session.usage,
            adjustments=session.adjustments, warnings=session.warnings,
            tool_calls=session.tool_calls,  # whole calls: the session assembles them
        )

    @classmethod
    def from_response(cls, alias: str, response: ChatResponse) -> Answer:
        return cls(
            alias=alias, content=response.content or "", reasoning=response.reasoning_content or "",
            model=response.model, finish_reason=response.finish_reason, complete=True, usage=response.usage,
            adjustments=response.adjustments, warnings=response.warnings, tool_calls=response.tool_calls,
        )

    def document(self) -> dict[str, Any]:
        usage = self.usage
        return {
            "alias": self.alias,
            "model": self.model,
            "content": self.content,
            "reasoning_content": self.reasoning or None,
            "tool_calls": [dict(call) for call in self.tool_calls],
            "finish_reason": self.finish_reason,
            "complete": self.complete,
            "usage": None if usage is None else {**asdict(usage), "total_tokens": usage.total_tokens},
            "adjustments": [asdict(a) for a in self.adjustments],
            "warnings": list(self.warnings),
        }


class ChatPrinter:
    """Writes an answer as it arrives: content on stdout; reasoning, notes, warnings and usage on stderr.

    Keeping everything but the answer off stdout lets ``llmcore chat ... > answer.txt``
    capture exactly the answer. With ``as_json`` only the final document goes to stdout.
    """

    def __init__(self, *, show_reasoning: bool, as_json: bool) -> None:
        self._show_reasoning = show_reasoning
        self._as_json = as_json
        self._reasoning_open = False
        self._content_at_line_start = True

    def notes(self, adjustments: Sequence[ParamAdjustment]) -> None:
        for adjustment in adjustments:
            click.echo(adjustment_notice(adjustment), err=True)

    def delta(self, content: str | None, reasoning: str | None) -> None:
        if self._as_json:
            return
        if reasoning and self._show_reasoning:
            click.echo(click.style(reasoning, dim=True), err=True, nl=False)
            self._reasoning_open = True
        if content:
            self._close_reasoning()
            click.echo(content, nl=False)
            self._content_at_line_start = content.endswith("\n")

    def finish(self, answer: Answer) -> None:
        self._close_reasoning()
        if self._as_json:
            click.echo(json.dumps(answer.document(), indent=2, ensure_ascii=False))
        else:
            for call in answer.tool_calls:
                click.echo(f"tool call: {json.dumps(dict(call), ensure_ascii=False)}")
            if not self._content_at_line_start:
                click.echo("")
        for warning in answer.warnings:  # an incomplete stream always says why here
            click.echo(f"warning: {warning}", err=True)
        if not self._as_json:
            click.echo(usage_line(answer.usage), err=True)

    def _close_reasoning(self) -> None:
        if self._reasoning_open:
            click.echo("", err=True)
            self._reasoning_open = False
