"""The canary suite, traces half: no canary key, and no prompt or answer, in any span the proxy exports.

``llmcore proxy`` runs as a subprocess with the canary environment of
``canary_kit`` and ``OTEL_TRACES_EXPORTER=otlp`` to a test receiver
(tests/otlp_receiver.py). It is called right and wrong: upstream errors that
echo the key back, a near-miss master key, the master key as ``x-request-id``,
in the URL path and in the client's ``baggage``, a stream cut mid-way. Every
byte of every export request is scanned, raw and decoded; content logging is
off, so the prompt and the answer must be absent too.
"""
from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from attrs import frozen

from tests.e2e.test_proxy_traces import listening_port, traceparent
from tests.otlp_receiver import OtlpReceiver, ReceivedSpan
from tests.security.canary_kit import (
    GROK, PARTNER, STANDARD_FAULTS, Canaries, Evidence, Upstreams, echo_faults, write_config,
)

pytestmark = pytest.mark.slow

LANES = ("echo", "cut")


@frozen
class Exported:
    spans: list[ReceivedSpan]
    bodies: list[bytes]
    prompt: str
    answer: str
    upstreams: Upstreams


def calls(c: Canaries, prompt: str) -> list[tuple[str, str, dict[str, str], dict[str, object] | None]]:
    auth = {"Authorization": f"Bearer {c.master}"}
    hello = {"messages": [{"role": "system", "content": prompt}, {"role": "user", "content": "Say hi in Portuguese"}]}
    chat = "/v1/chat/completions"
    return [
        ("POST", chat, {**auth, "traceparent": traceparent()[2]}, {"model": GROK, **hello}),
        ("POST", chat, {**auth, "baggage": f"user.key={c.master}"}, {"model": GROK, "stream": True, **hello}),
        ("POST", chat, auth, {"model": "grok-echo", **hello}),
        ("POST", chat, auth, {"model": PARTNER, **hello}),
        ("POST", chat, auth, {"model": "grok-cut", "stream": True, **hello}),
        ("POST", chat, {"Authorization": f"Bearer {c.one_char_off(c.master)}"}, {"model": GROK, **hello}),
        ("POST", chat, {**auth, "x-request-id": c.master}, {"model": c.openai, **hello}),
        ("GET", f"/v1/{c.master}", auth, None),
        ("GET", "/v1/models", auth, None),
    ]


@pytest.fixture(scope="module")
def exported(canaries: Canaries, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exported]:
    home, config_dir = tmp_path_factory.mktemp("home"), tmp_path_factory.mktemp("config")
    config = write_config(config_dir, LANES)
    prompt = "canary-prompt-" + secrets.token_hex(12)
    with Upstreams(canaries) as upstreams, OtlpReceiver() as receiver:
        upstreams.grok.script(*[echo_faults(canaries.grok)["echo_html_502"]] * 2, model="grok-echo")
        upstreams.grok.script(STANDARD_FAULTS["cut_mid_stream"], model="grok-cut")
        upstreams.partner.script(*[echo_faults(canaries.partner)["echo_openai_500"]] * 2, model="partner-upstream")
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), **canaries.env(upstreams),
               "OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
               "OTEL_BSP_SCHEDULE_DELAY": "100"}
        stderr = home / "proxy.err"
        with stderr.open("wb") as err:
            server = subprocess.Popen(
                [sys.executable, "-m", "llmcore.entrypoints.cli", "--config", str(config), "--log-level", "trace",
                 "proxy", "--port", "0"], env=env, cwd=home, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=err)
        try:
            url = f"http://127.0.0.1:{listening_port(server, stderr)}"
            statuses, answer = [], ""
            with httpx.Client(trust_env=False, timeout=30) as http:
                for method, path, headers, body in calls(canaries, prompt):
                    reply = http.request(method, url + path, headers=headers, json=body)
                    statuses.append(reply.status_code)
                    if not answer and path.endswith("completions") and reply.status_code == 200:
                        answer = reply.json()["choices"][0]["message"]["content"]
            server.send_signal(signal.SIGTERM)
            assert server.wait(30) == 0, canaries.scrub(stderr.read_text()[-3000:])
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
        assert statuses == [200, 200, 502, 502, 200, 401, 404, 404, 200]
        spans = receiver.wait_for(lambda got: sum(s.kind == "server" for s in got) >= len(statuses))
        yield Exported(spans, list(receiver.bodies), prompt, answer, upstreams)


def test_every_call_was_traced(exported: Exported) -> None:
    assert sum(s.kind == "server" for s in exported.spans) == 9
    assert sum(s.kind == "client" for s in exported.spans) >= 6  # the echoing lanes were retried


def test_no_canary_in_any_exported_byte(exported: Exported, canaries: Canaries) -> None:
    evidence = Evidence(canaries)
    for number, body in enumerate(exported.bodies):
        evidence.add(f"OTLP export {number}: raw protobuf", body)
    for span in exported.spans:
        evidence.add(f"span {span.name!r} {span.span_id}: decoded", repr(span))
    evidence.assert_clean()


def test_no_prompt_or_answer_in_any_span_with_content_logging_off(exported: Exported) -> None:
    assert exported.answer  # the answer the client got: it must not be in a span
    for number, body in enumerate(exported.bodies):
        text = body.decode("utf-8", "replace")
        assert exported.prompt not in text, f"the prompt went out in OTLP export {number}"
        assert exported.answer not in text, f"the answer went out in OTLP export {number}"


def test_the_client_baggage_is_not_sent_upstream_and_each_key_reached_its_own_upstream(exported: Exported) -> None:
    exported.upstreams.assert_clean()
    assert all("baggage" not in r.headers_lower_keys for r in exported.upstreams.grok.requests)
    assert any(r.traceparent for r in exported.upstreams.grok.requests)


def test_a_key_in_the_url_path_is_masked_in_the_span(exported: Exported, canaries: Canaries) -> None:
    [not_found] = [s for s in exported.spans if s.kind == "server" and s.attributes["url.path"].startswith("/v1/")
                   and s.attributes["http.route"] == "/{tail}"]
    assert not_found.attributes["http.response.status_code"] == 404
    assert canaries.master[:12] not in not_found.attributes["url.path"]
