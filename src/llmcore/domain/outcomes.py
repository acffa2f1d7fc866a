"""How a request ended, as ``request_finished`` reports it (the ``outcome`` label of ``llmcore_requests_total``).

Every request that reached a model (its alias resolved and its params fitted)
ends with exactly one ``request_finished`` event, whatever stops it:

- ``ok``: answered; a stream ended with a finish reason.
- ``incomplete``: a stream ended early after its first chunk (``StreamSession.complete`` is False).
- ``cancelled``: the caller stopped the request: an ``asyncio`` task cancelled (a proxy client that
  disconnected), ``KeyboardInterrupt``, or a stream closed before it finished.
- ``abandoned``: a stream the caller stopped reading and never closed, found by the garbage collector.
- any other value is the class name of the exception that ended the request: an ``LLMCoreError``
  subclass (``RateLimitError``, ``InternalError``, ...) or, for a bug in llmcore or in a completion
  adapter, the foreign class (``KeyError``, ``TypeError``, ...).

Counting is per client request: a request served by a fallback alias is counted once, under the
alias that ended it; the requested alias's failure shows in ``upstream_failed`` and ``fallback_used``.
"""
from __future__ import annotations

import asyncio

OK = "ok"
INCOMPLETE = "incomplete"
CANCELLED = "cancelled"
ABANDONED = "abandoned"

# The caller's own stop, not a failure of the request: counted apart from errors.
_CANCELLATIONS = (asyncio.CancelledError, KeyboardInterrupt)


def outcome_of(error: BaseException) -> str:
    """The outcome for a request that ``error`` ended: ``cancelled``, or the exception's class name."""
    if isinstance(error, _CANCELLATIONS):
        return CANCELLED
    return type(error).__name__
