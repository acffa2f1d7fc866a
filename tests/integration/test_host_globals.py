"""Library mode leaves the host's process-wide state alone; application mode (CLI, proxy) configures it.

Each case runs in a fresh interpreter, since what is checked is what one process looks like after
LiteLLM was imported into it. A trap HTTP server on 127.0.0.1 stands in for the remote cost map
(``LITELLM_MODEL_COST_MAP_URL``) and counts every request: the library must never fetch it, in
either mode, even when the host set none of LiteLLM's offline switches.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from llmcore.adapters.litellm_runtime import OFFLINE_ENV
from llmcore.testing.fake_xai import FakeXAIServer

pytestmark = pytest.mark.slow

SCRIPT = textwrap.dedent("""\
    import json, logging, os, sys
    host_handler = logging.StreamHandler(sys.stderr)
    for name in ("LiteLLM", "LiteLLM Router"):
        logging.getLogger(name).addHandler(host_handler)
        logging.getLogger(name).setLevel(logging.ERROR)
    import llmcore
    from llmcore.adapters import litellm_runtime
    if sys.argv[1] == "application":
        litellm_runtime.own_process()
    env = {"GROK_API_KEY": os.environ["TEST_GROK_KEY"], "GROK_BASE_URL": os.environ["TEST_GROK_BASE"]}
    with llmcore.load(env=env) as core:
        answer = core.complete("grok-code-fast-1", [{"role": "user", "content": "hi"}]).content
        with core.stream("grok-code-fast-1", [{"role": "user", "content": "hi"}]) as session:
            streamed = "".join(c.content or "" for c in session)
    import litellm
    print(json.dumps({
        "answer": answer, "streamed": streamed,
        "env": {name: os.environ.get(name) for name in ("LITELLM_OFFLINE_MODE", "LITELLM_LOCAL_MODEL_COST_MAP",
                                                         "LITELLM_MODE")},
        "loggers": {name: [logging.getLogger(name).level, host_handler in logging.getLogger(name).handlers]
                    for name in ("LiteLLM", "LiteLLM Router")},
        "disable_streaming_logging": litellm.disable_streaming_logging,
        "suppress_debug_info": litellm.suppress_debug_info,
    }))
""")


class _Trap(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        _Trap.hits.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def cost_map_trap() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Trap)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/model_prices_and_context_window.json"
    finally:
        server.shutdown()
        server.server_close()


def run(mode: str, grok_key: str, cost_map_url: str) -> dict[str, object]:
    with FakeXAIServer(api_key=grok_key) as fake:
        env = {k: v for k, v in os.environ.items() if k not in dict(OFFLINE_ENV)}
        env.update(TEST_GROK_KEY=grok_key, TEST_GROK_BASE=fake.base_url, LITELLM_MODEL_COST_MAP_URL=cost_map_url)
        env.pop("COVERAGE_PROCESS_START", None)  # a plain interpreter: nothing of pytest's in it
        done = subprocess.run([sys.executable, "-c", SCRIPT, mode], env=env, capture_output=True, text=True,
                              timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_library_mode_leaves_env_loggers_and_litellm_switches_as_the_host_set_them(
    grok_key: str, cost_map_trap: str,
) -> None:
    _Trap.hits.clear()
    seen = run("library", grok_key, cost_map_trap)

    assert seen["answer"] and seen["streamed"]
    assert seen["env"] == {"LITELLM_OFFLINE_MODE": None, "LITELLM_LOCAL_MODEL_COST_MAP": None, "LITELLM_MODE": None}
    assert seen["loggers"] == {"LiteLLM": [40, True], "LiteLLM Router": [40, True]}  # the host's level and handler kept
    assert seen["disable_streaming_logging"] is False
    assert seen["suppress_debug_info"] is True  # the one documented exception: no banner on the host's stdout
    assert _Trap.hits == []  # the remote cost map was never fetched


def test_application_mode_sets_the_switches_for_the_process_and_quiets_litellm(
    grok_key: str, cost_map_trap: str,
) -> None:
    _Trap.hits.clear()
    seen = run("application", grok_key, cost_map_trap)

    assert seen["answer"] and seen["streamed"]
    assert seen["env"] == {"LITELLM_OFFLINE_MODE": "true", "LITELLM_LOCAL_MODEL_COST_MAP": "True",
                           "LITELLM_MODE": "PRODUCTION"}
    assert seen["loggers"] == {"LiteLLM": [30, False], "LiteLLM Router": [30, False]}  # WARNING, handlers removed
    assert seen["disable_streaming_logging"] is True
    assert _Trap.hits == []
