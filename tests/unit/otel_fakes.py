"""A tracer provider of a test's own, recording finished spans in memory (the SDK's InMemorySpanExporter).

The global tracer provider can be set once per process, so unit tests never set it:
they hand ``LocalTracer`` to the adapters that take a tracer, and make their host span
current with ``trace.use_span`` (the current span is the API's, whoever made it).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from llmcore.adapters.otel_tracer import HostTracer


class LocalTracer(HostTracer):
    """A HostTracer that answers with a tracer of its own provider, whatever the global one is."""

    def __init__(self) -> None:
        super().__init__()
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider()
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.tracer = self.provider.get_tracer("test")

    def get(self) -> Any:
        return self.provider.get_tracer("llmcore")

    def spans(self, kind: SpanKind | None = None) -> list[ReadableSpan]:
        return [s for s in self.exporter.get_finished_spans() if kind is None or s.kind == kind]

    def clients(self) -> list[ReadableSpan]:
        return self.spans(SpanKind.CLIENT)


def events(span: ReadableSpan, name: str | None = None) -> list[dict[str, Any]]:
    return [dict(e.attributes or {}) for e in span.events if name is None or e.name == name]


def event_names(span: ReadableSpan) -> Sequence[str]:
    return [e.name for e in span.events]
