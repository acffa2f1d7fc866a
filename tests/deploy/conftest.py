"""The deploy config (deploy/kubernetes/llmcore.yaml) with its key files in a tmp dir, as in the pod."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.deploy.manifests import KUBERNETES, env_of, proxy_container, render

SECRET_MOUNT = "/var/run/secrets/llmcore/"


@pytest.fixture
def deploy_config(tmp_path: Path, canary: str) -> tuple[Path, dict[str, str]]:
    """(config path, the Deployment's env): the ConfigMap's config with ``file:`` paths moved into tmp.

    The Secret's files hold a canary Grok key and a stub master key, written the way Kubernetes
    mounts them (no final newline).
    """
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "grok-api-key").write_text(canary)
    (keys / "master-key").write_text("deploy-master-stub-" + "0" * 12)
    text = (KUBERNETES / "llmcore.yaml").read_text(encoding="utf-8")
    assert SECRET_MOUNT in text
    config = tmp_path / "llmcore.yaml"
    config.write_text(text.replace(SECRET_MOUNT, f"{keys}/"), encoding="utf-8")
    env = env_of(proxy_container(render()))
    return config, {k: v for k, v in env.items() if k != "LLMCORE_CONFIG"}
