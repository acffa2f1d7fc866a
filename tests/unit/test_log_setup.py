"""configure_logging: one masked sink, stable JSON lines, stdlib logging routed through the mask."""
from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
import secrets
import threading

import pytest
from loguru import logger

from llmcore.adapters.log_setup import LEVELS, STABLE_FIELDS, add_secrets, configure_logging, reset_logging
from llmcore.adapters.loguru_telemetry import LoguruTelemetry
from llmcore.domain.chat import ParamAdjustment
from llmcore.domain.errors import RateLimitError
from llmcore.domain.model_spec import Credentials, ModelSpec
from llmcore.domain.secret import Secret

TEXT_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \| [A-Z]+ \| \S+( \S.*)? \| .*$")


@pytest.fixture(autouse=True)
def restore_logging():
    yield
    reset_logging()
    logger.remove()
    logger.disable("llmcore")


@pytest.fixture
def sink() -> io.StringIO:
    return io.StringIO()


def spec_with(key: str) -> ModelSpec:
    return ModelSpec(alias="grok-code-fast-1", upstream_model="grok-code-fast-1",
                     credentials=Credentials(api_key=Secret(key)))


def json_lines(sink: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in sink.getvalue().splitlines() if line.strip()]


def drop_stop(canary: str) -> None:
    LoguruTelemetry(secrets=[Secret(canary)]).param_adjusted(
        spec_with(canary), ParamAdjustment(param="stop", action="dropped", reason="xAI answers 400 to stop"),
        "req-1")


def fail_with(canary: str) -> None:
    local_copy = canary  # a local holding the key: diagnose=False must keep it out of the traceback
    raise RuntimeError(f"upstream refused {local_copy}")


def test_the_library_is_silent_until_configure_logging_enables_it(canary, sink):
    stray: list[str] = []
    logger.remove()
    logger.add(stray.append)
    drop_stop(canary)
    assert stray == []

    configure_logging("INFO", sink=sink)
    drop_stop(canary)
    assert "param_dropped" in sink.getvalue()


@pytest.mark.parametrize("level", ["info", "Debug", "TRACE", " warning ", "error"])
def test_the_level_is_accepted_in_any_case(level, sink):
    configure_logging(level, sink=sink)


def test_a_bad_level_is_refused_with_the_valid_ones(sink):
    with pytest.raises(ValueError, match="TRACE, DEBUG, INFO, WARNING, ERROR"):
        configure_logging("verbose", sink=sink)
    assert LEVELS == ("TRACE", "DEBUG", "INFO", "WARNING", "ERROR")


def test_lines_below_the_level_are_not_written(canary, sink):
    configure_logging("WARNING", sink=sink)
    drop_stop(canary)
    logger.warning("kept")

    assert "param_dropped" not in sink.getvalue()
    assert "kept" in sink.getvalue()


def test_text_lines_show_time_level_event_fields_and_message(canary, sink):
    configure_logging("INFO", sink=sink)
    drop_stop(canary)

    [line] = sink.getvalue().splitlines()
    assert TEXT_LINE.match(line), line
    assert " | INFO | param_dropped model=grok-code-fast-1 request_id=req-1 " in line
    assert 'param=stop action=dropped reason="xAI answers 400 to stop"' in line


def test_json_lines_parse_and_carry_the_stable_fields_first(canary, sink):
    configure_logging("INFO", json=True, sink=sink)
    drop_stop(canary)
    logger.info("plain message from the application")

    drop, plain = json_lines(sink)
    assert list(drop)[:len(STABLE_FIELDS)] == list(STABLE_FIELDS)
    assert list(plain)[:len(STABLE_FIELDS)] == list(STABLE_FIELDS)
    assert (drop["level"], drop["event"], drop["model"], drop["request_id"]) == (
        "INFO", "param_dropped", "grok-code-fast-1", "req-1")
    assert (drop["param"], drop["action"], drop["reason"]) == ("stop", "dropped", "xAI answers 400 to stop")
    assert drop["time"].endswith("Z")
    assert dt.datetime.fromisoformat(drop["time"].replace("Z", "+00:00")).utcoffset() == dt.timedelta(0)
    assert (plain["event"], plain["model"], plain["request_id"]) == (None, None, None)
    assert "exception" not in drop and "exception" not in plain


def test_json_retry_lines_carry_attempt_wait_and_status(canary, sink):
    configure_logging("INFO", json=True, sink=sink)
    error = RateLimitError("rate limited", status_code=429, retry_after=1.0)
    LoguruTelemetry().retrying(spec_with(canary), 1, 1.0, error, "req-2")

    [line] = json_lines(sink)
    assert (line["event"], line["attempt"], line["wait_s"], line["status"]) == ("retrying", 1, 1.0, 429)


@pytest.mark.parametrize("as_json", [False, True])
def test_no_canary_in_messages_fields_or_tracebacks(canary, sink, as_json):
    configure_logging("TRACE", json=as_json, sink=sink, secrets=[Secret(canary)])
    openai_key = "sk-" + secrets.token_hex(16)
    bearer = secrets.token_hex(16)

    drop_stop(canary)
    logger.bind(model=canary, request_id=f"Bearer {bearer}", upstream={"key": canary}).info(f"key {canary}")
    logger.info("headers: Authorization: Bearer {} and {}", bearer, openai_key)
    try:
        fail_with(canary)
    except RuntimeError:
        logger.exception(f"the call with {canary} failed")

    text = sink.getvalue()
    for leaked in (canary, openai_key, bearer):
        assert leaked not in text
    assert "RuntimeError: upstream refused xai-" in text
    assert "fail_with" in text
    if as_json:
        failure = json_lines(sink)[-1]
        assert failure["level"] == "ERROR" and "RuntimeError" in failure["exception"]


@pytest.mark.parametrize("as_json", [False, True])
def test_stdlib_loggers_are_routed_through_the_mask(canary, sink, as_json):
    configure_logging("DEBUG", json=as_json, sink=sink)
    logging.getLogger("LiteLLM").warning("POST https://api.x.ai/v1 headers={'Authorization': 'Bearer %s'}", canary)
    logging.getLogger("httpx").info("HTTP Request: POST https://api.x.ai/v1/chat?api_key=%s", canary)
    logging.getLogger("some.library").error("key %s rejected", canary)
    try:
        fail_with(canary)
    except RuntimeError:
        logging.getLogger("LiteLLM Router").exception("router failed")

    text = sink.getvalue()
    assert canary not in text
    for name in ("LiteLLM", "httpx", "some.library", "LiteLLM Router"):
        assert name in text
    assert "RuntimeError: upstream refused" in text


def test_handlers_litellm_adds_before_or_after_configuration_print_nothing(canary, sink):
    before, after, child = io.StringIO(), io.StringIO(), io.StringIO()
    litellm_logger = logging.getLogger("LiteLLM")
    early = logging.StreamHandler(before)
    litellm_logger.addHandler(early)
    configure_logging("INFO", sink=sink)
    late = logging.StreamHandler(after)  # as LiteLLM does at its lazy import, after the application set up logging
    litellm_logger.addHandler(late)
    proxy_child = logging.getLogger("LiteLLM Proxy.stdout")
    child_handler = logging.StreamHandler(child)
    proxy_child.addHandler(child_handler)
    try:
        litellm_logger.warning("key %s", canary)
        proxy_child.warning("rejected key %s", canary)
    finally:
        litellm_logger.removeHandler(early)
        litellm_logger.removeHandler(late)
        proxy_child.removeHandler(child_handler)

    assert before.getvalue() == after.getvalue() == child.getvalue() == ""
    assert sink.getvalue().count(canary[-4:]) == 2
    assert canary not in sink.getvalue()


def test_litellm_is_quiet_below_warning_unless_debugging(sink):
    configure_logging("INFO", sink=sink)
    logging.getLogger("LiteLLM").info("chatty")
    logging.getLogger("httpx").info("HTTP Request: chatty")
    assert "chatty" not in sink.getvalue()

    configure_logging("TRACE", sink=sink)
    logging.getLogger("LiteLLM").debug("now heard")
    assert "now heard" in sink.getvalue()


def test_a_secret_added_later_is_masked_from_then_on(sink):
    master = "master" + secrets.token_hex(12)  # not key-shaped: only the registry can catch it
    configure_logging("INFO", sink=sink)
    add_secrets([Secret(master)])
    logger.info(f"master key is {master}")
    logging.getLogger("aiohttp.access").info("GET /v1/models?k=%s", master)

    assert master not in sink.getvalue()
    assert master[-4:] in sink.getvalue()


def test_a_host_sink_added_after_configuration_gets_masked_text_too(canary, sink):
    host: list[str] = []
    configure_logging("INFO", sink=sink, secrets=[canary])
    logger.add(lambda message: host.append(f"{message.record['message']} {message.record['extra']}"))
    logger.bind(note=canary).info(f"token {canary}")

    assert host and canary not in "".join(host)


def test_lines_stay_whole_when_threads_log_and_add_secrets_at_once(canary, sink):
    configure_logging("INFO", json=True, sink=sink, secrets=[canary])

    def work(n: int) -> None:
        for i in range(50):
            logger.bind(request_id=f"t{n}-{i}").info(f"line {i} {canary}")
            if i % 10 == 0:
                add_secrets([secrets.token_hex(8)])

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    lines = json_lines(sink)
    assert len(lines) == 400
    assert len({line["request_id"] for line in lines}) == 400
    assert canary not in sink.getvalue()


def test_reset_gives_the_stdlib_loggers_back(sink):
    root = logging.getLogger()
    handlers_before, level_before = list(root.handlers), root.level
    configure_logging("DEBUG", sink=sink)
    configure_logging("INFO", sink=sink)
    reset_logging()

    assert root.handlers == handlers_before and root.level == level_before
    assert not logging.getLogger("LiteLLM").filters or all(
        type(f).__name__ != "ForwardToLoguru" for f in logging.getLogger("LiteLLM").filters)
