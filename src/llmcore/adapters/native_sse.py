"""Reading ``text/event-stream`` bodies as the SSE standard says, incrementally, from bytes.

The standard is WHATWG HTML, "9.2.6 Interpreting an event stream"
(html.spec.whatwg.org/multipage/server-sent-events.html): lines end with CRLF,
LF or CR; a line starting with ``:`` is a comment; ``data``, ``event``, ``id``
and ``retry`` are fields, the value after one optional space; a blank line
dispatches the event, and a block with no ``data`` field dispatches nothing
(it only resets the event type). A leading UTF-8 BOM is skipped; an event not
closed by a blank line when the body ends is discarded.

Why our own decoder: the native adapter reads bodies from two HTTP clients
(aiohttp async, httpx sync) and needs one reader that behaves the same under
both. ``httpx-sse`` reads httpx responses only; ``aiohttp-sse-client`` is a
reconnecting EventSource client (last release 2021), not a parser; the OpenAI
SDK's decoder dispatches empty events for ``retry:``/``id:`` blocks
(openai/openai-python#2722, see litellm_stream). This one is ~80 lines,
tested against every form in tests/sse_forms.py and byte-by-byte splits.
"""
from __future__ import annotations

from attrs import frozen

_BOM = b"\xef\xbb\xbf"


@frozen
class ServerSentEvent:
    """One dispatched event: ``event`` (``message`` when none was named), its ``data`` lines joined by ``\\n``,
    and the last event id seen so far (``""`` when none)."""

    data: str
    event: str = "message"
    id: str = ""


class SSEDecoder:
    """Feed it the body's bytes as they arrive (any split); it returns the events each feed completes.

    ``retry`` holds the last valid ``retry:`` value (milliseconds), ``last_event_id`` the last ``id:``.
    Not thread-safe: one decoder per stream.
    """

    def __init__(self) -> None:
        self._buffer = b""
        self._started = False
        self._skip_lf = False  # the previous feed ended with CR: a LF starting this one ends no new line
        self._data: list[bytes] = []
        self._event = ""
        self.last_event_id = ""
        self.retry: int | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """The events completed by ``chunk`` (possibly none), oldest first."""
        if not self._started and chunk:
            self._started = True
            chunk = chunk.removeprefix(_BOM)
        if self._skip_lf and chunk:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        text = self._buffer + chunk if self._buffer else chunk
        if b"\r" in text:
            # A CR ends a line even when its LF arrives with the next feed (then that LF is skipped).
            self._skip_lf = text.endswith(b"\r")
            text = text.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = text.split(b"\n")
        self._buffer = lines.pop()
        events: list[ServerSentEvent] = []
        for line in lines:
            if line:
                self._field(line)
            elif self._data:
                events.append(self._dispatch())
            else:
                self._event = ""  # a block without data: nothing to dispatch, the event type resets
        return events

    def _field(self, line: bytes) -> None:
        if line[:1] == b":":
            return  # a comment (keep-alive, ping)
        name, _, value = line.partition(b":")
        if value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._data.append(value)
        elif name == b"event":
            self._event = value.decode("utf-8", "replace")
        elif name == b"id":
            if b"\0" not in value:
                self.last_event_id = value.decode("utf-8", "replace")
        elif name == b"retry":
            if value.isdigit():
                self.retry = int(value)
        # Any other field name is ignored, as the standard says.

    def _dispatch(self) -> ServerSentEvent:
        data = b"\n".join(self._data).decode("utf-8", "replace")
        event = ServerSentEvent(data=data, event=self._event or "message", id=self.last_event_id)
        self._data = []
        self._event = ""
        return event
