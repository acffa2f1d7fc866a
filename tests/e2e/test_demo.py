"""The Grok demo script, run as a subprocess against the fake xAI server, and with its variables wrong."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from llmcore.testing.fake_xai import FakeXAIServer

DEMO = Path(__file__).parents[2] / "demo" / "grok" / "test_grok_code_fast_1.py"


def run_demo(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GROK", "LLMCORE", "OPENAI"))}
    return subprocess.run([sys.executable, str(DEMO)], env={**base, **env}, cwd=cwd, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.slow
def test_demo_runs_a_completion_and_a_stream_against_the_fake(tmp_path, canary):
    with FakeXAIServer(api_key=canary) as server:
        result = run_demo({"GROK_API_KEY": canary, "GROK_BASE_URL": server.base_url}, tmp_path)
        bodies = [r.body_keys for r in server.requests]
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "answer (grok-code-fast-1): Olá!" in out
    assert "dropped: presence_penalty" in out
    assert ("completion usage: prompt 213 (cached 192), completion 2, reasoning 256, total 471; "
            "cost $0.000395 (upstream)") in out
    assert "stream complete: True" in out
    assert "stream usage:" in out and "(prices)" in out
    assert all("presence_penalty" not in keys for keys in bodies)
    assert canary not in out + result.stderr


@pytest.mark.parametrize(("env", "message"), [
    ({"GROK_BASE_URL": "http://127.0.0.1:9/v1"}, "GROK_API_KEY is not set: export GROK_API_KEY="),
    ({"GROK_API_KEY": "xai-demo-" + "k" * 20}, "GROK_BASE_URL is not set: export GROK_BASE_URL="),
    ({"GROK_API_KEY": " ", "GROK_BASE_URL": "http://127.0.0.1:9/v1"}, "only whitespace"),
    ({"GROK_API_KEY": "xai-demo-" + "k" * 20, "GROK_BASE_URL": "api.x.ai"}, "not an http(s) URL"),
])
def test_demo_exits_2_at_once_naming_the_variable(tmp_path, env, message):
    result = run_demo(env, tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""
