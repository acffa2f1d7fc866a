"""The ``otel`` extra is optional: without OpenTelemetry installed llmcore works unchanged, and asking for traces
says how to get them. Each case runs in a child interpreter where ``opentelemetry`` cannot be imported
(``sys.modules["opentelemetry"] = None`` makes every import of it fail, as an absent package does)."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from llmcore.adapters.otel_setup import install_tracer_provider, requested_exporters
from llmcore.adapters.otel_semconv import provider_name, server_attributes
from llmcore.domain.errors import ConfigError

WITHOUT_OTEL = "import sys\nsys.modules['opentelemetry'] = None\n"


def run_without_otel(body: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "GROK", "LLMCORE"))}
    return subprocess.run([sys.executable, "-c", WITHOUT_OTEL + textwrap.dedent(body)], env={**clean, **env},
                          capture_output=True, text=True, timeout=60)


def test_the_library_and_the_proxy_app_work_without_opentelemetry_installed() -> None:
    result = run_without_otel("""
        import asyncio
        import llmcore
        from llmcore.adapters.scripted_completion import ScriptedCompletion
        from llmcore.bootstrap import build_runtime
        from llmcore.entrypoints.proxy import create_app

        core = llmcore.load(env={'GROK_API_KEY': 'x' * 20}, completion=ScriptedCompletion())
        assert core.complete('grok-code-fast-1', [{'role': 'user', 'content': 'hi'}], stop=['x']).content
        with core.stream('grok-code-fast-1', [{'role': 'user', 'content': 'hi'}]) as session:
            assert ''.join(c.content or '' for c in session) == 'scripted reply'
        runtime = build_runtime(None, {'GROK_API_KEY': 'x' * 20}, completion=ScriptedCompletion())
        app = create_app(runtime)
        assert not app.middlewares, 'no tracing middleware without OpenTelemetry'
        assert not [m for m in sys.modules if m.startswith('opentelemetry.')]
        print('ok')
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_asking_the_proxy_for_traces_without_the_extra_says_how_to_install_it() -> None:
    result = run_without_otel("""
        from llmcore.adapters.otel_setup import install_tracer_provider
        from llmcore.domain.errors import ConfigError
        try:
            install_tracer_provider()
        except ConfigError as exc:
            print(exc)
    """, OTEL_TRACES_EXPORTER="otlp")
    assert result.returncode == 0, result.stderr
    assert "pip install 'llmcore[otel]'" in result.stdout and "OTEL_TRACES_EXPORTER" in result.stdout


@pytest.mark.parametrize(("env", "wanted"), [
    ({}, ()),
    ({"OTEL_TRACES_EXPORTER": "none"}, ()),
    ({"OTEL_TRACES_EXPORTER": "otlp"}, ("otlp",)),
    ({"OTEL_TRACES_EXPORTER": " OTLP , console,otlp"}, ("otlp", "console")),
    ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}, ()),
    ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, ("otlp",)),
    ({"OTEL_TRACES_EXPORTER": "console", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, ("console",)),
])
def test_traces_are_exported_only_when_otel_traces_exporter_asks(env: dict[str, str], wanted: tuple[str, ...]) -> None:
    assert requested_exporters(env) == wanted


@pytest.mark.parametrize(("env", "named"), [
    ({"OTEL_TRACES_EXPORTER": "zipkin"}, "not zipkin"),
    ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "OTEL_EXPORTER_OTLP_PROTOCOL='grpc'"),
    ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"}, "'http/json'"),
])
def test_an_exporter_llmcore_does_not_offer_is_a_config_error_that_names_the_fix(
        env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError) as raised:
        requested_exporters(env)
    assert named in str(raised.value) and "set it to" in str(raised.value)


def test_without_the_opt_in_no_provider_is_installed() -> None:
    assert install_tracer_provider({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"}) is None


@pytest.mark.parametrize(("provider", "expected"), [
    ("xai", "x_ai"), ("openai", "openai"), ("azure", "azure.ai.openai"), ("anthropic", "anthropic"),
    ("bedrock", "aws.bedrock"), ("vertex_ai", "gcp.vertex_ai"), ("gemini", "gcp.gemini"),
    ("openai_compatible", "openai_compatible"), ("ollama", "ollama"),
])
def test_provider_names_follow_the_genai_registry(provider: str, expected: str) -> None:
    assert provider_name(provider) == expected


@pytest.mark.parametrize(("url", "expected"), [
    ("https://api.x.ai/v1", {"server.address": "api.x.ai", "server.port": 443}),
    ("http://user:pa55@127.0.0.1:8080/v1?key=k", {"server.address": "127.0.0.1", "server.port": 8080}),
    ("http://localhost/v1", {"server.address": "localhost", "server.port": 80}),
    (None, {}), ("", {}), ("not a url", {}), ("http://[::1/v1", {}),
])
def test_the_server_attributes_never_carry_a_path_query_or_userinfo(url: str | None, expected: dict) -> None:
    assert server_attributes(url) == expected


def test_the_console_exporter_prints_spans_and_a_second_install_keeps_the_first_provider() -> None:
    script = """
        from opentelemetry import trace
        from llmcore.adapters.otel_setup import install_tracer_provider
        first = install_tracer_provider()
        assert install_tracer_provider() is first is trace.get_tracer_provider()
        trace.get_tracer('t').start_span('hello-console').end()
        first.force_flush()
    """
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True,
                            env={**clean, "OTEL_TRACES_EXPORTER": "console"}, timeout=60)
    assert result.returncode == 0, result.stderr
    assert '"name": "hello-console"' in result.stdout and '"service.name": "llmcore-proxy"' in result.stdout
