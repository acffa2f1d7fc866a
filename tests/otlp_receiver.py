"""A test OTLP/HTTP trace receiver on 127.0.0.1: what a collector's ``otlp`` receiver takes on port 4318.

``POST /v1/traces`` with an ``ExportTraceServiceRequest`` in protobuf
(``application/x-protobuf``, gzip when the exporter compresses) is decoded with
the OpenTelemetry protobuf package and kept as :class:`ReceivedSpan` values; the
answer is an empty ``ExportTraceServiceResponse``, as the OTLP specification
says for a full success. The raw bodies are kept too, so a leak scan reads every
byte the proxy exported.

    with OtlpReceiver() as receiver:
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.endpoint
        ...
        spans = receiver.wait_for(lambda spans: len(spans) >= 3)
"""
from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from attrs import frozen
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

KINDS = {Span.SPAN_KIND_SERVER: "server", Span.SPAN_KIND_CLIENT: "client", Span.SPAN_KIND_INTERNAL: "internal",
         Span.SPAN_KIND_PRODUCER: "producer", Span.SPAN_KIND_CONSUMER: "consumer"}
STATUSES = {Status.STATUS_CODE_UNSET: "unset", Status.STATUS_CODE_OK: "ok", Status.STATUS_CODE_ERROR: "error"}


def value_of(value: AnyValue) -> Any:
    """An OTLP AnyValue as plain Python (arrays as tuples, as the SDK reports sequence attributes)."""
    field = value.WhichOneof("value")
    if field == "array_value":
        return tuple(value_of(v) for v in value.array_value.values)
    if field == "kvlist_value":
        return attributes_of(value.kvlist_value.values)
    return getattr(value, field) if field else None


def attributes_of(pairs: Any) -> dict[str, Any]:
    return {pair.key: value_of(pair.value) for pair in pairs if isinstance(pair, KeyValue)}


@frozen
class ReceivedSpan:
    """One exported span, decoded: ids in lower-case hex, as in a ``traceparent``."""

    name: str
    kind: str
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, Any]
    events: tuple[tuple[str, dict[str, Any]], ...]
    status: str
    status_message: str
    resource: dict[str, Any]
    scope: str

    def events_named(self, name: str) -> list[dict[str, Any]]:
        return [attributes for event, attributes in self.events if event == name]


def decode(body: bytes) -> list[ReceivedSpan]:
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    spans = []
    for resource_spans in request.resource_spans:
        resource = attributes_of(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(ReceivedSpan(
                    name=span.name, kind=KINDS.get(span.kind, str(span.kind)), trace_id=span.trace_id.hex(),
                    span_id=span.span_id.hex(), parent_span_id=span.parent_span_id.hex(),
                    attributes=attributes_of(span.attributes),
                    events=tuple((e.name, attributes_of(e.attributes)) for e in span.events),
                    status=STATUSES.get(span.status.code, str(span.status.code)), status_message=span.status.message,
                    resource=resource, scope=scope_spans.scope.name,
                ))
    return spans


class OtlpReceiver:
    """``POST /v1/traces`` on an ephemeral 127.0.0.1 port, in a daemon thread; a context manager."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.spans: list[ReceivedSpan] = []
        self.bodies: list[bytes] = []
        self.content_types: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path != "/v1/traces":
                    self.send_response(404)
                    self.end_headers()
                    return
                receiver._add(body, self.headers.get("Content-Type", ""))
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        """The base URL for ``OTEL_EXPORTER_OTLP_ENDPOINT`` (the exporter adds ``/v1/traces``)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def _add(self, body: bytes, content_type: str) -> None:
        decoded = decode(body)
        with self._lock:
            self.bodies.append(body)
            self.content_types.append(content_type)
            self.spans.extend(decoded)

    def received(self) -> list[ReceivedSpan]:
        with self._lock:
            return list(self.spans)

    def wait_for(self, done: Callable[[list[ReceivedSpan]], bool], timeout: float = 10.0) -> list[ReceivedSpan]:
        deadline = time.monotonic() + timeout
        while not done(spans := self.received()) and time.monotonic() < deadline:
            time.sleep(0.05)
        return spans

    def __enter__(self) -> OtlpReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
