"""Every fault of the fake xAI server, every way in, through both adapters: the same outcome."""
from __future__ import annotations

import pytest

from llmcore.testing.fake_xai import Fault
from tests.differential.known_differences import assert_same
from tests.differential.pair import GROK, IMPATIENT, MODES, Case, Pair

# Each fault twice: the first try and the one retry each model allows (a permanent error stops at one).
FAULTS = {
    "ok": (),
    "rate_limit": (Fault.rate_limit(retry_after=2),) * 2,
    "rate_limit_http_date": (Fault.rate_limit(retry_after="Thu, 01 Jan 1970 00:00:00 GMT"),) * 2,
    "rate_limit_without_retry_after": (Fault.rate_limit(retry_after=None),) * 2,
    "credits_exhausted": (Fault.credits_exhausted(),),
    "bad_key": (Fault.bad_key(),),
    "forbidden": (Fault.forbidden(),),
    "bad_request": (Fault.bad_request("Invalid request"),),
    "server_error": (Fault.server_error(),) * 2,
    "bad_gateway_html": (Fault.bad_gateway_html(),) * 2,
    "unavailable": (Fault.unavailable(),) * 2,
    "gateway_timeout": (Fault.gateway_timeout(),) * 2,
    "status_409": (Fault.status(409, '{"error":{"message":"conflict, try again"}}'),) * 2,
    "status_404_text": (Fault.status(404, "no such route", "text/plain"),),
    "status_422": (Fault.status(422, '{"code":"Unprocessable","error":"bad field"}'),),
    "status_529": (Fault.status(529, '{"error":{"message":"overloaded"}}'),) * 2,
    "drop_connection": (Fault.drop_connection(),) * 2,
    "server_error_then_ok": (Fault.server_error(), Fault.ok()),
    "rate_limit_then_ok": (Fault.rate_limit(retry_after=1), Fault.ok()),
    "cut_mid_stream": (Fault.cut_mid_stream(after_events=3),) * 2,
    "cut_before_any_event": (Fault.cut_mid_stream(after_events=0),) * 2,
    "eof_without_finish": (Fault.eof_without_finish(after_events=3),) * 2,
    "empty_deltas": (Fault.empty_deltas(count=10),),
    "zero_events": (Fault.zero_events(),) * 2,
    "slow_chunks": (Fault.slow_chunks(0.01),),
    "no_reasoning": (Fault.no_reasoning(),),
    "served_as": (Fault.served_as("grok-4.3"),),
}
SLOW = {"slow": (Fault.slow(1.0),) * 2}  # longer than the impatient model's 0.3 s timeout

CASES = [Case(name, faults) for name, faults in FAULTS.items()] + [
    Case(name, faults, alias=IMPATIENT) for name, faults in SLOW.items()]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_fault_ends_the_same_through_both_adapters(pair: Pair, case: Case, mode: str) -> None:
    litellm, native = (pair.run(case, mode, adapter) for adapter in ("litellm", "native"))
    assert_same(litellm, native, case)
    if case.faults and case.name != "ok":
        assert litellm.sent, "nothing reached the fake: nothing was compared"


def test_the_fault_table_covers_every_fault_the_fake_knows() -> None:
    kinds = {f.kind for faults in (*FAULTS.values(), *SLOW.values()) for f in faults}
    known = {name for name in vars(Fault) if not name.startswith("_") and callable(getattr(Fault, name))}
    known -= {"param", "to_dict", "from_dict"}
    assert known <= kinds | {"ok"}, f"faults never compared: {sorted(known - kinds)}"
    assert GROK
