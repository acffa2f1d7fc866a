"""Closing an upstream stream a caller may or may not be able to close: the one rule both the retry
policy and the fallbacks apply when they stop reading a stream they opened."""
from __future__ import annotations

from typing import Any


def close_stream(upstream: Any) -> None:
    """Call ``upstream.close()`` when it has one (a generator, LiteLLM's stream wrapper)."""
    close = getattr(upstream, "close", None)
    if close is not None:
        close()


async def aclose_stream(upstream: Any) -> None:
    """Await ``upstream.aclose()`` when it has one."""
    aclose = getattr(upstream, "aclose", None)
    if aclose is not None:
        await aclose()
