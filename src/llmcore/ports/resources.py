"""The resources port: what a Core must release when its owner is done with it (Decision 20)."""
from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class PooledResources(Protocol):
    """Pooled clients an adapter opened (HTTP connection pools), released on request.

    ``close()`` releases what can be released without an event loop (sync
    clients); ``aclose()`` releases everything, async clients included, and must
    run in the event loop that used them, while it still runs. Both are
    idempotent, never raise, and leave the adapter usable: a later call opens
    new clients.
    """

    def close(self) -> None: ...

    async def aclose(self) -> None: ...
