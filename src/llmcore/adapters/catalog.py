"""The built-in catalog: models llmcore knows without a config file.

With no config file the catalog's models are served; with one, the catalog
only fills in defaults for a file entry whose alias or upstream model it knows.
Figures and dates come from ../shared/FACTS.md (xAI docs, 2026-11).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from attrs import frozen

from llmcore.domain.frozen_mapping import frozen_mapping
from llmcore.domain.model_spec import Lifecycle
from llmcore.domain.usage import Prices


@frozen(kw_only=True)
class CatalogEntry:
    """Defaults for one known model."""

    alias: str
    upstream_model: str
    provider: str
    prices: Prices
    lifecycle: Lifecycle
    timeout: float = 300.0


GROK_CODE_FAST_1 = CatalogEntry(
    alias="grok-code-fast-1",
    upstream_model="grok-code-fast-1",
    provider="xai",
    # Retired 2026-05-15: xAI serves the slug with grok-4.3 (low reasoning effort)
    # and bills grok-4.3's prices; reasoning tokens are billed as output.
    prices=Prices(input_per_token=1.25e-6, output_per_token=2.50e-6),
    lifecycle=Lifecycle(
        deprecation_date=dt.date(2026, 5, 15), served_by="grok-4.3", successor="grok-build-0.1",
    ),
)

CATALOG: Mapping[str, CatalogEntry] = frozen_mapping({e.alias: e for e in (GROK_CODE_FAST_1,)})


def catalog_entry_for(alias: str, upstream_model: str | None = None) -> CatalogEntry | None:
    """The catalog entry whose alias or upstream model matches, if any."""
    if alias in CATALOG:
        return CATALOG[alias]
    for entry in CATALOG.values():
        if upstream_model is not None and entry.upstream_model == upstream_model:
            return entry
    return None
