"""The contract every completion adapter must pass, run through the public Core API.

Subclass :class:`CompletionContract` and provide a ``harness`` fixture (see
``llmcore.testing.harnesses``) to run it on your own adapter::

    class TestMyAdapter(CompletionContract):
        @pytest.fixture
        def harness(self):
            yield from make_harness("grok")

Each test states one behaviour a caller relies on; none depends on the exact
text an upstream answers. A harness that lacks a capability a test checks
(``reasoning``, ``xai_param_rules``) declares it in its ``lacks`` mapping with
the reason; the test then skips that check (or skips, when nothing else is left)
and says why.

The Messages tests run the proxy's Anthropic Messages translation (request in,
message and event sequence out) over the adapter, without HTTP: what an
adapter returns must render as an Anthropic answer too. The Responses tests
do the same with the OpenAI Responses translation (``POST /v1/responses``).
"""
from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from llmcore.domain import errors
from llmcore.entrypoints.anthropic_request import MessagesBody, parse_messages_body
from llmcore.entrypoints.anthropic_stream import MessageEvents
from llmcore.entrypoints.anthropic_wire import message
from llmcore.entrypoints.responses_request import ResponsesBody, parse_responses_body
from llmcore.entrypoints.responses_stream import ResponseEvents
from llmcore.entrypoints.responses_wire import response as response_object
from llmcore.domain.chat import ChatResponse, StreamChunk
from llmcore.domain.stream_session import AsyncStreamSession
from llmcore.testing.fake_xai import Fault
from llmcore.testing.harnesses import GROK, PARTNER, Harness, lacks

HI = [{"role": "user", "content": "Say hi in Portuguese"}]
REJECTED_BY_XAI: dict[str, Any] = {
    "presence_penalty": 0, "frequency_penalty": 0.1, "stop": ["x"], "reasoning_effort": "low",
}

ERROR_CLASSES = [
    (Fault.credits_exhausted(), errors.QuotaExceededError, 1),
    (Fault.bad_key(), errors.UpstreamAuthError, 1),
    (Fault.forbidden(), errors.UpstreamAuthError, 1),
    (Fault.bad_request("Invalid request"), errors.InvalidRequestError, 1),
    (Fault.server_error(), errors.UpstreamUnavailableError, 3),
    (Fault.bad_gateway_html(), errors.UpstreamUnavailableError, 3),
    (Fault.unavailable(), errors.UpstreamUnavailableError, 3),
    (Fault.drop_connection(), errors.UpstreamUnavailableError, 3),
    (Fault.gateway_timeout(), errors.UpstreamTimeoutError, 3),
]


def messages_body(stream: bool = False) -> MessagesBody:
    return parse_messages_body(json.dumps({
        "model": GROK, "max_tokens": 256, "system": [{"type": "text", "text": "Be brief."}], "stream": stream,
        "messages": [{"role": "user", "content": [{"type": "text", "text": HI[0]["content"]}]}],
    }).encode())


def responses_body(stream: bool = False) -> ResponsesBody:
    return parse_responses_body(json.dumps({
        "model": GROK, "instructions": "Be brief.", "stream": stream, "store": False,
        "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": HI[0]["content"]}]}],
    }).encode())


STREAM_ENDINGS = [
    (Fault.cut_mid_stream(after_events=3), "connection_lost"),
    (Fault.eof_without_finish(after_events=3), "no_finish_reason"),
    (Fault.zero_events(), "no_events"),
]


class CompletionContract:
    """Behaviour every adapter shows through the Core, sync and async."""

    # --- completions ----------------------------------------------------------------------

    def test_complete_returns_content_reasoning_and_normalised_usage(self, harness: Harness) -> None:
        response = harness.core().complete(GROK, HI)
        assert response.content
        assert response.finish_reason == "stop"
        usage = response.usage
        assert usage.prompt_tokens > 0 and usage.completion_tokens > 0
        if not lacks(harness, "reasoning"):
            assert response.reasoning_content
            assert usage.reasoning_tokens > 0
        assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens + usage.reasoning_tokens
        assert usage.cost_usd is not None and usage.cost_usd > 0

    def test_params_the_model_rejects_never_reach_the_upstream(self, harness: Harness) -> None:
        if reason := lacks(harness, "xai_param_rules"):
            pytest.skip(reason)
        response = harness.core().complete(GROK, HI, temperature=0.2, **REJECTED_BY_XAI)
        (sent,) = harness.sent(GROK)
        assert not sent.param_keys & set(REJECTED_BY_XAI)
        assert "temperature" in sent.param_keys
        assert {a.param for a in response.adjustments} == set(REJECTED_BY_XAI)
        assert len(harness.telemetry.named("param_adjusted")) == len(REJECTED_BY_XAI)

    @pytest.mark.parametrize(("fault", "error_class", "attempts"), ERROR_CLASSES,
                             ids=[f.kind for f, _, _ in ERROR_CLASSES])
    def test_each_upstream_failure_becomes_its_error_class(
        self, harness: Harness, fault: Fault, error_class: type, attempts: int
    ) -> None:
        harness.script(*[fault] * attempts)
        with pytest.raises(error_class) as info:
            harness.core().complete(GROK, HI)
        assert len(harness.sent(GROK)) == attempts
        assert harness.keys[GROK] not in str(info.value) + repr(info.value)

    def test_rate_limit_with_retry_after_is_retried_once_after_that_wait(self, harness: Harness) -> None:
        harness.script(Fault.rate_limit(retry_after=1), Fault.ok())
        assert harness.core().complete(GROK, HI).content
        assert len(harness.sent(GROK)) == 2
        assert harness.waits.seconds == [1.0]
        assert len(harness.telemetry.named("retrying")) == 1

    def test_async_complete_behaves_like_sync(self, harness: Harness) -> None:
        core = harness.core()
        sync = core.complete(GROK, HI, stop=["x"])
        harness.script(Fault.rate_limit(retry_after=2), Fault.ok())
        async_ = harness.run(lambda: core.acomplete(GROK, HI, stop=["x"]))
        assert (async_.content, async_.reasoning_content, async_.usage, async_.adjustments) == (
            sync.content, sync.reasoning_content, sync.usage, sync.adjustments)
        assert harness.waits.seconds == [2.0]

    # --- streams --------------------------------------------------------------------------

    def test_stream_yields_content_and_reasoning_apart_and_collects_usage(self, harness: Harness) -> None:
        with harness.core().stream(GROK, HI) as session:
            chunks = list(session)
        assert session.complete and session.finish_reason == "stop"
        assert session.text == "".join(c.content or "" for c in chunks) != ""
        usage = session.usage
        assert usage is not None and usage.prompt_tokens > 0 and usage.completion_tokens > 0
        if not lacks(harness, "reasoning"):
            assert session.reasoning_text == "".join(c.reasoning_content or "" for c in chunks) != ""
            assert usage.reasoning_tokens > 0
        assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens + usage.reasoning_tokens
        # LiteLLM drops xAI's cost_in_usd_ticks on streams, so the cost comes from the prices (Decision 11);
        # an adapter that reads the wire itself (native) keeps the upstream's exact cost and says so.
        assert usage.cost_source == getattr(harness, "stream_cost_source", "prices")

    def test_stream_skips_empty_deltas(self, harness: Harness) -> None:
        harness.script(Fault.empty_deltas(count=10))
        with harness.core().stream(GROK, HI) as session:
            chunks = list(session)
        assert session.complete
        assert all(not c.is_empty for c in chunks)

    @pytest.mark.parametrize(("fault", "reason"), STREAM_ENDINGS, ids=[r for _, r in STREAM_ENDINGS])
    def test_a_stream_that_ends_early_ends_cleanly_and_says_why(
        self, harness: Harness, fault: Fault, reason: str
    ) -> None:
        harness.script(fault)
        with harness.core().stream(GROK, HI) as session:
            list(session)
        assert not session.complete
        assert session.incomplete_reason == reason
        assert session.warnings
        assert [e.details["reason"] for e in harness.telemetry.named("stream_incomplete")] == [reason]

    def test_async_stream_ends_the_same_way(self, harness: Harness) -> None:
        harness.script(Fault.cut_mid_stream(after_events=3))

        async def run() -> tuple[list[StreamChunk], AsyncStreamSession]:
            async with harness.core().astream(GROK, HI) as session:
                return [c async for c in session], session
        chunks, session = harness.run(run)
        assert not session.complete and session.incomplete_reason == "connection_lost"

    def test_errors_before_the_first_chunk_are_retried(self, harness: Harness) -> None:
        harness.script(Fault.unavailable(), Fault.ok())
        with harness.core().stream(GROK, HI) as session:
            list(session)
        assert session.complete
        assert len(harness.sent(GROK)) == 2

    def test_leaving_a_stream_early_closes_the_upstream(self, harness: Harness) -> None:
        harness.script(Fault.slow_chunks(delay=0.05))
        with harness.core().stream(GROK, HI) as session:
            for _ in session:
                break
        assert harness.upstream_closed()

    # --- the Anthropic Messages path (POST /v1/messages) -----------------------------------

    def test_a_messages_request_is_answered_in_anthropics_shape(self, harness: Harness) -> None:
        body = messages_body()
        response = harness.core().complete(body.model, body.messages, **body.params)
        document = message(response, GROK, "req-1")
        kinds = [block["type"] for block in document["content"]]
        assert "text" in kinds and document["stop_reason"] == "end_turn"
        if not lacks(harness, "reasoning"):
            assert kinds[0] == "thinking"
        usage = document["usage"]
        assert usage["input_tokens"] + usage["cache_read_input_tokens"] == response.usage.prompt_tokens
        assert usage["output_tokens"] == response.usage.output_tokens > 0

    def test_a_messages_stream_renders_anthropics_event_sequence(self, harness: Harness) -> None:
        body = messages_body(stream=True)
        events = MessageEvents(GROK, "msg_1")
        with harness.core().stream(body.model, body.messages, **body.params) as session:
            raw = events.start() + b"".join(events.feed(chunk) for chunk in session)
        raw += events.finish(session.usage, session.finish_reason)
        lines = raw.decode().splitlines()
        names = [line[len("event: "):] for line in lines if line.startswith("event: ")]
        assert names[:2] == ["message_start", "ping"] and names[-2:] == ["message_delta", "message_stop"]
        deltas = [json.loads(line[len("data: "):])["delta"] for line in lines if '"content_block_delta"' in line]
        assert "".join(d.get("text", "") for d in deltas) == session.text != ""
        if not lacks(harness, "reasoning"):
            assert "".join(d.get("thinking", "") for d in deltas) == session.reasoning_text != ""

    # --- the OpenAI Responses path (POST /v1/responses) -------------------------------------

    def test_a_responses_request_is_answered_as_a_response_object(self, harness: Harness) -> None:
        body = responses_body()
        answer = harness.core().complete(body.model, body.messages, **body.params)
        document = response_object(answer, GROK, "req-1", body.echo, body.namespaces)
        kinds = [item["type"] for item in document["output"]]
        assert kinds[-1] == "message" and document["output"][-1]["content"][0]["text"] == answer.content != ""
        assert document["status"] == "completed" and document["object"] == "response"
        if not lacks(harness, "reasoning"):
            assert kinds[0] == "reasoning"
        usage = document["usage"]
        assert (usage["input_tokens"], usage["output_tokens"]) == (answer.usage.prompt_tokens,
                                                                   answer.usage.output_tokens)

    def test_a_responses_stream_renders_the_responses_event_sequence(self, harness: Harness) -> None:
        body = responses_body(stream=True)
        events = ResponseEvents(GROK, "resp_1", body.echo, body.namespaces, 0)
        with harness.core().stream(body.model, body.messages, **body.params) as session:
            raw = events.start() + b"".join(events.feed(chunk) for chunk in session)
        raw += events.finish(session.usage, session.finish_reason)
        documents = [json.loads(line[len("data: "):]) for line in raw.decode().splitlines()
                     if line.startswith("data: ")]
        names = [d["type"] for d in documents]
        assert names[:2] == ["response.created", "response.in_progress"] and names[-1] == "response.completed"
        assert [d["sequence_number"] for d in documents] == list(range(len(documents)))
        deltas = {name: "".join(d["delta"] for d in documents if d["type"] == name)
                  for name in ("response.output_text.delta", "response.reasoning_text.delta")}
        assert deltas["response.output_text.delta"] == session.text != ""
        if not lacks(harness, "reasoning"):
            assert deltas["response.reasoning_text.delta"] == session.reasoning_text != ""

    # --- isolation ------------------------------------------------------------------------

    def test_concurrent_requests_across_two_models_each_carry_their_own_key(self, harness: Harness) -> None:
        core = harness.core()

        async def run() -> list[ChatResponse]:
            calls = [core.acomplete(GROK if i % 2 else PARTNER, HI, request_id=str(i)) for i in range(100)]
            return await asyncio.gather(*calls)
        results = harness.run(run)
        assert [r.request_id for r in results] == [str(i) for i in range(100)]  # gather keeps the order
        for model in (GROK, PARTNER):
            sent = harness.sent(model)
            assert len(sent) == 50
            assert {s.key_tail for s in sent} == {harness.keys[model][-4:]}
