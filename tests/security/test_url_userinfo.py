"""A base URL's userinfo (``http://user:secret@host/v1``) is masked wherever a URL is shown."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from llmcore.adapters.log_setup import configure_logging, reset_logging
from llmcore.domain.redaction import display_url, redact
from llmcore.entrypoints.cli import CliWiring, cli
from llmcore.errors import ConfigError, UpstreamUnavailableError

GROK = "grok-code-fast-1"


@pytest.fixture
def password() -> str:
    from tests.conftest import make_canary

    return make_canary("pw")  # not key-shaped: only the userinfo rule can catch it


@pytest.fixture
def config(tmp_path: Path, password: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "llmcore.yaml"
    path.write_text(textwrap.dedent(f"""\
        model_list:
          - model_name: {GROK}
            litellm_params:
              model: openai/{GROK}
              api_key: os.environ/GROK_API_KEY
              api_base: http://gateway-user:{password}@127.0.0.1:9/v1
        """), encoding="utf-8")
    return path


def invoke(config: Path, *args: str) -> Result:
    wiring = CliWiring(env={"GROK_API_KEY": "xai-" + "k" * 24})
    return CliRunner().invoke(cli, ["--config", str(config), *args], obj=wiring)


@pytest.mark.parametrize("args", [
    ("config", "check"), ("config", "check", "--json"), ("models", "show", GROK), ("models", "show", GROK, "--json"),
    ("models", "list"), ("models", "list", "--json"),
], ids=" ".join)
def test_the_cli_never_shows_a_base_urls_userinfo(config: Path, password: str, args: tuple[str, ...]) -> None:
    result = invoke(config, *args)

    assert result.exit_code == 0, result.output
    assert password not in result.stdout + result.stderr
    assert "gateway-user" not in result.stdout + result.stderr


def test_config_check_shows_the_url_with_its_userinfo_masked(config: Path) -> None:
    text = invoke(config, "config", "check").stdout
    document = json.loads(invoke(config, "config", "check", "--json").stdout)

    assert "http://***@127.0.0.1:9/v1" in text
    assert "http://***@127.0.0.1:9/v1" in json.dumps(document)


def test_errors_and_log_lines_mask_userinfo(password: str) -> None:
    url = f"https://svc:{password}@gateway.internal/v1"
    lines: list[str] = []
    configure_logging(level="INFO", sink=lines.append)
    try:
        from loguru import logger

        logger.bind(event="t").info(f"calling {url}")
    finally:
        reset_logging()
    shown = [str(UpstreamUnavailableError(f"could not reach {url}")), str(ConfigError(f"bad api_base {url}")),
             *lines, redact(url), display_url(url) or ""]

    assert not [text for text in shown if password in text or "svc:" in text]
    assert display_url(url) == "https://***@gateway.internal/v1"
    assert display_url("https://api.x.ai/v1") == "https://api.x.ai/v1"
    assert redact("write to ops@example.com") == "write to ops@example.com"  # no scheme: not a URL
