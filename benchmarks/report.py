"""Medians over rounds, the issue-7 targets judged met / not met, and the Markdown tables."""
from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from typing import Any

TARGET_LABELS = {
    "direct": "direct to the fake xAI upstream",
    "llmcore": "llmcore (litellm)",
    "llmcore_native": "llmcore (native)",
    "litellm_proxy": "LiteLLM proxy 1.110.2",
    "inprocess": "`litellm.acompletion` in one process",
}
SCENARIO_KEYS = ("nonstream_c1", "nonstream_c32", "stream_c1", "stream_c32")
MEDIAN_FIELDS = ("rps", "p50_ms", "p90_ms", "p99_ms", "ttfb_p50_ms", "ttfb_p90_ms", "server_cpu_ms_per_request")
START_FIELDS = ("ready_s", "first_completion_s", "import_s", "rss_ready_mb", "rss_idle_mb", "rss_after_load_mb")
MODELS_LIST_LIMIT_S = 0.5
READY_LIMIT_S = 4.0


def median_or_none(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 3) if present else None


def aggregate(rounds: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per target: the median of each figure over the rounds, errors summed."""
    targets: dict[str, Any] = {}
    for round_ in rounds:
        for target, figures in round_.items():
            targets.setdefault(target, []).append(figures)
    out: dict[str, Any] = {}
    for target, runs in targets.items():
        entry: dict[str, Any] = {"rounds": len(runs)}
        for field in START_FIELDS:
            entry[field] = median_or_none(run.get("start", {}).get(field) for run in runs)
        for scenario in SCENARIO_KEYS:
            measured = [run["scenarios"][scenario] for run in runs if scenario in run.get("scenarios", {})]
            if not measured:
                continue
            summary = {field: median_or_none(m.get(field) for m in measured) for field in MEDIAN_FIELDS}
            summary["errors"] = sum(m.get("errors", 0) for m in measured)
            summary["requests_ok"] = sum(m.get("requests_ok", 0) for m in measured)
            summary["foreign_cpu_s"] = round(sum(m.get("foreign_cpu_s", 0.0) for m in measured), 2)
            entry[scenario] = summary
        out[target] = entry
    return out


def _get(medians: dict[str, Any], target: str, scenario: str, field: str) -> float | None:
    return medians.get(target, {}).get(scenario, {}).get(field)


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def added_p50(medians: dict[str, Any], target: str, scenario: str = "nonstream_c1") -> float | None:
    mine, direct = _get(medians, target, scenario, "p50_ms"), _get(medians, "direct", scenario, "p50_ms")
    return None if mine is None or direct is None else round(mine - direct, 3)


def verdicts(medians: dict[str, Any], library: dict[str, Any] | None, cli: dict[str, Any] | None,
             litellm_missing: str | None) -> list[dict[str, Any]]:
    """One row per issue-7 target: what is required, what was measured, met or not."""
    rows: list[dict[str, Any]] = []
    missing = f"n/a: LiteLLM proxy not measured ({litellm_missing})" if litellm_missing else None

    def against_proxy(name: str, measured: float | None, limit: float, higher_is_better: bool, unit: str) -> None:
        if missing:
            rows.append({"target": name, "required": unit, "measured": missing, "met": None})
            return
        if measured is None:
            rows.append({"target": name, "required": unit, "measured": "no data", "met": False})
            return
        met = measured >= limit if higher_is_better else measured <= limit
        rows.append({"target": name, "required": unit, "measured": f"{measured:.2f}×", "met": met, "value": measured})

    against_proxy("non-stream c=32 RPS vs LiteLLM proxy",
                  _ratio(_get(medians, "llmcore", "nonstream_c32", "rps"),
                         _get(medians, "litellm_proxy", "nonstream_c32", "rps")), 3.0, True, "≥ 3×")
    against_proxy("stream c=32 RPS vs LiteLLM proxy",
                  _ratio(_get(medians, "llmcore", "stream_c32", "rps"),
                         _get(medians, "litellm_proxy", "stream_c32", "rps")), 2.0, True, "≥ 2×")
    against_proxy("added p50 latency at c=1 (non-stream) vs LiteLLM proxy's",
                  _ratio(added_p50(medians, "llmcore"), added_p50(medians, "litellm_proxy")), 1 / 3, False, "≤ 1/3")
    against_proxy("RSS after load vs LiteLLM proxy",
                  _ratio(medians.get("llmcore", {}).get("rss_after_load_mb"),
                         medians.get("litellm_proxy", {}).get("rss_after_load_mb")), 0.6, False, "≤ 0.6×")
    for field, name in (("ready_s", "time to ready (spawn → GET /health 200)"),
                        ("first_completion_s", "time to first answer (spawn → first 200 chat completion)")):
        ready = medians.get("llmcore", {}).get(field)
        rows.append({"target": name, "required": f"≤ {READY_LIMIT_S:g} s",
                     "measured": "no data" if ready is None else f"{ready:.2f} s",
                     "met": ready is not None and ready <= READY_LIMIT_S, "value": ready})
    rows += native_verdicts(medians, missing)
    if library:
        for pair, row in library.get("pairs", {}).items():
            rows.append({"target": f"{row['what']} (CPU)", "required": f"≤ {library['target']}",
                         "measured": f"{row['cpu_ratio']:.3f} (wall {row['wall_ratio']:.3f})", "met": row["met"],
                         "value": row["cpu_ratio"]})
    else:
        rows.append({"target": "core.complete() / litellm.completion()", "required": "≤ 1.02",
                     "measured": "not run", "met": None})
    models_list = (cli or {}).get("llmcore models list", {}).get("median_s")
    rows.append({"target": "`llmcore models list` wall time", "required": f"≤ {MODELS_LIST_LIMIT_S} s",
                 "measured": "not run" if models_list is None else f"{models_list:.3f} s",
                 "met": None if models_list is None else models_list <= MODELS_LIST_LIMIT_S, "value": models_list})
    return rows


NATIVE_SPAWN_LIMIT_S = 1.0
NATIVE_CPU_FLOOR_RATIO = 3.0


def native_verdicts(medians: dict[str, Any], missing: str | None) -> list[dict[str, Any]]:
    """The issue-16 targets of the llmcore (native) column: ratios to the LiteLLM proxy, and to the fake upstream."""
    native = medians.get("llmcore_native")
    if not native:
        return []
    rows: list[dict[str, Any]] = []

    def row(name: str, measured: float | None, limit: float, higher_is_better: bool, required: str,
            unit: str = "×", needs_proxy: bool = True) -> None:
        if needs_proxy and missing:
            rows.append({"target": name, "required": required, "measured": missing, "met": None})
            return
        if measured is None:
            rows.append({"target": name, "required": required, "measured": "no data", "met": False})
            return
        met = measured >= limit if higher_is_better else measured <= limit
        shown = f"{measured:.2f}{unit}" if unit == "×" else f"{measured:.2f} {unit}"
        rows.append({"target": name, "required": required, "measured": shown, "met": met, "value": measured})

    for scenario, what in (("nonstream_c32", "non-stream"), ("stream_c32", "stream")):
        row(f"native: {what} c=32 RPS vs LiteLLM proxy",
            _ratio(_get(medians, "llmcore_native", scenario, "rps"), _get(medians, "litellm_proxy", scenario, "rps")),
            10.0, True, "≥ 10×")
    row("native: added p50 at c=1 (non-stream) vs LiteLLM proxy's",
        _ratio(added_p50(medians, "llmcore_native"), added_p50(medians, "litellm_proxy")), 0.1, False, "≤ 0.1×")
    row("native: RSS after load vs LiteLLM proxy",
        _ratio(native.get("rss_after_load_mb"), medians.get("litellm_proxy", {}).get("rss_after_load_mb")),
        0.25, False, "≤ 0.25×")
    row("native: spawn to first answered completion", native.get("first_completion_s"), NATIVE_SPAWN_LIMIT_S,
        False, f"≤ {NATIVE_SPAWN_LIMIT_S:g} s", unit="s", needs_proxy=False)
    for scenario, what in (("nonstream_c32", "non-stream"), ("stream_c32", "stream")):
        row(f"native: server CPU per {what} request vs the fake upstream's own",
            _ratio(_get(medians, "llmcore_native", scenario, "server_cpu_ms_per_request"),
                   _get(medians, "direct", scenario, "server_cpu_ms_per_request")),
            NATIVE_CPU_FLOOR_RATIO, False, f"≤ {NATIVE_CPU_FLOOR_RATIO:g}×", needs_proxy=False)
    return rows


def _fmt(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def main_table(medians: dict[str, Any], unavailable: dict[str, str]) -> str:
    lines = [
        "| target | non-stream c=1 RPS / p50 ms | added p50 ms | non-stream c=32 RPS (p50 / p99 ms) "
        "| stream c=1 p50 ms (TTFB) | stream c=32 RPS (p50 / p99 ms) | server CPU ms/request (non-stream / stream) "
        "| time to ready s (first answer) | RSS MB idle / after load | errors |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for target, label in TARGET_LABELS.items():
        if target in unavailable:
            lines.append(f"| {label} | not measured: {unavailable[target]} |" + " |" * 8)
            continue
        entry = medians.get(target)
        if entry is None:
            continue

        def get(scenario: str, field: str) -> float | None:
            return entry.get(scenario, {}).get(field)

        errors = sum(entry.get(s, {}).get("errors", 0) for s in SCENARIO_KEYS)
        ready = entry.get("ready_s")
        if target == "inprocess":
            ready_text = f"import {_fmt(entry.get('import_s'), 2)}"
        elif target == "direct":
            ready_text = "—"
        else:
            ready_text = f"{_fmt(ready, 2)} ({_fmt(entry.get('first_completion_s'), 2)})"
        rss = "—" if target == "direct" and entry.get("rss_after_load_mb") is None else (
            f"{_fmt(entry.get('rss_idle_mb'), 0)} / {_fmt(entry.get('rss_after_load_mb'), 0)}")
        added = "—" if target == "direct" else _fmt(added_p50(medians, target), 2)
        lines.append(
            f"| {label} | {_fmt(get('nonstream_c1', 'rps'), 0)} / {_fmt(get('nonstream_c1', 'p50_ms'), 2)} "
            f"| {added} | {_fmt(get('nonstream_c32', 'rps'), 0)} ({_fmt(get('nonstream_c32', 'p50_ms'), 1)} / "
            f"{_fmt(get('nonstream_c32', 'p99_ms'), 1)}) "
            f"| {_fmt(get('stream_c1', 'p50_ms'), 2)} ({_fmt(get('stream_c1', 'ttfb_p50_ms'), 2)}) "
            f"| {_fmt(get('stream_c32', 'rps'), 0)} ({_fmt(get('stream_c32', 'p50_ms'), 1)} / "
            f"{_fmt(get('stream_c32', 'p99_ms'), 1)}) "
            f"| {_fmt(get('nonstream_c32', 'server_cpu_ms_per_request'), 2)} / "
            f"{_fmt(get('stream_c32', 'server_cpu_ms_per_request'), 2)} "
            f"| {ready_text} | {rss} | {errors} |")
    return "\n".join(lines)


def interference(result: dict[str, Any]) -> str:
    """How much CPU processes not started by the benchmark used while it measured (other users' tests)."""
    per_measurement = [summary.get("foreign_cpu_s", 0.0) for round_ in result["rounds"] for target in round_.values()
                       for summary in target.get("scenarios", {}).values()]
    if not per_measurement:
        return "Interference: not measured."
    elapsed = sum(summary.get("elapsed_s", 0.0) for round_ in result["rounds"] for target in round_.values()
                  for summary in target.get("scenarios", {}).values())
    return (f"Interference: other processes on the machine used {sum(per_measurement):.1f} CPU-seconds during "
            f"{elapsed:.0f} s of measurements (at most {max(per_measurement):.1f} s in one measurement); "
            "figures from a busy machine are lower than a quiet machine's.")


def verdict_table(rows: list[dict[str, Any]]) -> str:
    lines = ["| target (issues 7 and 16) | required | measured | verdict |", "|---|---|---|---|"]
    for row in rows:
        verdict = {True: "**met**", False: "**not met**", None: "—"}[row["met"]]
        lines.append(f"| {row['target']} | {row['required']} | {row['measured']} | {verdict} |")
    return "\n".join(lines)


def cli_table(cli: dict[str, Any]) -> str:
    lines = ["| command | median wall s (5 runs) | runs s |", "|---|---|---|"]
    for name, figures in cli.items():
        failed = f" (failed: {figures['failed']})" if figures.get("failed") else ""
        runs = ", ".join(f"{v:.3f}" for v in figures["runs_s"])
        lines.append(f"| `{name}` | {figures['median_s']:.3f}{failed} | {runs} |")
    return "\n".join(lines)


def markdown(result: dict[str, Any]) -> str:
    from benchmarks.bench_library import render as library_table

    parts = [
        f"## Benchmark run {result['started']} (llmcore {result.get('revision', 'unknown')})",
        "",
        f"Machine: {result['machine']['summary']}. {result['settings']['pinning']}. "
        f"{result['settings']['rounds']} rounds, targets interleaved; medians. "
        f"Requests per measurement: {result['settings']['requests']}, time cap {result['settings']['time_cap_s']} s.",
        "",
        main_table(result["medians"], result["unavailable"]),
        "",
        interference(result),
        "",
        verdict_table(result["verdicts"]),
    ]
    if result.get("library"):
        parts += ["", "Library overhead (`python -m benchmarks.bench_library`, "
                  f"{result['library']['batches']} batches × {result['library']['calls_per_batch']} calls, "
                  f"streams × {result['library']['stream_calls_per_batch']}):", "",
                  library_table(result["library"]["pairs"])]
    elif result.get("library_error"):
        parts += ["", f"Library overhead: not measured ({result['library_error']})."]
    if result.get("cli"):
        parts += ["", cli_table(result["cli"])]
    if result.get("soak"):
        from benchmarks.soak import render as soak_table

        parts += ["", soak_table(result["soak"])]
    return "\n".join(parts) + "\n"
