"""The canary suite, ``llmcore certify`` part: a real key (a canary) from a ``file:`` secret and a base URL with a
password in its userinfo are used for real, and appear in no report, no output and no log.

The upstream is the fake xAI server in this test process, configured as the
alias's real upstream (``--upstream configured``), so the key travels the whole
way: config -> Secret -> LiteLLM -> HTTP -> the fake, which checks it.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmcore.testing.fake_xai import FakeXAIServer
from tests.conftest import make_canary

pytestmark = pytest.mark.slow

GROK = "grok-code-fast-1"


@pytest.fixture
def key() -> str:
    return make_canary()


@pytest.fixture
def upstream(key: str) -> Iterator[FakeXAIServer]:
    with FakeXAIServer(api_key=key, served_model="grok-4.3", known_models=[GROK]) as server:
        yield server


def files_under(root: Path) -> Iterator[Path]:
    return (path for path in root.rglob("*") if path.is_file())


@pytest.mark.parametrize("userinfo", [False, True], ids=["file-key", "file-key-and-url-password"])
def test_certify_uses_the_key_and_the_url_password_and_shows_neither(
    tmp_path: Path, key: str, upstream: FakeXAIServer, userinfo: bool,
) -> None:
    password = make_canary("pw")  # not key-shaped: only the userinfo rule can mask it
    key_file = tmp_path / "secrets" / "grok.key"
    key_file.parent.mkdir()
    key_file.write_text(key + "\n", encoding="utf-8")
    base_url = upstream.base_url
    if userinfo:
        base_url = base_url.replace("http://", f"http://gateway-user:{password}@")
    config = tmp_path / "llmcore.yaml"
    config.write_text(textwrap.dedent(f"""\
        model_list:
          - model_name: {GROK}
            litellm_params:
              model: openai/{GROK}
              api_key: file:{key_file}
              api_base: {base_url}
        """), encoding="utf-8")
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "LITELLM_OFFLINE_MODE": "true",
           "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "DEBUG"}
    done = subprocess.run(
        [sys.executable, "-m", "llmcore.entrypoints.cli", "--config", str(config), "--log-level", "debug",
         "certify", GROK, "--out", str(home / "reports")],
        env=env, cwd=home, capture_output=True, text=True, encoding="utf-8", timeout=180,
    )
    if userinfo:
        # httpx turns a URL's userinfo into Basic auth, which replaces the Bearer key: xAI (the fake) refuses it.
        assert done.returncode == 1, done.stdout + done.stderr
        assert "UpstreamAuthError" in done.stdout
        (report,) = (home / "reports").glob("*.json")
        assert json.loads(report.read_text(encoding="utf-8"))["base_url"].startswith("http://***@127.0.0.1:")
    else:
        assert done.returncode == 0, done.stdout + done.stderr
        assert {r.key_tail for r in upstream.requests} == {key[-4:]}  # the canary really went upstream
    written = list(files_under(home))
    assert {p.suffix for p in written if p.parent.name == "reports"} == {".json", ".md"}
    for secret in (key, password):
        assert secret not in done.stdout and secret not in done.stderr
        for path in written:
            assert secret not in path.read_text(encoding="utf-8", errors="replace"), path
