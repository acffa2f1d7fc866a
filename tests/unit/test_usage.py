import pytest

from llmcore.domain.usage import Prices, Usage


def test_total_counts_reasoning_apart_from_completion():
    usage = Usage(prompt_tokens=213, completion_tokens=2, reasoning_tokens=256, cached_tokens=192)
    assert usage.total_tokens == 471


def test_cost_from_upstream_ticks_wins_over_prices():
    usage = Usage(prompt_tokens=213, completion_tokens=2, reasoning_tokens=256, cached_tokens=192)
    priced = usage.priced(Prices(input_per_token=1.0, output_per_token=1.0), cost_in_usd_ticks=3950400)
    assert priced.cost_usd == pytest.approx(0.00039504)
    assert priced.cost_source == "upstream"


def test_cost_from_prices_bills_reasoning_as_output_and_cached_at_input_price():
    usage = Usage(prompt_tokens=213, completion_tokens=2, reasoning_tokens=256, cached_tokens=192)
    priced = usage.priced(Prices(input_per_token=1.25e-6, output_per_token=2.5e-6))
    assert priced.cost_source == "prices"
    assert priced.cost_usd == pytest.approx(213 * 1.25e-6 + 258 * 2.5e-6)


def test_cached_price_applies_when_configured():
    usage = Usage(prompt_tokens=213, completion_tokens=2, reasoning_tokens=256, cached_tokens=192)
    prices = Prices(input_per_token=0.2e-6, output_per_token=1.5e-6, cached_input_per_token=0.02e-6)
    # The original grok-code-fast-1 prices reproduce xAI's own ticks exactly (FACTS.md).
    assert usage.priced(prices).cost_usd == pytest.approx(0.00039504)


def test_unknown_prices_leave_cost_unknown():
    priced = Usage(prompt_tokens=1).priced(Prices())
    assert priced.cost_usd is None
    assert priced.cost_source == "none"
    assert not Prices(input_per_token=1.0).known


def test_openai_convention_counts_reasoning_inside_completion_and_bills_it_once():
    # F2 (FIELD-REPORTS.md): 200 of the 300 completion tokens are reasoning.
    usage = Usage(prompt_tokens=100, completion_tokens=300, reasoning_tokens=200, convention="reasoning_in_completion")
    assert (usage.output_tokens, usage.text_tokens, usage.total_tokens) == (300, 100, 400)
    assert usage.priced(Prices(input_per_token=1.0, output_per_token=2.0)).cost_usd == 100 + 300 * 2


def test_xai_convention_counts_reasoning_apart():
    usage = Usage(prompt_tokens=213, completion_tokens=2, reasoning_tokens=256)
    assert (usage.output_tokens, usage.text_tokens) == (258, 2)
    assert usage.under("reasoning_in_completion").total_tokens == 215


def test_the_upstreams_total_wins_whatever_the_convention():
    usage = Usage(prompt_tokens=65, completion_tokens=251, reported_total=316)
    assert usage.total_tokens == usage.under("reasoning_in_completion").total_tokens == 316
