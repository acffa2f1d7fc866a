"""Each way a stream ends early, through real LiteLLM and the fake xAI server, as an operator sees it:
the session's state, the WARNING log line and the Prometheus counter."""
import json

import pytest

from llmcore.adapters.log_setup import configure_logging, reset_logging
from llmcore.bootstrap import build_runtime
from llmcore.testing.fake_xai import FakeXAIServer, Fault

ENDINGS = [
    (Fault.cut_mid_stream(after_events=4), "connection_lost"),
    (Fault.eof_without_finish(after_events=4), "no_finish_reason"),
    (Fault.zero_events(), "no_events"),
]


@pytest.fixture(scope="module")
def server():
    with FakeXAIServer() as fake:
        yield fake


@pytest.fixture
def json_lines():
    lines: list[str] = []
    configure_logging("INFO", json=True, sink=lines.append)
    yield lines
    reset_logging()


@pytest.mark.parametrize(("fault", "reason"), ENDINGS, ids=[r for _, r in ENDINGS])
def test_an_early_end_is_a_warning_line_a_metric_and_an_incomplete_session(
        server, json_lines, canary, fault, reason):
    runtime = build_runtime(None, env={"GROK_API_KEY": canary, "GROK_BASE_URL": server.base_url})
    server.script(fault)
    with runtime.core.stream("grok-code-fast-1", [{"role": "user", "content": "hi"}], request_id="r-42") as s:
        text = "".join(chunk.content or "" for chunk in s)
    assert not s.complete and s.incomplete_reason == reason
    assert s.text == text
    assert s.warnings[0].startswith("stream incomplete:")

    events = [json.loads(line) for line in json_lines]
    (warning,) = [e for e in events if e["event"] == "stream_incomplete"]
    assert warning["level"] == "WARNING" and warning["reason"] == reason
    assert warning["model"] == "grok-code-fast-1" and warning["request_id"] == "r-42"
    metrics = runtime.metrics.render().decode()
    assert f'llmcore_stream_incomplete_total{{model="grok-code-fast-1",reason="{reason}"}} 1.0' in metrics
    assert canary not in "".join(json_lines) + metrics
