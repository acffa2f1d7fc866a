"""A Core has a lifecycle (Decision 20): close(), aclose() and both context managers release its pooled clients.

What is pooled is LiteLLM's: one OpenAI client per event loop (and one sync), process-wide, in its
client cache. The tests look at that cache only to see the effect; they close through the public API.
"""
from __future__ import annotations

import asyncio
import gc
import textwrap
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

import llmcore
from llmcore.adapters.litellm_runtime import litellm_module
from llmcore.testing.fake_anthropic import FakeAnthropicServer
from llmcore.testing.fake_xai import FakeXAIServer
from tests.conftest import make_canary

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


@pytest.fixture(scope="module")
def anthropic_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    key = make_canary("sk-ant-canary")
    with FakeAnthropicServer(api_key=key) as server:
        path = tmp_path_factory.mktemp("anthropic") / "llmcore.yaml"
        path.write_text(textwrap.dedent(f"""
            model_list:
              - model_name: claude
                litellm_params:
                  model: anthropic/claude-sonnet-4-5
                  api_key: os.environ/ANTHROPIC_KEY
                  api_base: {server.url}
                model_info:
                  provider: anthropic
        """), encoding="utf-8")
        yield path, {"ANTHROPIC_KEY": key}


def test_async_streams_on_the_anthropic_route_leave_no_connection_behind_across_loops(
    anthropic_config: tuple[Path, dict[str, str]],
) -> None:
    # LiteLLM streams anthropic/ through its module-level async client, which is outside its client
    # cache after the first close: a service that runs one loop after another (asyncio.run per job)
    # and closes the Core in each would otherwise strand one pooled socket per ended loop.
    core = llmcore.load(anthropic_config[0], env=anthropic_config[1])

    async def one_job() -> str:
        async with core:
            async with core.astream("claude", HELLO) as session:
                return "".join([c.content or "" async for c in session])

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        for _ in range(3):
            assert asyncio.run(one_job())
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_close_releases_the_sync_client_the_anthropic_route_streams_through(
    anthropic_config: tuple[Path, dict[str, str]],
) -> None:
    with llmcore.load(anthropic_config[0], env=anthropic_config[1]) as core:
        with core.stream("claude", HELLO) as session:
            assert "".join(c.content or "" for c in session)
        handler = vars(litellm_module())["module_level_client"]  # what LiteLLM streamed through
        assert not handler._client.is_closed  # its pooled connection is open until the Core closes
    assert handler._client.is_closed


def test_aclose_in_one_loop_leaves_the_anthropic_session_another_running_loop_owns(
    anthropic_config: tuple[Path, dict[str, str]],
) -> None:
    # A host may run loops in several threads; an aiohttp session can be closed only from its own loop.
    core = llmcore.load(anthropic_config[0], env=anthropic_config[1])
    other = asyncio.new_event_loop()
    thread = threading.Thread(target=other.run_forever, daemon=True)
    thread.start()
    try:
        async def stream() -> str:
            async with core.astream("claude", HELLO) as session:
                return "".join([c.content or "" async for c in session])

        assert asyncio.run_coroutine_threadsafe(stream(), other).result(timeout=30)
        session = vars(litellm_module())["module_level_aclient"]._client._transport.client
        asyncio.run(core.aclose())  # a Core closed in this thread's loop, while the other loop runs
        assert not session.closed
        asyncio.run_coroutine_threadsafe(core.aclose(), other).result(timeout=30)  # its owner closes it
        assert session.closed
    finally:
        other.call_soon_threadsafe(other.stop)
        thread.join(timeout=10)
        other.close()
