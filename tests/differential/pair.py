"""Two Cores over one fake xAI server, identical but for the adapter: LiteLLM and native (Decision 18).

``Pair.run(case)`` scripts the server, runs the case through one Core, and records everything a
caller or an operator can observe: the answer (ChatResponse, or the StreamChunks and the session's
end state), the error (class, status, retry-after, stream reason, upstream text), the telemetry
events, the waits between retries and the request bodies the upstream received. Then the same for
the other Core. The tests compare the two records, after ``known_differences.reconcile``.
"""
from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
from attrs import define, field, frozen

import llmcore
from llmcore.adapters.recording_telemetry import RecordingTelemetry
from llmcore.domain.core import Core
from llmcore.domain.errors import UpstreamError
from llmcore.testing.fake_xai import FakeXAIServer, Fault

GROK = "grok-code-fast-1"
GENERIC = "gpt-x"
IMPATIENT = "grok-impatient"
ADAPTERS = ("litellm", "native")
MODES = ("complete", "acomplete", "stream", "astream")
REQUEST_ID = "req-differential-1"
STREAM_STATE = ("text", "reasoning_text", "finish_reason", "usage", "complete", "incomplete_reason", "warnings",
                "tool_calls", "refusal", "logprobs", "choices", "model", "system_fingerprint", "service_tier",
                "adjustments")


@frozen
class Case:
    """One input: the faults scripted upstream (one per attempt), the alias, the messages and params."""

    name: str
    faults: tuple[Fault, ...]
    alias: str = GROK
    messages: tuple[Mapping[str, Any], ...] = ({"role": "user", "content": "Say hi in Portuguese"},)
    params: Mapping[str, Any] = field(factory=dict)


@define
class Record:
    """What one adapter did with one case in one mode."""

    adapter: str
    answer: Any = None
    chunks: list[Any] = field(factory=list)
    state: dict[str, Any] = field(factory=dict)
    error: tuple[Any, ...] | None = None
    events: list[tuple[Any, ...]] = field(factory=list)
    waits: list[float] = field(factory=list)
    sent: list[dict[str, Any]] = field(factory=list)


def _entry(alias: str, key_env: str, base_url: str, timeout: float, info: str) -> str:
    # Backoff 0 makes the waits between retries exact (no jitter), so they can be compared.
    return (f"  - model_name: {alias}\n"
            f"    litellm_params: {{model: openai/{alias}, api_key: os.environ/{key_env}, api_base: '{base_url}',"
            f" timeout: {timeout}, max_retries: 1}}\n"
            f"    model_info: {{retry: {{backoff_base: 0, backoff_max: 0, retry_after_max: 30}}{info}}}\n")


def _config(base_url: str, adapter: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=f"llmcore-differential-{adapter}-")) / "llmcore.yaml"
    path.write_text(
        f"general_settings:\n  llmcore_adapter: {adapter}\nmodel_list:\n"
        + _entry(GROK, "GROK_API_KEY", base_url, 5, "")
        + _entry(IMPATIENT, "GROK_API_KEY", base_url, 0.3, ", provider: xai")
        + _entry(GENERIC, "GENERIC_KEY", base_url, 5, ", provider: openai_compatible, input_cost_per_token: 0.000001,"
                 " output_cost_per_token: 0.000002"),
        encoding="utf-8")
    return path


class Pair:
    """The fake server and one Core per adapter; ``run`` drives a case through one of them."""

    def __init__(self) -> None:
        import secrets

        self.server = FakeXAIServer().start()
        self.env = {"GROK_API_KEY": "xai-differential-" + secrets.token_hex(10),
                    "GENERIC_KEY": "sk-differential-" + secrets.token_hex(10)}
        self.telemetry = {a: RecordingTelemetry() for a in ADAPTERS}
        self.waits: dict[str, list[float]] = {a: [] for a in ADAPTERS}
        self.cores: dict[str, Core] = {}
        for adapter in ADAPTERS:
            waits = self.waits[adapter]

            async def async_sleep(seconds: float, waits: list[float] = waits) -> None:
                waits.append(seconds)

            self.cores[adapter] = llmcore.load(
                _config(self.server.base_url, adapter), env=self.env, telemetry=self.telemetry[adapter],
                sleep=waits.append, async_sleep=async_sleep)

    def close(self) -> None:
        for core in self.cores.values():
            core.close()
        self.server.stop()

    def run(self, case: Case, mode: str, adapter: str) -> Record:
        self.server.clear()
        self.telemetry[adapter].events.clear()
        self.waits[adapter].clear()
        if case.faults:
            self.server.script(*case.faults)
        record = Record(adapter)
        core = self.cores[adapter]
        try:
            if mode == "complete":
                record.answer = core.complete(case.alias, case.messages, request_id=REQUEST_ID, **case.params)
            elif mode == "stream":
                with core.stream(case.alias, case.messages, request_id=REQUEST_ID, **case.params) as session:
                    record.chunks = list(session)
                record.state = {name: getattr(session, name) for name in STREAM_STATE}
            else:
                asyncio.run(self._arun(core, case, mode, record))
        except UpstreamError as error:
            record.error = error_signature(error)
        record.events = [event_signature(e.name, e.model, e.details) for e in self.telemetry[adapter].events]
        record.waits = list(self.waits[adapter])
        record.sent = [dict(r.body) for r in self.server.requests]
        return record

    @staticmethod
    async def _arun(core: Core, case: Case, mode: str, record: Record) -> None:
        async with core:  # each adapter's per-loop clients close before this loop ends
            if mode == "acomplete":
                record.answer = await core.acomplete(case.alias, case.messages, request_id=REQUEST_ID, **case.params)
                return
            async with core.astream(case.alias, case.messages, request_id=REQUEST_ID, **case.params) as session:
                record.chunks = [chunk async for chunk in session]
            record.state = {name: getattr(session, name) for name in STREAM_STATE}


def error_signature(error: BaseException) -> tuple[Any, ...]:
    """What a caller can tell an error by: its class, status, retry-after, stream reason and upstream text."""
    return (type(error).__name__, getattr(error, "status_code", None), getattr(error, "retry_after", None),
            getattr(error, "reason", None), getattr(error, "upstream_text", None))


def event_signature(name: str, model: str, details: Mapping[str, Any]) -> tuple[Any, ...]:
    """A telemetry event without what differs by nature (durations); errors by their signature."""
    kept: dict[str, Any] = {}
    for key, value in sorted(details.items()):
        if key == "seconds":
            continue
        kept[key] = error_signature(value) if isinstance(value, BaseException) else value
    return (name, model, tuple(kept.items()))


def pair_fixture() -> Iterator[Pair]:
    pair = Pair()
    try:
        yield pair
    finally:
        pair.close()


def evolve_usage(record: Record, **changes: Any) -> None:
    """Apply ``changes`` to the usage in ``record`` (answer, stream state, request_finished events)."""
    if record.answer is not None:
        record.answer = attrs.evolve(record.answer, usage=attrs.evolve(record.answer.usage, **changes))
    if record.state.get("usage") is not None:
        record.state["usage"] = attrs.evolve(record.state["usage"], **changes)
    events = []
    for name, model, details in record.events:
        fields = dict(details)
        if fields.get("usage") is not None:
            fields["usage"] = attrs.evolve(fields["usage"], **changes)
        events.append((name, model, tuple(fields.items())))
    record.events = events
