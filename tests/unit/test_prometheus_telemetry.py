"""PrometheusTelemetry: the metric names are a contract, each Core has its own registry, labels never carry a key."""
from __future__ import annotations

import secrets

import pytest
from loguru import logger
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from llmcore.adapters.prometheus_telemetry import PrometheusTelemetry
from llmcore.adapters.request_api import MESSAGES, request_api
from llmcore.domain.chat import ParamAdjustment
from llmcore.domain.errors import RateLimitError, UpstreamUnavailableError
from llmcore.domain.model_spec import Credentials, ModelSpec
from llmcore.domain.secret import Secret
from llmcore.domain.usage import Usage

CONTRACT = {
    "llmcore_requests_total": ("model", "outcome", "stream", "api"),
    "llmcore_request_duration_seconds": ("model", "stream", "api"),
    "llmcore_retries_total": ("model", "error"),
    "llmcore_upstream_errors_total": ("model", "status", "error"),
    "llmcore_param_adjustments_total": ("model", "param", "action"),
    "llmcore_stream_incomplete_total": ("model", "reason"),
    "llmcore_model_mismatch_total": ("model", "served_by"),
    "llmcore_tokens_total": ("model", "kind"),
    "llmcore_cost_usd_total": ("model", "source"),
    "llmcore_model_available": ("model",),
    "llmcore_overhead_seconds": ("route",),
}


@pytest.fixture(autouse=True)
def restore_loguru():
    yield
    logger.remove()
    logger.disable("llmcore")


def spec_with(key: str, alias: str = "grok-code-fast-1") -> ModelSpec:
    return ModelSpec(alias=alias, upstream_model="grok-code-fast-1", credentials=Credentials(api_key=Secret(key)))


def samples(metrics: PrometheusTelemetry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    parsed = text_string_to_metric_families(metrics.render().decode())
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for family in parsed for s in family.samples}


def value(metrics: PrometheusTelemetry, name: str, **labels: str) -> float:
    return samples(metrics)[(name, tuple(sorted(labels.items())))]


def exercise(metrics: PrometheusTelemetry, spec: ModelSpec) -> None:
    metrics.param_adjusted(spec, ParamAdjustment(param="stop", action="dropped", reason="xAI 400"), "r")
    metrics.retrying(spec, 1, 1.0, RateLimitError("slow down", status_code=429), "r")
    metrics.upstream_failed(spec, UpstreamUnavailableError("bad gateway", status_code=502), "r")
    metrics.stream_incomplete(spec, "connection_lost", "dropped", "r")
    metrics.model_mismatch(spec, "grok-4.3", "r")
    usage = Usage(prompt_tokens=100, completion_tokens=20, reasoning_tokens=300, cached_tokens=64, cost_usd=0.002,
                  cost_source="upstream")
    metrics.request_finished(spec, outcome="ok", seconds=1.5, usage=usage, stream=False, request_id="r")
    metrics.request_finished(spec, outcome="incomplete", seconds=3.0, usage=None, stream=True, request_id="r")
    metrics.model_available(spec.alias, True)
    metrics.observe_overhead("/v1/chat/completions", 0.0004)


def test_every_contracted_metric_is_exposed_with_its_labels(canary):
    metrics = PrometheusTelemetry()
    exercise(metrics, spec_with(canary))

    found = samples(metrics)
    for name, labels in CONTRACT.items():
        series = [dict(key[1]) for key in found if key[0] in (name, f"{name}_count")]
        assert series, name
        assert all(set(labels) <= set(s) for s in series), name


def test_requests_are_counted_by_the_wire_api_the_entrypoint_set(canary):
    metrics = PrometheusTelemetry()
    with request_api(MESSAGES):
        metrics.request_finished(spec_with(canary), outcome="ok", seconds=0.5, usage=None, stream=True, request_id="r")
    metrics.request_finished(spec_with(canary), outcome="ok", seconds=0.5, usage=None, stream=True, request_id="r")

    model = "grok-code-fast-1"
    assert value(metrics, "llmcore_requests_total", model=model, outcome="ok", stream="true", api="messages") == 1
    assert value(metrics, "llmcore_requests_total", model=model, outcome="ok", stream="true",
                 api="chat_completions") == 1


def test_events_are_counted_by_model_and_their_labels(canary):
    metrics = PrometheusTelemetry()
    exercise(metrics, spec_with(canary))
    model = "grok-code-fast-1"

    chat = "chat_completions"
    assert value(metrics, "llmcore_requests_total", model=model, outcome="ok", stream="false", api=chat) == 1
    assert value(metrics, "llmcore_requests_total", model=model, outcome="incomplete", stream="true", api=chat) == 1
    assert value(metrics, "llmcore_request_duration_seconds_sum", model=model, stream="false", api=chat) == 1.5
    assert value(metrics, "llmcore_retries_total", model=model, error="RateLimitError") == 1
    assert value(metrics, "llmcore_upstream_errors_total", model=model, status="502",
                 error="UpstreamUnavailableError") == 1
    assert value(metrics, "llmcore_param_adjustments_total", model=model, param="stop", action="dropped") == 1
    assert value(metrics, "llmcore_stream_incomplete_total", model=model, reason="connection_lost") == 1
    assert value(metrics, "llmcore_model_mismatch_total", model=model, served_by="grok-4.3") == 1
    for kind, count in (("prompt", 100), ("completion", 20), ("reasoning", 300), ("cached", 64)):
        assert value(metrics, "llmcore_tokens_total", model=model, kind=kind) == count
    assert value(metrics, "llmcore_cost_usd_total", model=model, source="upstream") == pytest.approx(0.002)
    assert value(metrics, "llmcore_model_available", model=model) == 1
    assert value(metrics, "llmcore_overhead_seconds_count", route="/v1/chat/completions") == 1


def test_an_unavailable_model_reads_zero(canary):
    metrics = PrometheusTelemetry()
    metrics.model_available("grok-code-fast-1", True)
    metrics.model_unavailable("grok-code-fast-1", "GROK_API_KEY is not set")
    metrics.model_available("other", False)

    assert value(metrics, "llmcore_model_available", model="grok-code-fast-1") == 0
    assert value(metrics, "llmcore_model_available", model="other") == 0


def test_an_upstream_error_without_a_response_has_status_none(canary):
    metrics = PrometheusTelemetry()
    metrics.upstream_failed(spec_with(canary), UpstreamUnavailableError("refused"), None)

    assert value(metrics, "llmcore_upstream_errors_total", model="grok-code-fast-1", status="none",
                 error="UpstreamUnavailableError") == 1


def test_two_instances_keep_their_own_counts_and_never_touch_the_global_registry(canary):
    before = {m.name for m in REGISTRY.collect()}
    first, second = PrometheusTelemetry(), PrometheusTelemetry()
    exercise(first, spec_with(canary))

    assert value(first, "llmcore_retries_total", model="grok-code-fast-1", error="RateLimitError") == 1
    retried = ("llmcore_retries_total", (("error", "RateLimitError"), ("model", "grok-code-fast-1")))
    assert retried not in samples(second)
    assert {m.name for m in REGISTRY.collect()} == before


def test_a_registry_can_be_passed_in(canary):
    registry = CollectorRegistry()
    metrics = PrometheusTelemetry(registry)
    metrics.model_available("grok-code-fast-1", True)

    assert metrics.registry is registry
    assert registry.get_sample_value("llmcore_model_available", {"model": "grok-code-fast-1"}) == 1


def test_render_is_the_prometheus_text_format(canary):
    metrics = PrometheusTelemetry()
    exercise(metrics, spec_with(canary))

    assert metrics.content_type.startswith("text/plain")
    body = metrics.render()
    assert isinstance(body, bytes)
    assert b"# TYPE llmcore_request_duration_seconds histogram" in body


def test_label_values_never_carry_a_key(canary):
    plain = "plain" + secrets.token_hex(12)
    openai_key = "sk-" + secrets.token_hex(16)
    bearer = secrets.token_hex(16)
    metrics = PrometheusTelemetry(secrets=[Secret(canary)])
    metrics.add_secrets([plain])
    spec = spec_with(canary, alias=f"alias-{plain}")

    metrics.param_adjusted(spec, ParamAdjustment(param=openai_key, action="dropped", reason=canary), None)
    metrics.model_mismatch(spec, f"served {canary}", None)
    metrics.stream_incomplete(spec, f"Bearer {bearer}", canary, None)
    metrics.request_finished(spec, outcome=f"api_key={canary}", seconds=1.0, usage=None, stream=False,
                             request_id=None)
    metrics.observe_overhead(f"/v1?key={bearer}", 0.001)
    metrics.model_available(canary, True)

    body = metrics.render().decode()
    for leaked in (canary, plain, openai_key, bearer):
        assert leaked not in body
    assert canary[-4:] in body


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.param_adjusted(None, None, None),
        lambda m: m.retrying(object(), None, None, None, None),
        lambda m: m.upstream_failed(None, "not an error", None),
        lambda m: m.stream_incomplete(None, None, None, None),
        lambda m: m.model_mismatch(None, None, None),
        lambda m: m.request_finished(spec_with("x" * 20), outcome="ok", seconds="slow", usage=None, stream=False,
                                     request_id=None),
        lambda m: m.request_finished(spec_with("x" * 20), outcome="ok", seconds=1.0,
                                     usage=Usage(prompt_tokens=-5, cost_usd=-1.0), stream=False, request_id=None),
        lambda m: m.request_finished(spec_with("x" * 20), outcome="ok", seconds=1.0, usage=object(),
                                     stream=False, request_id=None),
        lambda m: m.model_available(None, None),
        lambda m: m.observe_overhead(None, "fast"),
        lambda m: m.config_warning("anything"),
    ],
)
def test_telemetry_methods_never_raise_even_given_odd_input(call):
    metrics = PrometheusTelemetry()
    call(metrics)
    metrics.render()


def param_series(metrics: PrometheusTelemetry) -> set[str]:
    return {dict(labels)["param"] for (name, labels) in samples(metrics)
            if name == "llmcore_param_adjustments_total"}


def test_names_clients_make_up_give_a_bounded_number_of_param_series():
    """Finding 5: every unknown field or tool name a client sent was a new series; a scrape grew without bound."""
    metrics = PrometheusTelemetry()
    spec = spec_with("k" * 20)
    for number in range(500):
        for param in (f"x_field_{number}", f"tools[tool_{number} (web_search)]", f"tools[t{number} (custom_{number})]",
                      f"tools[t{number} (web_search_2025{number:04d})]", f"messages[{number}].name",
                      f"messages[{number}].content", f"tools[{number}]", "tools[t (a second tool of that name)]"):
            metrics.param_adjusted(spec, ParamAdjustment(param=param, action="dropped", reason="r"), None)
    metrics.param_adjusted(spec, ParamAdjustment(param="stop", action="dropped", reason="r"), None)
    assert param_series(metrics) == {"unknown_field", "tools[web_search]", "tools[other]", "messages[].name",
                                     "tools[duplicate_name]", "stop"}
    assert value(metrics, "llmcore_param_adjustments_total", model=spec.alias, param="unknown_field",
                 action="dropped") == 1000  # x_field_N and messages[N].content


def test_params_the_config_names_keep_their_name():
    from llmcore.domain.model_spec import ParamRules

    spec = ModelSpec(alias="m", upstream_model="m", credentials=Credentials(api_key=Secret("k" * 20)),
                     param_rules=ParamRules(drop=("vendor_knob",), rename={"max_completion_tokens_x": "y"}))
    metrics = PrometheusTelemetry()
    for param in ("vendor_knob", "max_completion_tokens_x", "presence_penalty"):
        metrics.param_adjusted(spec, ParamAdjustment(param=param, action="dropped", reason="r"), None)
    assert param_series(metrics) == {"vendor_knob", "max_completion_tokens_x", "presence_penalty"}
