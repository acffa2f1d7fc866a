"""A config whose models are all ``adapter: native`` serves the library and the proxy without importing LiteLLM."""
from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent('''
    import asyncio, pathlib, sys, tempfile
    import openai
    from llmcore.testing.fake_xai import FakeXAIServer
    import llmcore
    from llmcore.bootstrap import build_runtime
    from llmcore.entrypoints.proxy_thread import BackgroundProxy

    HI = [{"role": "user", "content": "hi"}]
    with FakeXAIServer() as server:
        config = pathlib.Path(tempfile.mkdtemp()) / "llmcore.yaml"
        config.write_text(
            "model_list:\\n"
            "  - model_name: grok-code-fast-1\\n"
            "    litellm_params: {model: openai/grok-code-fast-1, api_key: os.environ/GROK_API_KEY,"
            f" api_base: '{server.base_url}'}}\\n"
            "    model_info: {adapter: native}\\n")
        env = {"GROK_API_KEY": "xai-native-" + "0" * 20}
        with llmcore.load(config, env=env) as core:
            assert core.complete("grok-code-fast-1", HI).content
            with core.stream("grok-code-fast-1", HI) as session:
                assert "".join(c.content or "" for c in session) and session.complete

            async def use() -> None:
                async with core:
                    assert (await core.acomplete("grok-code-fast-1", HI)).content
            asyncio.run(use())
        with BackgroundProxy(build_runtime(config, env)) as proxy:
            client = openai.OpenAI(base_url=proxy.base_url, api_key="unused", max_retries=0)
            assert client.chat.completions.create(model="grok-code-fast-1", messages=HI).choices[0].message.content
            streamed = client.chat.completions.create(model="grok-code-fast-1", messages=HI, stream=True)
            assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices)
            client.close()
    assert "litellm" not in sys.modules, "litellm imported"
    print("served without litellm")
''')


def test_a_native_only_config_serves_library_and_proxy_without_importing_litellm() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "served without litellm" in result.stdout


COUNT_TOKENS_SCRIPT = textwrap.dedent('''
    import pathlib, sys, tempfile
    import httpx
    from llmcore.bootstrap import build_runtime
    from llmcore.entrypoints.proxy_thread import BackgroundProxy

    config = pathlib.Path(tempfile.mkdtemp()) / "llmcore.yaml"
    config.write_text(
        "model_list:\\n"
        "  - model_name: grok-code-fast-1\\n"
        "    litellm_params: {model: openai/grok-code-fast-1, api_key: os.environ/GROK_API_KEY,"
        " api_base: 'http://127.0.0.1:9/v1'}\\n"
        "    model_info: {adapter: native}\\n")
    env = {"GROK_API_KEY": "xai-native-" + "0" * 20}
    body = {"model": "grok-code-fast-1", "system": "You are a careful coding agent.",
            "messages": [{"role": "user", "content": "Fix the loop in main.py."}],
            "tools": [{"name": "Read", "description": "Read a file",
                       "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}}}]}
    with BackgroundProxy(build_runtime(config, env)) as proxy:
        answer = httpx.post(f"{proxy.url}/v1/messages/count_tokens", json=body, timeout=30, trust_env=False)
    assert answer.status_code == 200, answer.text
    print("input_tokens", answer.json()["input_tokens"])
    print("litellm imported:", "litellm" in sys.modules)
''')


def test_count_tokens_for_a_native_model_answers_without_importing_litellm() -> None:
    # Finding 4a of the new-user tester's report: one count_tokens call imported LiteLLM (RSS 55 -> 259 MB).
    result = subprocess.run([sys.executable, "-c", COUNT_TOKENS_SCRIPT], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "litellm imported: False" in result.stdout, result.stdout
    tokens = int(result.stdout.split("input_tokens", 1)[1].split()[0])
    assert 20 < tokens < 100, tokens  # a short system prompt, one message and one small tool
