"""The ConfigMap's config passes `llmcore config check` as it will in the pod, and fails loudly
(readiness 503, config check exit 2 with --strict) when the Secret's key file is missing.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from llmcore.bootstrap import build_runtime
from llmcore.entrypoints.proxy_health import ModelHealth


def config_check(config: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    child_env = {"PATH": os.environ["PATH"], "HOME": str(config.parent), **env,
                 "LITELLM_OFFLINE_MODE": "true", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    return subprocess.run([sys.executable, "-m", "llmcore.entrypoints.cli", "--config", str(config), "config",
                           "check", "--strict", "--json"], env=child_env, cwd=config.parent,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.slow
def test_the_config_map_passes_config_check_with_the_secret_files(deploy_config, canary: str):
    config, env = deploy_config
    result = config_check(config, env)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] and report["environment"] == env["LLMCORE_ENV"]
    (grok,) = report["models"]
    assert grok["alias"] == "grok-code-fast-1" and grok["available"]
    key_file = config.parent / "keys" / "grok-api-key"
    assert grok["api_key_source"] == f"entry (file:{key_file})"
    assert report["master_key_problem"] is None
    assert canary not in result.stdout + result.stderr


@pytest.mark.slow
def test_a_missing_key_file_fails_config_check(deploy_config):
    config, env = deploy_config
    (config.parent / "keys" / "grok-api-key").unlink()
    result = config_check(config, env)
    assert result.returncode == 2
    assert "grok-api-key, which does not exist" in result.stdout + result.stderr


def health(core) -> ModelHealth:
    return ModelHealth(core, metrics=None, interval=60.0, enabled=False)  # readiness only; no probe runs


def test_a_missing_key_file_makes_the_readiness_probe_fail(deploy_config):
    """What keeps a pod whose Secret lacks the key out of the Service during a rollout."""
    config, env = deploy_config
    runtime = build_runtime(config, env=env)
    assert health(runtime.core).readiness()[0] == 200
    (config.parent / "keys" / "grok-api-key").unlink()
    status, body = health(build_runtime(config, env=env).core).readiness()
    assert status == 503 and "does not exist" in body["models"][0]["reason"]
