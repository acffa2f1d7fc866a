"""Fixtures for tests that drive real LiteLLM over real HTTP to the fake xAI server on 127.0.0.1."""
from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from llmcore.adapters.litellm_completion import LiteLLMCompletion

T = TypeVar("T")


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
