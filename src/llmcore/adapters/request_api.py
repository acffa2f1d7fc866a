"""Which wire API a request came in through, for the request telemetry's ``api`` label and log field.

A context variable, set by the entrypoint that parsed the request (the proxy's
chat-completions, Messages and Responses handlers), read by the telemetry adapters when
the request finishes: the domain and the Telemetry port stay as they are,
and a request that does not set it (a library call) counts as
``chat_completions``, the shape ``core.complete`` takes. Values:
``chat_completions``, ``messages`` (Anthropic Messages) and ``responses``
(OpenAI Responses).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

CHAT_COMPLETIONS = "chat_completions"
MESSAGES = "messages"
RESPONSES = "responses"

current_api: ContextVar[str] = ContextVar("llmcore_api", default=CHAT_COMPLETIONS)


@contextmanager
def request_api(api: str) -> Iterator[None]:
    """Label every request finished inside this block (this task and the tasks it starts) with ``api``."""
    token = current_api.set(api)
    try:
        yield
    finally:
        current_api.reset(token)
