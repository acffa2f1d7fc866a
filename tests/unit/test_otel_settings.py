"""Wrong ``OTEL_*`` settings stop ``llmcore proxy`` at start with a ConfigError (exit 2) naming the variable
(finding 12): the SDK raised a bare ValueError for batch sizes and propagators, and took any OTLP endpoint,
then logged an ERROR for every export batch."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from llmcore.adapters.otel_setup import check_propagators, requested_exporters
from llmcore.domain.errors import ConfigError


@pytest.mark.parametrize(("env", "named"), [
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "not-a-url"}, "OTEL_EXPORTER_OTLP_ENDPOINT"),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "ftp://collector:4318"}, "OTEL_EXPORTER_OTLP_ENDPOINT"),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://"}, "OTEL_EXPORTER_OTLP_ENDPOINT"),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:99999"}, "OTEL_EXPORTER_OTLP_ENDPOINT"),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://[::1"}, "OTEL_EXPORTER_OTLP_ENDPOINT"),
    # The traces variable wins, so it is the one checked, even when the general one is fine.
    ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "localhost:4318/v1/traces",
      "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
])
def test_an_otlp_endpoint_that_is_not_an_http_url_is_a_config_error_naming_the_variable(
        env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError) as raised:
        requested_exporters({"OTEL_TRACES_EXPORTER": "otlp", **env})
    assert str(raised.value).startswith(f"{named} is not an http(s) URL with a host; set it to")


@pytest.mark.parametrize("env", [
    {},
    {"OTEL_EXPORTER_OTLP_ENDPOINT": "https://collector.example:4318"},
    {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces", "OTEL_EXPORTER_OTLP_ENDPOINT": "x"},
])
def test_an_http_endpoint_or_none_is_accepted(env: dict[str, str]) -> None:
    assert requested_exporters({"OTEL_TRACES_EXPORTER": "otlp", **env}) == ("otlp",)


def test_the_endpoint_is_checked_only_when_otlp_is_asked_for() -> None:
    assert requested_exporters({"OTEL_TRACES_EXPORTER": "console", "OTEL_EXPORTER_OTLP_ENDPOINT": "x"}) == ("console",)


def test_a_bad_endpoint_is_named_never_shown(canary: str) -> None:
    with pytest.raises(ConfigError) as raised:
        requested_exporters({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": f"ftp://u:{canary}@h"})
    assert canary not in str(raised.value)


@pytest.mark.parametrize("value", ["", "tracecontext", " tracecontext , baggage", "none", "tracecontext,none,nope"])
def test_propagators_the_sdk_can_load_are_accepted(value: str) -> None:
    check_propagators({"OTEL_PROPAGATORS": value})


@pytest.mark.parametrize(("value", "named"), [("nope", "'nope'"), ("tracecontext,b3, x", "'b3', 'x'")])
def test_a_propagator_no_package_provides_is_a_config_error(value: str, named: str) -> None:
    with pytest.raises(ConfigError) as raised:
        check_propagators({"OTEL_PROPAGATORS": value})
    assert str(raised.value).startswith(f"OTEL_PROPAGATORS names {named}, which no installed package provides")


@pytest.mark.parametrize(("env", "fragment"), [
    ({"OTEL_BSP_MAX_QUEUE_SIZE": "-4"},
     "refused the batch span processor's settings (max_queue_size must be a positive integer); "
     "fix OTEL_BSP_MAX_QUEUE_SIZE='-4'"),
    ({"OTEL_BSP_MAX_QUEUE_SIZE": "10", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "20"},
     "fix OTEL_BSP_MAX_EXPORT_BATCH_SIZE='20', OTEL_BSP_MAX_QUEUE_SIZE='10'"),
    ({"OTEL_PROPAGATORS": "nope"}, "OTEL_PROPAGATORS names 'nope'"),
    ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": "not-a-url"},
     "OTEL_EXPORTER_OTLP_ENDPOINT is not an http(s) URL"),
])
def test_the_proxy_refuses_to_start_with_exit_2_and_names_the_variable(
        tmp_path: Path, canary: str, env: dict[str, str], fragment: str) -> None:
    config = tmp_path / "llmcore.yaml"
    config.write_text("model_list:\n  - model_name: grok-code-fast-1\n    litellm_params:\n"
                      "      model: xai/grok-code-fast-1\n      api_key: os.environ/GROK_API_KEY\n")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "GROK", "LLMCORE"))}
    result = subprocess.run(
        [sys.executable, "-m", "llmcore.entrypoints.cli", "--config", str(config), "proxy", "--port", "0"],
        env={**clean, "GROK_API_KEY": canary, "OTEL_TRACES_EXPORTER": "console", **env},
        capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert fragment in result.stderr and "unexpected" not in result.stderr
    assert canary not in result.stdout + result.stderr
