"""Adapter harnesses for the contract suite: each builds a Core over one adapter and scripts its upstream.

The contract speaks one fault vocabulary, the fake xAI server's ``Fault``; the
scripted harness translates each fault into what a correct adapter would
raise or yield, and the Grok harness sends it to a real fake server over HTTP.
A new adapter is admitted by writing a harness and passing the suite.
"""
from __future__ import annotations

import tempfile
import textwrap
import asyncio
from collections.abc import Awaitable, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol, TypeVar

from attrs import define, field, frozen

from llmcore.adapters.litellm_completion import LiteLLMCompletion
from llmcore.adapters.recording_telemetry import RecordingTelemetry
from llmcore.adapters.scripted_completion import ScriptedCompletion, StreamThenFail, default_chunks
from llmcore.domain.chat import ChatRequest, StreamChunk
from llmcore.domain.core import Core
from llmcore.domain.errors import (
    InvalidRequestError,
    QuotaExceededError,
    RateLimitError,
    StreamIncompleteError,
    UpstreamAuthError,
    UpstreamError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from llmcore.testing.fake_xai import FakeXAIServer, Fault

T = TypeVar("T")
GROK = "grok-code-fast-1"
PARTNER = "partner"


@frozen
class SentRequest:
    """What reached the upstream for one request, as far as the contract cares."""

    model: str
    param_keys: frozenset[str]
    key_tail: str | None


@define
class Waits:
    """An injected sleep that records the waits instead of sleeping."""

    seconds: list[float] = field(factory=list)

    def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.seconds.append(seconds)


class Harness(Protocol):
    """What the contract suite needs from an adapter under test."""

    name: str
    keys: dict[str, str]
    waits: Waits
    telemetry: RecordingTelemetry

    def core(self) -> Core: ...

    def script(self, *faults: Fault, model: str = GROK) -> None: ...

    def sent(self, model: str | None = None) -> list[SentRequest]: ...

    def upstream_closed(self) -> bool: ...

    def run(self, coroutine: Callable[[], Awaitable[T]]) -> T:
        """Run an async test body in a fresh event loop, closing the adapter's clients before it ends."""
        ...

    def close(self) -> None: ...


def lacks(harness: Harness, capability: str) -> str | None:
    """Why ``harness`` declares it lacks ``capability`` (its ``lacks`` mapping), or None when it has it."""
    declared: Mapping[str, str] = getattr(harness, "lacks", {})
    return declared.get(capability)


def contract_keys() -> dict[str, str]:
    """Fresh canary keys for the two contract aliases."""
    import secrets

    return {GROK: "xai-contract-" + secrets.token_hex(10), PARTNER: "sk-contract-" + secrets.token_hex(10)}


class ScriptedHarness:
    """The in-memory fake: checks that ScriptedCompletion behaves like the real adapter."""

    name = "scripted"

    def __init__(self) -> None:
        self.keys = contract_keys()
        self.waits = Waits()
        self.telemetry = RecordingTelemetry()
        self.scripted = ScriptedCompletion()
        self._core: Core | None = None

    def core(self) -> Core:
        if self._core is None:
            import llmcore

            config = _config_file(grok_base="http://127.0.0.1:9/v1", partner_base="http://127.0.0.1:9/v1")
            self._core = llmcore.load(
                config, env=self._env(), completion=self.scripted, telemetry=self.telemetry,
                sleep=self.waits, async_sleep=self.waits.async_sleep,
            )
        return self._core

    def _env(self) -> dict[str, str]:
        return {"GROK_API_KEY": self.keys[GROK], "PARTNER_KEY": self.keys[PARTNER]}

    def script(self, *faults: Fault, model: str = GROK) -> None:
        self.scripted.enqueue(*(scripted_item(f) for f in faults), model=model)

    def sent(self, model: str | None = None) -> list[SentRequest]:
        return [_sent_from(r) for r in self.scripted.requests if model is None or r.spec.alias == model]

    def upstream_closed(self) -> bool:
        return self.scripted.closed_streams > 0

    def run(self, coroutine: Callable[[], Awaitable[T]]) -> T:
        async def main() -> T:
            return await coroutine()
        return asyncio.run(main())

    def close(self) -> None:
        pass


def _sent_from(request: ChatRequest) -> SentRequest:
    key = request.spec.api_key.reveal() if request.spec.api_key else None
    return SentRequest(model=request.spec.alias, param_keys=frozenset(request.params),
                       key_tail=key[-4:] if key else None)


def scripted_item(fault: Fault) -> Any:
    """What a correct adapter raises or yields for ``fault``."""
    kind = fault.kind
    simple: dict[str, Callable[[], UpstreamError]] = {
        "credits_exhausted": lambda: QuotaExceededError("credits exhausted", status_code=429),
        "bad_key": lambda: UpstreamAuthError("incorrect API key", status_code=400),
        "forbidden": lambda: UpstreamAuthError("forbidden", status_code=403),
        "bad_request": lambda: InvalidRequestError("bad request", status_code=400),
        "server_error": lambda: UpstreamUnavailableError("server error", status_code=500),
        "bad_gateway_html": lambda: UpstreamUnavailableError("bad gateway", status_code=502),
        "unavailable": lambda: UpstreamUnavailableError("unavailable", status_code=503),
        "drop_connection": lambda: UpstreamUnavailableError("connection dropped"),
        "gateway_timeout": lambda: UpstreamTimeoutError("gateway timeout", status_code=504),
    }
    if kind in simple:
        return simple[kind]()
    if kind == "rate_limit":
        retry_after = fault.param("retry_after")
        return RateLimitError("rate limited", retry_after=float(retry_after) if retry_after is not None else None,
                              status_code=429)
    chunks = _default_stream()
    if kind == "cut_mid_stream":
        return StreamThenFail(chunks[:fault.param("after_events", 3)],
                              StreamIncompleteError("cut", reason="connection_lost"))
    if kind == "eof_without_finish":
        return tuple(c for c in chunks[:fault.param("after_events", 3)] if c.finish_reason is None)
    if kind == "zero_events":
        return ()
    if kind == "empty_deltas":
        return tuple(x for c in chunks for x in (c, StreamChunk()))
    return None  # ok, slow and slow_chunks: the default answer


def _default_stream() -> tuple[StreamChunk, ...]:
    from llmcore.domain.chat import Message
    from llmcore.domain.model_spec import ModelSpec

    request = ChatRequest(spec=ModelSpec(alias=GROK, upstream_model=GROK),
                          messages=(Message(role="user", content="x"),))
    return default_chunks(request)


class GrokHarness:
    """The Grok adapter: real LiteLLM, real HTTP to two fake xAI servers on 127.0.0.1."""

    name = "grok"

    def __init__(self) -> None:
        self.keys = contract_keys()
        self.waits = Waits()
        self.telemetry = RecordingTelemetry()
        self.servers = {GROK: FakeXAIServer().start(), PARTNER: FakeXAIServer().start()}
        self.completion = LiteLLMCompletion()
        self._core: Core | None = None

    def core(self) -> Core:
        if self._core is None:
            import llmcore

            config = _config_file(grok_base=self.servers[GROK].base_url, partner_base=self.servers[PARTNER].base_url)
            self._core = llmcore.load(
                config, env={"GROK_API_KEY": self.keys[GROK], "PARTNER_KEY": self.keys[PARTNER]},
                completion=self.completion, telemetry=self.telemetry, sleep=self.waits,
                async_sleep=self.waits.async_sleep,
            )
        return self._core

    def script(self, *faults: Fault, model: str = GROK) -> None:
        self.servers[model].script(*faults)

    def run(self, coroutine: Callable[[], Awaitable[T]]) -> T:
        # LiteLLM pools async HTTP clients per event loop, process-wide; they must close in that loop.
        async def main() -> T:
            async with self.core():
                return await coroutine()
        return asyncio.run(main())

    def sent(self, model: str | None = None) -> list[SentRequest]:
        aliases = [model] if model else list(self.servers)
        return [
            SentRequest(model=alias, param_keys=frozenset(r.body_keys), key_tail=r.key_tail)
            for alias in aliases for r in self.servers[alias].requests
        ]

    def upstream_closed(self) -> bool:
        return self.servers[GROK].wait_for_disconnect(timeout=3.0)

    def close(self) -> None:
        for server in self.servers.values():
            server.stop()


class NativeHarness(GrokHarness):
    """The native OpenAI-compatible adapter (Decision 18), chosen the way an operator chooses it: the config
    file says ``general_settings.llmcore_adapter: native``, and the Core is built with its default adapters.
    Plain HTTP to the same two fake xAI servers."""

    name = "native"
    # xAI's usage chunk carries cost_in_usd_ticks; this adapter keeps it (LiteLLM's stream loses it).
    stream_cost_source = "upstream"

    def core(self) -> Core:
        if self._core is None:
            import llmcore

            config = _config_file(grok_base=self.servers[GROK].base_url, partner_base=self.servers[PARTNER].base_url,
                                  adapter="native")
            self._core = llmcore.load(
                config, env={"GROK_API_KEY": self.keys[GROK], "PARTNER_KEY": self.keys[PARTNER]},
                telemetry=self.telemetry, sleep=self.waits, async_sleep=self.waits.async_sleep,
            )
        return self._core

    def close(self) -> None:
        if self._core is not None:
            self._core.close()  # the sync pool is this Core's own (LiteLLM's is process-wide)
        super().close()


def _config_file(*, grok_base: str, partner_base: str, adapter: str | None = None) -> Path:
    directory = Path(tempfile.mkdtemp(prefix="llmcore-contract-"))
    path = directory / "llmcore.yaml"
    general = f"general_settings:\n  llmcore_adapter: {adapter}\n" if adapter else ""
    path.write_text(general + textwrap.dedent(f"""
        model_list:
          - model_name: {GROK}
            litellm_params:
              model: openai/{GROK}
              api_key: os.environ/GROK_API_KEY
              api_base: {grok_base}
              timeout: 5
          - model_name: {PARTNER}
            litellm_params:
              model: openai/partner-coder
              api_base: {partner_base}
              timeout: 5
            model_info:
              api_key_env: PARTNER_KEY
              input_cost_per_token: 0.000001
              output_cost_per_token: 0.000002
    """), encoding="utf-8")
    return path


def _anthropic_harness() -> Harness:
    from llmcore.testing.harness_anthropic import AnthropicHarness  # imports this module: loaded on use

    return AnthropicHarness()


HARNESSES: dict[str, Callable[[], Harness]] = {
    "scripted": ScriptedHarness, "grok": GrokHarness, "anthropic": _anthropic_harness, "native": NativeHarness,
}


def make_harness(name: str) -> Iterator[Harness]:
    """A pytest fixture body: ``yield from make_harness(request.param)``."""
    harness = HARNESSES[name]()
    try:
        yield harness
    finally:
        harness.close()
