"""Check 7: which model served the answers, against the configured one and the catalog's lifecycle.

A redirect (xAI serves the retired grok-code-fast-1 with grok-4.3 since
2026-05-15) is a *finding*, reported with what the upstream billed; the check
fails only when the answers do not say which model served them, or disagree.
"""
from __future__ import annotations

from typing import Any

from llmcore.certify.probe import CheckContext, Probe, Served
from llmcore.certify.results import Verdict
from llmcore.domain.model_spec import ModelSpec
from llmcore.domain.usage import TICKS_PER_USD

PER_MILLION = 1_000_000


def bare_model(spec: ModelSpec, served: str) -> str:
    """The served id without the LiteLLM route prefix (``openai/grok-4.3`` is ``grok-4.3``)."""
    return served.split("/", 1)[1] if spec.route and served.startswith(f"{spec.route}/") else served


def redirect_finding(spec: ModelSpec, served: str) -> str:
    """One line on the served model, as a QA analyst files it."""
    if served == spec.upstream_model:
        return f"served as configured: {served}"
    lifecycle = spec.lifecycle
    said = lifecycle.warning()
    if served == lifecycle.served_by:
        return (f"redirect: asked for {spec.upstream_model}, served by {served}, as the catalog's lifecycle says "
                f"({said}); behaviour and price follow {served}")
    expected = f" (the lifecycle says: {said})" if said else ""
    return (f"redirect: asked for {spec.upstream_model}, served by {served}, which the catalog does not "
            f"expect{expected}; check the provider's model page and set model_info (prices, lifecycle)")


def _price(per_token: float | None) -> str:
    return "unknown" if per_token is None else f"${per_token * PER_MILLION:.2f}"


def billing_finding(spec: ModelSpec, billed: Served | None) -> tuple[str, dict[str, Any]]:
    """What the upstream billed for one answer (xAI's ``cost_in_usd_ticks``) next to the configured prices."""
    prices = spec.prices
    configured = f"{_price(prices.input_per_token)} in / {_price(prices.output_per_token)} out per 1M tokens"
    if billed is None or billed.cost_in_usd_ticks is None or billed.usage is None:
        return (f"the upstream sent no cost_in_usd_ticks; costs come from the configured prices ({configured})",
                {"billed_usd": None, "configured_prices": configured})
    usage = billed.usage
    billed_usd = billed.cost_in_usd_ticks / TICKS_PER_USD
    at_prices = prices.cost(usage)
    shown = "unknown" if at_prices is None else f"${at_prices:.6f}"
    finding = (f"the upstream billed ${billed_usd:.6f} (cost_in_usd_ticks {billed.cost_in_usd_ticks}) for "
               f"{usage.prompt_tokens} prompt and {usage.output_tokens} output tokens ({billed.check} check); at the "
               f"configured prices ({configured}) that is {shown}")
    return finding, {"check": billed.check, "cost_in_usd_ticks": billed.cost_in_usd_ticks, "billed_usd": billed_usd,
                     "at_configured_prices_usd": at_prices, "prompt_tokens": usage.prompt_tokens,
                     "output_tokens": usage.output_tokens, "configured_prices": configured}


def check_served_model(ctx: CheckContext, probe: Probe) -> Verdict:
    """Check 7: no request of its own; it reads the answers of checks 1-5."""
    spec = ctx.spec
    lifecycle = spec.lifecycle
    evidence: dict[str, Any] = {
        "configured_model": spec.upstream_model,
        "lifecycle": {"deprecation_date": lifecycle.deprecation_date.isoformat() if lifecycle.deprecation_date
                      else None, "served_by": lifecycle.served_by, "successor": lifecycle.successor},
        "answers": [{"check": s.check, "served_model": s.model} for s in ctx.served],
    }
    if not ctx.served:
        return Verdict.judged(["no answer to compare: every check that asks the model failed"], "no answers",
                              evidence)
    named = {s.check: bare_model(spec, s.model) for s in ctx.served if s.model}
    models = tuple(dict.fromkeys(bare_model(spec, s.model) for s in ctx.served if s.model))
    evidence["served_models"] = list(models)
    if not models:
        return Verdict.judged(["no answer named the model that served it"], "unnamed", evidence)
    if len(models) > 1:
        listed = ", ".join(f"{check}: {model}" for check, model in named.items())
        return Verdict.judged([f"the answers were served by different models ({listed})"],
                              f"{len(models)} serving models", evidence)
    billed = next((s for s in ctx.served if s.cost_in_usd_ticks is not None), None)
    billing, evidence["billing"] = billing_finding(spec, billed)
    served = models[0]
    findings = (redirect_finding(spec, served), billing)
    return Verdict.judged([], f"served by {served}", evidence, findings=findings)
