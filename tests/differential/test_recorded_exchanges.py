"""Every recorded xAI exchange (tests/differential/wire, a copy of the shared wire/ recordings), replayed byte
for byte through both adapters, sync and async: the same ChatResponse, StreamChunks, end state and telemetry."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from attrs import frozen

from llmcore.testing.fake_xai import Fault
from tests.differential.known_differences import assert_same
from tests.differential.pair import GROK, Case, Pair

WIRE = Path(__file__).with_name("wire")
OWNED = {"model", "messages", "stream", "stream_options"}


@frozen
class Exchange:
    """One recorded request and the bytes xAI answered it with."""

    name: str
    request: dict[str, Any]
    status: int
    content_type: str
    body: str

    @property
    def stream(self) -> bool:
        return bool(self.request.get("stream"))

    def case(self) -> Case:
        params = {k: v for k, v in self.request.items() if k not in OWNED}
        fault = Fault.status(self.status, self.body, self.content_type)
        return Case(self.name, (fault,), alias=GROK, messages=tuple(self.request["messages"]), params=params)


def recorded_exchanges() -> list[Exchange]:
    found = []
    for path in sorted(WIRE.rglob("*.yaml")):
        recording = yaml.safe_load(path.read_text(encoding="utf-8"))
        for index, interaction in enumerate(recording["interactions"]):
            response = interaction["response"]
            found.append(Exchange(
                name=f"{path.parent.name}/{path.stem}[{index}]", request=json.loads(interaction["request"]["body"]),
                status=int(response["code"]), content_type=response["headers"]["Content-Type"][0],
                body=response["body"]))
    return found


EXCHANGES = recorded_exchanges()


def test_every_recording_is_here() -> None:
    # Ten files, fourteen exchanges (tool and multi_tool hold the call and the follow-up with its result).
    assert (len({e.name.split("[")[0] for e in EXCHANGES}), len(EXCHANGES)) == (10, 14)


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("exchange", EXCHANGES, ids=[e.name for e in EXCHANGES])
def test_each_recorded_exchange_reads_the_same_through_both_adapters(
    pair: Pair, exchange: Exchange, asynchronous: bool,
) -> None:
    mode = "stream" if exchange.stream else "complete"
    mode = f"a{mode}" if asynchronous else mode
    case = exchange.case()
    litellm, native = (pair.run(case, mode, adapter) for adapter in ("litellm", "native"))
    assert litellm.error is None and native.error is None
    usage = native.state["usage"] if exchange.stream else native.answer.usage
    recorded = _recorded_usage(exchange)
    # Both read xAI's own figures: the total is the upstream's (reasoning apart from completion).
    assert usage.total_tokens == recorded["total_tokens"]
    assert usage.reasoning_tokens == recorded.get("completion_tokens_details", {}).get("reasoning_tokens", 0)
    # The native adapter's cost is xAI's exact figure, streamed or not (1e10 ticks = 1 USD).
    assert usage.cost_source == "upstream" and usage.cost_usd == pytest.approx(recorded["cost_in_usd_ticks"] / 1e10)
    assert_same(litellm, native, case)
    assert native.sent and native.sent == litellm.sent


def _recorded_usage(exchange: Exchange) -> dict[str, Any]:
    if not exchange.stream:
        usage: dict[str, Any] = json.loads(exchange.body)["usage"]
        return usage
    for block in exchange.body.split("\n\n"):
        payload = block.strip().removeprefix("data: ")
        if payload.startswith("{") and json.loads(payload).get("usage"):
            usage = json.loads(payload)["usage"]
    return usage
