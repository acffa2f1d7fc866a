"""Shared fixtures: canary keys built at run time (never a key-shaped literal in a file)."""
from __future__ import annotations

import asyncio
import gc
import logging
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


class _UnclosedRecorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("Unclosed"):
            self.messages.append(message)


@pytest.fixture(scope="session", autouse=True)
def nothing_left_unclosed(no_implicit_event_loop: None) -> Iterator[None]:
    """Fail the run when anything reports an unclosed client session, connector, socket or loop.

    aiohttp reports an unclosed ClientSession or connector through the event loop's exception
    handler (the ``asyncio`` logger), not as an exception, so it would never fail a test; and a
    ResourceWarning raised while the garbage collector runs between tests, or at exit, is printed
    and forgotten. This fixture records the first kind all session long and, at the end, collects
    garbage with ResourceWarning as an error, so both fail the run (issue 12: every resource is
    released; the lifecycle is core.close() / aclose()).
    """
    recorder = _UnclosedRecorder()
    asyncio_logger = logging.getLogger("asyncio")
    asyncio_logger.addHandler(recorder)
    yield
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        gc.collect()
    asyncio_logger.removeHandler(recorder)
    leaks = recorder.messages + [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert not leaks, f"resources left unclosed: {leaks}"
