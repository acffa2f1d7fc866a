"""`llmcore smoke`: the offline end-to-end run works with no network and no real key."""
from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys

import pytest

from llmcore.entrypoints.smoke import run_smoke

pytestmark = [
    pytest.mark.slow,
    # LiteLLM walks dir(delta) per stream chunk and trips pydantic's deprecations (see test_proxy.py).
    pytest.mark.filterwarnings(r"ignore:Accessing the '\w+' attribute on the instance is deprecated"),
]

STUB_KEY = re.compile(r"xai-smoke-[0-9a-f]{16}")


def test_smoke_as_a_command_prints_both_answers_the_logs_and_the_metrics() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GROK_", "LLMCORE_", "XAI_", "OPENAI_"))}
    # A proxy set in the environment must not matter: smoke talks to loopback only.
    env.update(HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9")
    done = subprocess.run([sys.executable, "-m", "llmcore.entrypoints.smoke"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "1. Plain request (sent presence_penalty=0, which xAI refuses): OK" in out
    assert "2. Streamed request (stream_options.include_usage): OK" in out
    assert "presence_penalty reached xAI: no: dropped by llmcore" in out
    assert "content:    'Olá!'" in out
    assert "(of which reasoning 256)" in out and "cost $" in out
    assert "| INFO | param_dropped" in out and "param=presence_penalty" in out
    dropped = 'llmcore_param_adjustments_total{action="dropped",model="grok-code-fast-1",param="presence_penalty"}'
    assert f"{dropped} 1.0" in out
    counted = 'llmcore_requests_total{api="chat_completions",model="grok-code-fast-1",outcome="ok",stream="true"}'
    assert f"{counted} 1.0" in out
    assert "Result: OK: both requests worked" in out
    assert not STUB_KEY.search(out + done.stderr)


def test_smoke_json_report_is_one_document() -> None:
    out = io.StringIO()
    assert run_smoke(out=out, json_output=True) == 0
    report = json.loads(out.getvalue())
    assert report["ok"] is True
    plain, stream = report["requests"]["plain"], report["requests"]["stream"]
    assert plain["presence_penalty_reached_upstream"] is False
    assert plain["usage"]["reasoning_tokens"] > 0 and stream["usage"]["reasoning_tokens"] > 0
    assert stream["content"] and stream["finish_reason"] == "stop"
    assert any(line["event"] == "param_dropped" for line in report["logs"])
    assert any(m.startswith("llmcore_overhead_seconds_count") for m in report["metrics"])
    assert not STUB_KEY.search(out.getvalue())
