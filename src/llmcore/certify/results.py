"""What one certification run found: per check, its verdict and what it measured; per alias, the whole run."""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal

from attrs import evolve, field, frozen

from llmcore.domain.frozen_mapping import frozen_mapping
from llmcore.domain.usage import Usage

Status = Literal["passed", "failed", "skipped"]


@frozen(kw_only=True)
class Tokens:
    """Token counts summed over a check's answers, each as its upstream reported it (Usage's figures)."""

    prompt: int = 0
    completion: int = 0
    reasoning: int = 0
    total: int = 0

    def plus(self, usage: Usage) -> Tokens:
        return Tokens(
            prompt=self.prompt + usage.prompt_tokens, completion=self.completion + usage.completion_tokens,
            reasoning=self.reasoning + usage.reasoning_tokens, total=self.total + usage.total_tokens,
        )


@frozen(kw_only=True)
class Verdict:
    """A check's own judgement: ``reason`` says why it failed or was skipped; ``summary`` is one line."""

    status: Status
    summary: str
    reason: str | None = None
    evidence: Mapping[str, Any] = field(factory=dict, converter=frozen_mapping)
    findings: tuple[str, ...] = ()

    @classmethod
    def judged(cls, problems: list[str], summary: str, evidence: Mapping[str, Any],
               findings: tuple[str, ...] = ()) -> Verdict:
        """Passed when ``problems`` is empty, else failed with the problems as the reason."""
        if problems:
            return cls(status="failed", summary=summary, reason="; ".join(problems), evidence=evidence,
                       findings=findings)
        return cls(status="passed", summary=summary, evidence=evidence, findings=findings)

    @classmethod
    def skipped(cls, reason: str) -> Verdict:
        return cls(status="skipped", summary=reason, reason=reason)


@frozen(kw_only=True)
class CheckResult:
    """One check as reported: verdict plus what its requests measured.

    ``latency_ms``: wall time of the check's requests together (None when it sent none);
    ``ttfb_ms``: time to the first streamed chunk carrying output (streamed checks only);
    ``cost_usd``: what its answers cost (xAI's ``cost_in_usd_ticks`` when sent, else the prices);
    ``estimate_usd``: the upper bound the budget was checked against before it ran.
    """

    id: str
    number: int
    title: str
    verdict: Verdict
    requests: int = 0
    latency_ms: float | None = None
    ttfb_ms: float | None = None
    tokens: Tokens = Tokens()
    cost_usd: float = 0.0
    cost_sources: tuple[str, ...] = ()
    estimate_usd: float = 0.0

    @property
    def status(self) -> Status:
        return self.verdict.status

    def with_finding(self, finding: str) -> CheckResult:
        return evolve(self, verdict=evolve(self.verdict, findings=(*self.verdict.findings, finding)))


@frozen(kw_only=True)
class Target:
    """What was certified: the alias, where it is served, and which software did it (no key, host only)."""

    alias: str
    upstream_model: str
    provider: str
    base_url: str | None  # display_url(): userinfo masked
    base_url_host: str | None
    upstream: Literal["configured", "fake"]
    config_source: str
    llmcore_version: str
    litellm_version: str | None
    lifecycle: Mapping[str, Any] = field(factory=dict, converter=frozen_mapping)
    prices_per_million: Mapping[str, Any] = field(factory=dict, converter=frozen_mapping)


@frozen(kw_only=True)
class AliasRun:
    """One alias certified: its checks in order, the budget, and when it ran (UTC)."""

    target: Target
    checks: tuple[CheckResult, ...]
    budget_limit_usd: float
    spent_usd: float
    stopped_by_budget: str | None
    started_at: dt.datetime
    finished_at: dt.datetime

    @property
    def passed(self) -> bool:
        """Every check passed or did not apply, and the budget let every check run."""
        return self.stopped_by_budget is None and all(c.status != "failed" for c in self.checks)

    @property
    def served_models(self) -> tuple[str, ...]:
        served = self.checks_by_id().get("served_model")
        models = served.verdict.evidence.get("served_models", ()) if served else ()
        return tuple(dict.fromkeys(str(m) for m in models))

    def checks_by_id(self) -> dict[str, CheckResult]:
        return {check.id: check for check in self.checks}
