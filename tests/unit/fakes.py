"""Builders for unit tests: a Core over the scripted fake, with recording telemetry and recorded waits."""
from __future__ import annotations

from attrs import define, field

import llmcore
from llmcore.adapters.recording_telemetry import RecordingTelemetry
from llmcore.adapters.scripted_completion import ScriptedCompletion


@define
class Waits:
    """An injected sleep that records the waits instead of sleeping."""

    seconds: list[float] = field(factory=list)

    def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.seconds.append(seconds)


@define
class Harness:
    core: llmcore.Core
    scripted: ScriptedCompletion
    telemetry: RecordingTelemetry
    waits: Waits


def scripted_core(env: dict[str, str] | None = None, path=None, script=()) -> Harness:
    scripted = ScriptedCompletion(script)
    telemetry = RecordingTelemetry()
    waits = Waits()
    core = llmcore.load(
        path, env=env if env is not None else {"GROK_API_KEY": "xai-unit-" + "k" * 20},
        completion=scripted, telemetry=telemetry, sleep=waits, async_sleep=waits.async_sleep,
    )
    return Harness(core, scripted, telemetry, waits)
