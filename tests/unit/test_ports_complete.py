"""Each adapter satisfies the port it claims, member by member (mypy --strict in CI checks the wiring statically;
this checks what a host sees at run time, including the adapters the wiring never names)."""
from __future__ import annotations

import inspect
from typing import Any, Protocol

import pytest

from llmcore.adapters.env_file_secrets import EnvFileSecretSource
from llmcore.adapters.loguru_telemetry import LoguruTelemetry
from llmcore.adapters.otel_completion import OtelTracedCompletion
from llmcore.adapters.otel_telemetry import OtelTelemetry
from llmcore.adapters.prometheus_telemetry import PrometheusTelemetry
from llmcore.adapters.recording_telemetry import FanoutTelemetry, NullTelemetry, RecordingTelemetry
from llmcore.adapters.retrying_completion import RetryingCompletion
from llmcore.adapters.scripted_completion import ScriptedCompletion
from llmcore.bootstrap import build
from llmcore.ports import DuplexCompletionPort, PooledResources, SecretSource, Telemetry

from tests.unit.config_helpers import write_config


def protocol_members(protocol: type) -> list[str]:
    """The methods a protocol declares, its parent protocols' included."""
    ports = [cls for cls in protocol.__mro__ if getattr(cls, "_is_protocol", False) and cls is not Protocol]
    return sorted({name for cls in ports for name, value in vars(cls).items()
                   if callable(value) and not name.startswith("_")})


def accepts_anything(signature: inspect.Signature) -> bool:
    kinds = {p.kind for p in signature.parameters.values()}
    return inspect.Parameter.VAR_POSITIONAL in kinds and inspect.Parameter.VAR_KEYWORD in kinds


def assert_implements(adapter: object, protocol: type) -> None:
    for name in protocol_members(protocol):
        method = getattr(adapter, name, None)
        assert callable(method), f"{type(adapter).__name__} lacks {protocol.__name__}.{name}"
        wanted = inspect.signature(getattr(protocol, name))
        got = inspect.signature(method)
        if accepts_anything(got):
            continue
        wanted_params = [(p.name, p.kind) for p in wanted.parameters.values() if p.name != "self"]
        assert [(p.name, p.kind) for p in got.parameters.values()] == wanted_params, (
            f"{type(adapter).__name__}.{name}{got} differs from {protocol.__name__}.{name}{wanted}")


TELEMETRY_ADAPTERS = {
    "loguru": LoguruTelemetry,
    "prometheus": PrometheusTelemetry,
    "recording": RecordingTelemetry,
    "null": NullTelemetry,
    "otel": OtelTelemetry,
    "fanout": lambda: FanoutTelemetry(LoguruTelemetry(), PrometheusTelemetry(), RecordingTelemetry()),
}


def test_the_telemetry_port_holds_every_event_the_core_reports() -> None:
    assert protocol_members(Telemetry) == [
        "config_warning", "content_exchanged", "deployment_cooled_down", "fallback_used", "model_mismatch",
        "param_adjusted", "request_finished", "retrying", "stream_incomplete", "upstream_failed",
    ]


@pytest.mark.parametrize("make", TELEMETRY_ADAPTERS.values(), ids=TELEMETRY_ADAPTERS.keys())
def test_each_telemetry_adapter_implements_every_member_of_the_port(make: Any) -> None:
    assert_implements(make(), Telemetry)


def test_a_config_warning_reaches_the_telemetry_the_core_was_built_with(tmp_path: Any) -> None:
    recording = RecordingTelemetry()
    path = write_config(tmp_path, """
        model_list:
          - model_name: grok-code-fast-1
            litellm_params: {model: openai/grok-code-fast-1, api_key: k, rpm: 10}
    """)
    build(path, {}, telemetry=FanoutTelemetry(recording, NullTelemetry()), completion=ScriptedCompletion())
    assert [w for w in recording.config_warnings if "holds a literal key" in w]


def test_the_completion_adapters_are_both_ports_and_litellm_releases_its_clients() -> None:
    from llmcore.adapters.litellm_completion import LiteLLMCompletion

    scripted = ScriptedCompletion()
    for adapter in (scripted, RetryingCompletion(scripted, NullTelemetry()), LiteLLMCompletion(),
                    OtelTracedCompletion(scripted)):
        assert isinstance(adapter, DuplexCompletionPort)
        assert_implements(adapter, DuplexCompletionPort)
    assert isinstance(LiteLLMCompletion(), PooledResources)
    assert_implements(LiteLLMCompletion(), PooledResources)
    assert not isinstance(scripted, PooledResources)


def test_the_env_and_file_source_is_the_secret_source_port() -> None:
    source: SecretSource = EnvFileSecretSource({"K": "v"})
    assert_implements(source, SecretSource)
    overlaid = source.with_defaults({"K": "default", "D": "d"})
    assert_implements(overlaid, SecretSource)
    values = [overlaid.env(name).value for name in ("K", "D")]
    assert [value.reveal() if value is not None else None for value in values] == ["v", "d"]
