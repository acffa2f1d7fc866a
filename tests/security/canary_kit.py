"""The canary kit: keys made at run time, the upstreams that may (and may not) see them, and the leak scan.

Every canary is built from ``secrets.token_hex`` when the tests run; no file
holds one. A leak is a canary's full value *or its first* ``PARTIAL``
*characters* (a key cut short by truncation is still a leak) in anything a
test captured. A failure names the place and the canary, never its value.

Three upstreams run on loopback: the Grok fake (it accepts only the Grok
canary), the partner fake (only the partner canary), and a trap at
``OPENAI_BASE_URL`` that must see no request at all, since nothing is
configured to go there.
"""
from __future__ import annotations

import json
import re
import secrets
import traceback
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import attrs

from llmcore.adapters.litellm_completion import LiteLLMCompletion
from llmcore.adapters.litellm_convert import call_kwargs
from llmcore.domain.chat import ChatRequest
from llmcore.domain.secret import mask_value
from llmcore.testing.fake_xai import FakeXAIServer, Fault, RecordedRequest

PARTIAL = 12
HELLO = [{"role": "user", "content": "Say hi in Portuguese"}]  # the fake replays xAI's recorded answer to it
GROK = "grok-code-fast-1"
PARTNER = "partner-model"
BROKEN = "broken-model"
IMPATIENT = "grok-impatient"  # timeout 0.2 s, no retry: the slow fault costs little

# Header names that could carry a credential upstream; only ``authorization`` may, with the model's own key.
CREDENTIAL_HEADER = re.compile(r"key|token|secret|auth|cookie|password|master", re.IGNORECASE)


@attrs.frozen(repr=False)
class Canaries:
    """One set of canary keys, distinct in their first PARTIAL characters and in their last four.

    Its repr shows masks only, so a failing assertion never prints a canary.
    """

    grok: str  # GROK_API_KEY: the Grok model's key; goes to the Grok fake and nowhere else
    partner: str  # PARTNER_API_KEY: not key-shaped on purpose, so only the registry can mask it
    openai: str  # OPENAI_API_KEY: configured for nothing; must never be sent or shown
    master: str  # LLMCORE_MASTER_KEY: the proxy's master key; never forwarded, never shown
    broken: str  # BROKEN_API_KEY (plus a stray newline): its model is unavailable; never shown either

    @classmethod
    def make(cls) -> Canaries:
        while True:
            made = cls(
                grok="xai-canary-" + secrets.token_hex(12),
                partner="partner-canary-" + secrets.token_hex(12),
                openai="sk-canary-" + secrets.token_hex(12),
                master="mk-canary-" + secrets.token_hex(12),
                broken="broken-canary-" + secrets.token_hex(12),
            )
            values = list(made.named().values())
            if len({v[-4:] for v in values}) == len(values):  # key tails tell the keys apart upstream
                return made

    def __repr__(self) -> str:
        return "Canaries(" + ", ".join(f"{k}={mask_value(v)}" for k, v in self.named().items()) + ")"

    def named(self) -> dict[str, str]:
        return attrs.asdict(self)

    def env(self, upstreams: Upstreams) -> dict[str, str]:
        return {
            "GROK_API_KEY": self.grok, "GROK_BASE_URL": upstreams.grok.base_url,
            "PARTNER_API_KEY": self.partner, "PARTNER_BASE_URL": upstreams.partner.base_url,
            "BROKEN_API_KEY": self.broken + "\n", "OPENAI_API_KEY": self.openai,
            "OPENAI_BASE_URL": upstreams.trap.base_url, "LLMCORE_MASTER_KEY": self.master,
        }

    def scrub(self, text: str) -> str:
        """``text`` with every canary (and its first PARTIAL characters) shown as ``<name>``: safe to print."""
        for name, value in self.named().items():
            text = text.replace(value, f"<{name}>").replace(value[:PARTIAL], f"<{name}[:{PARTIAL}]>")
        return text

    @staticmethod
    def one_char_off(value: str) -> str:
        """``value`` with its last character changed: a near miss, e.g. a wrong master key."""
        return value[:-1] + ("0" if value[-1] != "0" else "1")


def leaks_in(text: str, canaries: Canaries) -> list[str]:
    """``name (full)`` or ``name (first N chars)`` for every canary found in ``text``."""
    found = []
    for name, value in canaries.named().items():
        if value in text:
            found.append(f"{name} (full)")
        elif value[:PARTIAL] in text:
            found.append(f"{name} (first {PARTIAL} chars)")
    return found


def leak_context(text: str, canaries: Canaries, width: int = 100) -> str:
    """Where in ``text`` the first leak sits, with every canary shown as ``<name>``: safe to print."""
    starts = [text.find(v[:PARTIAL]) for v in canaries.named().values() if v[:PARTIAL] in text]
    if not starts:
        return ""
    start = min(starts)
    return " ".join(canaries.scrub(text[max(0, start - width):start + width + 40]).split())


def _text(data: Any) -> str:
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return data if isinstance(data, str) else repr(data)


class Evidence:
    """Everything one test captured, by where it came from; ``assert_clean`` names the place of any leak."""

    def __init__(self, canaries: Canaries) -> None:
        self.canaries = canaries
        self.items: list[tuple[str, str]] = []

    def add(self, where: str, data: Any) -> None:
        self.items.append((where, _text(data)))

    def add_exception(self, where: str, exc: BaseException) -> None:
        self.add(f"{where}: str", str(exc))
        self.add(f"{where}: repr", repr(exc))
        self.add(f"{where}: args", exc.args)
        self.add(f"{where}: traceback", "".join(traceback.format_exception(exc)))
        for name in ("upstream_text", "hint", "reason", "problems"):
            if hasattr(exc, name):
                self.add(f"{where}: .{name}", getattr(exc, name))

    def add_http(self, where: str, status: int, headers: Iterable[tuple[str, str]], body: bytes) -> None:
        self.add(f"{where}: status", str(status))
        self.add(f"{where}: headers", "\n".join(f"{k}: {v}" for k, v in headers))
        self.add(f"{where}: body", body)

    def text(self) -> str:
        return "\n".join(text for _, text in self.items)

    def assert_clean(self) -> None:
        leaks = [f"{where}: {', '.join(found)}\n    ...{leak_context(text, self.canaries)}..."
                 for where, text in self.items if (found := leaks_in(text, self.canaries))]
        assert not leaks, "canary leaked:\n  " + "\n  ".join(leaks)


# --- the upstreams ----------------------------------------------------------------------------------

class Upstreams:
    """The Grok fake, the partner fake and the OPENAI_BASE_URL trap, started and stopped together."""

    def __init__(self, canaries: Canaries) -> None:
        self.canaries = canaries
        self.grok = FakeXAIServer(api_key=canaries.grok)
        self.partner = FakeXAIServer(api_key=canaries.partner)
        self.trap = FakeXAIServer()  # takes anything: a request here is a key sent where none belongs
        self._stack = ExitStack()

    def __enter__(self) -> Upstreams:
        for server in (self.grok, self.partner, self.trap):
            self._stack.enter_context(server)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stack.close()

    def clear(self) -> None:
        for server in (self.grok, self.partner, self.trap):
            server.clear()

    def assert_clean(self) -> None:
        """Each key reached its own upstream only; no other canary arrived anywhere, in any header or body."""
        c = self.canaries
        assert self.trap.requests == [], "a request reached OPENAI_BASE_URL"
        for server, own in ((self.grok, c.grok), (self.partner, c.partner)):
            for record in server.requests:
                assert_request_clean(record, own, c)


def assert_request_clean(record: RecordedRequest, own_key: str, canaries: Canaries) -> None:
    """One upstream request: authorized with ``own_key`` (by its tail), nothing else secret in it."""
    others = {name: v for name, v in canaries.named().items() if v != own_key}
    assert record.key_tail == own_key[-4:], f"{record.path} carried a key ending {record.key_tail!r}"
    assert record.key_tail not in {v[-4:] for v in others.values()}
    suspicious = [h for h in record.headers_lower_keys if h != "authorization" and CREDENTIAL_HEADER.search(h)]
    assert not suspicious, f"headers that could carry a credential went upstream: {suspicious}"
    body = json.dumps(record.body)
    assert not leaks_in(body, canaries), f"a canary went upstream in the body: {leaks_in(body, canaries)}"


# --- faults, some of them echoing the key back ------------------------------------------------------

ECHO_MARKER = "[echoed]"  # in every echoing body: the test sees the echo arrived, masked, not dropped


def echo_faults(key: str) -> dict[str, Fault]:
    """Error answers that quote the caller's key, as real upstreams and the gateways before them do."""
    html = (f"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway {ECHO_MARKER}</h1><pre>"
            f"POST /v1/chat/completions HTTP/1.1\nAuthorization: Bearer {key}\nHost: api.x.ai</pre></body></html>")
    return {
        "echo_html_502": Fault.status(502, html, "text/html"),
        "echo_xai_400": Fault.status(400, json.dumps(
            {"code": "Client specified an invalid argument", "error": f"{ECHO_MARKER} Incorrect API key: {key}."})),
        "echo_openai_400": Fault.status(400, json.dumps(
            {"error": {"message": f"{ECHO_MARKER} invalid request from {key}", "type": "invalid_request_error"}})),
        "echo_openai_401": Fault.status(401, json.dumps(
            {"error": {"message": f"{ECHO_MARKER} Incorrect API key provided: {key}", "type": "invalid_api_key"}})),
        "echo_openai_500": Fault.status(500, json.dumps(
            {"error": {"message": f"{ECHO_MARKER} internal error, api_key={key}", "type": "server_error"}})),
        "echo_openai_503": Fault.status(503, json.dumps(
            {"error": {"message": f"{ECHO_MARKER} overloaded; retry https://api.x.ai/v1?api_key={key}&a=1"}})),
        "echo_text_429": Fault.status(429, f"{ECHO_MARKER} too many requests for {key}", "text/plain"),
    }


STANDARD_FAULTS: dict[str, Fault] = {
    "ok": Fault.ok(),
    "rate_limit": Fault.rate_limit(retry_after=1),
    "credits_exhausted": Fault.credits_exhausted(),
    "bad_key": Fault.bad_key(),
    "forbidden": Fault.forbidden(),
    "bad_request": Fault.bad_request(),
    "server_error": Fault.server_error(),
    "bad_gateway_html": Fault.bad_gateway_html(),
    "unavailable": Fault.unavailable(),
    "gateway_timeout": Fault.gateway_timeout(),
    "drop_connection": Fault.drop_connection(),
    "slow": Fault.slow(3),  # against IMPATIENT's 0.2 s timeout
    "cut_mid_stream": Fault.cut_mid_stream(),
    "eof_without_finish": Fault.eof_without_finish(),
    "empty_deltas": Fault.empty_deltas(),
    "zero_events": Fault.zero_events(),
}
ECHO_FAULT_NAMES = tuple(echo_faults("x"))


def fault_named(name: str, key: str) -> Fault:
    return STANDARD_FAULTS[name] if name in STANDARD_FAULTS else echo_faults(key)[name]


# --- a crash inside the adapter ----------------------------------------------------------------------

class CrashingCompletion(LiteLLMCompletion):
    """An adapter with a bug: its error quotes the call's kwargs, the raw key among them."""

    @staticmethod
    def _crash(request: ChatRequest) -> RuntimeError:
        return RuntimeError(f"adapter bug, cannot send {call_kwargs(request, stream=False)}")

    def complete(self, request: ChatRequest) -> Any:
        raise self._crash(request)

    async def acomplete(self, request: ChatRequest) -> Any:
        raise self._crash(request)

    def stream(self, request: ChatRequest) -> Iterator[Any]:
        raise self._crash(request)
        yield  # a generator, like the real one: the crash comes with the first chunk

    async def astream(self, request: ChatRequest) -> AsyncIterator[Any]:  # type: ignore[override]
        raise self._crash(request)
        yield


# --- the config -------------------------------------------------------------------------------------

def _entry(alias: str, upstream: str, key_env: str, base_env: str, extra: str = "") -> str:
    return (f"  - model_name: {alias}\n    litellm_params:\n      model: openai/{upstream}\n"
            f"      api_key: os.environ/{key_env}\n      api_base: os.environ/{base_env}\n{extra}")


FAST_RETRY = ("      max_retries: 1\n    model_info:\n      provider: xai\n"
              "      retry: {backoff_base: 0.01, backoff_max: 0.02, retry_after_max: 0.01}\n")


def write_config(directory: Path, lanes: Iterable[str] = (), adapter: str = "litellm") -> Path:
    """The shared config: Grok, a partner model, an unavailable model, the master key.

    Each lane is one more Grok alias, ``grok-<lane>``, with an upstream model of
    its own, so concurrent callers can script the fake per lane. ``adapter`` serves
    every model (``general_settings.llmcore_adapter``): the suites run over both.
    """
    entries = [
        _entry(GROK, GROK, "GROK_API_KEY", "GROK_BASE_URL", FAST_RETRY),
        _entry(IMPATIENT, IMPATIENT, "GROK_API_KEY", "GROK_BASE_URL",
               "      timeout: 0.2\n      max_retries: 0\n    model_info:\n      provider: xai\n"),
        _entry(PARTNER, "partner-upstream", "PARTNER_API_KEY", "PARTNER_BASE_URL", FAST_RETRY),
        _entry(BROKEN, "broken-upstream", "BROKEN_API_KEY", "PARTNER_BASE_URL"),
        *(_entry(f"grok-{lane}", f"grok-{lane}", "GROK_API_KEY", "GROK_BASE_URL", FAST_RETRY) for lane in lanes),
    ]
    path = directory / "llmcore.yaml"
    path.write_text("model_list:\n" + "".join(entries)
                    + "general_settings:\n  master_key: os.environ/LLMCORE_MASTER_KEY\n"
                    + f"  llmcore_adapter: {adapter}\n", "utf-8")
    return path


def upstream_model(alias: str) -> str:
    return "partner-upstream" if alias == PARTNER else alias


def key_for(alias: str, canaries: Canaries) -> str:
    return canaries.partner if alias == PARTNER else canaries.grok


def files_under(root: Path, skip: Iterable[Path] = ()) -> Iterator[tuple[Path, bytes]]:
    """Every regular file below ``root`` (logs, caches, anything a run left behind), but ``skip``."""
    skipped = {p.resolve() for p in skip}
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.resolve() not in skipped:
            yield path, path.read_bytes()


# The completion adapters every canary suite runs over (Decision 18).
ADAPTERS = ("litellm", "native")
