"""The certification report: one JSON document per alias (``report.schema.json``) and the same content as Markdown.

Everything shown passes through :func:`masked` first: every configured key
(and the key made up for ``--upstream fake``) becomes its mask, and anything
key-shaped or a URL's userinfo is masked too (``domain.redaction``). Requests
are described by their params and sizes, never by their headers.

The document is not validated at run time: this module alone fixes its shape,
llmcore's tests validate every kind of run (passed, failed, stopped by the
budget) against the schema, and validating here would make ``jsonschema``
(today only LiteLLM's dependency and a dev tool) a runtime dependency.
"""
from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from llmcore.certify.results import AliasRun, CheckResult
from llmcore.domain.redaction import redact
from llmcore.domain.secret import Secret

SCHEMA_FILE = Path(__file__).with_name("report.schema.json")
SCHEMA_ID = "urn:llmcore:certify-report:1"  # the schema's $id: names the format, resolves to no server
REPORT_VERSION = 1
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def masked(value: Any, secrets: Iterable[Secret | str]) -> Any:
    """``value`` (JSON-shaped) with every string redacted: known secrets and key-shaped text masked."""
    known = list(secrets)
    if isinstance(value, str):
        return redact(value, known)
    if isinstance(value, Mapping):
        return {str(k): masked(v, known) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [masked(v, known) for v in value]
    return value


def _check_document(check: CheckResult) -> dict[str, Any]:
    verdict = check.verdict
    return {
        "id": check.id, "number": check.number, "title": check.title, "status": check.status,
        "reason": verdict.reason, "summary": verdict.summary, "requests": check.requests,
        "latency_ms": check.latency_ms, "ttfb_ms": check.ttfb_ms,
        "tokens": {"prompt": check.tokens.prompt, "completion": check.tokens.completion,
                   "reasoning": check.tokens.reasoning, "total": check.tokens.total},
        "cost_usd": check.cost_usd, "cost_sources": list(check.cost_sources), "estimate_usd": check.estimate_usd,
        "findings": list(verdict.findings), "evidence": dict(verdict.evidence),
    }


def document(run: AliasRun, secrets: Iterable[Secret | str] = ()) -> dict[str, Any]:
    """The JSON report of one alias, masked; it validates against ``report.schema.json``."""
    target = run.target
    counts = {status: sum(1 for c in run.checks if c.status == status) for status in ("passed", "failed", "skipped")}
    findings = [f"check {c.number} ({c.id}): {finding}" for c in run.checks for finding in c.verdict.findings]
    doc: dict[str, Any] = masked({
        "$schema": SCHEMA_ID,
        "report_version": REPORT_VERSION,
        "result": "passed" if run.passed else "failed",
        "alias": target.alias,
        "model": target.upstream_model,
        "served_models": list(run.served_models),
        "provider": target.provider,
        "upstream": target.upstream,
        "base_url": target.base_url,
        "base_url_host": target.base_url_host,
        "config_source": target.config_source,
        "lifecycle": dict(target.lifecycle),
        "prices_per_million_usd": dict(target.prices_per_million),
        "versions": {"llmcore": target.llmcore_version, "litellm": target.litellm_version},
        "started_at": run.started_at.isoformat().replace("+00:00", "Z"),
        "finished_at": run.finished_at.isoformat().replace("+00:00", "Z"),
        "budget": {"limit_usd": run.budget_limit_usd, "spent_usd": run.spent_usd,
                   "stopped": run.stopped_by_budget},
        "counts": counts,
        "findings": findings,
        "checks": [_check_document(c) for c in run.checks],
    }, secrets)
    return doc


def _money(value: float | None) -> str:
    return "-" if value is None else f"${value:.6f}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _fence(text: str) -> str:
    """A code fence longer than any run of backticks in ``text`` (a model's answer may hold a fence of its own)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def markdown(doc: Mapping[str, Any]) -> str:
    """The report for humans: the same content as the JSON document (which it is rendered from)."""
    lines = [
        f"# llmcore certify: {doc['alias']} — {doc['result'].upper()}", "",
        "| | |", "|---|---|",
        f"| Alias | `{doc['alias']}` |",
        f"| Configured model | `{doc['model']}` |",
        f"| Served by | {', '.join(f'`{m}`' for m in doc['served_models']) or '-'} |",
        f"| Provider | {doc['provider']} |",
        f"| Upstream | {doc['upstream']} — {doc['base_url'] or '-'} (host `{doc['base_url_host'] or '-'}`) |",
        f"| Config | {_cell(doc['config_source'])} |",
        f"| Lifecycle | {_cell(json.dumps(doc['lifecycle']))} |",
        f"| Prices (USD per 1M tokens) | {_cell(json.dumps(doc['prices_per_million_usd']))} |",
        f"| Versions | llmcore {doc['versions']['llmcore']}, LiteLLM {doc['versions']['litellm'] or '-'} |",
        f"| Ran (UTC) | {doc['started_at']} → {doc['finished_at']} |",
        f"| Budget | {_money(doc['budget']['spent_usd'])} spent of {_money(doc['budget']['limit_usd'])} |",
        f"| Checks | {doc['counts']['passed']} passed, {doc['counts']['failed']} failed, "
        f"{doc['counts']['skipped']} skipped |", "",
    ]
    if doc["budget"]["stopped"]:
        lines += [f"**Stopped by the budget:** {_cell(doc['budget']['stopped'])}", ""]
    if doc["findings"]:
        lines += ["## Findings", "", *[f"- {_cell(f)}" for f in doc["findings"]], ""]
    lines += ["## Checks", "",
              "| # | Check | Status | Latency | TTFB | Tokens (prompt/completion/reasoning/total) | Cost | Estimate |",
              "|---|---|---|---|---|---|---|---|"]
    for check in doc["checks"]:
        tokens = check["tokens"]
        lines.append(
            f"| {check['number']} | {check['title']} (`{check['id']}`) | {check['status'].upper()} | "
            f"{_ms(check['latency_ms'])} | {_ms(check['ttfb_ms'])} | {tokens['prompt']}/{tokens['completion']}/"
            f"{tokens['reasoning']}/{tokens['total']} | {_money(check['cost_usd'])} | "
            f"{_money(check['estimate_usd'])} |")
    for check in doc["checks"]:
        lines += ["", f"### {check['number']}. {check['title']}: {check['status'].upper()}", "",
                  f"{_cell(check['summary'])}", ""]
        if check["reason"] and check["status"] != "passed":
            lines += [f"**Why:** {_cell(check['reason'])}", ""]
        lines += [f"- Requests: {check['requests']}; cost from: {', '.join(check['cost_sources']) or '-'}"]
        lines += [f"- Finding: {_cell(f)}" for f in check["findings"]]
        if check["evidence"]:
            evidence = json.dumps(check["evidence"], indent=2, ensure_ascii=False)
            fence = _fence(evidence)
            lines += ["", "Evidence:", "", f"{fence}json", evidence, fence]
    return "\n".join(lines) + "\n"


def terminal_lines(doc: Mapping[str, Any]) -> list[str]:
    """A few lines for the terminal: one per check, the findings, the verdict."""
    lines = [f"certify {doc['alias']}: {doc['model']} at {doc['base_url_host'] or '-'} ({doc['upstream']} upstream), "
             f"budget {_money(doc['budget']['limit_usd'])}"]
    for check in doc["checks"]:
        said = check["reason"] if check["status"] != "passed" else check["summary"]
        lines.append(f"  {check['number']} {check['id']:<15} {check['status'].upper():<7} "
                     f"{_ms(check['latency_ms']):>8}  {_money(check['cost_usd'])}  {' '.join(str(said).split())}")
    lines += [f"  finding: {finding}" for finding in doc["findings"]]
    if doc["budget"]["stopped"]:
        lines.append(f"  {doc['budget']['stopped']}")
    counts = doc["counts"]
    lines.append(f"result: {doc['result'].upper()} ({counts['passed']} passed, {counts['failed']} failed, "
                 f"{counts['skipped']} skipped), spent {_money(doc['budget']['spent_usd'])} of "
                 f"{_money(doc['budget']['limit_usd'])}")
    return lines


def report_paths(doc: Mapping[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """``certify-<alias>-<UTC time>.json`` and ``.md`` in ``out_dir`` (the alias made safe for a file name)."""
    alias = _UNSAFE.sub("_", str(doc["alias"])).strip("._") or "alias"
    stamp = str(doc["started_at"]).replace("-", "").replace(":", "").split(".")[0].rstrip("Z") + "Z"
    stem = f"certify-{alias}-{stamp}"  # not Path.with_suffix: an alias like grok-4.3 has a dot of its own
    return out_dir / f"{stem}.json", out_dir / f"{stem}.md"


def out_dir_problem(out_dir: Path) -> str | None:
    """What keeps ``out_dir`` from taking the reports, or None; nothing is left behind.

    Run before the first (paid) request, so an unusable ``--out`` (``/dev/null``, ``/proc/x``,
    a read-only mount) costs nothing. A missing directory is judged by its nearest existing
    ancestor (``write_reports`` creates it); a directory is proved writable by creating and
    removing a probe file, which the mode bits alone cannot tell (root, read-only mounts, /proc).
    """
    missing = not out_dir.exists()
    existing = next((p for p in (out_dir, *out_dir.absolute().parents) if p.exists()), Path("/"))
    if not existing.is_dir():
        if existing == out_dir:
            return f"{out_dir} exists and is not a directory; name a directory (it is created if missing)"
        return f"{out_dir} cannot be created ({existing} is not a directory); name a writable directory"
    try:
        with tempfile.TemporaryFile(dir=existing, prefix=".certify-probe-"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        if missing:
            return f"{out_dir} cannot be created ({reason} in {existing}); name a writable directory"
        return f"{out_dir} is not writable ({reason}); name a writable directory"
    return None


def write_reports(doc: Mapping[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """Write both reports (creating ``out_dir``); returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = report_paths(doc, out_dir)
    json_path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    md_path.write_text(markdown(doc), encoding="utf-8")
    return json_path, md_path
