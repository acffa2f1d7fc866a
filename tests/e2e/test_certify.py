"""``llmcore certify`` as a real subprocess: the whole command, the fake xAI server it starts, exit codes, reports.

The children get only PATH and HOME (a fresh directory, also their working
directory): no key, no config. ``--upstream fake`` makes certify start the
shipped fake itself; ``--fake-fault CHECK`` (hidden) makes that fake fail one check.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from llmcore.certify import CHECK_IDS
from llmcore.certify.report import SCHEMA_FILE
from llmcore.testing.fake_xai import FakeXAIServer

pytestmark = pytest.mark.slow

GROK = "grok-code-fast-1"
SCHEMA = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
TIMEOUT = 180


def child_env(home: Path, **extra: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "LITELLM_OFFLINE_MODE": "true",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True", **extra}


def command(*args: str, python_flags: Sequence[str] = ()) -> list[str]:
    return [sys.executable, *python_flags, "-m", "llmcore.entrypoints.cli", *args]


def certify(
    tmp_path: Path, *args: str, python_flags: Sequence[str] = (), **env: str,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command("certify", *args, python_flags=python_flags), env=child_env(tmp_path, **env),
                          cwd=tmp_path, capture_output=True, text=True, encoding="utf-8", timeout=TIMEOUT)


def reports(out_dir: Path) -> tuple[dict[str, Any], str]:
    (json_path,) = out_dir.glob(f"certify-{GROK}-*.json")
    (md_path,) = out_dir.glob(f"certify-{GROK}-*.md")
    assert json_path.stem == md_path.stem
    return json.loads(json_path.read_text(encoding="utf-8")), md_path.read_text(encoding="utf-8")


def imported_modules(importtime_stderr: str) -> set[str]:
    """Module names from ``python -X importtime`` lines: ``import time: self | cumulative | name``."""
    return {line.rsplit("|", 1)[-1].strip() for line in importtime_stderr.splitlines()
            if line.startswith("import time:")}


def validate(doc: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER).validate(doc)


def test_against_the_fake_every_check_passes_and_both_reports_are_written(tmp_path: Path) -> None:
    out_dir = tmp_path / "reports"
    done = certify(tmp_path, GROK, "--upstream", "fake", "--out", str(out_dir))
    assert done.returncode == 0, done.stdout + done.stderr
    doc, text = reports(out_dir)
    validate(doc)
    assert doc["result"] == "passed" and doc["upstream"] == "fake" and doc["base_url_host"] == "127.0.0.1"
    assert [(c["id"], c["status"]) for c in doc["checks"]] == [(check, "passed") for check in CHECK_IDS]
    assert all(c["evidence"] for c in doc["checks"])
    assert doc["versions"]["litellm"] == "1.110.2" and doc["served_models"] == ["grok-4.3"]
    checks = {c["id"]: c for c in doc["checks"]}
    assert checks["plain"]["evidence"]["cost_in_usd_ticks"] == 3950400  # xAI's recorded billing, replayed
    assert checks["plain"]["cost_sources"] == ["upstream"] and checks["stream"]["ttfb_ms"] is not None
    assert [p["dropped"] for p in checks["dropped_params"]["evidence"]["params"]] == [True] * 5
    assert checks["error_path"]["evidence"]["error"] == "InvalidRequestError"
    assert checks["error_path"]["evidence"]["status_code"] == 404
    assert any(f.startswith("check 7 (served_model): redirect: asked for grok-code-fast-1, served by grok-4.3")
               for f in doc["findings"])
    assert text.count(": PASSED") == 7 and "Served by | `grok-4.3`" in text
    assert "result: PASSED (7 passed, 0 failed, 0 skipped)" in done.stdout
    assert f"reports: {out_dir}" in done.stdout


def test_a_fault_per_check_fails_exactly_that_check_and_the_report_says_why(tmp_path: Path) -> None:
    children = {}
    for check in CHECK_IDS:  # all at once: each child imports LiteLLM (~3 s)
        home = tmp_path / check
        home.mkdir()
        children[check] = (home, subprocess.Popen(
            command("certify", GROK, "--upstream", "fake", "--fake-fault", check, "--out", str(home / "out")),
            env=child_env(home), cwd=home, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            encoding="utf-8"))
    for check, (home, child) in children.items():
        stdout, stderr = child.communicate(timeout=TIMEOUT)
        assert child.returncode == 1, f"{check}: {stdout}{stderr}"
        doc, text = reports(home / "out")
        validate(doc)
        failed = [c for c in doc["checks"] if c["status"] == "failed"]
        assert [c["id"] for c in failed] == [check], f"{check}: {stdout}"
        reason = failed[0]["reason"]
        assert reason and f"### {failed[0]['number']}. {failed[0]['title']}: FAILED" in text
        assert f"**Why:** {reason}" in text.replace("\\|", "|")
        assert any(line.split()[:3] == [str(failed[0]["number"]), check, "FAILED"] for line in stdout.splitlines())
        assert EXPECTED_REASONS[check] in reason, f"{check}: {reason}"


EXPECTED_REASONS = {
    "plain": "QuotaExceededError",
    "stream": "the stream did not complete (connection_lost)",
    "reasoning": "no reasoning_content, although the upstream counted 256 reasoning tokens",
    "dropped_params": "presence_penalty: the request failed: InvalidRequestError",
    "tool_call": "InvalidRequestError",
    "error_path": "the upstream answered for llmcore-certify-no-such-model",
    "served_model": "the answers were served by different models",
}


def test_without_a_key_one_line_refuses_the_model_and_nothing_imports_litellm(tmp_path: Path) -> None:
    done = certify(tmp_path, GROK, "--out", str(tmp_path / "out"), python_flags=("-X", "importtime"))
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if not line.startswith("import time:")]
    assert lines == ["error: model 'grok-code-fast-1' is unavailable: no API key: set GROK_API_KEY or "
                     "LLMCORE_API_KEY, or add api_key to the model entry"]
    assert done.stdout == "" and not (tmp_path / "out").exists()
    imported = imported_modules(done.stderr)
    assert "llmcore.certify.command" in imported  # the probe sees certify's own imports
    assert not {m for m in imported if m.split(".")[0] in ("litellm", "openai", "aiohttp")}


def test_a_tiny_budget_stops_before_any_request_and_says_so(tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    done = certify(tmp_path, GROK, "--upstream", "fake", "--budget-usd", "0.0001", "--out", str(out_dir),
                   python_flags=("-X", "importtime"))
    assert done.returncode == 1, done.stdout + done.stderr
    imported = imported_modules(done.stderr)
    assert "llmcore.testing.fake_xai" in imported  # the fake ran; LiteLLM was never needed
    assert not {m for m in imported if m.split(".")[0] in ("litellm", "openai")}
    assert "budget: stopped before check 1 (plain): it could cost up to $0.001" in done.stdout
    assert "of the $0.000100 budget is spent; raise --budget-usd to run it" in done.stdout
    doc, text = reports(out_dir)
    validate(doc)
    assert doc["budget"]["spent_usd"] == 0 and {c["status"] for c in doc["checks"]} == {"skipped"}
    assert sum(c["requests"] for c in doc["checks"]) == 0
    assert "**Stopped by the budget:**" in text


@pytest.mark.parametrize(("args", "said"), [
    (["nope", "--upstream", "fake"], "error: unknown model 'nope'"),
    ([GROK, "--fake-fault", "plain"], "--fake-fault"),
    ([GROK, "--budget-usd", "-1"], "--budget-usd"),
    ([GROK, "--upstream", "fake", "--budget-usd", "nan"], "'--budget-usd': nan is not a number of dollars"),
    ([GROK, "--upstream", "fake", "--budget-usd", "inf"], "'--budget-usd': inf is not a number of dollars"),
    # Refused before the first request (the tester's run paid for all 11 before failing to write the reports).
    ([GROK, "--upstream", "fake", "--out", "/dev/null"], "'--out': /dev/null exists and is not a directory"),
    ([GROK, "--upstream", "fake", "--out", "/proc/llmcore-nope"], "'--out': /proc/llmcore-nope cannot be created"),
    ([], "Missing argument 'ALIAS...'"),
])
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], said: str) -> None:
    done = certify(tmp_path, *args)
    assert done.returncode == 2 and said in done.stderr, done.stderr
    assert "check 1" not in done.stdout and "unexpected" not in done.stderr


def test_an_out_file_in_the_way_is_refused_before_any_request(tmp_path: Path) -> None:
    in_the_way = tmp_path / "reports"
    in_the_way.write_text("not a directory")
    done = certify(tmp_path, GROK, "--upstream", "fake", "--out", str(in_the_way))
    assert done.returncode == 2 and f"{in_the_way} exists and is not a directory" in done.stderr, done.stderr
    assert done.stdout == ""


def test_a_wrong_key_fails_check_6_saying_the_key_is_wrong_not_that_error_paths_work(
        tmp_path: Path, canary: str) -> None:
    config = tmp_path / "llmcore.yaml"
    with FakeXAIServer(api_key=canary, known_models=[GROK]) as upstream:
        config.write_text(f"model_list:\n  - model_name: {GROK}\n    litellm_params:\n      model: xai/{GROK}\n"
                          f"      api_key: os.environ/GROK_API_KEY\n      api_base: {upstream.base_url}\n"
                          "      max_retries: 0\n", encoding="utf-8")
        done = subprocess.run(
            command("--config", str(config), "certify", GROK, "--out", str(tmp_path / "out")),
            env=child_env(tmp_path, GROK_API_KEY="xai-wrong-" + "w" * 30), cwd=tmp_path, capture_output=True,
            text=True, encoding="utf-8", timeout=TIMEOUT)
    assert done.returncode == 1, done.stdout + done.stderr
    check = {c["id"]: c for c in reports(tmp_path / "out")[0]["checks"]}["error_path"]
    assert check["status"] == "failed" and check["evidence"]["error"] == "UpstreamAuthError"
    assert "the upstream refused the key (UpstreamAuthError (HTTP 400))" in check["reason"]
