"""The native adapter's SSE decoder reads every legal event stream, however the bytes are split."""
from __future__ import annotations

import json

import pytest

from llmcore.adapters.native_sse import ServerSentEvent, SSEDecoder
from tests.sse_forms import EVENTS, SSE_FORMS


def decode(body: bytes, split: int | None = None) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    if split is None:
        return decoder.feed(body)
    return [event for start in range(0, len(body), split) for event in decoder.feed(body[start:start + split])]


@pytest.mark.parametrize("form", sorted(SSE_FORMS))
@pytest.mark.parametrize("split", [None, 1, 2, 7])
def test_every_legal_form_yields_the_same_three_events(form: str, split: int | None) -> None:
    events = decode(SSE_FORMS[form].encode(), split)
    assert [json.loads(e.data) if e.data != "[DONE]" else e.data for e in events] == [
        json.loads(EVENTS[0]), json.loads(EVENTS[1]), "[DONE]"]


def test_a_block_with_only_control_fields_dispatches_nothing() -> None:
    assert decode(b"retry: 3000\n\nevent: ping\n\nid: 7\n\n: comment\n\n") == []


def test_fields_set_decoder_state() -> None:
    decoder = SSEDecoder()
    events = decoder.feed(b"retry: 3000\nid: 42\nevent: update\ndata: a\ndata:b\n\nretry: soon\n\n")
    assert events == [ServerSentEvent(data="a\nb", event="update", id="42")]
    assert decoder.retry == 3000 and decoder.last_event_id == "42"  # a non-numeric retry is ignored


def test_an_id_with_a_null_is_ignored_and_the_event_type_resets() -> None:
    events = decode(b"id: 1\nevent: x\ndata: a\n\nid: 2\x003\ndata: b\n\n")
    assert events == [ServerSentEvent(data="a", event="x", id="1"), ServerSentEvent(data="b", id="1")]


def test_a_bom_is_skipped_and_an_unterminated_event_is_discarded() -> None:
    assert decode(b"\xef\xbb\xbfdata: a\n\ndata: b\n") == [ServerSentEvent(data="a")]


def test_a_cr_split_from_its_lf_ends_one_line_only() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\n\r\n") == [ServerSentEvent(data="a")]


def test_a_field_without_a_colon_is_a_name_with_an_empty_value() -> None:
    assert decode(b"data\n\n") == [ServerSentEvent(data="")]
