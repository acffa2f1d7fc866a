"""``llmcore certify --upstream fake``: the shipped fake xAI server, started in-process, standing in for xAI.

The alias's deployments are pointed at it with a key made up for the run (it
names itself a fake, and is masked like any key). The fake knows only the
alias's upstream model, so check 6's unknown model id gets xAI's 404, and it
answers as the model the catalog's lifecycle says serves the alias
(grok-code-fast-1 is served by grok-4.3), as xAI does today.

``FAULTS`` makes the fake fail one check the way a real upstream can, so a
test (``--fake-fault CHECK``, hidden) proves that certify exits 1 and names
that check and why.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from attrs import define, evolve, frozen

from llmcore.domain.model_spec import ModelSpec
from llmcore.domain.secret import Secret
from llmcore.testing.fake_xai import FakeXAIServer, Fault

SOURCE = "llmcore certify --upstream fake"
FAKE_ROUTES = frozenset({"openai", "xai"})  # LiteLLM routes that speak the OpenAI wire the fake serves
LOOPBACK_HOSTS = "127.0.0.1,localhost"
NO_PROXY_VARS = ("NO_PROXY", "no_proxy")


@frozen(kw_only=True)
class FakeFault:
    """Faults queued on the fake just before check ``before`` runs; ``serve_unknown`` serves every model id."""

    before: str
    faults: tuple[Fault, ...] = ()
    serve_unknown: bool = False


FAULTS: Mapping[str, FakeFault] = {
    "plain": FakeFault(before="plain", faults=(Fault.credits_exhausted(),)),
    "stream": FakeFault(before="stream", faults=(Fault.cut_mid_stream(after_events=3),)),
    "reasoning": FakeFault(before="reasoning", faults=(Fault.no_reasoning(),)),
    "dropped_params": FakeFault(before="dropped_params", faults=(
        Fault.bad_request("Model grok-code-fast-1 does not support parameter presencePenalty."),)),
    "tool_call": FakeFault(before="tool_call", faults=(
        Fault.bad_request("Invalid request: tool calling is not available for this model."),)),
    "error_path": FakeFault(before="error_path", serve_unknown=True),
    "served_model": FakeFault(before="stream", faults=(Fault.served_as("grok-4.3-eu"),)),
}


@define
class FakeUpstream:
    """The running fake and the key made up for it; ``point`` aims a deployment at it."""

    server: FakeXAIServer
    key: Secret
    fault: FakeFault | None
    upstream_model: str

    def point(self, spec: ModelSpec) -> ModelSpec:
        """``spec`` with the fake's base URL and the made-up key (the caller checked its route: FAKE_ROUTES)."""
        credentials = evolve(spec.credentials, api_key=self.key, api_key_source=SOURCE, api_key_problem=None,
                             base_url=self.server.base_url, base_url_source=SOURCE, base_url_problem=None)
        return evolve(spec, credentials=credentials)

    def before_check(self, check_id: str) -> None:
        if self.fault is not None and self.fault.before == check_id and self.fault.faults:
            self.server.script(*self.fault.faults, model=self.upstream_model)


@contextmanager
def fake_upstream(spec: ModelSpec, fault: str | None = None) -> Iterator[FakeUpstream]:
    """Start the fake for ``spec``'s upstream model (and stop it); ``fault`` names the check to make fail."""
    chosen = FAULTS[fault] if fault is not None else None
    key = Secret("xai-certify-fake-" + secrets.token_hex(12))
    known = None if chosen is not None and chosen.serve_unknown else [spec.upstream_model]
    served = spec.lifecycle.served_by or None
    with _loopback_without_proxy(), FakeXAIServer(api_key=key.reveal(), served_model=served,
                                                  known_models=known) as server:
        yield FakeUpstream(server=server, key=key, fault=chosen, upstream_model=spec.upstream_model)


@contextmanager
def _loopback_without_proxy() -> Iterator[None]:
    """An HTTP(S)_PROXY in the environment must not carry the run's loopback traffic (LiteLLM honours it)."""
    saved = {name: os.environ.get(name) for name in NO_PROXY_VARS}
    for name in NO_PROXY_VARS:
        os.environ[name] = ",".join(filter(None, [saved[name], LOOPBACK_HOSTS]))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
