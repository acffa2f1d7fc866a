"""Token usage and cost, normalised across providers and across stream and non-stream (Decision 14).

Providers count reasoning tokens two ways. xAI reports them *apart* from
``completion_tokens`` (``total = prompt + completion + reasoning``); OpenAI and
most others count them *inside* ``completion_tokens`` (``total = prompt +
completion``; ``completion_tokens_details.reasoning_tokens`` only breaks them
out). A ``Usage`` keeps the upstream's own figures and the convention they
follow, and derives the rest from both:

==================  =========================  ===========================
                    ``reasoning_apart`` (xAI)   ``reasoning_in_completion``
==================  =========================  ===========================
``output_tokens``   completion + reasoning      completion
``text_tokens``     completion                  completion - reasoning
``total_tokens``    the upstream's total, else prompt + output_tokens
==================  =========================  ===========================

Reasoning is billed once, as output (``output_tokens``). A reasoning count is
only ever what the upstream reported, never an estimate from the text.
"""
from __future__ import annotations

from typing import Literal

from attrs import evolve, field, frozen

from llmcore.domain.ranges import non_negative, optional

TICKS_PER_USD = 10_000_000_000
CostSource = Literal["upstream", "prices", "none"]
# How a provider counts reasoning tokens; the provider profile says which (ModelSpec.usage_convention).
UsageConvention = Literal["reasoning_apart", "reasoning_in_completion"]


@frozen(kw_only=True)
class Prices:
    """USD per token, never negative. Reasoning is billed at the output price, once (xAI's and OpenAI's rule)."""

    input_per_token: float | None = field(default=None, validator=optional(non_negative))
    output_per_token: float | None = field(default=None, validator=optional(non_negative))
    cached_input_per_token: float | None = field(default=None, validator=optional(non_negative))

    @property
    def known(self) -> bool:
        return self.input_per_token is not None and self.output_per_token is not None

    def cost(self, usage: Usage) -> float | None:
        """The cost of ``usage`` at these prices; cached input costs the input price unless priced apart."""
        if self.input_per_token is None or self.output_per_token is None:
            return None
        cached_price = self.cached_input_per_token
        if cached_price is None:
            cached_price = self.input_per_token
        cached = min(usage.cached_tokens, usage.prompt_tokens)
        return (
            (usage.prompt_tokens - cached) * self.input_per_token
            + cached * cached_price
            + usage.output_tokens * self.output_per_token
        )


@frozen(kw_only=True)
class Usage:
    """One answer's usage as its upstream reported it, read by ``convention`` (see the module table).

    ``completion_tokens`` and ``reasoning_tokens`` are the upstream's own
    figures; ``reported_total`` is its ``total_tokens`` when it sent one (the
    total a client sees is always that one). ``convention`` defaults to xAI's
    (reasoning apart); the core sets it from the model's profile.
    """

    prompt_tokens: int = field(default=0)
    completion_tokens: int = field(default=0)
    reasoning_tokens: int = field(default=0)
    cached_tokens: int = field(default=0)
    reported_total: int | None = None
    convention: UsageConvention = "reasoning_apart"
    cost_usd: float | None = None
    cost_source: CostSource = "none"

    @property
    def output_tokens(self) -> int:
        """Every generated token, reasoning included: what the output price applies to."""
        if self.convention == "reasoning_in_completion":
            return self.completion_tokens
        return self.completion_tokens + self.reasoning_tokens

    @property
    def text_tokens(self) -> int:
        """Generated tokens that are not reasoning (the answer and tool calls)."""
        return max(0, self.output_tokens - self.reasoning_tokens)

    @property
    def total_tokens(self) -> int:
        """The upstream's ``total_tokens`` when it sent one, else prompt + output."""
        if self.reported_total is not None:
            return self.reported_total
        return self.prompt_tokens + self.output_tokens

    def under(self, convention: UsageConvention) -> Usage:
        """These figures read by ``convention`` (the model's provider profile)."""
        return self if convention == self.convention else evolve(self, convention=convention)

    def priced(self, prices: Prices, cost_in_usd_ticks: int | None = None) -> Usage:
        """This usage with its cost: from the upstream's ticks when given, else from ``prices``."""
        if cost_in_usd_ticks is not None:
            return evolve(self, cost_usd=cost_in_usd_ticks / TICKS_PER_USD, cost_source="upstream")
        cost = prices.cost(self)
        if cost is None:
            return evolve(self, cost_usd=None, cost_source="none")
        return evolve(self, cost_usd=cost, cost_source="prices")
