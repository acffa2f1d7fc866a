"""Every configured model with its availability, deployment by deployment.

A model whose key or base URL is missing or malformed, or that is not enabled
in the current environment, is *unavailable with a reason*; the others keep
serving. Nothing here raises for one bad model until that model is asked for.

Several specs with one alias are that alias's deployments (LiteLLM's repeated
``model_name``); each is judged on its own, and the alias is available while
one of them is. An alias holding ``*`` (``anthropic/*``) is a wildcard: a
requested name that matches no exact alias but the pattern is served by that
entry, the part the ``*`` matched put in place of the ``*`` of its upstream
model (LiteLLM's pattern routing); exact aliases always win.
"""
from __future__ import annotations

import datetime as dt
import fnmatch
import re
import unicodedata
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from attrs import evolve, field, frozen

from llmcore.domain.errors import ModelUnavailableError, UnknownModelError
from llmcore.domain.frozen_mapping import frozen_mapping
from llmcore.domain.model_spec import Capabilities, Lifecycle, ModelSpec


@frozen(kw_only=True)
class DeploymentStatus:
    """One deployment of an alias as ``models show`` and ``/health/readiness`` report it.

    ``key`` is the masked key (``Secret``'s mask) or None; ``base_url_host`` the host only.
    """

    id: str
    upstream: str
    provider: str
    base_url_host: str | None
    key: str | None
    available: bool
    reason: str | None
    weight: float | None = None
    rpm: int | None = None
    tpm: int | None = None
    order: int | None = None


@frozen(kw_only=True)
class ModelStatus:
    """What ``core.models()`` reports for one alias; ``deployments`` has one entry per deployment."""

    alias: str
    upstream: str
    provider: str
    available: bool
    reason: str | None
    capabilities: Capabilities
    lifecycle: Lifecycle
    lifecycle_warning: str | None = None
    sources: Mapping[str, str] = field(factory=dict, converter=frozen_mapping)
    deployments: tuple[DeploymentStatus, ...] = field(default=(), converter=tuple[DeploymentStatus, ...])


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


def deployment_ids(specs: Iterable[ModelSpec]) -> list[ModelSpec]:
    """The specs with every deployment id filled: ``model_info.id`` when set, else ``<alias>#<n>`` (n from 1)."""
    counts: dict[str, int] = {}
    out = []
    for spec in specs:
        counts[spec.alias] = counts.get(spec.alias, 0) + 1
        if not spec.deployment.id:
            spec = evolve(spec, deployment=evolve(spec.deployment, id=f"{spec.alias}#{counts[spec.alias]}"))
        out.append(spec)
    return out


def _host(url: str | None) -> str | None:
    try:
        return urlsplit(url).hostname if url else None
    except ValueError:
        return None


class ModelRegistry:
    """The configured aliases and their deployments, each judged once at construction. Immutable afterwards."""

    def __init__(
        self, specs: Iterable[ModelSpec], environment: str | None = None, today: dt.date | None = None
    ) -> None:
        self._deployments: dict[str, tuple[ModelSpec, ...]] = {}
        for spec in deployment_ids(specs):
            self._deployments[spec.alias] = (*self._deployments.get(spec.alias, ()), spec)
        self._environment = environment
        self._reasons = {
            spec.deployment.id: unavailable_reason(spec, environment)
            for group in self._deployments.values() for spec in group
        }
        self._available = {
            alias: tuple(s for s in group if self._reasons[s.deployment.id] is None)
            for alias, group in self._deployments.items()
        }
        # Wildcard aliases, most specific (longest pattern) first, as LiteLLM orders its pattern routes.
        self._patterns = sorted(
            ((alias, re.compile(fnmatch.translate(alias))) for alias in self._deployments if "*" in alias),
            key=lambda item: -len(item[0]),
        )
        self._today = today

    @property
    def environment(self) -> str | None:
        return self._environment

    def aliases(self) -> tuple[str, ...]:
        return tuple(self._deployments)

    def _group(self, alias: str) -> tuple[str, tuple[ModelSpec, ...]]:
        """(configured alias, its deployments) for ``alias``, exact aliases first, then wildcard patterns."""
        group = self._deployments.get(alias)
        if group is not None:
            return alias, group
        for pattern, compiled in self._patterns:
            if compiled.fullmatch(alias):
                return pattern, self._deployments[pattern]
        raise UnknownModelError(alias, tuple(self._deployments))

    def deployments(self, alias: str) -> tuple[ModelSpec, ...]:
        """Every deployment of ``alias`` (a wildcard match filled in), available or not; UnknownModelError."""
        pattern, group = self._group(alias)
        return tuple(_filled(s, pattern, alias) for s in group) if pattern != alias else group

    def available_deployments(self, alias: str) -> tuple[ModelSpec, ...]:
        """The deployments of ``alias`` that can serve; UnknownModelError, or ModelUnavailableError (with
        every deployment's reason) when none can."""
        pattern, group = self._group(alias)
        available = self._available[pattern]
        if not available:
            # Every deployment is unavailable here, so each has a reason; the fallback text only satisfies the type.
            raise ModelUnavailableError(alias, self._reason_of(pattern) or "no deployment can serve")
        return tuple(_filled(s, pattern, alias) for s in available) if pattern != alias else available

    def spec(self, alias: str) -> ModelSpec:
        """The first deployment of ``alias`` whether or not it is available; UnknownModelError if not configured."""
        return self.deployments(alias)[0]

    def resolve(self, alias: str) -> ModelSpec:
        """The first deployment that can serve; raises UnknownModelError or ModelUnavailableError.

        Picking among several deployments is the router's job (``domain.router``).
        """
        return self.available_deployments(alias)[0]

    def reason(self, spec: ModelSpec) -> str | None:
        """Why this deployment cannot serve, or None."""
        return self._reasons.get(spec.deployment.id)

    def _reason_of(self, alias: str) -> str | None:
        group = self._deployments[alias]
        reasons = [self._reasons[s.deployment.id] for s in group]
        if any(r is None for r in reasons):
            return None
        if len(group) == 1:
            return reasons[0]
        return "no deployment can serve: " + "; ".join(
            f"{s.deployment.id}: {r}" for s, r in zip(group, reasons))

    def statuses(self) -> list[ModelStatus]:
        return [self.status(alias) for alias in self._deployments]

    def status(self, alias: str) -> ModelStatus:
        spec = self.spec(alias)
        pattern, group = self._group(alias)
        reason = self._reason_of(pattern)
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
            deployments=tuple(self._deployment_status(_filled(s, pattern, alias)) for s in group),
        )

    def _deployment_status(self, spec: ModelSpec) -> DeploymentStatus:
        reason = self._reasons[spec.deployment.id]
        d = spec.deployment
        return DeploymentStatus(
            id=d.id, upstream=spec.upstream_model, provider=spec.provider, base_url_host=_host(spec.base_url),
            key=str(spec.api_key) if spec.api_key is not None else None, available=reason is None, reason=reason,
            weight=d.weight, rpm=d.rpm, tpm=d.tpm, order=d.order,
        )


def _filled(spec: ModelSpec, pattern: str, requested: str) -> ModelSpec:
    """A wildcard deployment serving ``requested``: what the pattern's ``*`` matched replaces the upstream's ``*``."""
    if pattern == requested:
        return spec
    prefix, _, suffix = pattern.partition("*")
    matched = requested[len(prefix):len(requested) - len(suffix) if suffix else None]
    upstream = spec.upstream_model.replace("*", matched, 1) if "*" in spec.upstream_model else spec.upstream_model
    return evolve(spec, alias=requested, upstream_model=upstream)
