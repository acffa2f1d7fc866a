"""Certify aliases: refuse what cannot run (exit 2) before anything is sent, then run the checks within the budget.

The Core is built by the caller's ``build_core`` (the CLI: ``bootstrap.build``
with the operator's config, env and ``file:`` secrets), from the loaded config
narrowed to what certification needs: the alias's own deployments, without
its fallbacks (a fallback answering would hide the alias failing), plus one
deployment of the same upstream under a model id that does not exist (check 6).
So drops, retries, usage, cost and masking are exactly real traffic's.
"""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from typing import Literal
from urllib.parse import urlsplit

from attrs import evolve, frozen

import llmcore
from llmcore.adapters.yaml_config import LoadedConfig
from llmcore.certify.budget import Budget, estimate_usd
from llmcore.certify.checks import CHECKS, Check
from llmcore.certify.probe import CheckContext, Probe
from llmcore.certify.results import AliasRun, CheckResult, Target, Verdict
from llmcore.domain.core import Core
from llmcore.domain.errors import ConfigError, LLMCoreError, ModelUnavailableError
from llmcore.domain.model_spec import ModelSpec
from llmcore.domain.redaction import display_url
from llmcore.domain.registry import ModelRegistry

MISSING_MODEL = "llmcore-certify-no-such-model"
MISSING_ALIAS = "llmcore-certify-no-such-model"
PER_MILLION = 1_000_000
Upstream = Literal["configured", "fake"]


@frozen(kw_only=True)
class Subject:
    """One alias ready to certify: the narrowed config its Core is built from and its first deployment."""

    alias: str
    spec: ModelSpec
    config: LoadedConfig


def subject_for(
    config: LoadedConfig, alias: str, environment: str | None, point: Callable[[ModelSpec], ModelSpec] = lambda s: s,
) -> Subject:
    """The alias narrowed for certification; UnknownModelError, ModelUnavailableError (e.g. no key) or a
    ConfigError when it has no prices to keep a budget with. Imports no LiteLLM and sends nothing."""
    deployments = ModelRegistry(config.specs, environment=environment).deployments(alias)
    specs = tuple(point(evolve(spec, alias=alias)) for spec in deployments)
    first = specs[0]
    missing = evolve(first, upstream_model=MISSING_MODEL, alias=MISSING_ALIAS,
                     deployment=evolve(first.deployment, id=MISSING_ALIAS))
    routing = evolve(config.routing, fallbacks={}, context_window_fallbacks={}, content_policy_fallbacks={})
    narrowed = evolve(config, specs=(*specs, missing), routing=routing, warnings=())
    status = ModelRegistry(narrowed.specs, environment=environment).status(alias)
    if not status.available:
        raise ModelUnavailableError(alias, status.reason or "no deployment can serve")
    if not first.prices.known:
        raise ConfigError(
            f"{alias}: no input and output prices known for {first.upstream_model}, so certify cannot keep to a "
            "budget; set model_info.input_cost_per_token and output_cost_per_token on the entry", config.source)
    return Subject(alias=alias, spec=first, config=narrowed)


def _target(subject: Subject, upstream: Upstream) -> Target:
    spec = subject.spec
    try:
        litellm_version: str | None = metadata.version("litellm")
    except metadata.PackageNotFoundError:
        litellm_version = None
    lifecycle = spec.lifecycle
    prices = spec.prices
    return Target(
        alias=subject.alias, upstream_model=spec.upstream_model, provider=spec.provider,
        base_url=display_url(spec.base_url), base_url_host=_host(spec.base_url), upstream=upstream,
        config_source=subject.config.source, llmcore_version=llmcore.__version__, litellm_version=litellm_version,
        lifecycle={"deprecation_date": lifecycle.deprecation_date.isoformat() if lifecycle.deprecation_date else None,
                   "served_by": lifecycle.served_by, "successor": lifecycle.successor},
        prices_per_million={"input": _per_million(prices.input_per_token),
                            "output": _per_million(prices.output_per_token),
                            "cached_input": _per_million(prices.cached_input_per_token)},
    )


def _host(url: str | None) -> str | None:
    try:
        return urlsplit(url).hostname if url else None
    except ValueError:
        return None


def _per_million(per_token: float | None) -> float | None:
    return None if per_token is None else round(per_token * PER_MILLION, 6)


def _result(check: Check, verdict: Verdict, probe: Probe | None = None, estimate: float = 0.0) -> CheckResult:
    if probe is None:
        return CheckResult(id=check.id, number=check.number, title=check.title, verdict=verdict)
    result = CheckResult(
        id=check.id, number=check.number, title=check.title, verdict=verdict, requests=probe.requests,
        latency_ms=round(probe.seconds * 1000, 1) if probe.requests else None,
        ttfb_ms=None if probe.ttfb_seconds is None else round(probe.ttfb_seconds * 1000, 1),
        tokens=probe.tokens, cost_usd=probe.cost_usd, cost_sources=tuple(dict.fromkeys(probe.cost_sources)),
        estimate_usd=estimate,
    )
    if probe.cost_usd > estimate:
        result = result.with_finding(
            f"its answers cost ${probe.cost_usd:.6f}, more than the ${estimate:.6f} estimated: max_tokens did not "
            "bound what the upstream billed (reasoning tokens?); the budget went by the billed cost")
    return result


def certify(
    subject: Subject, core: Core, *, budget_usd: float, upstream: Upstream,
    before_check: Callable[[str], None] = lambda check_id: None, clock: Callable[[], float] = time.perf_counter,
    checks: Sequence[Check] = CHECKS, warm_up: Callable[[], None] = lambda: None,
) -> AliasRun:
    """Run ``checks`` in order against ``core`` for ``subject``; stop before a check that could pass the budget.

    ``warm_up`` runs once, just before the first check that runs (not when the budget stops the run
    first): it loads the adapter's heavy parts, so check 1's latency is its request's, not an import's.
    """
    started = dt.datetime.now(dt.timezone.utc)
    ctx = CheckContext(core=core, alias=subject.alias, spec=subject.spec, missing_alias=MISSING_ALIAS,
                       missing_model=MISSING_MODEL)
    budget = Budget(budget_usd)
    results: list[CheckResult] = []
    stopped: str | None = None
    stopped_at = 0
    warmed = False
    for check in checks:
        skip = check.skip(subject.spec)
        if stopped is not None:
            results.append(_result(check, Verdict.skipped(f"not run: the budget stopped before check {stopped_at}")))
            continue
        if skip is not None:
            results.append(_result(check, Verdict.skipped(skip)))
            continue
        estimate = estimate_usd(subject.spec.prices, check.plans(ctx))
        if not budget.allows(estimate):
            stopped, stopped_at = budget.stop_message(check.number, check.id, estimate), check.number
            results.append(_result(check, Verdict.skipped(stopped), estimate=estimate))
            continue
        if not warmed:
            warm_up()
            warmed = True
        before_check(check.id)
        probe = Probe(core, clock)
        try:
            verdict = check.run(ctx, probe)
        except LLMCoreError as error:  # the check's request failed outright: that is its verdict
            verdict = Verdict.judged([f"{type(error).__name__}: {error}"], type(error).__name__,
                                     {"error": type(error).__name__, "message": str(error)})
        budget.spend(probe.cost_usd)
        results.append(_result(check, verdict, probe, estimate))
    return AliasRun(
        target=_target(subject, upstream), checks=tuple(results), budget_limit_usd=budget_usd,
        spent_usd=budget.spent_usd, stopped_by_budget=stopped, started_at=started,
        finished_at=dt.datetime.now(dt.timezone.utc),
    )
