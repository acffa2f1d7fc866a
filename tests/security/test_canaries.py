"""The canary suite, library half: no key escapes ``llmcore`` through any output, whatever the upstream does.

With the canaries of ``canary_kit`` configured, ``core.complete``, ``core.stream``,
``core.acomplete`` and ``core.astream`` run against every fault of the fake xAI
server and against answers that quote the key back, at TRACE level with JSON
logs on and off. Everything is captured: the log sink, the process's stdout and
stderr (file descriptors, so LiteLLM's own prints count), the metrics, the
results and sessions, and the str, repr, args and formatted traceback of every
exception. Then nothing may hold a canary, in full or its first 12 characters,
and the upstreams must have seen only their own key. The proxy and the CLI have
their own halves (``test_canaries_proxy``, ``test_canaries_cli``).
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from attrs import frozen
from loguru import logger

from llmcore.adapters.log_setup import configure_logging, reset_logging
from llmcore.bootstrap import Runtime, build_runtime
from llmcore.domain.core import Core
from tests.security.canary_kit import (
    ADAPTERS, ECHO_FAULT_NAMES, ECHO_MARKER, GROK, HELLO, IMPATIENT, PARTNER, STANDARD_FAULTS, Canaries,
    CrashingCompletion,
    Evidence, Upstreams, fault_named, key_for, upstream_model, write_config,
)

pytestmark = pytest.mark.slow  # the module imports LiteLLM (~3 s) once; each case then takes milliseconds

MODES = ("complete", "stream", "acomplete", "astream")
LOG_MODES = ("text", "json")
# Every fault and echo for Grok, every way in, both log formats. The partner key (not key-shaped, so masked
# only by name) gets every echo and every way in, in one format each: the mask runs before the format.
CASES = [
    (IMPATIENT if fault == "slow" else GROK, fault, mode, log_mode)
    for fault in (*STANDARD_FAULTS, *ECHO_FAULT_NAMES) for mode in MODES for log_mode in LOG_MODES
] + [
    (PARTNER, fault, mode, "json" if mode.endswith("complete") else "text")
    for fault in ECHO_FAULT_NAMES for mode in MODES
]


@frozen
class Library:
    runtime: Runtime
    upstreams: Upstreams


@pytest.fixture(scope="module", params=ADAPTERS)
def library(
    canaries: Canaries, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest,
) -> Iterator[Library]:
    with Upstreams(canaries) as upstreams:
        config = write_config(tmp_path_factory.mktemp("library"), adapter=request.param)
        runtime = build_runtime(config, canaries.env(upstreams))
        runtime.warm_up()
        yield Library(runtime, upstreams)
        runtime.close()


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    lines: list[str] = []
    yield lines
    reset_logging()


# --- the four ways in ---------------------------------------------------------------------------------

def run_complete(core: Core, alias: str, evidence: Evidence) -> None:
    evidence.add("response", core.complete(alias, HELLO))


def run_stream(core: Core, alias: str, evidence: Evidence) -> None:
    with core.stream(alias, HELLO) as session:
        for chunk in session:
            evidence.add("chunk", chunk)
    evidence.add("session", (session.text, session.warnings, session.usage, session.complete))


def run_acomplete(core: Core, alias: str, evidence: Evidence) -> None:
    async def main() -> None:
        evidence.add("response", await core.acomplete(alias, HELLO))
    _run_async(core, main)


def run_astream(core: Core, alias: str, evidence: Evidence) -> None:
    async def main() -> None:
        async with core.astream(alias, HELLO, raise_on_incomplete=True) as session:
            async for chunk in session:
                evidence.add("chunk", chunk)
        evidence.add("session", (session.text, session.warnings, session.usage, session.complete))
    _run_async(core, main)


def _run_async(core: Core, main: Callable[[], Any]) -> None:
    async def wrapped() -> None:
        async with core:  # LiteLLM's per-loop clients close before this loop ends
            await main()
    asyncio.run(wrapped())


DRIVERS: dict[str, Callable[[Core, str, Evidence], None]] = {
    "complete": run_complete, "stream": run_stream, "acomplete": run_acomplete, "astream": run_astream,
}


def drive(core: Core, mode: str, alias: str, evidence: Evidence) -> BaseException | None:
    try:
        DRIVERS[mode](core, alias, evidence)
    except Exception as exc:  # noqa: BLE001 - every error is evidence, whatever its class
        evidence.add_exception(f"{mode} raised {type(exc).__name__}", exc)
        return exc
    return None


# --- every fault, every way in, both log formats ----------------------------------------------------------

@pytest.mark.parametrize(("alias", "fault", "mode", "log_mode"), CASES, ids=["-".join(case) for case in CASES])
def test_no_canary_leaves_the_library(
    library: Library, canaries: Canaries, capfd: pytest.CaptureFixture[str], log_lines: list[str],
    alias: str, fault: str, mode: str, log_mode: str,
) -> None:
    upstreams = library.upstreams
    upstreams.clear()
    server = upstreams.partner if alias == PARTNER else upstreams.grok
    scripted = fault_named(fault, key_for(alias, canaries))
    server.script(scripted, scripted, model=upstream_model(alias))  # the first try and the one retry
    # As the CLI and the proxy do: the sink masks every configured key (a partner key is not key-shaped).
    configure_logging("TRACE", json=log_mode == "json", secrets=library.runtime.logs.secrets, sink=log_lines.append)
    evidence = Evidence(canaries)

    error = drive(library.runtime.core, mode, alias, evidence)

    reset_logging()
    out, err = capfd.readouterr()
    evidence.add("log sink", "".join(log_lines))
    evidence.add("stdout", out)
    evidence.add("stderr", err)
    evidence.add("metrics", library.runtime.metrics.render())
    evidence.assert_clean()
    upstreams.assert_clean()
    assert log_lines, "TRACE logging produced nothing: the capture is broken"
    assert server.requests, "the request never reached the fake"
    if fault.startswith("echo_"):
        assert error is not None, "an echoed error answer was taken for a success"
        assert ECHO_MARKER in str(error), "the echoing body never reached the error: nothing was tested"


# --- a crash inside the adapter ---------------------------------------------------------------------

@pytest.mark.parametrize("log_mode", LOG_MODES)
@pytest.mark.parametrize("alias", [GROK, PARTNER])
def test_an_adapter_crash_logged_by_the_application_is_masked(
    library: Library, canaries: Canaries, tmp_path_factory: pytest.TempPathFactory, capfd: pytest.CaptureFixture[str],
    log_lines: list[str], alias: str, log_mode: str,
) -> None:
    config = write_config(tmp_path_factory.mktemp("crash"))
    runtime = build_runtime(config, canaries.env(library.upstreams), completion=CrashingCompletion())
    configure_logging("TRACE", json=log_mode == "json", secrets=runtime.logs.secrets, sink=log_lines.append)
    crashes: list[BaseException] = []
    for mode in MODES:
        with pytest.raises(RuntimeError, match="adapter bug") as caught:
            DRIVERS[mode](runtime.core, alias, Evidence(canaries))
        crashes.append(caught.value)
        # What an application using llmcore's log set-up does with an error it did not expect.
        logger.opt(exception=caught.value).error(f"request failed: {caught.value}")
    reset_logging()

    assert all(key_for(alias, canaries) in str(crash) for crash in crashes)  # the bug really quoted the key
    evidence = Evidence(canaries)
    out, err = capfd.readouterr()
    evidence.add("log sink", "".join(log_lines))
    evidence.add("stdout", out)
    evidence.add("stderr", err)
    evidence.add("metrics", runtime.metrics.render())
    evidence.assert_clean()
    assert "adapter bug" in "".join(log_lines) and "Traceback" in "".join(log_lines)
