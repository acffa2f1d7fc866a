"""The one composition root: settings -> adapters -> services -> Core.

Only this module and entrypoints/ choose concrete adapters. Tests pass
overrides (``completion=``, ``telemetry=``, ``sleep=``) instead of patching.
"""
from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attrs import frozen

from llmcore.adapters.env_file_secrets import EnvFileSecretSource
from llmcore.adapters.otel_completion import OtelTracedCompletion
from llmcore.adapters.retrying_completion import RetryingCompletion
from llmcore.adapters.yaml_config import LoadedConfig, load_catalog, load_file
from llmcore.domain.chat_completion import ChatCompletion
from llmcore.domain.core import Core, CoreSettings
from llmcore.domain.param_policy import ParamPolicy
from llmcore.domain.registry import ModelRegistry
from llmcore.domain.router import Router, routing_warnings
from llmcore.ports.completion import DuplexCompletionPort
from llmcore.ports.resources import PooledResources
from llmcore.ports.secret_source import SecretSource
from llmcore.ports.telemetry import Telemetry

if TYPE_CHECKING:  # imported where they are built: loguru and prometheus_client load only when used
    from llmcore.adapters.loguru_telemetry import LoguruTelemetry
    from llmcore.adapters.prometheus_telemetry import PrometheusTelemetry

DEFAULT_CONFIG_NAME = "llmcore.yaml"


def discover_config(path: str | os.PathLike[str] | None, env: Mapping[str, str]) -> Path | None:
    """path argument > $LLMCORE_CONFIG > ./llmcore.yaml > None (the built-in catalog)."""
    if path is not None:
        return Path(path)
    from_env = env.get("LLMCORE_CONFIG")
    if from_env:
        return Path(from_env)
    local = Path.cwd() / DEFAULT_CONFIG_NAME
    return local if local.is_file() else None


def load_config(path: str | os.PathLike[str] | None, env: Mapping[str, str]) -> LoadedConfig:
    """Read the config (or the catalog) without building any adapter; raises ConfigError."""
    secrets: SecretSource = EnvFileSecretSource(env)
    found = discover_config(path, env)
    return load_file(found, secrets) if found is not None else load_catalog(secrets)


@frozen(kw_only=True)
class Runtime:
    """A Core with the telemetry adapters an application (CLI, proxy) reads from: metrics, log secrets."""

    core: Core
    metrics: PrometheusTelemetry
    logs: LoguruTelemetry
    completion: DuplexCompletionPort | None = None

    def warm_up(self) -> None:
        """Load the completion adapter's heavy parts (LiteLLM, ~3 s) now, before traffic arrives."""
        warm_up = getattr(self.completion, "warm_up", None)
        if warm_up is not None:
            warm_up()

    def close(self) -> None:
        """Close the Core's sync pooled HTTP clients (the CLI, after its one request)."""
        self.core.close()

    async def aclose(self) -> None:
        """Close the Core's pooled HTTP clients while the event loop that used them still runs."""
        await self.core.aclose()


def build_runtime(
    path: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Runtime:
    """Like build(), with Loguru and Prometheus telemetry the caller can reach (``/metrics``, smoke)."""
    from llmcore.adapters.loguru_telemetry import LoguruTelemetry
    from llmcore.adapters.otel_telemetry import OtelTelemetry
    from llmcore.adapters.prometheus_telemetry import PrometheusTelemetry
    from llmcore.adapters.recording_telemetry import FanoutTelemetry

    env = dict(os.environ if env is None else env)
    config = overrides.pop("config", None) or load_config(path, env)
    logs = LoguruTelemetry(secrets=config.secrets())
    metrics = PrometheusTelemetry()
    completion = overrides.pop("completion", None) or default_completion(config)
    telemetry = FanoutTelemetry(logs, metrics, OtelTelemetry(secrets=config.secrets()))
    core = build(path, env, telemetry=telemetry, config=config, completion=completion, **overrides)
    for status in core.models():
        metrics.model_available(status.alias, status.available)
        if not status.available:
            logs.model_unavailable(status.alias, status.reason or "")
    return Runtime(core=core, metrics=metrics, logs=logs, completion=completion)


def build(
    path: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    *,
    completion: DuplexCompletionPort | None = None,
    telemetry: Telemetry | None = None,
    sleep: Callable[[float], None] | None = None,
    async_sleep: Callable[[float], Awaitable[None]] | None = None,
    retry: bool = True,
    config: LoadedConfig | None = None,
    rng: random.Random | None = None,
) -> Core:
    """A Core from the config at ``path`` (see discover_config) and ``env`` (default: os.environ).

    ``completion`` replaces the LiteLLM adapter (e.g. with ScriptedCompletion);
    it is still wrapped in the retry policy unless ``retry`` is False. ``rng``
    seeds the deployment shuffle (tests); ``config`` replaces reading one.
    """
    env = dict(os.environ if env is None else env)
    config = config or load_config(path, env)
    registry = registry_for(config, env)
    if telemetry is None:
        telemetry = default_telemetry(config)
    for warning in (*config.warnings, *routing_warnings(config.routing, registry)):
        telemetry_warn(telemetry, warning)
    router = Router(registry, config.routing, telemetry, rng=rng)
    if completion is None:
        completion = default_completion(config)
    # Inside the retry policy: one span per attempt, when a tracer provider is configured (otel_completion).
    traced = OtelTracedCompletion(completion)
    port: DuplexCompletionPort = RetryingCompletion(
        traced, telemetry, sleep=sleep or time.sleep, async_sleep=async_sleep or asyncio.sleep,
    ) if retry else traced
    log_content = env.get("LLMCORE_LOG_CONTENT", "").strip().lower() in ("1", "true", "yes", "on")
    service = ChatCompletion(
        registry, telemetry, port=port, async_port=port, policy=ParamPolicy(), log_content=log_content,
        router=router,
    )
    settings = CoreSettings(
        source=config.source, master_key=config.master_key, master_key_problem=config.master_key_problem,
        environment=registry.environment, health_checks=config.health_checks,
        health_check_interval=config.health_check_interval, max_request_size_mb=config.max_request_size_mb,
        log_content=log_content,
    )
    # Only an adapter that pools clients has anything to release (the scripted fake has not).
    resources = completion if isinstance(completion, PooledResources) else None
    return Core(registry, service, settings, resources)


def default_completion(config: LoadedConfig | None = None) -> DuplexCompletionPort:
    """Each model's own adapter (``model_info.adapter``: LiteLLM by default, or native; Decision 18).

    Neither is imported here: LiteLLM loads on the first request for a LiteLLM model, or at the
    proxy's warm-up when ``config`` has one.
    """
    from llmcore.adapters.native_selection import PerModelCompletion

    return PerModelCompletion.for_specs(config.specs) if config is not None else PerModelCompletion()


def registry_for(config: LoadedConfig, env: Mapping[str, str]) -> ModelRegistry:
    """The configured aliases and each of their deployments judged for this environment, without building
    any adapter (fast CLI commands)."""
    return ModelRegistry(config.specs, environment=env.get("LLMCORE_ENV") or None)


def default_telemetry(config: LoadedConfig) -> Telemetry:
    """Loguru logs (masked; the ``llmcore`` logger stays disabled until an application enables it),
    Prometheus metrics in a registry of this Core's own, and span events on the host's current
    OpenTelemetry span (none without a configured tracer provider)."""
    from llmcore.adapters.loguru_telemetry import LoguruTelemetry
    from llmcore.adapters.otel_telemetry import OtelTelemetry
    from llmcore.adapters.prometheus_telemetry import PrometheusTelemetry
    from llmcore.adapters.recording_telemetry import FanoutTelemetry

    secrets = config.secrets()
    return FanoutTelemetry(LoguruTelemetry(secrets=secrets), PrometheusTelemetry(), OtelTelemetry(secrets=secrets))


def telemetry_warn(telemetry: Telemetry, message: str) -> None:
    """Report a config warning; a host's telemetry written before ``config_warning`` joined the port still
    builds (its warnings are dropped, as they were then)."""
    warn = getattr(telemetry, "config_warning", None)
    if warn is not None:
        warn(message)
