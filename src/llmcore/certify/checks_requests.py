"""Checks 4-6: the params the policy drops, a tool-call round trip, and a model id the upstream does not know."""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from llmcore.certify.probe import CheckContext, Probe, Served, excerpt, usage_document
from llmcore.certify.results import Verdict
from llmcore.domain.errors import (
    InvalidRequestError, LLMCoreError, ParamNotSupportedError, PermanentUpstreamError, QuotaExceededError,
    TransientUpstreamError, UpstreamAuthError, UpstreamError,
)

SHORT_ANSWER = ({"role": "user", "content": "Reply with the word OK."},)
# A value per param the way a client would send it; the policy drops the param whatever its value (xAI
# refuses presence_penalty even at 0), so a param not listed here is sent with SAMPLE_FALLBACK.
SAMPLE_VALUES: Mapping[str, Any] = {
    "presence_penalty": 0.5, "frequency_penalty": 0.5, "stop": ["\n\n\n"], "reasoning_effort": "low",
    "reasoning": {"effort": "low"}, "logit_bias": {}, "logprobs": True, "top_logprobs": 1, "seed": 7,
    "n": 1, "user": "llmcore-certify", "parallel_tool_calls": False, "service_tier": "auto", "top_p": 1.0,
    "temperature": 1.0, "web_search_options": {}, "metadata": {"purpose": "llmcore certify"}, "store": False,
    "prompt_cache_key": "llmcore-certify", "safety_identifier": "llmcore-certify",
    "response_format": {"type": "text"},
}
SAMPLE_FALLBACK = "llmcore-certify"

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "weather", "description": "Get weather information for a location",
        "parameters": {"type": "object", "properties": {"location": {"type": "string", "description": "the city"}},
                       "required": ["location"]},
    },
}
TOOL_QUESTION = (
    {"role": "system", "content": "You are a helpful assistant"},
    {"role": "user", "content": "What's the weather in Florence, Italy? Use the weather tool."},
)
TOOL_RESULT = "40 C"
# How upstreams say "no such model": 404 (xAI `not-found`, OpenAI `model_not_found`, Anthropic `not_found_error`);
# a few OpenAI-compatible servers answer 400 instead, with words like these in the error text.
NO_SUCH_MODEL_STATUS = 404
NO_SUCH_MODEL_TEXT = re.compile(
    r"does not exist|not[ _-]?found|no such model|unknown model|model_not_found|invalid model", re.IGNORECASE)
MISSING_PROMPT_MAX_TOKENS = 16  # the request is refused before any output; this only bounds the estimate


def dropped_params(ctx: CheckContext) -> tuple[str, ...]:
    return ctx.spec.param_rules.drop


def check_dropped_params(ctx: CheckContext, probe: Probe) -> Verdict:
    """Check 4: each param the policy drops, sent once; the request succeeds and the drop is recorded."""
    params = dropped_params(ctx)
    if not ctx.spec.param_rules.drop_params:
        return _refused_locally(ctx, params)
    problems: list[str] = []
    sent: list[dict[str, Any]] = []
    for name in params:
        value = SAMPLE_VALUES.get(name, SAMPLE_FALLBACK)
        try:
            response = probe.complete(ctx.alias, SHORT_ANSWER, max_tokens=ctx.max_tokens, **{name: value})
        except UpstreamError as error:
            problems.append(f"{name}: the request failed: {type(error).__name__}: {error}")
            sent.append({"param": name, "value": value, "succeeded": False, "error": type(error).__name__})
            continue
        ctx.served.append(Served(check="dropped_params", model=response.model, usage=response.usage,
                                 cost_in_usd_ticks=response.cost_in_usd_ticks))
        drop = next((a for a in response.adjustments if a.param == name and a.action == "dropped"), None)
        if drop is None:
            problems.append(f"{name}: the request succeeded but the policy did not report dropping it")
        sent.append({"param": name, "value": value, "succeeded": True, "dropped": drop is not None,
                     "reason": drop.reason if drop else None, "finish_reason": response.finish_reason,
                     "usage": usage_document(response.usage)})
    summary = f"{len(params)} params sent one by one: {', '.join(params)}"
    return Verdict.judged(problems, summary, {"drop_params": True, "params": sent})


def _refused_locally(ctx: CheckContext, params: tuple[str, ...]) -> Verdict:
    """With ``drop_params: false`` the policy refuses these params before any request: proven at no cost."""
    problems: list[str] = []
    refused = []
    for name in params:
        try:
            ctx.core.complete(ctx.alias, SHORT_ANSWER, max_tokens=ctx.max_tokens,
                              **{name: SAMPLE_VALUES.get(name, SAMPLE_FALLBACK)})
        except ParamNotSupportedError as error:
            refused.append({"param": name, "refused": True, "reason": error.reason})
            continue
        problems.append(f"{name}: drop_params is false, yet the request went out instead of being refused")
        refused.append({"param": name, "refused": False})
    return Verdict.judged(problems, f"{len(params)} params refused before any request (drop_params: false)",
                          {"drop_params": False, "params": refused})


def _tool_call_problems(call: Mapping[str, Any] | None) -> list[str]:
    if call is None:
        return ["no tool call in the answer"]
    function = call.get("function") or {}
    problems = []
    if function.get("name") != "weather":
        problems.append(f"the tool call names {function.get('name')!r}, not 'weather'")
    try:
        arguments = json.loads(function.get("arguments") or "")
    except ValueError:
        return [*problems, "the tool call's arguments are not JSON"]
    if not isinstance(arguments, dict) or not isinstance(arguments.get("location"), str):
        problems.append("the tool call's arguments have no 'location' string")
    return problems


def check_tool_call(ctx: CheckContext, probe: Probe) -> Verdict:
    """Check 5: the model calls the tool, gets its result back, and answers from it."""
    first = probe.complete(ctx.alias, TOOL_QUESTION, tools=[WEATHER_TOOL], tool_choice="auto",
                           max_tokens=ctx.max_tokens)
    ctx.served.append(Served(check="tool_call", model=first.model, usage=first.usage,
                             cost_in_usd_ticks=first.cost_in_usd_ticks))
    call = dict(first.tool_calls[0]) if first.tool_calls else None
    evidence: dict[str, Any] = {
        "request": {"tools": ["weather"], "tool_choice": "auto", "max_tokens": ctx.max_tokens},
        "finish_reason": first.finish_reason,
        "tool_call": None if call is None else {"name": (call.get("function") or {}).get("name"),
                                                "arguments": (call.get("function") or {}).get("arguments")},
    }
    problems = _tool_call_problems(call)
    if problems or call is None:
        evidence["content"] = excerpt(first.content)
        return Verdict.judged(problems, "no usable tool call", evidence)
    follow_up: list[Mapping[str, Any]] = [
        *TOOL_QUESTION,
        {"role": "assistant", "content": first.content or None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call.get("id"), "content": TOOL_RESULT},
    ]
    second = probe.complete(ctx.alias, follow_up, tools=[WEATHER_TOOL], max_tokens=ctx.max_tokens)
    ctx.served.append(Served(check="tool_call", model=second.model, usage=second.usage,
                             cost_in_usd_ticks=second.cost_in_usd_ticks))
    evidence.update(answer=excerpt(second.content), answer_finish_reason=second.finish_reason)
    if not (second.content or "").strip():
        problems.append(f"no answer after the tool result (finish_reason {second.finish_reason!r})")
    return Verdict.judged(problems, f"called weather, then answered {excerpt(second.content, 40)!r}", evidence)


def check_error_path(ctx: CheckContext, probe: Probe) -> Verdict:
    """Check 6: a model id the upstream does not have ends in a permanent, classified error, not retried."""
    evidence: dict[str, Any] = {"requested_model": ctx.missing_model}
    try:
        response = probe.complete(ctx.missing_alias, SHORT_ANSWER, max_tokens=MISSING_PROMPT_MAX_TOKENS)
    except PermanentUpstreamError as error:
        evidence.update(_error_evidence(error))
        label = f"{type(error).__name__} (HTTP {error.status_code})"
        return Verdict.judged(_not_no_such_model(error, label), f"{label}, not retried", evidence)
    except TransientUpstreamError as error:
        evidence.update(_error_evidence(error))
        return Verdict.judged(
            [f"classified as transient ({type(error).__name__}) and retried; a model id that does not exist "
             "must be a permanent error (HTTP 4xx)"], type(error).__name__, evidence)
    except LLMCoreError as error:
        evidence["error"] = type(error).__name__
        return Verdict.judged([f"not an upstream error: {type(error).__name__}: {error}"],
                              type(error).__name__, evidence)
    evidence.update(served_model=response.model, content=excerpt(response.content))
    return Verdict.judged(
        [f"the upstream answered for {ctx.missing_model}, a model id that does not exist (served as "
         f"{response.model or 'an unnamed model'}); it should refuse it"], "answered instead of refusing", evidence)


def _not_no_such_model(error: PermanentUpstreamError, label: str) -> list[str]:
    """Why ``error`` does not answer "no such model" (empty when it does): only that proves the error path.

    An auth or credit failure is permanent too, but says nothing about unknown models: it means the
    key or the account is wrong (the other checks fail with it as well).
    """
    if isinstance(error, UpstreamAuthError):
        return [f"the upstream refused the key ({label}), so whether an unknown model ends in a classified "
                "error was not tested; fix the key (or its team's access) and run certify again"]
    if isinstance(error, QuotaExceededError):
        return [f"the account has no credits left ({label}), so the unknown model was not tested; add "
                "credits or raise the spending limit and run certify again"]
    says_so = NO_SUCH_MODEL_TEXT.search(error.upstream_text) is not None
    if isinstance(error, InvalidRequestError) and (error.status_code == NO_SUCH_MODEL_STATUS or says_so):
        return []
    return [f"refused with {label}, which does not say the model does not exist (upstream said: "
            f"{excerpt(error.upstream_text) or 'nothing'}); an unknown model id should be answered HTTP 404 "
            "not found (InvalidRequestError)"]


def _error_evidence(error: UpstreamError) -> dict[str, Any]:
    return {"error": type(error).__name__, "status_code": error.status_code, "retryable": error.retryable,
            "upstream_text": error.upstream_text, "message": str(error)}
