"""Docs that drift are worse than none: operations.md must name every log event and metric."""
import re
from pathlib import Path

from llmcore.adapters.loguru_telemetry import EVENTS
from llmcore.adapters.prometheus_telemetry import PrometheusTelemetry

ROOT = Path(__file__).parents[2]
OPERATIONS = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")


def test_every_telemetry_event_is_documented_with_its_level():
    for event, doc in EVENTS.items():
        assert f"| `{event}` | {doc.level} |" in OPERATIONS, event


def test_every_event_the_entrypoints_log_is_documented():
    emitted = set()
    for path in (ROOT / "src" / "llmcore" / "entrypoints").glob("*.py"):
        emitted |= set(re.findall(r'event="([a-z_]+)"', path.read_text(encoding="utf-8")))
    assert emitted
    for event in emitted:
        assert f"| `{event}` |" in OPERATIONS, event


def test_every_metric_is_documented():
    text = PrometheusTelemetry().render().decode()
    names = {m.group(1) for m in re.finditer(r"^# TYPE (llmcore_\w+) ", text, re.M)}
    assert len(names) >= 11
    for name in names:
        assert f"`{name}`" in OPERATIONS, name
