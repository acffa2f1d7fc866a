"""Helpers for config tests: write a YAML file and load it without building any adapter."""
from __future__ import annotations

import textwrap
from pathlib import Path

from llmcore.adapters.env_file_secrets import EnvFileSecretSource
from llmcore.adapters.yaml_config import load_catalog, load_file
from llmcore.domain.registry import ModelRegistry


def write_config(tmp_path: Path, text: str, name: str = "llmcore.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def registry_from(path: Path | None, env: dict[str, str], environment: str | None = None) -> ModelRegistry:
    secrets = EnvFileSecretSource(env)
    config = load_file(path, secrets) if path is not None else load_catalog(secrets)
    return ModelRegistry(config.specs, environment=environment)


GROK_ENTRY = """
model_list:
  - model_name: grok-code-fast-1
    litellm_params:
      model: openai/grok-code-fast-1
{extra}
"""


def grok_config(tmp_path: Path, extra: str = "") -> Path:
    indented = "\n".join("      " + line for line in textwrap.dedent(extra).splitlines())
    return write_config(tmp_path, GROK_ENTRY.format(extra=indented))
