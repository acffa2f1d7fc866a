"""The values the native adapter keeps and LiteLLM loses, each with its reason; everything else must be equal.

``assert_same`` compares two records of one case after reconciling exactly these differences, and
checks that each difference is really the documented one (never a silent pass):

1. **Stream cost from xAI's ticks.** xAI's usage chunk carries ``cost_in_usd_ticks``; the native
   adapter keeps it (``cost_source == "upstream"``, exact), while LiteLLM's stream drops it and the
   cost is computed from the configured prices (Decision 11: ``cost_source == "prices"``).
2. **The words of a failure that has no HTTP answer.** A refused or dropped connection, a timeout
   or a body cut mid-stream has no upstream text; each adapter keeps its HTTP client's own
   description in ``upstream_text`` (native: ``RemoteProtocolError: Server disconnected without
   sending a response.``; LiteLLM: ``litellm.InternalServerError: ... Connection error.``). The
   class, status (none), retry decision and stream reason are compared and equal.
3. **The words of a 200 answer that is no chat completion.** LiteLLM refuses most such bodies
   itself (``convert_to_model_response_object``: "Invalid response object", "provider returned a
   response with no 'choices'") and its text quotes its own traceback; the native adapter names the
   field at fault (``answer_checks``). Class (UpstreamUnavailableError), status (200) and the retry
   decision are compared and equal.
"""
from __future__ import annotations

import re
from typing import Any

from tests.differential.pair import Case, Record, evolve_usage

KNOWN_DIFFERENCES = {
    "stream cost source": "native keeps the usage chunk's cost_in_usd_ticks; LiteLLM's stream drops it (Decision 11)",
    "transport failure text": "no HTTP answer, so no upstream text: each adapter quotes its HTTP client's own words",
    "unreadable answer text": "LiteLLM quotes its own conversion traceback; native names the field at fault",
}
UNREADABLE_TEXT = "<each adapter's description of a 200 answer that is no chat completion>"
# LiteLLM's own words for such an answer (the adapter's litellm_errors.UNREADABLE_ANSWER_MARKERS).
_LITELLM_UNREADABLE = ("Invalid response object", "provider returned a response with no 'choices'",
                       "provider returned 'choices' that is not a list")
TRANSPORT_TEXT = "<the HTTP client's description of a failure without an answer>"
_SAID = re.compile(r" upstream said: .* - ", re.DOTALL)  # greedy: up to the hint, the last " - "


def _stream_usage(record: Record) -> Any:
    return record.state.get("usage")


def reconcile(litellm: Record, native: Record) -> None:
    """Make the documented differences equal, after checking each is what this module says it is."""
    ours, theirs = _stream_usage(native), _stream_usage(litellm)
    if ours is not None and theirs is not None and ours.cost_source == "upstream":
        assert theirs.cost_source in ("prices", "none"), "LiteLLM kept the ticks: the difference is gone"
        evolve_usage(native, cost_usd=theirs.cost_usd, cost_source=theirs.cost_source)


def _without_unreadable_text(litellm: Record, native: Record) -> None:
    """Both adapters refused a 200 answer LiteLLM could not read: compare all but the words."""
    theirs, ours = litellm.error, native.error
    if not (isinstance(theirs, tuple) and isinstance(ours, tuple) and theirs[:4] == ours[:4]
            and theirs[:2] == ("UpstreamUnavailableError", 200)):
        return
    assert any(marker in str(theirs[4]) for marker in _LITELLM_UNREADABLE) or theirs[4] == ours[4], \
        f"LiteLLM refused the answer in words this module does not document: {theirs[4]!r}"

    def signature(error: Any) -> Any:
        return (*error[:4], UNREADABLE_TEXT) if error in (theirs, ours) else error

    for record in (litellm, native):
        record.error = signature(record.error)
        record.events = [(name, model, tuple((k, signature(v)) for k, v in details))
                         for name, model, details in record.events]


def _without_transport_text(record: Record) -> None:
    def signature(error: Any) -> Any:
        if isinstance(error, tuple) and len(error) == 5 and error[1] is None:
            return (*error[:4], TRANSPORT_TEXT)
        return error

    record.error = signature(record.error)
    events = []
    for name, model, details in record.events:
        fields = {k: signature(v) for k, v in details}
        if name == "stream_incomplete" and isinstance(fields.get("detail"), str):
            fields["detail"] = _SAID.sub(" - ", fields["detail"])
        events.append((name, model, tuple(fields.items())))
    record.events = events


def assert_same(litellm: Record, native: Record, case: Case) -> None:
    """Both adapters answered ``case`` alike: answer, chunks, end state, error, events, waits, bodies sent."""
    reconcile(litellm, native)
    _without_unreadable_text(litellm, native)
    for record in (litellm, native):
        _without_transport_text(record)
    assert native.error == litellm.error, f"{case.name}: errors differ: {native.error} != {litellm.error}"
    assert native.answer == litellm.answer, f"{case.name}: answers differ"
    assert native.chunks == litellm.chunks, f"{case.name}: stream chunks differ"
    assert native.state == litellm.state, f"{case.name}: stream end states differ"
    assert native.events == litellm.events, f"{case.name}: telemetry differs: {native.events} != {litellm.events}"
    assert native.waits == litellm.waits, f"{case.name}: retry waits differ"
    assert native.sent == litellm.sent, f"{case.name}: the upstream received different requests"
