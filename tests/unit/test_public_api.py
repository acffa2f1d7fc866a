"""The public API other services rely on: exports, discovery order, and no LiteLLM at import."""
import inspect
import os
import subprocess
import sys

import pytest

import llmcore
import llmcore.errors
from llmcore.domain import errors as domain_errors
from tests.unit.config_helpers import write_config


def test_exports_are_sorted_and_resolve():
    assert llmcore.__all__ == sorted(llmcore.__all__)
    for name in llmcore.__all__:
        assert getattr(llmcore, name) is not None


def test_errors_module_exports_the_whole_tree():
    tree = {name for name, obj in inspect.getmembers(domain_errors, inspect.isclass)
            if issubclass(obj, domain_errors.LLMCoreError)}
    assert tree <= set(llmcore.errors.__all__)


def test_import_and_load_do_not_import_litellm_or_opentelemetry():
    code = ("import sys, llmcore; llmcore.load(env={'GROK_API_KEY': 'x' * 20}); "
            "sys.exit(any(m in sys.modules for m in ('litellm', 'opentelemetry')))")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GROK", "LLMCORE"))}
    assert subprocess.run([sys.executable, "-c", code], env=env, timeout=60).returncode == 0


def test_discovery_prefers_the_path_argument(tmp_path, monkeypatch, canary):
    named = write_config(tmp_path, "model_list:\n  - model_name: named\n    litellm_params: {model: openai/x}\n",
                         "named.yaml")
    from_env = write_config(tmp_path, "model_list:\n  - model_name: env\n    litellm_params: {model: openai/x}\n",
                            "env.yaml")
    write_config(tmp_path, "model_list:\n  - model_name: local\n    litellm_params: {model: openai/x}\n")
    monkeypatch.chdir(tmp_path)
    env = {"LLMCORE_CONFIG": str(from_env)}
    assert [m.alias for m in llmcore.load(named, env=env).models()] == ["named"]
    assert [m.alias for m in llmcore.load(env=env).models()] == ["env"]
    assert [m.alias for m in llmcore.load(env={}).models()] == ["local"]
    monkeypatch.chdir(tmp_path / "..")
    assert [m.alias for m in llmcore.load(env={}).models()] == ["grok-code-fast-1"]


def test_env_is_copied_at_load(canary):
    env = {"GROK_API_KEY": canary}
    core = llmcore.load(env=env)
    env["GROK_API_KEY"] = ""
    assert core.models()[0].available


def test_load_raises_config_error_for_a_bad_file(tmp_path):
    with pytest.raises(llmcore.errors.ConfigError):
        llmcore.load(write_config(tmp_path, "model_list: 3"), env={})


def test_model_status_carries_what_the_design_promises(canary):
    (status,) = llmcore.load(env={"GROK_API_KEY": canary}).models()
    assert status.alias == "grok-code-fast-1" and status.upstream == "grok-code-fast-1"
    assert status.available and status.reason is None
    assert status.capabilities.reasoning
    assert status.lifecycle.successor == "grok-build-0.1"
    assert status.lifecycle_warning == "retired upstream 2026-05-15, served by grok-4.3, successor grok-build-0.1"


def test_no_canary_in_any_repr_of_config_objects_statuses_or_errors(tmp_path, canary):
    from llmcore.adapters.env_file_secrets import EnvFileSecretSource
    from llmcore.adapters.yaml_config import load_file
    from llmcore.domain.errors import ModelUnavailableError, UpstreamAuthError

    path = write_config(tmp_path, f"""
        model_list:
          - model_name: grok-code-fast-1
            litellm_params: {{model: openai/grok-code-fast-1, api_key: os.environ/K}}
          - model_name: literal
            litellm_params: {{model: openai/x, api_key: "{canary} ", api_base: "http://h/v1"}}
        general_settings: {{master_key: os.environ/K}}
    """)
    config = load_file(path, EnvFileSecretSource({"K": canary}))
    core = llmcore.load(path, env={"K": canary})
    shown = [repr(config), str(config), repr(core.models()), str(core.models()), repr(core.settings)]
    shown += [repr(spec) for spec in config.specs]
    try:
        core.complete("literal", [{"role": "user", "content": "x"}])
    except ModelUnavailableError as exc:
        shown += [str(exc), repr(exc), exc.reason]
    error = UpstreamAuthError("denied", status_code=400, upstream_text=f"Incorrect API key provided: {canary}")
    shown += [str(error), repr(error), error.upstream_text]
    for text in shown:
        assert canary not in text
