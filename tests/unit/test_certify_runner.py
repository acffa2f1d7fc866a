"""``llmcore certify``'s checks and runner, in memory: a Core over the scripted fake, through the real policy,
usage and retry path. Each test scripts what an upstream answers and asserts the verdict the report carries."""
from __future__ import annotations

import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

import llmcore
from llmcore.adapters.recording_telemetry import RecordingTelemetry
from llmcore.adapters.scripted_completion import ScriptedCompletion
from llmcore.bootstrap import load_config
from llmcore.certify.checks import CHECKS
from llmcore.certify.results import AliasRun
from llmcore.certify.runner import MISSING_ALIAS, certify, subject_for
from llmcore.certify import CHECK_IDS
from llmcore.domain.chat import ChatResponse
from llmcore.domain.errors import (
    ConfigError, InvalidRequestError, ModelUnavailableError, QuotaExceededError, UnknownModelError,
    UpstreamAuthError, UpstreamUnavailableError,
)
from llmcore.domain.usage import Usage

GROK = "grok-code-fast-1"
XAI_USAGE = Usage(prompt_tokens=213, completion_tokens=2, reasoning_tokens=256, cached_tokens=192)
TOOL_CALL = {"id": "call_1", "type": "function",
             "function": {"name": "weather", "arguments": '{"location": "Florence, Italy"}'}}
NOT_FOUND = InvalidRequestError("xAI rejected the request", status_code=404, provider="xai", model="x",
                                upstream_text='{"code":"not-found","error":"The model does not exist"}')


@pytest.fixture(autouse=True)
def no_config_file_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)  # ./llmcore.yaml of the developer's checkout must not count
    yield


def answer(**fields: Any) -> ChatResponse:
    values: dict[str, Any] = {"content": "Olá!", "reasoning_content": "thinking it over", "finish_reason": "stop",
                              "model": GROK, "usage": XAI_USAGE}
    return ChatResponse(**{**values, **fields})


def tool_round(first: ChatResponse | None = None, second: ChatResponse | None = None) -> list[Any]:
    return [first or answer(content="", tool_calls=(TOOL_CALL,), finish_reason="tool_calls"),
            second or answer(content="It is 40 C in Florence.")]


def passing_script() -> list[Any]:
    # plain, stream (None: the scripted default chunks), reasoning, the five dropped params, the tool round trip.
    return [answer(), None, answer(), *[answer(content="OK")] * 5, *tool_round()]


def run(script: Sequence[Any], env: dict[str, str] | None = None, path: Path | None = None,
        missing: Sequence[Any] = (NOT_FOUND,), budget: float = 0.05, alias: str = GROK) -> AliasRun:
    env = env if env is not None else {"GROK_API_KEY": "xai-unit-" + "k" * 20}
    config = load_config(path, env)
    subject = subject_for(config, alias, None)
    scripted = ScriptedCompletion(script)
    scripted.enqueue(*missing, model=MISSING_ALIAS)
    core = llmcore.load(path, env=env, config=subject.config, completion=scripted, telemetry=RecordingTelemetry(),
                        sleep=lambda seconds: None)
    return certify(subject, core, budget_usd=budget, upstream="configured")


def verdicts(result: AliasRun) -> dict[str, tuple[str, str | None]]:
    return {c.id: (c.status, c.verdict.reason) for c in result.checks}


def test_the_check_ids_are_the_checks_in_order() -> None:
    assert tuple(c.id for c in CHECKS) == CHECK_IDS
    assert [c.number for c in CHECKS] == list(range(1, 8))


def test_every_check_passes_against_a_well_behaved_upstream() -> None:
    result = run(passing_script())
    assert {status for status, _ in verdicts(result).values()} == {"passed"}, verdicts(result)
    assert result.passed and result.stopped_by_budget is None
    checks = result.checks_by_id()
    assert [p["param"] for p in checks["dropped_params"].verdict.evidence["params"]] == [
        "presence_penalty", "frequency_penalty", "stop", "reasoning_effort", "reasoning"]
    assert all(p["dropped"] for p in checks["dropped_params"].verdict.evidence["params"])
    assert checks["error_path"].verdict.evidence["status_code"] == 404
    assert checks["served_model"].verdict.findings[0] == f"served as configured: {GROK}"
    assert checks["stream"].ttfb_ms is not None and checks["plain"].ttfb_ms is None
    # No ticks from the scripted fake: the cost comes from the catalog's prices.
    assert checks["plain"].cost_usd == pytest.approx(XAI_USAGE.priced(result_prices()).cost_usd or 0)
    assert result.spent_usd == pytest.approx(sum(c.cost_usd for c in result.checks))


def result_prices() -> Any:
    return load_config(None, {}).specs[0].prices


def test_a_redirect_is_a_finding_with_the_billed_price_not_a_failure() -> None:
    served = [answer(model="grok-4.3", cost_in_usd_ticks=3950400), None, answer(model="grok-4.3"),
              *[answer(content="OK", model="grok-4.3")] * 5,
              *tool_round(answer(content="", tool_calls=(TOOL_CALL,), model="grok-4.3"),
                          answer(content="40 C", model="grok-4.3"))]
    # The stream's default chunks name the configured model: the stream is scripted as grok-4.3 too.
    result = run([s if s is not None else _chunks("grok-4.3") for s in served])
    check = result.checks_by_id()["served_model"]
    assert check.status == "passed", check.verdict.reason
    redirect, billing = check.verdict.findings
    assert redirect.startswith("redirect: asked for grok-code-fast-1, served by grok-4.3, as the catalog's lifecycle")
    assert "billed $0.000395 (cost_in_usd_ticks 3950400)" in billing and "$1.25 in / $2.50 out" in billing
    assert result.served_models == ("grok-4.3",)


def _chunks(model: str) -> list[Any]:
    from llmcore.domain.chat import StreamChunk

    return [StreamChunk(role="assistant", reasoning_content="hm", model=model),
            StreamChunk(content="Olá!", model=model), StreamChunk(finish_reason="stop", model=model),
            StreamChunk(usage=XAI_USAGE, model=model)]


def test_a_model_the_catalog_does_not_expect_is_a_finding_that_says_what_to_do() -> None:
    script = [answer(model="grok-9"), _chunks("grok-9"), answer(model="grok-9"),
              *[answer(content="OK", model="grok-9")] * 5,
              *tool_round(answer(content="", tool_calls=(TOOL_CALL,), model="grok-9"), answer(model="grok-9"))]
    check = run(script).checks_by_id()["served_model"]
    assert check.status == "passed"
    assert check.verdict.findings[0].startswith(
        "redirect: asked for grok-code-fast-1, served by grok-9, which the catalog does not expect (the lifecycle "
        "says: retired upstream 2026-05-15, served by grok-4.3")
    assert "sent no cost_in_usd_ticks" in check.verdict.findings[1]


def test_with_every_asking_check_failed_check_7_has_nothing_to_compare() -> None:
    down = UpstreamUnavailableError("down", status_code=503)
    result = run([down] * 3 * 12, missing=[NOT_FOUND])
    assert verdicts(result)["served_model"] == (
        "failed", "no answer to compare: every check that asks the model failed")


def test_answers_that_disagree_on_the_serving_model_fail_check_7() -> None:
    script = passing_script()
    script[1] = _chunks("grok-4.3-eu")
    reason = verdicts(run(script))["served_model"][1] or ""
    assert reason.startswith("the answers were served by different models") and "stream: grok-4.3-eu" in reason


def test_a_failed_request_fails_its_check_with_the_classified_error() -> None:
    script = passing_script()
    script[0] = QuotaExceededError("xAI refused the request: no credits left", status_code=429)
    result = run(script)
    status, reason = verdicts(result)["plain"]
    assert status == "failed" and reason is not None and reason.startswith("QuotaExceededError: xAI refused")
    assert not result.passed
    assert {s for check, (s, _) in verdicts(result).items() if check != "plain"} == {"passed"}


def test_an_answer_without_content_or_reasoning_tokens_fails_check_1() -> None:
    script = passing_script()
    script[0] = answer(content="", finish_reason="length", usage=Usage(prompt_tokens=10, completion_tokens=5))
    reason = verdicts(run(script))["plain"][1] or ""
    assert "no content (finish_reason 'length'); max_tokens cut it off" in reason
    assert "usage reports no reasoning tokens" in reason


def test_a_stream_that_breaks_fails_check_2() -> None:
    from llmcore.adapters.scripted_completion import StreamThenFail
    from llmcore.domain.chat import StreamChunk

    script = passing_script()
    script[1] = StreamThenFail(chunks=(StreamChunk(role="assistant", reasoning_content="hm", model=GROK),),
                               error=UpstreamUnavailableError("connection lost"))
    result = run(script)
    status, reason = verdicts(result)["stream"]
    assert status == "failed" and (reason or "").startswith("the stream did not complete")
    assert result.checks_by_id()["stream"].verdict.evidence["complete"] is False


@pytest.mark.parametrize(("reply", "expected"), [
    (answer(reasoning_content=None), "no reasoning_content, although the upstream counted 256 reasoning tokens"),
    (answer(reasoning_content="", usage=Usage(prompt_tokens=9, completion_tokens=1)),
     "no reasoning_content and no reasoning tokens"),
])
def test_no_reasoning_output_fails_check_3(reply: ChatResponse, expected: str) -> None:
    script = passing_script()
    script[2] = reply
    assert (verdicts(run(script))["reasoning"][1] or "").startswith(expected)


def test_a_param_that_reaches_the_upstream_fails_check_4_naming_it() -> None:
    script = passing_script()
    script[3] = InvalidRequestError("xAI rejected the request", status_code=400,
                                    upstream_text="Model grok-code-fast-1 does not support parameter presencePenalty.")
    status, reason = verdicts(run(script))["dropped_params"]
    assert status == "failed" and (reason or "").startswith("presence_penalty: the request failed: InvalidRequestError")


@pytest.mark.parametrize(("first", "expected"), [
    (answer(content="It is sunny."), "no tool call in the answer"),
    (answer(content="", tool_calls=({**TOOL_CALL, "function": {"name": "weather", "arguments": "{oops"}},)),
     "the tool call's arguments are not JSON"),
    (answer(content="", tool_calls=({**TOOL_CALL, "function": {"name": "time", "arguments": "{}"}},)),
     "the tool call names 'time', not 'weather'; the tool call's arguments have no 'location' string"),
])
def test_a_bad_tool_call_fails_check_5(first: ChatResponse, expected: str) -> None:
    script = [*passing_script()[:8], first, answer()]
    assert verdicts(run(script))["tool_call"][1] == expected


def test_no_answer_after_the_tool_result_fails_check_5() -> None:
    script = [*passing_script()[:8], *tool_round(second=answer(content=""))]
    assert (verdicts(run(script))["tool_call"][1] or "").startswith("no answer after the tool result")


@pytest.mark.parametrize(("missing", "expected"), [
    ([UpstreamUnavailableError("502", status_code=502)] * 3, "classified as transient (UpstreamUnavailableError)"),
    ([answer(model="grok-4.3")], "the upstream answered for llmcore-certify-no-such-model"),
])
def test_an_unknown_model_must_be_refused_permanently(missing: list[Any], expected: str) -> None:
    status, reason = verdicts(run(passing_script(), missing=missing))["error_path"]
    assert status == "failed" and (reason or "").startswith(expected)


def test_with_drop_params_off_the_params_are_refused_before_any_request(tmp_path: Path) -> None:
    path = tmp_path / "llmcore.yaml"
    path.write_text(textwrap.dedent("""\
        model_list:
          - model_name: grok-code-fast-1
            litellm_params: {model: openai/grok-code-fast-1, api_key: os.environ/GROK_API_KEY, drop_params: false}
        """), encoding="utf-8")
    result = run([answer(), None, answer(), *tool_round()], path=path)
    check = result.checks_by_id()["dropped_params"]
    assert check.status == "passed" and check.requests == 0 and check.estimate_usd == 0
    assert {p["param"] for p in check.verdict.evidence["params"] if p["refused"]} >= {"presence_penalty", "stop"}


def test_checks_a_model_cannot_take_are_skipped_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "llmcore.yaml"
    path.write_text(textwrap.dedent("""\
        model_list:
          - model_name: small
            litellm_params: {model: openai/small-1, api_base: "http://127.0.0.1:9/v1", api_key: os.environ/K}
            model_info: {supports_reasoning: false, supports_function_calling: false,
                         input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}
        """), encoding="utf-8")
    result = run([answer(model="small-1"), _chunks("small-1"), ], env={"K": "unit-key-0123456789"}, path=path,
                 alias="small")
    assert verdicts(result)["reasoning"] == ("skipped", "the model's capabilities say it does not reason")
    assert verdicts(result)["dropped_params"] == ("skipped", "the policy drops no params for this model")
    assert verdicts(result)["tool_call"] == ("skipped", "the model's capabilities say it takes no tools")
    assert result.passed, verdicts(result)


def test_the_run_stops_before_the_check_that_could_pass_the_budget() -> None:
    # Checks 1-3 are estimated at ~$0.0016 each and cost less; check 4 (five requests, ~$0.0082) cannot fit.
    result = run(passing_script(), budget=0.004)
    statuses = [c.status for c in result.checks]
    assert statuses[:3] == ["passed"] * 3 and set(statuses[3:]) == {"skipped"}
    stop = result.stopped_by_budget or ""
    assert stop.startswith("budget: stopped before check 4 (dropped_params)")
    assert result.checks[3].verdict.reason == stop
    assert result.checks[4].verdict.reason == "not run: the budget stopped before check 4"
    assert not result.passed and result.spent_usd <= 0.004


def test_an_answer_that_costs_more_than_its_estimate_is_said_and_counted() -> None:
    script = passing_script()
    script[0] = answer(usage=Usage(prompt_tokens=200, completion_tokens=2, reasoning_tokens=5000))
    result = run(script)
    plain = result.checks_by_id()["plain"]
    assert plain.cost_usd > plain.estimate_usd
    assert any("more than the" in f and "estimated" in f for f in plain.verdict.findings)
    assert result.spent_usd >= plain.cost_usd


def test_unknown_alias_no_key_and_no_prices_are_refused_before_anything_is_sent(tmp_path: Path) -> None:
    with pytest.raises(UnknownModelError):
        subject_for(load_config(None, {"GROK_API_KEY": "xai-unit-" + "k" * 20}), "nope", None)
    with pytest.raises(ModelUnavailableError, match="no API key"):
        subject_for(load_config(None, {}), GROK, None)
    path = tmp_path / "llmcore.yaml"
    path.write_text(textwrap.dedent("""\
        model_list:
          - model_name: unpriced
            litellm_params: {model: openai/unpriced-1, api_base: "http://127.0.0.1:9/v1", api_key: os.environ/K}
        """), encoding="utf-8")
    with pytest.raises(ConfigError, match="no input and output prices known for unpriced-1"):
        subject_for(load_config(path, {"K": "unit-key-0123456789"}), "unpriced", None)


def test_the_narrowed_config_drops_fallbacks_and_adds_the_missing_model(tmp_path: Path) -> None:
    path = tmp_path / "llmcore.yaml"
    path.write_text(textwrap.dedent("""\
        model_list:
          - model_name: grok-code-fast-1
            litellm_params: {model: openai/grok-code-fast-1, api_key: os.environ/GROK_API_KEY}
          - model_name: backup
            litellm_params: {model: openai/grok-4.3, api_key: os.environ/GROK_API_KEY}
        litellm_settings: {fallbacks: [{grok-code-fast-1: [backup]}]}
        """), encoding="utf-8")
    config = load_config(path, {"GROK_API_KEY": "xai-unit-" + "k" * 20})
    assert config.routing.fallbacks
    subject = subject_for(config, GROK, None)
    assert dict(subject.config.routing.fallbacks) == {}
    assert [s.alias for s in subject.config.specs] == [GROK, MISSING_ALIAS]
    assert subject.config.specs[1].upstream_model == "llmcore-certify-no-such-model"


BAD_KEY = UpstreamAuthError("xAI refused the credentials", status_code=400, provider="xai", model="x",
                            upstream_text='{"error":"Incorrect API key provided: xa***zz."}')


@pytest.mark.parametrize(("missing", "expected"), [
    ([BAD_KEY], "the upstream refused the key (UpstreamAuthError (HTTP 400)), so whether an unknown model"),
    ([QuotaExceededError("no credits", status_code=429, provider="xai")],
     "the account has no credits left (QuotaExceededError (HTTP 429))"),
    ([InvalidRequestError("bad", status_code=400, provider="xai", upstream_text='{"error":"max_tokens too big"}')],
     "refused with InvalidRequestError (HTTP 400), which does not say the model does not exist (upstream said: "
     '{"error":"max_tokens too big"})'),
])
def test_only_an_answer_that_says_no_such_model_passes_check_6(missing: list[Any], expected: str) -> None:
    status, reason = verdicts(run(passing_script(), missing=missing))["error_path"]
    assert status == "failed" and (reason or "").startswith(expected), reason


def test_a_400_that_says_the_model_does_not_exist_passes_check_6() -> None:
    said = InvalidRequestError("rejected", status_code=400, provider="openai",
                               upstream_text='{"error":{"message":"The model `x` does not exist"}}')
    check = run(passing_script(), missing=[said]).checks_by_id()["error_path"]
    assert check.status == "passed" and check.verdict.evidence["status_code"] == 400


def test_a_bug_on_the_error_path_is_not_a_clean_classified_error() -> None:
    from llmcore.domain.errors import InternalError

    bug = InternalError("the answer could not be converted", model=MISSING_ALIAS)
    status, reason = verdicts(run(passing_script(), missing=[bug]))["error_path"]
    assert status == "failed" and (reason or "").startswith("not an upstream error: InternalError")
