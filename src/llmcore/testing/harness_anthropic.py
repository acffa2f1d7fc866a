"""The contract harness for the Anthropic route: real LiteLLM, real HTTP to two fake Anthropic servers.

Both contract aliases are ``anthropic/`` models (``model_info.provider: anthropic``), each at
its own fake with its own key, read the way an operator's file would read them. The fakes answer
the contract's ``Fault`` vocabulary in Anthropic's own wire format (``fake_anthropic_faults``).
Capabilities the suite checks that do not apply are declared in ``lacks`` with the reason.
"""
from __future__ import annotations

import asyncio
import tempfile
import textwrap
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TypeVar

from llmcore.adapters.litellm_completion import LiteLLMCompletion
from llmcore.adapters.recording_telemetry import RecordingTelemetry
from llmcore.domain.core import Core
from llmcore.testing.fake_anthropic import FakeAnthropicServer
from llmcore.testing.fake_xai_faults import Fault
from llmcore.testing.harnesses import GROK, PARTNER, SentRequest, Waits, contract_keys

T = TypeVar("T")


class AnthropicHarness:
    """The LiteLLM adapter on the ``anthropic/`` route."""

    name = "anthropic"
    lacks: Mapping[str, str] = {
        "reasoning": "the fake answers without thinking blocks; Anthropic counts thinking inside output_tokens, "
                     "so the xAI-convention reasoning checks do not apply",
        "xai_param_rules": "Anthropic accepts stop (as stop_sequences); the xAI drop rules are not its rules",
    }

    def __init__(self) -> None:
        self.keys = contract_keys()
        self.waits = Waits()
        self.telemetry = RecordingTelemetry()
        self.servers = {alias: FakeAnthropicServer(api_key=self.keys[alias]).start() for alias in (GROK, PARTNER)}
        self.completion = LiteLLMCompletion()
        self._core: Core | None = None

    def core(self) -> Core:
        if self._core is None:
            import llmcore

            self._core = llmcore.load(
                self._config(), env={"CONTRACT_KEY": self.keys[GROK], "PARTNER_KEY": self.keys[PARTNER]},
                completion=self.completion, telemetry=self.telemetry, sleep=self.waits,
                async_sleep=self.waits.async_sleep,
            )
        return self._core

    def _config(self) -> Path:
        path = Path(tempfile.mkdtemp(prefix="llmcore-contract-anthropic-")) / "llmcore.yaml"
        entries = "".join(f"""
              - model_name: {alias}
                litellm_params:
                  model: anthropic/claude-sonnet-4-5
                  api_key: os.environ/{env}
                  api_base: {self.servers[alias].url}
                  timeout: 5
                  input_cost_per_token: 0.000003
                  output_cost_per_token: 0.000015
                model_info:
                  provider: anthropic
        """ for alias, env in ((GROK, "CONTRACT_KEY"), (PARTNER, "PARTNER_KEY")))
        path.write_text(textwrap.dedent("model_list:" + textwrap.dedent(entries)), encoding="utf-8")
        return path

    def script(self, *faults: Fault, model: str = GROK) -> None:
        self.servers[model].script(*faults)

    def run(self, coroutine: Callable[[], Awaitable[T]]) -> T:
        async def main() -> T:
            try:
                return await coroutine()
            finally:
                await self.completion.aclose()
        return asyncio.run(main())

    def sent(self, model: str | None = None) -> list[SentRequest]:
        aliases = [model] if model else list(self.servers)
        return [
            SentRequest(model=alias, param_keys=frozenset(r.body), key_tail=r.credential_tails.get("x-api-key"))
            for alias in aliases for r in self.servers[alias].requests
        ]

    def upstream_closed(self) -> bool:
        return self.servers[GROK].wait_for_disconnect(timeout=3.0)

    def close(self) -> None:
        for server in self.servers.values():
            server.stop()
