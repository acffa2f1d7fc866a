"""The built-in catalog: the xAI models llmcore knows, read from ``data/catalog.json``.

With no config file the catalog's models are served under their own names;
with one, a catalog entry only fills in defaults (capabilities, drop rules,
prices, lifecycle) for a file entry whose **upstream model** it is, never for
a reused alias (Decision 15): repointing the alias ``grok-code-fast-1`` to
``openai/grok-build-0.1`` gets grok-build-0.1's data. Figures come from
../shared/FACTS.md; each entry's ``source`` says which line.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from attrs import frozen

from llmcore.domain.frozen_mapping import frozen_mapping
from llmcore.domain.model_spec import Capabilities, Lifecycle
from llmcore.domain.usage import Prices

CATALOG_FILE = Path(__file__).parent / "data" / "catalog.json"
PER_MILLION = 1_000_000


@frozen(kw_only=True)
class CatalogEntry:
    """Defaults for one known upstream model; ``drop`` maps each param xAI rejects to why."""

    upstream_model: str
    provider: str
    capabilities: Capabilities
    drop: Mapping[str, str]
    prices: Prices
    lifecycle: Lifecycle
    source: str
    served_without_config: bool = True
    timeout: float = 300.0

    @property
    def alias(self) -> str:
        """The name it is served under when there is no config file."""
        return self.upstream_model


def _per_token(per_million: float | None) -> float | None:
    return None if per_million is None else per_million / PER_MILLION


def _date(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text)


def _entry(raw: Mapping[str, Any]) -> CatalogEntry:
    prices, lifecycle = raw["prices_per_million"], raw["lifecycle"]
    return CatalogEntry(
        upstream_model=raw["upstream_model"],
        provider="xai",
        capabilities=Capabilities(**raw["capabilities"]),
        drop=frozen_mapping(raw["drop"]),
        prices=Prices(
            input_per_token=_per_token(prices["input"]), output_per_token=_per_token(prices["output"]),
            cached_input_per_token=_per_token(prices["cached_input"]),
        ),
        lifecycle=Lifecycle(
            deprecation_date=_date(lifecycle["deprecation_date"]), served_by=lifecycle["served_by"],
            successor=lifecycle["successor"],
        ),
        source=raw["source"],
        served_without_config=raw["served_without_config"],
    )


@functools.cache
def catalog() -> Mapping[str, CatalogEntry]:
    """The catalog's entries by upstream model."""
    raw = json.loads(CATALOG_FILE.read_text(encoding="utf-8"))
    return frozen_mapping({e.upstream_model: e for e in map(_entry, raw["models"])})


def catalog_entry_for(upstream_model: str) -> CatalogEntry | None:
    """The catalog entry for this upstream model (``grok-build-0.1``, no route), if the catalog knows it."""
    return catalog().get(upstream_model)
