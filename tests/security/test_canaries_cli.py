"""The canary suite, CLI half: every ``llmcore`` command as a subprocess, and no canary in any byte it writes.

The children get only PATH, HOME (a fresh directory, also their working
directory) and the canary environment of ``canary_kit``. They all run at once,
each on its own lane of the Grok fake so their scripted faults cannot cross;
their stdout and stderr go to files, so none blocks on a full pipe. Then every
byte they wrote, every file they left under HOME (logs, caches), every HTTP
answer of the ``llmcore proxy`` child and every request the upstreams received
are scanned.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from attrs import frozen

from llmcore.testing.fake_xai import Fault
from tests.security.canary_kit import (
    BROKEN, ECHO_MARKER, GROK, PARTNER, STANDARD_FAULTS, Canaries, Evidence, Upstreams, echo_faults, files_under,
    write_config,
)

pytestmark = pytest.mark.slow

PROMPT = "Say hi in Portuguese"
LANES = ("cut", "proxy")  # Grok aliases grok-<lane>, one per child that scripts faults
RUN_TIMEOUT = 90


@frozen
class Run:
    """One command line, its expected exit code, and the faults to script on the fakes before it starts."""

    args: Callable[[Canaries, Path], list[str]]
    exit_code: int
    script: Callable[[Upstreams, Canaries], None] | None = None


def on_lane(lane: str, make: Callable[[Canaries], Fault], times: int = 2) -> Callable[[Upstreams, Canaries], None]:
    def script(upstreams: Upstreams, c: Canaries) -> None:
        upstreams.grok.script(*[make(c)] * times, model=f"grok-{lane}")
    return script


def on_partner(make: Callable[[Canaries], Fault], times: int = 2) -> Callable[[Upstreams, Canaries], None]:
    def script(upstreams: Upstreams, c: Canaries) -> None:
        upstreams.partner.script(*[make(c)] * times, model="partner-upstream")
    return script


def plain(*args: str) -> Callable[[Canaries, Path], list[str]]:
    return lambda c, config: ["--config", str(config), *args]


def bad(name: str, *args: str) -> Callable[[Canaries, Path], list[str]]:
    return lambda c, config: ["--config", str(config.parent / name), *args]


RUNS: dict[str, Run] = {
    # Each of these answers in a fraction of a second (no LiteLLM import).
    "models list": Run(plain("models", "list"), 0),
    "models list --json": Run(plain("--json", "models", "list"), 0),
    "models show partner": Run(plain("models", "show", PARTNER), 0),
    "models show unavailable --json, trace": Run(plain("--log-level", "trace", "models", "show", BROKEN, "--json"), 0),
    "config check": Run(plain("config", "check"), 0),
    "config check --strict": Run(plain("config", "check", "--strict"), 2),
    "config check --json, trace, JSON logs": Run(plain("--log-level", "trace", "--log-json", "config", "check",
                                                       "--json"), 0),
    "bad config": Run(bad("bad.yaml", "config", "check"), 2),
    "bad config --json, trace": Run(bad("bad.yaml", "--log-level", "trace", "config", "check", "--json"), 2),
    "bad yaml, JSON logs": Run(bad("broken.yaml", "--log-level", "trace", "--log-json", "models", "list"), 2),
    "chat unavailable model": Run(plain("--log-level", "trace", "chat", BROKEN, PROMPT), 2),
    "chat a key-shaped model": Run(lambda c, config: ["--config", str(config), "chat", c.openai, PROMPT], 2),
    # Each of these imports LiteLLM (~4 s of CPU), so there are few; the OK paths are in tests/e2e/test_cli.py.
    "chat --no-stream, debug, partner echoing 400": Run(
        plain("--log-level", "debug", "chat", PARTNER, PROMPT, "--no-stream"), 1,
        on_partner(lambda c: echo_faults(c.partner)["echo_openai_400"], 1)),
    "chat stream --json, trace, JSON logs, cut mid-stream": Run(
        plain("--log-level", "trace", "--log-json", "chat", "grok-cut", PROMPT, "--json", "--show-reasoning",
              "--param", 'stop=["x"]'), 1,
        on_lane("cut", lambda c: STANDARD_FAULTS["cut_mid_stream"], 1)),
}


def bad_configs(directory: Path, c: Canaries) -> None:
    """Keys pasted where they do not belong, literal keys, and a YAML error on a key's line."""
    (directory / "bad.yaml").write_text(
        "model_list:\n  - model_name: grok-code-fast-1\n    litellm_params:\n      model: openai/grok-code-fast-1\n"
        f"      api_key: {c.grok}\n      api_bse: {c.grok}\n      timeout: {c.openai}\n"
        f"      extra_headers: {{Authorization: [Bearer {c.grok}]}}\n"
        f"  - model_name: {c.openai}\n    litellm_params:\n      model: {c.openai}\n"
        f"general_settings:\n  master_key: {c.master}\n  max_request_size_mb: {c.grok}\n", "utf-8")
    (directory / "broken.yaml").write_text(
        f"model_list:\n  - model_name: g\n    litellm_params: {{api_key: {c.grok}: {c.master}}}\n", "utf-8")


@frozen
class Finished:
    name: str
    exit_code: int
    stdout: bytes
    stderr: bytes


@frozen
class CliResults:
    finished: dict[str, Finished]
    proxy: Evidence
    home: Path
    upstreams: Upstreams


class Children:
    """The module's subprocesses, their stdout and stderr in files; ``close`` ends any still running."""

    def __init__(self, env: dict[str, str], home: Path, captured: Path) -> None:
        self.env, self.home, self.captured = env, home, captured
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self.files: dict[str, tuple[Path, Path]] = {}

    def start(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        number = len(self.files)
        out_path, err_path = self.files[name] = self.captured / f"{number}.out", self.captured / f"{number}.err"
        with out_path.open("wb") as out, err_path.open("wb") as err:
            self.running[name] = subprocess.Popen(
                [sys.executable, "-m", "llmcore.entrypoints.cli", *args], env=self.env, cwd=self.home,
                stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        return self.running[name]

    def finish(self, name: str) -> Finished:
        code = self.running[name].wait(RUN_TIMEOUT)
        out_path, err_path = self.files[name]
        return Finished(name, code, out_path.read_bytes(), err_path.read_bytes())

    def close(self) -> None:
        for child in self.running.values():
            if child.poll() is None:
                child.kill()
                child.wait()


@pytest.fixture(scope="module")
def results(canaries: Canaries, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliResults]:
    home, config_dir, captured = (tmp_path_factory.mktemp(n) for n in ("home", "config", "captured"))
    config = write_config(config_dir, LANES)
    bad_configs(config_dir, canaries)
    with Upstreams(canaries) as upstreams:
        for run in RUNS.values():
            if run.script is not None:
                run.script(upstreams, canaries)
        upstreams.grok.script(*[echo_faults(canaries.grok)["echo_html_502"]] * 2, model="grok-proxy")
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), **canaries.env(upstreams)}
        children = Children(env, home, captured)
        try:
            server = children.start("proxy", ["--config", str(config), "--log-level", "trace", "--log-json",
                                              "proxy", "--port", "0"])
            for name, run in RUNS.items():
                children.start(name, run.args(canaries, config))
            try:
                proxy_evidence = drive_proxy(server, children.files["proxy"][1], canaries)
            finally:
                server.send_signal(signal.SIGTERM)
            served = children.finish("proxy")
            finished = {name: children.finish(name) for name in RUNS}
        finally:
            children.close()
        proxy_evidence.add("proxy child: stdout", served.stdout)
        proxy_evidence.add("proxy child: stderr", served.stderr)
        assert served.exit_code == 0, canaries.scrub(served.stderr.decode()[-2000:])
        yield CliResults(finished, proxy_evidence, home, upstreams)


def listening_port(server: subprocess.Popen[bytes], stderr: Path, c: Canaries) -> int:
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline and server.poll() is None:
        found = re.search(rb"listening on http://127\.0\.0\.1:(\d+)", stderr.read_bytes())
        if found:
            return int(found.group(1))
        time.sleep(0.05)
    raise AssertionError(f"llmcore proxy did not start: {c.scrub(stderr.read_bytes().decode()[-2000:])}")


def drive_proxy(server: subprocess.Popen[bytes], stderr: Path, c: Canaries) -> Evidence:
    """Wait for ``llmcore proxy`` to listen, then call it as clients do, right and wrong."""
    port = listening_port(server, stderr, c)
    url, auth = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {c.master}"}
    hello = {"messages": [{"role": "user", "content": PROMPT}]}
    chat, near_miss = "/v1/chat/completions", {"Authorization": f"Bearer {c.one_char_off(c.master)}"}
    calls = [
        ("POST", chat, auth, {"model": GROK, **hello}),
        ("POST", chat, auth, {"model": GROK, "stream": True, **hello}),
        ("POST", chat, auth, {"model": "grok-proxy", **hello}),
        ("POST", chat, near_miss, {"model": GROK, **hello}),
        ("POST", chat, {**auth, "x-request-id": c.master}, {"model": c.partner, **hello}),
        ("GET", "/v1/models", auth, None),
        ("GET", "/health/readiness", {}, None),
        ("GET", "/metrics", auth, None),
    ]
    evidence = Evidence(c)
    with httpx.Client(trust_env=False, timeout=30) as http:
        for method, path, headers, body in calls:
            reply = http.request(method, url + path, headers=headers, json=body)
            evidence.add_http(f"proxy child {method} {path}", reply.status_code, reply.headers.multi_items(),
                              reply.content)
    statuses = [int(text) for where, text in evidence.items if where.endswith(": status")]
    assert statuses == [200, 200, 502, 401, 404, 200, 200, 200]
    assert ECHO_MARKER in evidence.text()  # the echoing gateway page reached the client, masked
    return evidence


@pytest.mark.parametrize("name", list(RUNS))
def test_no_canary_in_what_a_command_writes(results: CliResults, canaries: Canaries, name: str) -> None:
    run = results.finished[name]
    evidence = Evidence(canaries)
    evidence.add(f"{name}: stdout", run.stdout)
    evidence.add(f"{name}: stderr", run.stderr)
    evidence.assert_clean()
    assert run.exit_code == RUNS[name].exit_code, canaries.scrub(run.stderr.decode()[-3000:])


def test_no_canary_in_what_the_proxy_command_answers_or_logs(results: CliResults) -> None:
    results.proxy.assert_clean()
    assert '"level": "DEBUG"' in results.proxy.text()  # the child really logged at trace level, as JSON


def test_no_canary_in_any_file_a_command_left_behind(results: CliResults, canaries: Canaries) -> None:
    evidence = Evidence(canaries)
    for path, data in files_under(results.home):
        evidence.add(str(path.relative_to(results.home)), data)
    evidence.assert_clean()


def test_each_key_reached_its_own_upstream_only(results: CliResults) -> None:
    results.upstreams.assert_clean()
    assert results.upstreams.grok.requests and results.upstreams.partner.requests


def test_the_debug_traceback_really_showed_the_echoing_error(results: CliResults) -> None:
    """The partner run is worth something only if its traceback and the echoed body were printed, masked."""
    stderr = results.finished["chat --no-stream, debug, partner echoing 400"].stderr.decode()
    assert "Traceback" in stderr and "The above exception was the direct cause" in stderr
    assert ECHO_MARKER in stderr
