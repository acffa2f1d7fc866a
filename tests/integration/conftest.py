"""Fixtures for tests that drive real LiteLLM over real HTTP to the fake xAI server on 127.0.0.1."""
from __future__ import annotations

import asyncio
import secrets
import warnings
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import pytest

from llmcore.adapters.litellm_completion import LiteLLMCompletion

T = TypeVar("T")


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
    LiteLLMCompletion().close()


# The filters ``import litellm`` installs process-wide (litellm/_process_defaults.py:16-22),
# as (message, category). pytest resets the filters after each test, so they vanish after
# whichever test happened to import LiteLLM first; under ``filterwarnings = error`` the
# warnings they hide then become exceptions inside LiteLLM, which reports them as failed
# calls (a stream reading pydantic attributes on instances for an empty delta,
# model_response_utils.py:18, ends as MidStreamFallbackError; pydantic's ReadOnly
# TypedDict notice, raised while LiteLLM builds a validator lazily, fails the first
# async call). Mirrored for each test here, narrowed to their category.
LITELLM_IMPORT_FILTERS = (
    (r".*conflict with protected namespace.*", UserWarning),
    (r".*Accessing the.*attribute on the instance is deprecated.*", DeprecationWarning),
    (r".*`ReadOnly` qualifier.*", UserWarning),
)


@pytest.fixture(autouse=True)
def litellm_warning_filters() -> None:
    for message, category in LITELLM_IMPORT_FILTERS:
        warnings.filterwarnings("ignore", message=message, category=category)


def _run_async(factory: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        try:
            return await factory()
        finally:
            await LiteLLMCompletion().aclose()

    return asyncio.run(main())


@pytest.fixture
def run_async() -> Callable[[Callable[[], Awaitable[T]]], T]:
    """Runs a coroutine factory in a fresh loop, closing LiteLLM's per-loop HTTP clients before it ends.

    Without the close, the aiohttp connections LiteLLM pools for that loop outlive
    it and are reported as unclosed transports when collected.
    """
    return _run_async


@pytest.fixture(scope="module")
def grok_key() -> str:
    """A key-shaped canary built at run time; the tests prove it never leaks."""
    return "xai-canary-" + secrets.token_hex(10)
