"""Real configs load: every example shipped in the locked LiteLLM and every public config in tests/data/configs/.

``llmcore config check`` exits 0 on each (issue 10): a model llmcore cannot serve is listed unavailable with
its reason, a key llmcore ignores is a warning, and no credential shows up in the text or --json output.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmcore.entrypoints.cli import CliWiring, cli
from tests.conftest import make_canary

LITELLM_EXAMPLES = Path(next(iter(importlib.util.find_spec("litellm").submodule_search_locations))) \
    / "proxy" / "example_config_yaml"
VENDORED = Path(__file__).resolve().parents[1] / "data" / "configs"

# Broken on purpose, or at least broken for LiteLLM too: its one entry has no litellm_params (no model), and
# LiteLLM's own proxy cannot load it either (Deployment() raises "missing 1 required positional argument:
# 'litellm_params'"). llmcore reports it as a ConfigError naming the entry.
BROKEN = {"langfuse_config.yaml": "model_list[0] (gpt-3.5-turbo): litellm_params is required"}

CORPUS = sorted(LITELLM_EXAMPLES.glob("*.yaml")) + sorted(VENDORED.glob("*.yaml"))

# Every variable the corpus refers to, set to a canary, so resolved credentials are judged and must stay masked.
REFERENCED = ("AZURE_API_KEY", "AZURE_API_BASE", "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "CUSTOM_AWS_ACCESS_KEY_ID",
              "CUSTOM_AWS_SECRET_ACCESS_KEY", "CUSTOM_AWS_REGION_NAME", "LOCAL_LLM_KEY", "LITELLM_MASTER_KEY",
              "GROQ_API_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


def test_the_corpus_is_all_there():
    assert len(list(LITELLM_EXAMPLES.glob("*.yaml"))) >= 20
    assert {p.name for p in VENDORED.glob("*.yaml")} == {
        "berriai-azure-config.yaml", "berriai-proxy-server-config.yaml", "jasonacox-tinyllm.yaml",
        "lowkasen-aws-gateway.yaml"}


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_config_check_exits_0_and_shows_no_credential(path: Path):
    canaries = {name: make_canary("sk-canary") for name in REFERENCED}
    env = {**canaries, "AZURE_API_BASE": "https://example.openai.azure.com/"}
    for args in (["config", "check"], ["config", "check", "--json"]):
        result = CliRunner().invoke(cli, ["--config", str(path), *args], obj=CliWiring(env=env))
        if path.name in BROKEN:
            assert result.exit_code == 2 and BROKEN[path.name] in result.output
            continue
        assert result.exit_code == 0, result.output
        leaked = [name for name, key in canaries.items() if name != "AZURE_API_BASE" and key[10:] in result.output]
        assert leaked == [], leaked
        if "--json" in args:
            document = json.loads(result.stdout)
            assert document["models"], "every corpus file names models"
            for model in document["models"]:
                assert model["available"] or model["reason"], model["alias"]


def test_the_models_it_cannot_serve_say_why(tmp_path):
    path = VENDORED / "berriai-proxy-server-config.yaml"
    result = CliRunner().invoke(cli, ["--config", str(path), "--json", "config", "check"], obj=CliWiring(env={}))
    models = {m["alias"]: m for m in json.loads(result.stdout)["models"]}
    assert models["text-embedding-ada-002"]["reason"].startswith("mode 'embedding' (from model_info)")
    assert models["fake-openai-endpoint"]["provider"] == "openai"
    warnings = json.loads(result.stdout)["warnings"]
    assert any("general_settings.pass_through_endpoints is a LiteLLM proxy setting" in w for w in warnings)


def test_repeated_aliases_are_shown_per_deployment():
    path = LITELLM_EXAMPLES / "load_balancer.yaml"
    result = CliRunner().invoke(cli, ["--config", str(path), "config", "check"], obj=CliWiring(env={}))
    assert result.exit_code == 0
    assert result.output.count("[deployment ") >= 2


def test_credential_params_are_shown_masked_with_their_reference():
    path = VENDORED / "jasonacox-tinyllm.yaml"
    secret = make_canary("aws-canary")
    env = {"CUSTOM_AWS_ACCESS_KEY_ID": "AKIDEXAMPLE1234", "CUSTOM_AWS_SECRET_ACCESS_KEY": secret}
    result = CliRunner().invoke(cli, ["--config", str(path), "config", "check"], obj=CliWiring(env=env))
    assert result.exit_code == 0
    assert f"aws_secret_access_key  aws-…{secret[-4:]}  (from entry (os.environ/CUSTOM_AWS_SECRET_ACCESS_KEY))" in (
        result.output)
    assert secret not in result.output
