"""A Core has a lifecycle (Decision 20): close(), aclose() and both context managers release its pooled clients.

What is pooled is LiteLLM's: one OpenAI client per event loop (and one sync), process-wide, in its
client cache. The tests look at that cache only to see the effect; they close through the public API.
"""
from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

import llmcore
from llmcore.adapters.litellm_runtime import litellm_module
from llmcore.testing.fake_xai import FakeXAIServer

GROK = "grok-code-fast-1"
HELLO = [{"role": "user", "content": "Say hi in Portuguese"}]


@pytest.fixture(scope="module")
def env(grok_key: str) -> Iterator[dict[str, str]]:
    with FakeXAIServer(api_key=grok_key) as server:
        yield {"GROK_API_KEY": grok_key, "GROK_BASE_URL": server.base_url}


def pooled_clients() -> list[object]:
    import openai

    cache = litellm_module().in_memory_llm_clients_cache.cache_dict
    return [c for c in cache.values() if isinstance(c, (openai.OpenAI, openai.AsyncOpenAI))]


def test_with_load_closes_the_sync_clients_and_a_closed_core_still_serves(env: dict[str, str]) -> None:
    with llmcore.load(env=env) as core:
        assert core.complete(GROK, HELLO).content
        assert pooled_clients()
    assert pooled_clients() == []

    assert core.complete(GROK, HELLO).content  # opens a new client
    core.close()
    core.close()  # idempotent
    assert pooled_clients() == []


def test_async_with_closes_async_and_sync_clients(env: dict[str, str]) -> None:
    async def main() -> None:
        async with llmcore.load(env=env) as core:
            assert (await core.acomplete(GROK, HELLO)).content
            async with core.astream(GROK, HELLO) as session:
                assert "".join([c.content or "" async for c in session])
            assert pooled_clients()
        assert pooled_clients() == []
        await core.aclose()  # idempotent

    asyncio.run(main())


def test_a_core_without_pooled_clients_closes_as_a_no_op() -> None:
    from llmcore.adapters.scripted_completion import ScriptedCompletion

    async def main() -> None:
        async with llmcore.load(env={"GROK_API_KEY": "xai-" + "0" * 16}, completion=ScriptedCompletion()) as core:
            assert core.models()

    asyncio.run(main())
    with llmcore.load(env={}, completion=ScriptedCompletion()) as core:
        assert core.models()
