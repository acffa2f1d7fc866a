"""Builders for unit tests: a Core over the scripted fake, with recording telemetry and recorded waits."""
from __future__ import annotations

from attrs import define

import llmcore
from llmcore.adapters.recording_telemetry import RecordingTelemetry
from llmcore.adapters.scripted_completion import ScriptedCompletion
from llmcore.testing.harnesses import Waits


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
