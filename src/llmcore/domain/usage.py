"""Token usage and cost, normalised across providers and across stream and non-stream."""
from __future__ import annotations

from typing import Literal

from attrs import evolve, field, frozen

from llmcore.domain.ranges import non_negative, optional

TICKS_PER_USD = 10_000_000_000
CostSource = Literal["upstream", "prices", "none"]


@frozen(kw_only=True)
class Prices:
    """USD per token. Reasoning tokens are billed at the output price (xAI's rule). Never negative."""

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
            + (usage.completion_tokens + usage.reasoning_tokens) * self.output_per_token
        )


@frozen(kw_only=True)
class Usage:
    """Normalised usage: ``completion_tokens`` excludes reasoning, as xAI counts it.

    ``total_tokens`` is always ``prompt + completion + reasoning``: LiteLLM's
    streaming path recomputes the total without reasoning, so the upstream
    total is never trusted.
    """

    prompt_tokens: int = field(default=0)
    completion_tokens: int = field(default=0)
    reasoning_tokens: int = field(default=0)
    cached_tokens: int = field(default=0)
    cost_usd: float | None = None
    cost_source: CostSource = "none"

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens + self.reasoning_tokens

    def priced(self, prices: Prices, cost_in_usd_ticks: int | None = None) -> Usage:
        """This usage with its cost: from the upstream's ticks when given, else from ``prices``."""
        if cost_in_usd_ticks is not None:
            return evolve(self, cost_usd=cost_in_usd_ticks / TICKS_PER_USD, cost_source="upstream")
        cost = prices.cost(self)
        if cost is None:
            return evolve(self, cost_usd=None, cost_source="none")
        return evolve(self, cost_usd=cost, cost_source="prices")
