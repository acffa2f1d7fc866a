"""Deployments, fallbacks and usage conventions through the running proxy (issue 10, items 3 and 4).

The official ``openai`` client talks to the proxy; the proxy goes through real LiteLLM and real
HTTP to scripted OpenAI-compatible upstreams on 127.0.0.1 (one per deployment). The tenacity
sleeps are injected, so retries do not wait; the deployment shuffle is seeded.
"""
from __future__ import annotations

import random
import re
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from loguru import logger

from llmcore.adapters.yaml_config import LoadedConfig
from llmcore.bootstrap import build_runtime
from llmcore.domain.model_spec import Credentials, Deployment, ModelSpec, RetryPolicy
from llmcore.domain.routing import RoutingSettings
from llmcore.domain.secret import Secret
from llmcore.domain.usage import Prices
from llmcore.entrypoints.proxy_thread import BackgroundProxy
from llmcore.testing.scripted_upstream import ScriptedUpstream, completion_body, stream_events

pytestmark = [
    pytest.mark.slow,
    # LiteLLM 1.110.2 touches pydantic's deprecated instance attributes on every stream chunk (see test_proxy).
    pytest.mark.filterwarnings(r"ignore:Accessing the '\w+' attribute on the instance is deprecated"),
]

HI = [{"role": "user", "content": "hi"}]
PRICES = Prices(input_per_token=1e-6, output_per_token=4e-6)
# F2 (FIELD-REPORTS.md): OpenAI's convention counts the 200 reasoning tokens inside the 300 completion tokens.
F2_USAGE = {"prompt_tokens": 100, "completion_tokens": 300, "total_tokens": 400,
            "completion_tokens_details": {"reasoning_tokens": 200}}
F2_STREAM_USAGE = {"prompt_tokens": 65, "completion_tokens": 251, "total_tokens": 316}


def canary() -> str:
    return "sk-canary-" + secrets.token_hex(10)


def spec(alias: str, upstream: ScriptedUpstream, key: str, **deployment: Any) -> ModelSpec:
    return ModelSpec(
        alias=alias, upstream_model="gpt-x", credentials=Credentials(api_key=Secret(key), base_url=upstream.base_url),
        retry=RetryPolicy(max_retries=2), prices=PRICES, deployment=Deployment(**deployment), timeout=30.0,
    )


class Setup:
    def __init__(self, proxy: BackgroundProxy, upstreams: dict[str, ScriptedUpstream]) -> None:
        self.proxy = proxy
        self.up = upstreams

    def client(self) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.proxy.base_url, api_key="unused", max_retries=0,
                             http_client=openai.DefaultHttpxClient(trust_env=False, timeout=30))

    def metrics(self) -> str:
        with httpx.Client(trust_env=False, timeout=30) as http:
            return http.get(f"{self.proxy.url}/metrics").text


async def no_wait(seconds: float) -> None:
    return None


@pytest.fixture(scope="module")
def setup() -> Iterator[Setup]:
    keys = {name: canary() for name in ("a", "b", "primary", "backup", "generic")}
    upstreams = {name: ScriptedUpstream(key) for name, key in keys.items()}
    for upstream in upstreams.values():
        upstream.__enter__()
    upstreams["backup"]._body = completion_body("from the backup")
    upstreams["backup"]._events = stream_events("from the backup")
    upstreams["generic"]._body = completion_body("thought it through", F2_USAGE, reasoning="...")
    upstreams["generic"]._events = stream_events("answer", F2_STREAM_USAGE, reasoning=["let", " me", " think"])
    config = LoadedConfig(
        source="test", routing=RoutingSettings(fallbacks={"primary": ["backup"]}),
        specs=(
            spec("balanced", upstreams["a"], keys["a"], id="deployment-a", weight=3),
            spec("balanced", upstreams["b"], keys["b"], id="deployment-b", weight=1),
            spec("primary", upstreams["primary"], keys["primary"]),
            spec("backup", upstreams["backup"], keys["backup"]),
            spec("generic", upstreams["generic"], keys["generic"]),
        ),
    )
    runtime = build_runtime(None, {}, config=config, rng=random.Random(20261129), sleep=lambda s: None,
                            async_sleep=no_wait)
    try:
        with BackgroundProxy(runtime) as proxy:
            yield Setup(proxy, upstreams)
    finally:
        for upstream in upstreams.values():
            upstream.__exit__(None, None, None)


@pytest.fixture
def fresh(setup: Setup) -> Setup:
    for upstream in setup.up.values():
        upstream.reset()
    return setup


def test_two_deployments_weighted_3_to_1_split_400_requests_75_25(fresh: Setup) -> None:
    # Seeded shuffle, so the split is the same every run; unseeded, +-8 % (32 of 400) is 3.7 standard
    # deviations of the binomial (sd = sqrt(400 * 0.75 * 0.25) = 8.7), so it could not flake either.
    with fresh.client() as client:
        for _ in range(400):
            client.chat.completions.create(model="balanced", messages=HI)
    a, b = fresh.up["a"].hits, fresh.up["b"].hits
    assert a + b == 400
    assert abs(a - 300) <= 32, (a, b)
    assert set(fresh.up["a"].key_tails) == {fresh.up["a"]._api_key[-4:]}  # each deployment got its own key
    assert set(fresh.up["b"].key_tails) == {fresh.up["b"]._api_key[-4:]}


def test_with_one_deployment_failing_every_request_all_400_succeed(fresh: Setup) -> None:
    fresh.up["a"].fail_with(500, "deployment a is down")
    try:
        with fresh.client() as client:
            answers = [client.chat.completions.create(model="balanced", messages=HI) for _ in range(400)]
    finally:
        fresh.up["a"].fail_with(None)
    assert all(answer.choices[0].message.content == "ok" for answer in answers)
    assert fresh.up["b"].hits == 400
    # Deployment a failed past allowed_fails (3 a minute) and was cooled down, so it saw few requests.
    assert 4 <= fresh.up["a"].hits < 100
    assert re.search(r'llmcore_deployment_cooldowns_total\{deployment="deployment-a",model="balanced"\} [1-9]',
                     fresh.metrics())


def test_fallback_serves_once_the_primary_spent_its_retries(fresh: Setup) -> None:
    fresh.up["primary"].fail_with(503, "overloaded")
    records: list[dict[str, Any]] = []
    sink = logger.add(lambda message: records.append(message.record["extra"]), level="INFO")
    logger.enable("llmcore")
    try:
        with fresh.client() as client:
            raw = client.chat.completions.with_raw_response.create(model="primary", messages=HI)
            with client.chat.completions.with_streaming_response.create(
                    model="primary", messages=HI, stream=True) as streamed:
                stream_header = streamed.headers["x-llmcore-served-alias"]
                text = "".join(chunk.choices[0].delta.content or "" for chunk in streamed.parse() if chunk.choices)
    finally:
        logger.disable("llmcore")
        logger.remove(sink)
        fresh.up["primary"].fail_with(None)
    assert raw.parse().choices[0].message.content == "from the backup"
    assert raw.parse().model == "primary"  # the client's own name; the header says who served
    assert raw.headers["x-llmcore-served-alias"] == "backup"
    assert (stream_header, text) == ("backup", "from the backup")
    assert fresh.up["primary"].hits == 2 * 3  # the first try and two retries, for each request
    fallbacks = [r for r in records if r.get("event") == "fallback_used"]
    assert [(r["model"], r["fallback"], r["error"]) for r in fallbacks] == [
        ("primary", "backup", "UpstreamUnavailableError")] * 2
    assert 'llmcore_fallbacks_total{alias="primary",fallback="backup"} 2.0' in fresh.metrics()


def test_served_alias_is_the_requested_one_without_a_fallback(fresh: Setup) -> None:
    with fresh.client() as client:
        raw = client.chat.completions.with_raw_response.create(model="backup", messages=HI)
    assert raw.headers["x-llmcore-served-alias"] == "backup"


def test_openai_convention_usage_is_the_upstreams_in_json_and_metrics(fresh: Setup) -> None:
    before = tokens(fresh.metrics(), "generic")
    with fresh.client() as client:
        usage = client.chat.completions.create(model="generic", messages=HI).usage
    assert usage is not None and usage.completion_tokens_details is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (100, 300, 400)
    assert usage.completion_tokens_details.reasoning_tokens == 200
    assert usage.model_extra["cost_usd"] == pytest.approx(100 * 1e-6 + 300 * 4e-6)  # reasoning billed once
    after = tokens(fresh.metrics(), "generic")
    # completion counts without reasoning for every convention, so the kinds add up to the upstream's total.
    grown = {kind: after.get(kind, 0) - before.get(kind, 0) for kind in ("prompt", "completion", "reasoning")}
    assert grown == {"prompt": 100, "completion": 100, "reasoning": 200}


def test_stream_usage_total_is_the_upstreams_not_an_estimate(fresh: Setup) -> None:
    with fresh.client() as client:
        stream = client.chat.completions.create(model="generic", messages=HI, stream=True,
                                                stream_options={"include_usage": True})
        chunks = list(stream)
    usage = chunks[-1].usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (65, 251, 316)
    assert usage.completion_tokens_details is None or not usage.completion_tokens_details.reasoning_tokens
    assert usage.model_extra["cost_usd"] == pytest.approx(65 * 1e-6 + 251 * 4e-6)


def test_models_lists_the_alias_once_and_readiness_each_deployment(fresh: Setup) -> None:
    with fresh.client() as client:
        ids = [m.id for m in client.models.list()]
    assert ids.count("balanced") == 1
    with httpx.Client(trust_env=False, timeout=30) as http:
        ready = http.get(f"{fresh.proxy.url}/health/readiness").json()
    balanced = next(m for m in ready["models"] if m["model"] == "balanced")
    assert [d["id"] for d in balanced["deployments"]] == ["deployment-a", "deployment-b"]
    assert all(d["base_url_host"] == "127.0.0.1" and d["available"] for d in balanced["deployments"])
    key = fresh.up["a"]._api_key
    assert key not in str(ready) and balanced["deployments"][0]["api_key"].endswith(key[-4:])


def tokens(metrics: str, model: str) -> dict[str, float]:
    found = re.findall(rf'llmcore_tokens_total\{{kind="(\w+)",model="{model}"\}} ([0-9.e+]+)', metrics)
    return {kind: float(value) for kind, value in found}
