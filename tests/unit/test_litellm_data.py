"""The data llmcore reads instead of importing LiteLLM: generated from the locked LiteLLM, guarded here."""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from llmcore.adapters import litellm_data

# Generated from the locked LiteLLM: compared against exactly that version (CI's floor job deselects it).
pytestmark = pytest.mark.locked_dependencies

ROOT = Path(__file__).resolve().parents[2]
GENERATOR = ROOT / "scripts" / "generate_litellm_data.py"


def _generator():
    spec = importlib.util.spec_from_file_location("generate_litellm_data", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_generated_data_matches_the_installed_litellm():
    # Fails when the lock moves LiteLLM: rerun scripts/generate_litellm_data.py and review the diff. A fresh
    # process, as at lock time: a LiteLLM that has served calls carries more module attributes.
    done = subprocess.run([sys.executable, str(GENERATOR), "--stdout"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "LITELLM_OFFLINE_MODE": "true", "LITELLM_LOCAL_MODEL_COST_MAP": "True"})
    assert done.returncode == 0, done.stderr
    assert done.stdout == litellm_data.DATA_FILE.read_text(encoding="utf-8")


def test_the_generator_reports_a_source_file_that_stopped_mentioning_a_key(tmp_path):
    generator = _generator()
    (tmp_path / "router_strategy").mkdir()
    (tmp_path / "router_strategy" / "simple_shuffle.py").write_text("for metric in ('rpm', 'tpm'): pass\n")
    with pytest.raises(SystemExit, match="no longer mentions 'weight'"):
        generator._read_elsewhere(tmp_path, "litellm_params")


def test_data_names_the_locked_litellm_version():
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    assert f"litellm=={litellm_data.litellm_version()} " in lock


def test_providers_come_from_litellm_and_include_the_routes_operators_use():
    for name in ("openai", "azure", "anthropic", "bedrock", "vertex_ai", "gemini", "groq", "mistral", "ollama",
                 "ollama_chat", "openrouter", "together_ai", "xai", "sagemaker"):
        assert name in litellm_data.providers(), name
    assert "auto_router" in litellm_data.providers()


def test_credential_params_are_secrets_and_the_rest_are_provider_params():
    secrets, plain = litellm_data.credential_params(), litellm_data.provider_params()
    assert {"aws_access_key_id", "aws_secret_access_key", "aws_session_token", "vertex_credentials",
            "azure_ad_token", "client_secret", "azure_password"} <= secrets
    assert {"api_version", "aws_region_name", "vertex_project", "vertex_location", "organization",
            "region_name"} <= plain
    assert not secrets & plain
    assert "api_key" not in secrets | plain and "api_base" not in secrets | plain  # Credentials own those


def test_accepted_keys_cover_what_litellm_reads_in_each_place():
    accepted = litellm_data.accepted_keys
    assert {"rpm", "tpm", "weight", "order", "stream_timeout", "mock_timeout"} <= accepted("litellm_params")
    assert {"rpm", "tpm"} <= accepted("model_list[]")
    assert {"mode", "base_model", "supports_vision", "adaptive_router_preferences"} <= accepted("model_info")
    assert {"fallbacks", "allowed_fails", "cooldown_time", "routing_strategy"} <= accepted("router_settings")
    assert {"success_callback", "cache", "num_retries", "request_timeout"} <= accepted("litellm_settings")
    assert {"database_url", "pass_through_endpoints", "otel"} <= accepted("general_settings")
    assert {"router_settings", "environment_variables", "finetune_settings"} <= accepted("")


def test_the_model_map_is_found_and_read_without_importing_litellm():
    code = ("import sys\nfrom llmcore.adapters import litellm_data as d\n"
            "assert d.model_map_entry(('gpt-4o',))[1]['mode'] == 'chat'\n"
            "assert 'litellm' not in sys.modules, 'litellm imported'\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_without_litellm_installed_the_model_map_is_empty(monkeypatch):
    monkeypatch.setattr(litellm_data.importlib.util, "find_spec", lambda name: None)
    litellm_data.model_map.cache_clear()
    try:
        assert litellm_data.model_map_path() is None
        assert litellm_data.model_map() == {}
        assert litellm_data.model_map_entry(("gpt-4o",)) is None
    finally:
        litellm_data.model_map.cache_clear()


def test_the_data_file_is_sorted_json():
    data = json.loads(litellm_data.DATA_FILE.read_text(encoding="utf-8"))
    for place in litellm_data.PLACES:
        assert data["keys"][place] == sorted(data["keys"][place])
