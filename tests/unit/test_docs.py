"""Docs that drift are worse than none: operations.md must name every log event and metric, grok.md the faults."""
import re
from pathlib import Path
from typing import Any

from llmcore import errors
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


# --- docs/grok.md's fault tables, read against the code ---------------------------------------------

GROK_DOC = (ROOT / "docs" / "grok.md").read_text(encoding="utf-8")


def table(header: str) -> list[list[str]]:
    """The rows (cells stripped) of the markdown table whose header line starts with ``header``."""
    lines = GROK_DOC[GROK_DOC.index(header):].splitlines()
    rows = []
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def xai_translation() -> Any:
    from llmcore.adapters.litellm_errors import Translation
    from llmcore.domain.model_spec import Credentials, ModelSpec
    from llmcore.domain.secret import Secret

    spec = ModelSpec(alias="grok-code-fast-1", upstream_model="grok-code-fast-1", provider="xai",
                     credentials=Credentials(api_key=Secret("docs-test-key"), base_url="http://127.0.0.1:9/v1"))
    return Translation(spec)


def upstream_status_error(status: int, text: str) -> BaseException:
    import httpx
    import openai

    response = httpx.Response(status, text=text, request=httpx.Request("POST", "http://127.0.0.1:9/v1/x"))
    return openai.APIStatusError(f"Error code: {status}", response=response, body=None)


def test_the_fault_table_in_grok_md_is_what_the_code_does():
    from llmcore.adapters.litellm_errors import translate
    from llmcore.entrypoints.openai_wire import error_kind

    rows = table("| xAI answers | llmcore raises | retried | proxy status |")
    assert len(rows) >= 7
    seen = set()
    for answers, raises, retried, proxy in rows:
        error_class = getattr(errors, re.match(r"`(\w+)`", raises).group(1))
        quoted = re.findall(r'"([^"]+)"', answers)
        text = '{"code": "x", "error": "%s"}' % (quoted[0] if quoted else "the upstream's words")
        statuses = [int(s) for s in re.findall(r"\b([1-5]\d\d)\b", re.sub(r"\([^)]*\)", "", answers))]
        assert statuses, answers
        for status in statuses:
            translated = translate(upstream_status_error(status, text), xai_translation())
            assert type(translated) is error_class, (answers, status, type(translated))
            seen.add(status)
        assert error_class.retryable == retried.startswith("yes"), raises
        kind = error_kind(error_class.__new__(error_class))
        status, code = re.match(r"(\d{3}) `(\w+)`", proxy).groups()
        assert (int(status), code) == (kind.status, kind.code), raises
    assert {408, 409, 425, 429, 500, 502, 503, 504, 529} <= seen


def test_the_proxy_status_table_in_grok_md_is_the_error_table():
    from llmcore.entrypoints.openai_wire import ERROR_TABLE

    rows = table("| llmcore error | status | type | code |")
    documented = [(name.strip("`"), int(status), kind.strip("`"), code.strip("`")) for name, status, kind, code in rows]
    assert documented == [(cls.__name__, k.status, k.type, k.code) for cls, k in ERROR_TABLE]
