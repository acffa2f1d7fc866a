"""What ``llmcore config check`` prints: every deployment with its route, provider, credentials, the
source of every default, and why it cannot serve when it cannot; then routing and warnings.

Keys appear only as their mask (``str(Secret)``); a credential param is shown as its mask and
where it came from (``entry (os.environ/AWS_SECRET_ACCESS_KEY)``).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from attrs import frozen

from llmcore.adapters.yaml_config import CATALOG_SOURCE, LoadedConfig
from llmcore.domain.model_spec import ModelSpec
from llmcore.domain.redaction import display_url, redact
from llmcore.domain.registry import ModelStatus, unavailable_reason
from llmcore.entrypoints.cli_render import masked, prices_document, prices_text, status_text

# Sources shown for each model, in this order, when the loader recorded them.
SOURCE_KEYS = ("profile", "defaults", "prices", "mode", "drop_params", "max_retries", "timeout")


def deployment_status(spec: ModelSpec, environment: str | None) -> ModelStatus:
    """One entry's status, judged like the registry judges a model (credentials, environment, unservable)."""
    reason = unavailable_reason(spec, environment)
    return ModelStatus(
        alias=spec.alias, upstream=spec.upstream_model, provider=spec.provider, available=reason is None,
        reason=reason, capabilities=spec.capabilities, lifecycle=spec.lifecycle,
        lifecycle_warning=spec.lifecycle.warning(), sources=spec.sources,
    )


@frozen(kw_only=True)
class ConfigReport:
    """What ``config check`` says about a config that loaded; ``statuses`` align with ``config.specs``."""

    config: LoadedConfig
    statuses: Sequence[ModelStatus]
    environment: str | None

    @property
    def source(self) -> str:
        if self.config.source == CATALOG_SOURCE:
            return f"{CATALOG_SOURCE} (no --config, LLMCORE_CONFIG or ./llmcore.yaml)"
        return self.config.source

    def _repeated(self) -> set[str]:
        aliases = [spec.alias for spec in self.config.specs]
        return {a for a in aliases if aliases.count(a) > 1}

    def text(self) -> str:
        config = self.config
        lines = [
            f"config: {self.source}",
            f"environment: {self.environment or 'not set (LLMCORE_ENV); every model is enabled'}",
        ]
        if config.master_key_problem:
            lines.append(f"master key: unusable: {config.master_key_problem}")
        elif config.master_key is not None:
            lines.append(f"master key: {config.master_key}")
        repeated = self._repeated()
        lines.append(f"models: {len(config.specs)}")
        for spec, status in zip(config.specs, self.statuses):
            lines += self._model_lines(spec, status, spec.alias in repeated)
        lines += self._routing_lines()
        lines += [f"warning: {w}" for w in config.warnings]
        # Keys are shown as masks already; this also masks a key pasted where a name belongs (model_name: sk-...).
        return redact("\n".join(lines), config.secrets())

    @staticmethod
    def _model_lines(spec: ModelSpec, status: ModelStatus, repeated: bool) -> list[str]:
        creds = spec.credentials
        deployment = f" [deployment {spec.deployment.id}]" if repeated else ""
        lines = [
            f"  {spec.alias} ({spec.upstream_model}){deployment}: {status_text(status.available, status.reason)}",
            f"    provider  {spec.provider}  (LiteLLM model {spec.litellm_model})",
            f"    adapter   {spec.adapter}  (from {spec.sources.get('adapter', 'default')})",
            f"    api key   {masked(creds.api_key)}  (from {creds.api_key_source})",
            f"    base URL  {display_url(creds.base_url) or 'none'}  (from {creds.base_url_source})",
        ]
        lines += [f"    {name}  {secret}  (from {spec.sources.get(name, 'entry')})"
                  for name, secret in spec.secret_params.items()]
        lines += [f"    {name}  {value}" for name, value in spec.provider_params.items()]
        lines.append(f"    prices    {prices_text(spec.prices)}")
        sources = spec.sources
        lines += [f"    {key} from {sources[key]}" for key in SOURCE_KEYS if key in sources]
        return lines

    def _routing_lines(self) -> list[str]:
        routing = self.config.routing
        lines = []
        for kind in ("fallbacks", "context_window_fallbacks", "content_policy_fallbacks"):
            for alias, targets in getattr(routing, kind).items():
                lines.append(f"{kind}: {alias} -> {', '.join(targets)}")
        return lines

    def document(self, ok: bool) -> dict[str, Any]:
        document: dict[str, Any] = _redacted(self._document(ok), self.config)
        return document

    def _document(self, ok: bool) -> dict[str, Any]:
        config = self.config
        routing = config.routing
        return {
            "ok": ok,
            "source": self.source,
            "environment": self.environment,
            "models": [self._model(spec, status) for spec, status in zip(config.specs, self.statuses)],
            "master_key": None if config.master_key is None else str(config.master_key),
            "master_key_problem": config.master_key_problem,
            "routing": {
                "fallbacks": {k: list(v) for k, v in routing.fallbacks.items()},
                "context_window_fallbacks": {k: list(v) for k, v in routing.context_window_fallbacks.items()},
                "content_policy_fallbacks": {k: list(v) for k, v in routing.content_policy_fallbacks.items()},
                "allowed_fails": routing.allowed_fails,
                "cooldown_time": routing.cooldown_time,
                "routing_strategy": routing.routing_strategy,
            },
            "warnings": list(config.warnings),
        }

    @staticmethod
    def _model(spec: ModelSpec, status: ModelStatus) -> dict[str, Any]:
        creds = spec.credentials
        deployment = spec.deployment
        return {
            "alias": spec.alias,
            "upstream": spec.upstream_model,
            "provider": spec.provider,
            "litellm_model": spec.litellm_model,
            "adapter": spec.adapter,
            "available": status.available,
            "reason": status.reason,
            "api_key": None if creds.api_key is None else str(creds.api_key),
            "api_key_source": creds.api_key_source,
            "base_url": display_url(creds.base_url),
            "base_url_source": creds.base_url_source,
            "secret_params": {name: str(secret) for name, secret in spec.secret_params.items()},
            "provider_params": dict(spec.provider_params),
            "deployment": {"id": deployment.id, "weight": deployment.weight, "rpm": deployment.rpm,
                           "tpm": deployment.tpm, "order": deployment.order},
            "prices_per_million_tokens": prices_document(spec.prices),
            "sources": dict(spec.sources),
        }


def _redacted(value: Any, config: LoadedConfig) -> Any:
    if isinstance(value, str):
        return redact(value, config.secrets())
    if isinstance(value, dict):
        return {key: _redacted(item, config) for key, item in value.items()}
    if isinstance(value, list):
        return [_redacted(item, config) for item in value]
    return value
