"""docs/observability.md names every span attribute and event llmcore emits (docs that drift are worse than none)."""
from __future__ import annotations

import re
from pathlib import Path

from llmcore.adapters import otel_semconv

ROOT = Path(__file__).parents[2]
DOC = (ROOT / "docs" / "observability.md").read_text(encoding="utf-8")
SOURCES = [ROOT / "src" / "llmcore" / "adapters" / name for name in ("otel_completion.py", "otel_telemetry.py")]
SOURCES.append(ROOT / "src" / "llmcore" / "entrypoints" / "proxy_tracing.py")


def emitted_names() -> set[str]:
    names = {value for name, value in vars(otel_semconv).items()
             if name.isupper() and isinstance(value, str) and re.fullmatch(r"[a-z_]+(\.[a-z_]+)+", value)}
    for source in SOURCES:
        names |= set(re.findall(r'"(llmcore\.[a-z_.]+)"', source.read_text(encoding="utf-8")))
    return names


def test_every_span_attribute_and_event_is_documented() -> None:
    names = emitted_names()
    assert {"gen_ai.provider.name", "llmcore.request.end", "llmcore.stream.end", "http.route"} <= names
    missing = sorted(n for n in names if f"`{n}`" not in DOC)
    assert not missing, f"not in docs/observability.md: {missing}"


def test_every_provider_value_is_documented() -> None:
    for value in set(otel_semconv._PROVIDER_NAMES.values()):
        assert f"`{value}`" in DOC, value
