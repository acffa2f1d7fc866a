"""The documented precedence for a model's key and base URL (docs/configuration.md).

1. a value on the model entry (literal, ``os.environ/NAME`` or ``file:/path``);
   a reference wins even when it cannot be resolved;
2. the model's own env vars (``GROK_API_KEY``, ``GROK_BASE_URL`` for Grok);
3. the global env vars (``LLMCORE_API_KEY``, ``LLMCORE_BASE_URL``);
4. the profile's default base URL (never a default key).

A variable that is set, even to an empty string, is used and judged; only an
unset one falls through. ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL`` are never read.
"""
from __future__ import annotations

from llmcore.adapters.env_file_secrets import EnvFileSecretSource
from llmcore.adapters.provider_profiles import GLOBAL_BASE_URL_ENV, GLOBAL_KEY_ENV, ProviderProfile
from llmcore.domain.model_spec import Credentials
from llmcore.ports.secret_source import Resolved


def resolve_credentials(
    *,
    profile: ProviderProfile,
    entry_key: str | None,
    entry_base_url: str | None,
    key_env: str | None,
    base_url_env: str | None,
    secrets: EnvFileSecretSource,
) -> Credentials:
    key = _first_set(entry_key, "litellm_params.api_key", (key_env, GLOBAL_KEY_ENV), secrets)
    base = _first_set(entry_base_url, "litellm_params.api_base", (base_url_env, GLOBAL_BASE_URL_ENV), secrets)
    base_url = base.value.reveal() if base and base.value is not None else None
    base_source = base.source if base else "none"
    if base is None and profile.default_base_url:
        base_url, base_source = profile.default_base_url, "default"
    return Credentials(
        api_key=key.value if key else None,
        api_key_source=key.source if key else "none",
        api_key_problem=key.problem if key else None,
        base_url=base_url,
        base_url_source=base_source,
        base_url_problem=base.problem if base else None,
        key_hint=_hint("api_key", entry_key, key_env),
        base_url_hint=_hint("api_base", entry_base_url, base_url_env),
    )


def _first_set(
    entry_value: str | None, field_name: str, env_names: tuple[str | None, ...], secrets: EnvFileSecretSource,
) -> Resolved | None:
    if entry_value is not None:
        return secrets.resolve(entry_value, field_name=field_name)
    for name in env_names:
        if name:
            resolved = secrets.env(name)
            if resolved.is_set:
                return resolved
    return None


def _hint(field: str, entry_value: str | None, own_env: str | None) -> str:
    if entry_value is not None:
        return f"fix the value of litellm_params.{field} on the model entry (it takes precedence over env vars)"
    global_env = GLOBAL_KEY_ENV if field == "api_key" else GLOBAL_BASE_URL_ENV
    names = " or ".join(n for n in (own_env, global_env) if n)
    return f"set {names}, or add {field} to the model entry"
