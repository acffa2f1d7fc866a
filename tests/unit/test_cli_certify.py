"""The ``certify`` command's click shell: its options as ``--help`` shows them, and refusals before any request."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from llmcore.entrypoints.cli import CliWiring, cli


@pytest.fixture(autouse=True)
def no_local_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    def no_core(*args: object, **kwargs: object) -> None:
        raise AssertionError("no Core may be built for a refused run")

    return CliRunner().invoke(cli, list(args), obj=CliWiring(env=env or {}, core_factory=no_core))


def test_help_shows_the_options_but_not_the_test_only_fault() -> None:
    result = invoke("certify", "--help")
    assert result.exit_code == 0
    shown = " ".join(result.output.split())  # click wraps the help text to the terminal's width
    for option in ("--budget-usd FLOAT RANGE", "[default: 0.05; x>=0]", "--out DIRECTORY",
                   "--upstream [configured|fake]", "--json", "docs/certify.md"):
        assert option in shown
    assert "--fake-fault" not in shown


def test_the_root_help_lists_certify() -> None:
    assert "certify" in invoke("--help").output


@pytest.mark.parametrize(("args", "env", "said"), [
    (["certify", "grok-code-fast-1"], {}, "error: model 'grok-code-fast-1' is unavailable: no API key"),
    (["certify", "grok-x"], {"GROK_API_KEY": "xai-unit-" + "k" * 20}, "error: unknown model 'grok-x'"),
    (["certify", "grok-code-fast-1", "--fake-fault", "stream"], {}, "only with --upstream fake"),
    (["certify", "grok-code-fast-1", "--budget-usd", "nan"], {}, "nan is not a number of dollars"),
    (["certify", "grok-code-fast-1", "--out", "/dev/null"], {}, "/dev/null exists and is not a directory"),
])
def test_refusals_exit_2_with_one_error_line(args: list[str], env: dict[str, str], said: str) -> None:
    result = invoke(*args, env=env)
    assert result.exit_code == 2, result.output
    assert said in result.stderr
    assert result.stdout == ""
