"""Fixtures for tests that drive real LiteLLM over real HTTP to the fake xAI server on 127.0.0.1."""
from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

import llmcore
from llmcore import Core

T = TypeVar("T")


def _run_async(factory: Callable[[], Awaitable[T]], core: Core | None = None) -> T:
    # LiteLLM pools its clients per event loop for the whole process, so closing any Core releases
    # them; a test that has no Core at hand gets one built from the catalog just to close with.
    async def main() -> T:
        async with core or llmcore.load(env={}):
            return await factory()

    return asyncio.run(main())


@pytest.fixture
def run_async() -> Callable[..., T]:
    """``run_async(factory, core=None)``: runs the coroutine factory in a fresh loop, closing ``core``
    (``async with``) before the loop ends.

    Without the close, the aiohttp connections LiteLLM pools for that loop outlive
    it and are reported as unclosed transports when collected.
    """
    return _run_async


@pytest.fixture(scope="module")
def grok_key() -> str:
    """A key-shaped canary built at run time; the tests prove it never leaks."""
    return "xai-canary-" + secrets.token_hex(10)
