"""Guard: the provider data file is what the locked LiteLLM says; a LiteLLM upgrade regenerates it."""
from __future__ import annotations

import json

import pytest

from llmcore.adapters import provider_env_gen
from llmcore.adapters.litellm_runtime import litellm_module

# Generated from the locked LiteLLM: compared against exactly that version (CI's floor job deselects it).
pytestmark = pytest.mark.locked_dependencies


@pytest.fixture(scope="module")
def generated() -> dict:
    litellm_module()  # imported the way the adapter imports it (offline, quiet)
    return provider_env_gen.generate()


def test_the_committed_data_file_matches_the_locked_litellm(generated):
    committed = json.loads(provider_env_gen.DATA_FILE.read_text(encoding="utf-8"))
    assert committed == generated, (
        "src/llmcore/adapters/data/provider_env.json is stale for the installed LiteLLM; "
        "run python -m llmcore.adapters.provider_env_gen and review the diff"
    )


def test_check_mode_passes_on_the_committed_file(generated, capsys):
    assert provider_env_gen.main(["--check"]) == 0


def test_check_mode_fails_on_a_stale_file(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "provider_env.json"
    stale.write_text("{}", encoding="utf-8")
    monkeypatch.setattr(provider_env_gen, "DATA_FILE", stale)
    assert provider_env_gen.main(["--check"]) == 1
    assert "stale" in capsys.readouterr().out
    assert provider_env_gen.main([]) == 0
    assert json.loads(stale.read_text(encoding="utf-8"))["providers"]["anthropic"]


def test_every_provider_in_litellm_is_in_the_data(generated):
    litellm = litellm_module()
    assert set(generated["providers"]) == {str(getattr(p, "value", p)) for p in litellm.provider_list}


def test_params_the_data_maps_env_vars_to_are_params_litellm_reads(generated):
    """Each param name is one LiteLLM takes as a call param or reads by that name from a call's kwargs."""
    import inspect

    import litellm.llms.vertex_ai.vertex_llm_base as vertex_base
    import litellm.main as main
    from litellm.types.utils import all_litellm_params

    read_by_name = inspect.getsource(main) + inspect.getsource(vertex_base)
    params = {p for facts in generated["providers"].values() for p in facts["env"]}
    assert params >= {"api_key", "api_base", "api_version", "azure_ad_token", "vertex_project", "organization"}
    for param in params:
        assert param in all_litellm_params or f'"{param}"' in read_by_name or f"{param}=" in read_by_name, param


@pytest.mark.parametrize(("env", "param"), [
    ("ANTHROPIC_API_KEY", "api_key"), ("AZURE_API_BASE", "api_base"), ("ANTHROPIC_BASE_URL", "api_base"),
    ("AZURE_API_VERSION", "api_version"), ("AZURE_AD_TOKEN", "azure_ad_token"), ("AWS_SECRET_ACCESS_KEY", ""),
    ("VERTEXAI_PROJECT", "vertex_project"), ("OPENAI_ORGANIZATION", "organization"), ("AZURE_API_TYPE", ""),
])
def test_env_names_map_to_litellm_params(env, param):
    assert provider_env_gen.param_for_env(env) == param
