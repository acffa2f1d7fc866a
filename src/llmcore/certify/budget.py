"""The money side of ``llmcore certify``: what a check could cost before it runs, and what was spent.

A check is run only when the running cost of the answers so far plus the
check's *estimate* stays within the budget (``--budget-usd``). The estimate is
an upper bound built from the model's prices (USD per token: the built-in
catalog, LiteLLM's model map or ``model_info``) and each request's
``max_tokens``:

    estimate = sum over the check's requests of
               (prompt tokens + PROVIDER_PROMPT_TOKENS) * input price + max_tokens * output price

Prompt tokens are not counted with a tokenizer (that would import LiteLLM for
a guess): one token per ``BYTES_PER_TOKEN`` bytes of the request's JSON, about
half of what English text really takes, so the guess errs high.
``PROVIDER_PROMPT_TOKENS`` is the prompt the provider adds on its side: xAI
counted 213 prompt tokens for the six-word "Say hi in Portuguese" (recorded
exchange, FACTS.md section 1). Cached input is priced as fresh input, which
only raises the bound. Reasoning is billed as output; whether xAI's
``max_tokens`` bounds reasoning tokens is not documented (FACTS.md: max output
UNVERIFIED), so a check whose answers cost more than its estimate says so in
the report, and the budget then goes by what was really billed.
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from attrs import define, field, frozen

from llmcore.domain.ranges import count, non_negative
from llmcore.domain.usage import Prices

PROVIDER_PROMPT_TOKENS = 256
BYTES_PER_TOKEN = 2


def prompt_tokens_upper_bound(messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]] = ()) -> int:
    """An upper bound on the prompt tokens of a request carrying ``messages`` and ``tools`` (see the module)."""
    size = len(json.dumps([list(messages), list(tools)], ensure_ascii=False).encode("utf-8"))
    return PROVIDER_PROMPT_TOKENS + math.ceil(size / BYTES_PER_TOKEN)


@frozen(kw_only=True)
class RequestPlan:
    """One request a check will send: its prompt (upper bound, tokens) and its ``max_tokens``."""

    prompt_tokens: int = field(validator=count)
    max_tokens: int = field(validator=count)


def estimate_usd(prices: Prices, plans: Iterable[RequestPlan]) -> float:
    """The most the requests of ``plans`` can cost at ``prices``; ValueError when the prices are unknown."""
    if prices.input_per_token is None or prices.output_per_token is None:
        raise ValueError("the model has no input or output price")
    return sum(p.prompt_tokens * prices.input_per_token + p.max_tokens * prices.output_per_token for p in plans)


@define
class Budget:
    """The limit (USD) and what the answers cost so far; ``allows`` is asked before each check."""

    limit_usd: float = field(validator=non_negative)
    spent_usd: float = 0.0

    def allows(self, estimate: float) -> bool:
        """Whether a check estimated at ``estimate`` USD can run without the budget being passed."""
        return self.spent_usd + estimate <= self.limit_usd

    def spend(self, cost_usd: float) -> None:
        self.spent_usd += cost_usd

    def stop_message(self, number: int, check_id: str, estimate: float) -> str:
        """Why certification stops before check ``number``, and what to do about it."""
        return (
            f"budget: stopped before check {number} ({check_id}): it could cost up to ${estimate:.6f}, and "
            f"${self.spent_usd:.6f} of the ${self.limit_usd:.6f} budget is spent; raise --budget-usd to run it"
        )
