"""Checks 1-3: a plain completion, a stream with usage, and reasoning output."""
from __future__ import annotations

from typing import Any

from llmcore.certify.probe import CheckContext, Probe, Served, excerpt, usage_document
from llmcore.certify.results import Verdict
from llmcore.domain.chat import ChatResponse
from llmcore.domain.usage import Usage

GREETING = ({"role": "user", "content": "Say hi in Portuguese."},)
REASONING_PROMPT = ({"role": "user", "content": "Is 221 a prime number? Think it through, then answer yes or no."},)


def _usage_problems(usage: Usage | None, reasons: bool) -> list[str]:
    if usage is None or usage.total_tokens == 0:
        return ["no usage in the answer"]
    problems = []
    if reasons and usage.reasoning_tokens == 0:
        problems.append("usage reports no reasoning tokens although the model's capabilities say it reasons")
    if usage.cost_usd is None:
        problems.append("no cost: the upstream sent no cost_in_usd_ticks and the model has no prices")
    return problems


def _content_problems(content: str | None, finish_reason: str | None) -> list[str]:
    problems = []
    if not (content or "").strip():
        cut = "; max_tokens cut it off before any answer" if finish_reason == "length" else ""
        problems.append(f"no content (finish_reason {finish_reason!r}){cut}")
    if not finish_reason:
        problems.append("no finish_reason")
    return problems


def _answer_evidence(response: ChatResponse, max_tokens: int) -> dict[str, Any]:
    return {
        "request": {"messages": len(GREETING), "max_tokens": max_tokens},
        "content": excerpt(response.content),
        "finish_reason": response.finish_reason,
        "served_model": response.model,
        "usage": usage_document(response.usage),
        "cost_in_usd_ticks": response.cost_in_usd_ticks,
        "warnings": list(response.warnings),
    }


def check_plain(ctx: CheckContext, probe: Probe) -> Verdict:
    """Check 1: content, finish_reason, usage with reasoning (for a reasoning model), cost."""
    response = probe.complete(ctx.alias, GREETING, max_tokens=ctx.max_tokens)
    ctx.served.append(Served(check="plain", model=response.model, usage=response.usage,
                             cost_in_usd_ticks=response.cost_in_usd_ticks))
    problems = _content_problems(response.content, response.finish_reason)
    problems += _usage_problems(response.usage, ctx.spec.capabilities.reasoning)
    usage = response.usage
    summary = f"{excerpt(response.content, 40)!r}, finish {response.finish_reason}, cost from {usage.cost_source}"
    return Verdict.judged(problems, summary, _answer_evidence(response, ctx.max_tokens))


def check_stream(ctx: CheckContext, probe: Probe) -> Verdict:
    """Check 2: a stream with include_usage (the core always asks for it) read to its end, complete, with usage."""
    outcome = probe.stream(ctx.alias, GREETING, max_tokens=ctx.max_tokens)
    session = outcome.session
    ctx.served.append(Served(check="stream", model=session.model, usage=session.usage))
    problems = []
    if not session.complete:
        problems.append(f"the stream did not complete ({session.incomplete_reason}); its warnings are in the evidence")
    problems += _content_problems(session.text, session.finish_reason)
    problems += _usage_problems(session.usage, ctx.spec.capabilities.reasoning)
    evidence = {
        "request": {"messages": len(GREETING), "max_tokens": ctx.max_tokens, "stream_options": {"include_usage": True}},
        "chunks": outcome.chunks,
        "complete": session.complete,
        "incomplete_reason": session.incomplete_reason,
        "content": excerpt(session.text),
        "reasoning_chars": len(session.reasoning_text),
        "finish_reason": session.finish_reason,
        "served_model": session.model,
        "usage": usage_document(session.usage),
        "warnings": list(session.warnings),
    }
    summary = f"{outcome.chunks} chunks, complete {session.complete}, finish {session.finish_reason}"
    return Verdict.judged(problems, summary, evidence)


def check_reasoning(ctx: CheckContext, probe: Probe) -> Verdict:
    """Check 3: a question worth thinking about comes back with ``reasoning_content``."""
    response = probe.complete(ctx.alias, REASONING_PROMPT, max_tokens=ctx.max_tokens)
    ctx.served.append(Served(check="reasoning", model=response.model, usage=response.usage,
                             cost_in_usd_ticks=response.cost_in_usd_ticks))
    reasoning = (response.reasoning_content or "").strip()
    counted = response.usage.reasoning_tokens
    problems = []
    if not reasoning:
        problems.append(
            f"no reasoning_content, although the upstream counted {counted} reasoning tokens" if counted
            else "no reasoning_content and no reasoning tokens: the model did not reason"
        )
    evidence = {
        "request": {"messages": len(REASONING_PROMPT), "max_tokens": ctx.max_tokens},
        "reasoning": excerpt(reasoning),
        "reasoning_chars": len(reasoning),
        "reasoning_tokens": counted,
        "content": excerpt(response.content),
        "finish_reason": response.finish_reason,
        "served_model": response.model,
        "usage": usage_document(response.usage),
    }
    return Verdict.judged(problems, f"{len(reasoning)} characters of reasoning, {counted} reasoning tokens", evidence)
