"""How an alias's deployments and fallbacks are used: LiteLLM's router settings, as values (Decision 13).

Defaults are LiteLLM's documented ones (Router: ``allowed_fails`` 3 failures in
a minute, ``cooldown_time`` 5 s, ``simple-shuffle``).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from attrs import field, frozen

from llmcore.domain.frozen_mapping import frozen_mapping


def _fallback_map(value: Mapping[str, Iterable[object]]) -> Mapping[str, tuple[str, ...]]:
    return frozen_mapping({str(k): tuple(str(x) for x in v) for k, v in value.items()})


@frozen(kw_only=True)
class RoutingSettings:
    """``fallbacks`` maps an alias to the aliases tried in order once its retries are spent."""

    fallbacks: Mapping[str, tuple[str, ...]] = field(factory=dict, converter=_fallback_map)
    context_window_fallbacks: Mapping[str, tuple[str, ...]] = field(factory=dict, converter=_fallback_map)
    content_policy_fallbacks: Mapping[str, tuple[str, ...]] = field(factory=dict, converter=_fallback_map)
    allowed_fails: int = 3
    cooldown_time: float = 5.0
    routing_strategy: str = "simple-shuffle"
