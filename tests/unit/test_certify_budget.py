"""The budget arithmetic of ``llmcore certify``: the estimate before a check, and when it stops the run."""
from __future__ import annotations

import json
import math

import pytest

from llmcore.certify.budget import (
    BYTES_PER_TOKEN, PROVIDER_PROMPT_TOKENS, Budget, RequestPlan, estimate_usd, prompt_tokens_upper_bound,
)
from llmcore.domain.ranges import InvalidSettingError
from llmcore.domain.usage import Prices

GROK = Prices(input_per_token=1.25e-6, output_per_token=2.50e-6)  # grok-4.3's billing (FACTS.md section 0.1)


def test_prompt_bound_is_the_provider_prompt_plus_a_token_per_two_bytes() -> None:
    messages = [{"role": "user", "content": "Say hi in Portuguese."}]
    size = len(json.dumps([messages, []]).encode())
    assert prompt_tokens_upper_bound(messages) == PROVIDER_PROMPT_TOKENS + math.ceil(size / BYTES_PER_TOKEN)


def test_prompt_bound_counts_tools_and_utf8_bytes() -> None:
    plain = prompt_tokens_upper_bound([{"role": "user", "content": "ola"}])
    accented = prompt_tokens_upper_bound([{"role": "user", "content": "olá"}])
    with_tool = prompt_tokens_upper_bound([{"role": "user", "content": "ola"}], [{"type": "function"}])
    assert accented > plain  # "á" is two bytes in UTF-8
    assert with_tool > plain


def test_the_bound_covers_xais_recorded_prompt() -> None:
    # xAI counted 213 prompt tokens for this exchange (the recorded simple.yaml); the estimate must not be lower.
    recorded = [{"role": "system", "content": "You are a helpful assistant"},
                {"role": "user", "content": "Say hi in Portuguese"}]
    assert prompt_tokens_upper_bound(recorded) >= 213


def test_estimate_prices_prompt_as_input_and_max_tokens_as_output() -> None:
    plans = [RequestPlan(prompt_tokens=300, max_tokens=512), RequestPlan(prompt_tokens=1000, max_tokens=16)]
    expected = (300 * 1.25e-6 + 512 * 2.5e-6) + (1000 * 1.25e-6 + 16 * 2.5e-6)
    assert estimate_usd(GROK, plans) == pytest.approx(expected)
    assert estimate_usd(GROK, []) == 0


def test_estimate_without_prices_is_refused() -> None:
    with pytest.raises(ValueError, match="no input or output price"):
        estimate_usd(Prices(input_per_token=1e-6), [RequestPlan(prompt_tokens=1, max_tokens=1)])


def test_budget_allows_up_to_its_limit_and_counts_what_was_spent() -> None:
    budget = Budget(0.01)
    assert budget.allows(0.01)
    budget.spend(0.004)
    assert budget.allows(0.006)
    assert not budget.allows(0.0061)
    assert budget.spent_usd == pytest.approx(0.004)


def test_a_tiny_budget_stops_before_the_first_check_and_says_how_to_go_on() -> None:
    budget = Budget(0.0001)
    estimate = estimate_usd(GROK, [RequestPlan(prompt_tokens=280, max_tokens=512)])
    assert not budget.allows(estimate)
    message = budget.stop_message(1, "plain", estimate)
    assert message.startswith("budget: stopped before check 1 (plain)")
    assert f"${estimate:.6f}" in message and "$0.000100 budget" in message and "raise --budget-usd" in message


@pytest.mark.parametrize("bad", [-1, float("nan")])
def test_a_negative_budget_or_plan_is_refused(bad: float) -> None:
    with pytest.raises(InvalidSettingError):
        Budget(bad)
    with pytest.raises(InvalidSettingError):
        RequestPlan(prompt_tokens=-1, max_tokens=1)
