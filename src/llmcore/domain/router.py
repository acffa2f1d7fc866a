"""Which deployment of an alias serves a request, and which deployments are cooling down (Decision 13).

LiteLLM's documented Router semantics, per process (nothing is shared between
processes or proxy workers; each keeps its own cooldowns):

- **simple-shuffle**: a request picks one available deployment at random,
  weighted by ``weight``; when no deployment sets one, by ``rpm``, then by
  ``tpm``; else uniformly (``litellm/router_strategy/simple_shuffle.py``: a
  deployment without the chosen figure weighs 0).
- **order**: when deployments set ``order``, only those with the lowest order
  are picked while any of them can serve; the others (no order counts as last)
  serve when those are cooling down or already failed this request.
- **retries on another deployment**: a failed attempt's deployment is left out
  of the next attempt's pick while another one remains.
- **cooldowns**: a deployment that fails more than ``allowed_fails`` times
  within a minute is left out for ``cooldown_time`` seconds. Failures that
  count are LiteLLM's (``router_utils/cooldown_handlers._is_cooldown_required``):
  429, 401, 404, 408, every 5xx, timeouts and broken connections; other 4xx do
  not. An alias with one deployment and no fallbacks is never cooled down
  (LiteLLM's safety net: there is nothing else to send to). When every
  deployment is cooling down, the one whose cooldown ends first is tried
  rather than refusing the request.
"""
from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Mapping, Sequence

from llmcore.domain.errors import UnknownModelError, UpstreamError
from llmcore.domain.model_spec import ModelSpec
from llmcore.domain.registry import ModelRegistry
from llmcore.domain.routing import RoutingSettings
from llmcore.ports.telemetry import Telemetry

# LiteLLM's allowed_fails is "failures allowed per minute".
FAIL_WINDOW_SECONDS = 60.0
# Statuses LiteLLM cools a deployment down for, besides every 5xx (and errors with no status at all).
COOLDOWN_4XX = frozenset({401, 404, 408, 429})


def counts_for_cooldown(error: UpstreamError) -> bool:
    """Whether ``error`` counts against its deployment's ``allowed_fails`` (LiteLLM's rule, see the module)."""
    status = error.status_code
    if status is None:
        return error.retryable
    return status >= 500 or status in COOLDOWN_4XX or error.retryable


class Cooldowns:
    """Failures per deployment in the last minute, and which deployments are cooling down until when.

    Thread-safe; ``clock`` is monotonic seconds (injected in tests).
    """

    def __init__(self, allowed_fails: int, cooldown_time: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._allowed_fails = allowed_fails
        self._cooldown_time = cooldown_time
        self._clock = clock
        self._lock = threading.Lock()
        self._fails: dict[str, deque[float]] = {}
        self._until: dict[str, float] = {}

    def failed(self, deployment_id: str) -> bool:
        """Count one failure; True when it put the deployment into cooldown."""
        now = self._clock()
        with self._lock:
            fails = self._fails.setdefault(deployment_id, deque())
            fails.append(now)
            while fails and fails[0] <= now - FAIL_WINDOW_SECONDS:
                fails.popleft()
            if len(fails) <= self._allowed_fails:
                return False
            fails.clear()
            self._until[deployment_id] = now + self._cooldown_time
            return True

    def remaining(self, deployment_id: str) -> float:
        """Seconds of cooldown left for the deployment (0 when it is not cooling down)."""
        until = self._until.get(deployment_id)
        if until is None:
            return 0.0
        left = until - self._clock()
        if left <= 0:
            with self._lock:
                self._until.pop(deployment_id, None)
            return 0.0
        return left


class Router:
    """Picks deployments by LiteLLM's simple-shuffle, tracks cooldowns, and names each alias's fallbacks."""

    def __init__(
        self,
        registry: ModelRegistry,
        settings: RoutingSettings | None = None,
        telemetry: Telemetry | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._registry = registry
        self._settings = settings or RoutingSettings()
        self._telemetry = telemetry
        self._rng = rng or random.Random()
        self._cooldowns = Cooldowns(self._settings.allowed_fails, self._settings.cooldown_time, clock)

    @property
    def registry(self) -> ModelRegistry:
        return self._registry

    @property
    def cooldowns(self) -> Cooldowns:
        return self._cooldowns

    def fallbacks(self, alias: str) -> tuple[str, ...]:
        """The aliases tried in order once ``alias`` has spent its retries (``RoutingSettings.fallbacks``)."""
        return self._settings.fallbacks.get(alias, ())

    def pick(self, alias: str, exclude: Collection[str] = ()) -> ModelSpec:
        """One deployment of ``alias`` for the next attempt, leaving out the ids in ``exclude`` while others
        remain. Raises UnknownModelError or ModelUnavailableError (no deployment can serve)."""
        candidates = self._registry.available_deployments(alias)
        if len(candidates) == 1:
            return candidates[0]
        fresh = [d for d in candidates if d.deployment.id not in exclude] or list(candidates)
        ready = [d for d in fresh if self._cooldowns.remaining(d.deployment.id) == 0.0]
        if not ready:
            return min(fresh, key=lambda d: self._cooldowns.remaining(d.deployment.id))
        return self._shuffle(_lowest_order(ready))

    def _shuffle(self, deployments: Sequence[ModelSpec]) -> ModelSpec:
        if len(deployments) == 1:
            return deployments[0]
        for metric in ("weight", "rpm", "tpm"):
            weights = [float(getattr(d.deployment, metric) or 0) for d in deployments]
            if max(weights) > 0:
                return self._rng.choices(deployments, weights=weights)[0]
        return self._rng.choice(deployments)

    def failed(self, spec: ModelSpec, error: UpstreamError, request_id: str | None = None) -> None:
        """Count a failed attempt against its deployment; report a cooldown when one starts."""
        if not counts_for_cooldown(error) or self._lone(spec.alias):
            return
        if self._cooldowns.failed(spec.deployment.id) and self._telemetry is not None:
            self._telemetry.deployment_cooled_down(spec, self._settings.cooldown_time, error, request_id)

    def _lone(self, alias: str) -> bool:
        try:
            many = len(self._registry.deployments(alias)) > 1
        except UnknownModelError:  # pragma: no cover - the alias was resolved before it failed
            many = False
        return not many and not self.fallbacks(alias)


def _lowest_order(deployments: Sequence[ModelSpec]) -> Sequence[ModelSpec]:
    orders = [d.deployment.order for d in deployments if d.deployment.order is not None]
    if not orders:
        return deployments
    lowest = min(orders)
    return [d for d in deployments if d.deployment.order == lowest]


def routing_warnings(settings: RoutingSettings, registry: ModelRegistry) -> list[str]:
    """What the config asks of routing that llmcore does not do, said at load (never a silent ignore)."""
    warnings = []
    if settings.routing_strategy not in ("simple-shuffle", ""):
        warnings.append(
            f"router_settings.routing_strategy {settings.routing_strategy!r} is not honoured: llmcore picks "
            "deployments by simple-shuffle (weight, else rpm, else tpm); remove it or set simple-shuffle")
    for name in ("context_window_fallbacks", "content_policy_fallbacks"):
        configured: Mapping[str, tuple[str, ...]] = getattr(settings, name)
        if configured:
            warnings.append(
                f"{name} is ignored by llmcore: a request that fails for its context window or content policy "
                "gets the upstream's 400; only 'fallbacks' (transient errors and rate limits) are honoured")
    for alias, targets in settings.fallbacks.items():
        for target in (alias, *targets):
            try:
                registry.deployments(target)
            except UnknownModelError:
                warnings.append(f"fallbacks: {target!r} is not a configured model_name; it is skipped")
    return warnings
