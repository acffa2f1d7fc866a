"""The certification report: JSON valid against the shipped schema, Markdown with the same content, nothing unmasked."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from llmcore.certify.report import SCHEMA_FILE, document, markdown, masked, report_paths, terminal_lines, write_reports
from llmcore.certify.results import AliasRun, CheckResult, Target, Tokens, Verdict
from llmcore.domain.errors import QuotaExceededError
from tests.unit.test_certify_runner import passing_script, run

SCHEMA = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def errors_of(doc: dict[str, Any]) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(doc)]


def failing_run() -> AliasRun:
    script = passing_script()
    script[0] = QuotaExceededError("xAI refused the request: no credits left", status_code=429)
    return run(script)


def test_the_schema_is_itself_valid() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("make", [lambda: run(passing_script()), failing_run,
                                  lambda: run(passing_script(), budget=0.0001)], ids=["passed", "failed", "stopped"])
def test_every_kind_of_run_gives_a_document_the_schema_accepts(make: Any) -> None:
    doc = document(make())
    assert errors_of(doc) == []
    assert len(doc["checks"]) == 7


def test_the_schema_refuses_what_a_report_must_not_be() -> None:
    doc = document(failing_run())
    broken = json.loads(json.dumps(doc))
    broken["checks"][0]["reason"] = None  # a failed check must say why
    del broken["versions"]
    broken["api_key"] = "anything"
    messages = " ".join(errors_of(broken))
    assert "'versions' is a required property" in messages
    assert "Additional properties are not allowed ('api_key'" in messages
    assert "None is not of type 'string'" in messages


def test_a_failed_check_is_named_with_why_in_json_markdown_and_terminal() -> None:
    doc = document(failing_run())
    assert doc["result"] == "failed" and doc["counts"] == {"passed": 6, "failed": 1, "skipped": 0}
    plain = doc["checks"][0]
    assert plain["status"] == "failed" and plain["reason"].startswith("QuotaExceededError: xAI refused")
    text = markdown(doc)
    assert "# llmcore certify: grok-code-fast-1 — FAILED" in text
    assert "### 1. Plain completion: FAILED" in text and "**Why:** QuotaExceededError: xAI refused" in text
    lines = terminal_lines(doc)
    assert any(line.split()[:3] == ["1", "plain", "FAILED"] for line in lines)
    assert lines[-1].startswith("result: FAILED (6 passed, 1 failed, 0 skipped)")


def test_the_markdown_carries_the_same_content_as_the_json() -> None:
    doc = document(run(passing_script()))
    text = markdown(doc)
    for check in doc["checks"]:
        assert f"| {check['number']} | {check['title']} (`{check['id']}`) | PASSED |" in text
        assert json.dumps(check["evidence"], indent=2, ensure_ascii=False) in text
    for value in (doc["model"], doc["versions"]["llmcore"], doc["started_at"], doc["config_source"]):
        assert str(value) in text
    for finding in doc["findings"]:
        assert finding in text


def test_the_budget_stop_is_said_everywhere() -> None:
    doc = document(run(passing_script(), budget=0.0001))
    assert doc["result"] == "failed" and doc["budget"]["stopped"].startswith("budget: stopped before check 1")
    assert "**Stopped by the budget:** budget: stopped before check 1" in markdown(doc)
    assert doc["budget"]["stopped"] in terminal_lines(doc)[-2]


def test_secrets_are_masked_wherever_they_hide(canary: str) -> None:
    nested = {"a": [f"key {canary}", {"url": "http://user:pw-secret@host/v1"}], "b": ("tail", 3, None)}
    shown = json.dumps(masked(nested, [canary]))
    assert canary not in shown and "pw-secret" not in shown
    assert "***@host" in shown and '"tail", 3, null' in shown


def _run_with_evidence(evidence: dict[str, Any], alias: str = "grok-4.3") -> AliasRun:
    moment = dt.datetime(2026, 11, 29, 23, 30, 5, 123456, tzinfo=dt.timezone.utc)
    target = Target(alias=alias, upstream_model="grok-4.3", provider="xai", base_url="http://***@h/v1",
                    base_url_host="h", upstream="configured", config_source="llmcore.yaml", llmcore_version="0.1.0",
                    litellm_version=None, lifecycle={"deprecation_date": None, "served_by": None, "successor": None},
                    prices_per_million={"input": 1.25, "output": 2.5, "cached_input": None})
    checks = tuple(CheckResult(id=i, number=n, title=i, verdict=Verdict(status="passed", summary="ok",
                                                                        evidence=evidence), tokens=Tokens())
                   for n, i in enumerate(["plain", "stream", "reasoning", "dropped_params", "tool_call",
                                          "error_path", "served_model"], start=1))
    return AliasRun(target=target, checks=checks, budget_limit_usd=0.05, spent_usd=0.0, stopped_by_budget=None,
                    started_at=moment, finished_at=moment)


def test_a_key_in_evidence_never_reaches_a_report(tmp_path: Path, canary: str) -> None:
    doc = document(_run_with_evidence({"message": f"upstream echoed Bearer {canary}", "raw": canary}), [canary])
    json_path, md_path = write_reports(doc, tmp_path / "out")
    for path in (json_path, md_path):
        assert canary not in path.read_text(encoding="utf-8")
    assert errors_of(json.loads(json_path.read_text(encoding="utf-8"))) == []


@pytest.mark.parametrize(("alias", "name"), [
    ("grok-4.3", "certify-grok-4.3-20261129T233005Z"),
    ("anthropic/claude-*", "certify-anthropic_claude--20261129T233005Z"),
    ("../..", "certify-alias-20261129T233005Z"),
])
def test_report_names_are_safe_file_names_with_the_utc_time(tmp_path: Path, alias: str, name: str) -> None:
    json_path, md_path = report_paths(document(_run_with_evidence({}, alias)), tmp_path)
    assert (json_path.name, md_path.name) == (f"{name}.json", f"{name}.md")
    assert json_path.parent == tmp_path


def test_an_answer_holding_a_code_fence_cannot_break_the_markdown() -> None:
    doc = document(_run_with_evidence({"content": "```python\nprint(1)\n```"}))
    text = markdown(doc)
    assert "````json" in text  # a fence longer than the answer's own
    assert text.count("````") == 2 * 7


def test_an_out_dir_is_judged_before_any_request_and_nothing_is_left_behind(tmp_path: Path) -> None:
    from llmcore.certify.report import out_dir_problem

    assert out_dir_problem(tmp_path / "a" / "b") is None and list(tmp_path.iterdir()) == []  # created when written
    assert out_dir_problem(tmp_path) is None and list(tmp_path.iterdir()) == []  # the probe file is gone
    (tmp_path / "file").write_text("x")
    assert out_dir_problem(tmp_path / "file") == (
        f"{tmp_path / 'file'} exists and is not a directory; name a directory (it is created if missing)")
    assert out_dir_problem(tmp_path / "file" / "sub") == (
        f"{tmp_path / 'file' / 'sub'} cannot be created ({tmp_path / 'file'} is not a directory); "
        "name a writable directory")
    assert out_dir_problem(Path("/dev/null")).startswith("/dev/null exists and is not a directory")
    # /proc is a directory nobody can create files in (even root): the probe, not the mode bits, finds out.
    assert out_dir_problem(Path("/proc")).startswith("/proc is not writable (")
    assert out_dir_problem(Path("/proc/llmcore-nope")).startswith("/proc/llmcore-nope cannot be created (")
