"""Readiness and the optional background health probe of the proxy.

Readiness reads the registry: a model is ready when it is configured and
available. It never calls a model. The probe, off by default
(``general_settings.background_health_checks``), sends one cheap request per
available model every ``health_check_interval`` seconds and folds the result
into readiness and the ``model_available`` gauge. The probe's request is one
reasoning models accept: ``max_tokens`` only, never ``stop`` or a penalty
(xAI answers 400 to those, FACTS.md section 1).
"""
from __future__ import annotations

import asyncio
import time
from typing import Any

from attrs import frozen
from loguru import logger

from llmcore.domain.core import Core
from llmcore.domain.errors import LLMCoreError
from llmcore.domain.registry import DeploymentStatus

PROBE_MESSAGES = ({"role": "user", "content": "Reply with OK."},)
PROBE_PARAMS = {"max_tokens": 1}
# A probe that takes longer than this counts as failed, whatever the model's own timeout.
PROBE_TIMEOUT_SECONDS = 30.0


@frozen(kw_only=True)
class ProbeResult:
    """The last probe of one model."""

    ok: bool
    checked_at: float
    seconds: float
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked_at": self.checked_at, "seconds": round(self.seconds, 3),
                "error": self.error}


def deployment_dict(deployment: DeploymentStatus) -> dict[str, Any]:
    """One deployment for readiness: id, upstream, base URL host, masked key, availability and reason."""
    return {
        "id": deployment.id, "upstream": deployment.upstream, "provider": deployment.provider,
        "base_url_host": deployment.base_url_host, "api_key": deployment.key,
        "available": deployment.available, "reason": deployment.reason,
    }


class ModelHealth:
    """Availability per model from the registry, refined by the probe when it runs."""

    def __init__(self, core: Core, metrics: Any, interval: float, enabled: bool) -> None:
        self._core = core
        self._metrics = metrics
        self._interval = max(1.0, interval)
        self.enabled = enabled
        self._results: dict[str, ProbeResult] = {}

    def readiness(self, detailed: bool = True) -> tuple[int, dict[str, Any]]:
        """(status, body): 200 when at least one model can serve, else 503.

        ``detailed`` False (a proxy with a master key, asked without it): only each model's alias
        and whether it is available. The reasons name env vars, secret file paths and upstream
        errors, which are the operator's business, not every caller's that can reach the probe.
        """
        status, body = self._readiness()
        if detailed:
            return status, body
        return status, {"status": body["status"],
                        "models": [{"model": m["model"], "available": m["available"]} for m in body["models"]]}

    def _readiness(self) -> tuple[int, dict[str, Any]]:
        models = []
        for status in self._core.models():
            probe = self._results.get(status.alias)
            ready = status.available and (probe is None or probe.ok)
            models.append({
                "model": status.alias,
                "upstream": status.upstream,
                "available": ready,
                "reason": status.reason if not status.available else (probe.error if probe and not probe.ok else None),
                "probe": probe.to_dict() if probe is not None else None,
                "deployments": [deployment_dict(d) for d in status.deployments],
            })
        any_ready = any(m["available"] for m in models)
        body = {"status": "ready" if any_ready else "unavailable", "probe_enabled": self.enabled, "models": models}
        return (200 if any_ready else 503), body

    async def run_forever(self) -> None:
        """Probe every available model, then wait the interval; until cancelled."""
        while True:
            for status in self._core.models():
                if status.available:
                    await self.probe(status.alias)
            await asyncio.sleep(self._interval)

    async def probe(self, alias: str) -> ProbeResult:
        started = time.perf_counter()
        error: str | None = None
        try:
            await asyncio.wait_for(
                self._core.acomplete(alias, PROBE_MESSAGES, request_id=f"health-probe-{alias}", **PROBE_PARAMS),
                timeout=PROBE_TIMEOUT_SECONDS,
            )
        except asyncio.TimeoutError:
            error = f"health probe got no answer within {PROBE_TIMEOUT_SECONDS:g} s"
        except LLMCoreError as exc:
            error = f"health probe failed: {exc}"
        result = ProbeResult(ok=error is None, checked_at=time.time(), seconds=time.perf_counter() - started,
                             error=error)
        previous = self._results.get(alias)
        self._results[alias] = result
        self._metrics.model_available(alias, result.ok)
        if previous is None or previous.ok != result.ok:
            log = logger.bind(event="health_probe", model=alias, ok=result.ok)
            if result.ok:
                log.info(f"health probe: {alias} answers")
            else:
                log.warning(f"health probe: {alias} is failing: {error}")
        return result
