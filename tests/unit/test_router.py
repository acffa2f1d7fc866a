"""Deployments of one alias: the registry judges each, the router picks and cools them down (LiteLLM's semantics)."""
from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest

from llmcore.adapters.recording_telemetry import RecordingTelemetry
from llmcore.domain.errors import (
    InvalidRequestError, ModelUnavailableError, RateLimitError, UnknownModelError, UpstreamAuthError,
    UpstreamUnavailableError,
)
from llmcore.domain.model_spec import Credentials, Deployment, ModelSpec
from llmcore.domain.registry import ModelRegistry
from llmcore.domain.router import Cooldowns, Router, counts_for_cooldown, routing_warnings
from llmcore.domain.routing import RoutingSettings
from llmcore.domain.secret import Secret

KEY = "sk-unit-" + "k" * 20


def spec(alias: str = "m", key: str | None = KEY, base: str = "http://127.0.0.1:9/v1", upstream: str = "gpt-x",
         **deployment: Any) -> ModelSpec:
    return ModelSpec(alias=alias, upstream_model=upstream,
                     credentials=Credentials(api_key=Secret(key) if key else None, base_url=base),
                     deployment=Deployment(**deployment))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def picks(router: Router, alias: str = "m", n: int = 4000, **kwargs: Any) -> Counter[str]:
    return Counter(router.pick(alias, **kwargs).deployment.id for _ in range(n))


def test_every_deployment_is_kept_and_judged_and_the_alias_is_available_while_one_is() -> None:
    registry = ModelRegistry([spec(id="good"), spec(id="keyless", key=None)])

    status = registry.status("m")

    assert status.available and status.reason is None
    assert [(d.id, d.available) for d in status.deployments] == [("good", True), ("keyless", False)]
    assert "no API key" in (status.deployments[1].reason or "")
    assert [d.deployment.id for d in registry.available_deployments("m")] == ["good"]
    assert registry.aliases() == ("m",)


def test_an_alias_without_any_usable_deployment_is_unavailable_with_every_reason() -> None:
    registry = ModelRegistry([spec(key=None), spec(base="ftp://nowhere")])

    with pytest.raises(ModelUnavailableError) as caught:
        registry.resolve("m")

    assert "m#1: no API key" in str(caught.value) and "m#2: the base URL" in str(caught.value)


def test_deployment_ids_default_to_alias_and_position_and_keys_stay_masked() -> None:
    registry = ModelRegistry([spec(), spec(), spec(alias="other")])

    deployments = registry.status("m").deployments

    assert [d.id for d in deployments] == ["m#1", "m#2"]
    assert deployments[0].base_url_host == "127.0.0.1"
    assert KEY not in repr(deployments) and deployments[0].key is not None and deployments[0].key.endswith(KEY[-4:])


def test_weights_split_picks_like_litellms_simple_shuffle() -> None:
    router = Router(ModelRegistry([spec(id="a", weight=3), spec(id="b", weight=1)]), rng=random.Random(1))

    counts = picks(router)

    assert counts["a"] / 4000 == pytest.approx(0.75, abs=0.03)


def test_rpm_weighs_when_no_weight_is_set_and_a_deployment_without_it_weighs_nothing() -> None:
    router = Router(ModelRegistry([spec(id="a", rpm=100), spec(id="b", rpm=300), spec(id="c")]),
                    rng=random.Random(2))

    counts = picks(router)

    assert counts["c"] == 0
    assert counts["b"] / 4000 == pytest.approx(0.75, abs=0.03)


def test_without_weights_picks_are_uniform() -> None:
    router = Router(ModelRegistry([spec(id="a"), spec(id="b")]), rng=random.Random(3))

    assert picks(router)["a"] / 4000 == pytest.approx(0.5, abs=0.03)


def test_lowest_order_serves_while_it_can_and_the_next_order_when_it_was_tried() -> None:
    router = Router(ModelRegistry([spec(id="second", order=2), spec(id="first", order=1), spec(id="third")]))

    assert set(picks(router, n=50)) == {"first"}
    assert set(picks(router, n=50, exclude={"first"})) == {"second"}


def test_unavailable_deployments_are_never_picked() -> None:
    router = Router(ModelRegistry([spec(id="a", key=" "), spec(id="b")]))

    assert set(picks(router, n=50)) == {"b"}


def test_a_deployment_failing_past_allowed_fails_in_a_minute_cools_down_then_returns() -> None:
    clock, telemetry = Clock(), RecordingTelemetry()
    router = Router(ModelRegistry([spec(id="a"), spec(id="b")]), RoutingSettings(allowed_fails=2, cooldown_time=5),
                    telemetry, clock=clock)
    a = router.registry.deployments("m")[0]
    error = UpstreamUnavailableError("down", status_code=500)

    for _ in range(2):
        router.failed(a, error)
    assert set(picks(router, n=50)) == {"a", "b"}  # two fails are allowed
    router.failed(a, error)

    assert set(picks(router, n=50)) == {"b"}
    (event,) = telemetry.named("deployment_cooled_down")
    assert (event.details["deployment"], event.details["seconds"]) == ("a", 5)
    clock.now += 5.1
    assert set(picks(router, n=50)) == {"a", "b"}


def test_fails_older_than_a_minute_do_not_count() -> None:
    clock = Clock()
    cooldowns = Cooldowns(allowed_fails=1, cooldown_time=5, clock=clock)

    assert not cooldowns.failed("a")
    clock.now += 61
    assert not cooldowns.failed("a")
    assert cooldowns.failed("a")
    assert cooldowns.remaining("a") == pytest.approx(5)


def test_when_every_deployment_cools_down_the_one_back_soonest_is_tried() -> None:
    clock = Clock()
    router = Router(ModelRegistry([spec(id="a"), spec(id="b")]), RoutingSettings(allowed_fails=0, cooldown_time=5),
                    clock=clock)
    a, b = router.registry.deployments("m")
    router.failed(a, RateLimitError("429", status_code=429))
    clock.now += 1
    router.failed(b, RateLimitError("429", status_code=429))

    assert router.pick("m").deployment.id == "a"


def test_a_lone_deployment_without_fallbacks_is_never_cooled_down() -> None:
    router = Router(ModelRegistry([spec(id="only")]), RoutingSettings(allowed_fails=0))
    only = router.registry.resolve("m")

    router.failed(only, UpstreamUnavailableError("down", status_code=503))

    assert router.cooldowns.remaining("only") == 0.0


@pytest.mark.parametrize(("error", "counts"), [
    (RateLimitError("429", status_code=429), True),
    (UpstreamUnavailableError("connection refused"), True),
    (UpstreamUnavailableError("bad gateway", status_code=502), True),
    (UpstreamAuthError("401", status_code=401), True),
    (InvalidRequestError("context too long", status_code=400), False),
    (InvalidRequestError("not found", status_code=404), True),
])
def test_failures_count_for_cooldowns_as_litellm_counts_them(error: Any, counts: bool) -> None:
    assert counts_for_cooldown(error) is counts


def test_wildcard_alias_serves_a_matching_name_with_it_in_the_upstream_model() -> None:
    registry = ModelRegistry([
        spec(alias="anthropic/*", upstream="*"), spec(alias="anthropic/claude-fixed", upstream="claude-pinned"),
    ])

    served = registry.resolve("anthropic/claude-sonnet-4")

    assert (served.alias, served.upstream_model) == ("anthropic/claude-sonnet-4", "claude-sonnet-4")
    assert registry.resolve("anthropic/claude-fixed").upstream_model == "claude-pinned"  # exact aliases first
    assert registry.status("anthropic/claude-sonnet-4").available
    with pytest.raises(UnknownModelError):
        registry.resolve("openai/gpt-4o")


def test_catch_all_wildcard_passes_the_requested_name_through() -> None:
    assert ModelRegistry([spec(alias="*", upstream="*")]).resolve("gpt-4o-mini").upstream_model == "gpt-4o-mini"


def test_routing_settings_llmcore_does_not_honour_are_warned_not_ignored() -> None:
    settings = RoutingSettings(routing_strategy="latency-based-routing", context_window_fallbacks={"m": ["big"]},
                               content_policy_fallbacks={"m": ["other"]}, fallbacks={"m": ["missing"]})

    warnings = routing_warnings(settings, ModelRegistry([spec()]))

    assert len(warnings) == 4
    assert "latency-based-routing" in warnings[0] and "simple-shuffle" in warnings[0]
    assert "context_window_fallbacks is ignored" in warnings[1]
    assert "content_policy_fallbacks is ignored" in warnings[2]
    assert "'missing' is not a configured model_name" in warnings[3]
