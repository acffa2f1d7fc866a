"""Shared fixtures: canary keys built at run time (never a key-shaped literal in a file)."""
from __future__ import annotations

import asyncio
import secrets
import warnings
from collections.abc import Iterator

import pytest


def make_canary(prefix: str = "xai-canary") -> str:
    """A fresh key-shaped canary; tests assert it never shows up where it must not."""
    return f"{prefix}-{secrets.token_hex(12)}"


@pytest.fixture
def canary() -> str:
    return make_canary()


@pytest.fixture(scope="session", autouse=True)
def no_implicit_event_loop() -> Iterator[None]:
    """Keep LiteLLM from leaving an unclosed event loop behind in the main thread.

    After every sync call LiteLLM's service logger asks ``asyncio.get_event_loop()``
    (``_service_logger.py:118``); in the main thread with no loop set, Python 3.11
    creates one, installs it and never closes it. The next ``asyncio.run()``
    uninstalls it, and the garbage collector then reports "unclosed event loop"
    inside whichever test happens to run. Marking the loop as deliberately unset
    makes ``get_event_loop()`` raise, and LiteLLM falls back to ``asyncio.run``,
    which closes its loop. This is the test process's choice, not the library's:
    llmcore never touches a host application's event loop.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+ warns when it makes one here
        try:
            leftover = asyncio.get_event_loop()  # installed by an earlier test, or made now: closed below
        except RuntimeError:
            leftover = None
    if leftover is not None and not leftover.is_running():
        leftover.close()
    asyncio.set_event_loop(None)
    yield
    # LiteLLM pools sync connections for the whole process; closed here, not reported at exit.
    from llmcore.adapters.litellm_runtime import close_sync_clients, is_loaded

    if is_loaded():
        close_sync_clients()
