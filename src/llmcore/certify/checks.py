"""The seven checks of ``llmcore certify``, in the order they run, with what each may cost before it runs.

Each check is data (id, title, when it applies, the requests it will send) plus
one function ``(CheckContext, Probe) -> Verdict``. docs/certify.md says what
each one proves.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from attrs import frozen

from llmcore.certify import checks_answers as answers
from llmcore.certify import checks_requests as requests
from llmcore.certify.budget import RequestPlan, prompt_tokens_upper_bound
from llmcore.certify.checks_served import check_served_model
from llmcore.certify.probe import CheckContext, Probe
from llmcore.certify.results import Verdict
from llmcore.domain.model_spec import ModelSpec

Plans = Callable[[CheckContext], tuple[RequestPlan, ...]]


@frozen(kw_only=True)
class Check:
    """One check: ``skip`` says why it does not apply to a model (None: it does); ``plans`` what it will send."""

    id: str
    number: int
    title: str
    run: Callable[[CheckContext, Probe], Verdict]
    plans: Plans
    skip: Callable[[ModelSpec], str | None] = lambda spec: None


def _one(messages: Any, tools: Any = ()) -> Plans:
    return lambda ctx: (RequestPlan(prompt_tokens=prompt_tokens_upper_bound(messages, tools),
                                    max_tokens=ctx.max_tokens),)


def _drop_plans(ctx: CheckContext) -> tuple[RequestPlan, ...]:
    if not ctx.spec.param_rules.drop_params:
        return ()  # refused by the policy before any request
    return _one(requests.SHORT_ANSWER)(ctx) * len(requests.dropped_params(ctx))


def _tool_plans(ctx: CheckContext) -> tuple[RequestPlan, ...]:
    first = prompt_tokens_upper_bound(requests.TOOL_QUESTION, [requests.WEATHER_TOOL])
    # The second request carries the first answer (at most max_tokens) and the tool's result back.
    second = first + ctx.max_tokens + prompt_tokens_upper_bound([{"role": "tool", "content": requests.TOOL_RESULT}])
    return (RequestPlan(prompt_tokens=first, max_tokens=ctx.max_tokens),
            RequestPlan(prompt_tokens=second, max_tokens=ctx.max_tokens))


def _missing_plans(ctx: CheckContext) -> tuple[RequestPlan, ...]:
    return (RequestPlan(prompt_tokens=prompt_tokens_upper_bound(requests.SHORT_ANSWER),
                        max_tokens=requests.MISSING_PROMPT_MAX_TOKENS),)


def _no_reasoning(spec: ModelSpec) -> str | None:
    return None if spec.capabilities.reasoning else "the model's capabilities say it does not reason"


def _no_drops(spec: ModelSpec) -> str | None:
    return None if spec.param_rules.drop else "the policy drops no params for this model"


def _no_tools(spec: ModelSpec) -> str | None:
    return None if spec.capabilities.tools else "the model's capabilities say it takes no tools"


CHECKS: tuple[Check, ...] = (
    Check(id="plain", number=1, title="Plain completion", run=answers.check_plain, plans=_one(answers.GREETING)),
    Check(id="stream", number=2, title="Stream with include_usage", run=answers.check_stream,
          plans=_one(answers.GREETING)),
    Check(id="reasoning", number=3, title="Reasoning output", run=answers.check_reasoning,
          plans=_one(answers.REASONING_PROMPT), skip=_no_reasoning),
    Check(id="dropped_params", number=4, title="Params the policy drops", run=requests.check_dropped_params,
          plans=_drop_plans, skip=_no_drops),
    Check(id="tool_call", number=5, title="Tool-call round trip", run=requests.check_tool_call,
          plans=_tool_plans, skip=_no_tools),
    Check(id="error_path", number=6, title="Unknown model id: a clean, classified error",
          run=requests.check_error_path, plans=_missing_plans),
    Check(id="served_model", number=7, title="Served model, lifecycle and billed price", run=check_served_model,
          plans=lambda ctx: ()),
)
