"""Every configured model with its availability.

A model whose key or base URL is missing or malformed, or that is not enabled
in the current environment, is *unavailable with a reason*; the others keep
serving. Nothing here raises for one bad model until that model is asked for.
"""
from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from attrs import field, frozen

from llmcore.domain.errors import ConfigError, ModelUnavailableError, UnknownModelError
from llmcore.domain.frozen_mapping import frozen_mapping
from llmcore.domain.model_spec import Capabilities, Lifecycle, ModelSpec


@frozen(kw_only=True)
class ModelStatus:
    """What ``core.models()`` reports for one model."""

    alias: str
    upstream: str
    provider: str
    available: bool
    reason: str | None
    capabilities: Capabilities
    lifecycle: Lifecycle
    lifecycle_warning: str | None = None
    sources: Mapping[str, str] = field(factory=dict, converter=frozen_mapping)


def key_problem(spec: ModelSpec) -> str | None:
    """Why the model's API key cannot be used, or None when it can.

    A provider LiteLLM authenticates without a key (``Credentials.key_required`` False: the AWS
    chain, Google ADC, an Azure AD token, a local server) needs none; a key it is given is judged.
    """
    creds = spec.credentials
    if creds.api_key_problem:
        return f"{creds.api_key_problem}; {creds.key_hint}"
    if creds.api_key is None:
        return f"no API key: {creds.key_hint}" if creds.key_required else None
    where = creds.api_key_source
    raw = creds.api_key.reveal()
    if raw == "":
        return f"the API key from {where} is empty; {creds.key_hint}"
    if raw.strip() == "":
        return f"the API key from {where} is only whitespace; {creds.key_hint}"
    if any(ch.isspace() for ch in raw):
        return f"the API key from {where} contains whitespace (a stray newline or space?); {creds.key_hint}"
    if any(unicodedata.category(ch).startswith("C") for ch in raw):
        return f"the API key from {where} contains control characters; {creds.key_hint}"
    return None


def base_url_problem(spec: ModelSpec) -> str | None:
    """Why the base URL cannot be used, or None when it can.

    Without one, a provider whose endpoint LiteLLM knows (``Credentials.base_url_required``
    False: Anthropic, OpenAI, Bedrock...) is fine; xAI has its profile default, and a generic
    OpenAI-compatible endpoint or Azure OpenAI cannot do without.
    """
    creds = spec.credentials
    if creds.base_url_problem:
        return f"{creds.base_url_problem}; {creds.base_url_hint}"
    url = creds.base_url
    if url is None:
        return f"no base URL: {creds.base_url_hint}" if creds.base_url_required else None
    where = creds.base_url_source
    if url.strip() != url or any(unicodedata.category(ch).startswith("C") or ch.isspace() for ch in url):
        return f"the base URL from {where} contains whitespace or control characters; {creds.base_url_hint}"
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return f"the base URL from {where} is not an http(s) URL with a host; {creds.base_url_hint}"
    return None


def environment_problem(spec: ModelSpec, environment: str | None) -> str | None:
    if not spec.environments or environment is None or environment in spec.environments:
        return None
    enabled = ", ".join(spec.environments)
    return (
        f"not enabled in environment {environment!r} (LLMCORE_ENV); it is enabled in {enabled}: "
        "add the environment to model_info.environments to serve it here"
    )


def unavailable_reason(spec: ModelSpec, environment: str | None) -> str | None:
    """The first reason the model cannot serve, or None when it can."""
    if spec.unservable:
        return spec.unservable
    return environment_problem(spec, environment) or key_problem(spec) or base_url_problem(spec)


class ModelRegistry:
    """The configured models by alias, each judged once at construction. Immutable afterwards."""

    def __init__(
        self, specs: Iterable[ModelSpec], environment: str | None = None, today: dt.date | None = None
    ) -> None:
        self._specs: dict[str, ModelSpec] = {}
        duplicates = []
        for spec in specs:
            if spec.alias in self._specs:
                duplicates.append(spec.alias)
            self._specs[spec.alias] = spec
        if duplicates:
            raise ConfigError([f"model_name {a!r} is configured more than once" for a in duplicates])
        self._environment = environment
        self._reasons = {alias: unavailable_reason(spec, environment) for alias, spec in self._specs.items()}
        self._today = today

    @property
    def environment(self) -> str | None:
        return self._environment

    def aliases(self) -> tuple[str, ...]:
        return tuple(self._specs)

    def spec(self, alias: str) -> ModelSpec:
        """The spec for ``alias`` whether or not it is available; UnknownModelError if not configured."""
        try:
            return self._specs[alias]
        except KeyError:
            raise UnknownModelError(alias, tuple(self._specs)) from None

    def resolve(self, alias: str) -> ModelSpec:
        """The spec for a model that can serve; raises UnknownModelError or ModelUnavailableError."""
        spec = self.spec(alias)
        reason = self._reasons[alias]
        if reason is not None:
            raise ModelUnavailableError(alias, reason)
        return spec

    def statuses(self) -> list[ModelStatus]:
        return [self.status(alias) for alias in self._specs]

    def status(self, alias: str) -> ModelStatus:
        spec = self.spec(alias)
        reason = self._reasons[alias]
        return ModelStatus(
            alias=alias,
            upstream=spec.upstream_model,
            provider=spec.provider,
            available=reason is None,
            reason=reason,
            capabilities=spec.capabilities,
            lifecycle=spec.lifecycle,
            lifecycle_warning=spec.lifecycle.warning(self._today),
            sources=spec.sources,
        )
