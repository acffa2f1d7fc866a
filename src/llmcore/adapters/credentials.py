"""The documented precedence for a model's key, base URL and provider params.

See docs/configuration.md, "Providers and credentials".

For llmcore's own profiles (xAI, the generic OpenAI-compatible endpoint):

1. a value on the model entry (literal, ``os.environ/NAME`` or ``file:/path``);
   a reference wins even when it cannot be resolved;
2. the model's own env vars (``GROK_API_KEY``, ``GROK_BASE_URL`` for Grok);
3. the global env vars (``LLMCORE_API_KEY``, ``LLMCORE_BASE_URL``);
4. the profile's default base URL (never a default key).

A variable that is set, even to an empty string, is used and judged; only an
unset one falls through. ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL`` are never read.

For every other provider LiteLLM serves (:func:`resolve_provider`): the entry's value, else
``model_info.api_key_env`` / ``base_url_env``, else the provider's own env vars in the order
LiteLLM reads them (``ANTHROPIC_API_KEY``; ``AZURE_OPENAI_API_KEY`` then ``AZURE_API_KEY``;
``AZURE_API_VERSION``...), read from the ``env`` given to ``llmcore.load`` and passed to LiteLLM
explicitly, else LiteLLM's default base URL. Never ``LLMCORE_*``, never another provider's
variables. Only what LiteLLM cannot take as a param (the AWS chain, Google ADC) is left to it.
"""
from __future__ import annotations

from collections.abc import Mapping

from attrs import field, frozen

from llmcore.adapters.provider_profiles import GLOBAL_BASE_URL_ENV, GLOBAL_KEY_ENV, ProviderProfile
from llmcore.domain.frozen_mapping import frozen_mapping
from llmcore.domain.model_spec import Credentials
from llmcore.domain.secret import Secret
from llmcore.ports.secret_source import Resolved, SecretSource

# Params an env var may fill that carry a credential: kept as Secrets, revealed only into a call.
SECRET_ENV_PARAMS = frozenset({"azure_ad_token", "vertex_credentials"})
# A credential LiteLLM accepts instead of an api_key (Azure AD bearer token, LiteLLM's azure.py).
KEY_ALTERNATIVES = ("azure_ad_token",)
# Sent as api_key to a provider that needs none when none is configured: given no key, LiteLLM's
# OpenAI-SDK path reads OPENAI_API_KEY from the process and sends it to that provider (measured in
# 1.110.2 for 54 such providers, e.g. xinference, sambanova, litellm_proxy). Not a secret.
NO_KEY_PLACEHOLDER = "llmcore-no-key-configured"


@frozen(kw_only=True)
class ProviderCredentials:
    """What :func:`resolve_provider` found: the key and base URL, and params filled from the env.

    ``provider_params`` / ``secret_params`` hold only values read from env vars (an entry's own
    params are the loader's); ``sources`` says where each came from (``env AZURE_API_VERSION``).
    """

    credentials: Credentials
    provider_params: Mapping[str, object] = field(factory=dict, converter=frozen_mapping)
    secret_params: Mapping[str, Secret] = field(factory=dict, converter=frozen_mapping)
    sources: Mapping[str, str] = field(factory=dict, converter=frozen_mapping)


def resolve_credentials(
    *,
    profile: ProviderProfile,
    entry_key: str | None,
    entry_base_url: str | None,
    key_env: str | None,
    base_url_env: str | None,
    secrets: SecretSource,
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
    entry_value: str | None, field_name: str, env_names: tuple[str | None, ...], secrets: SecretSource,
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


def resolve_provider(
    *,
    profile: ProviderProfile,
    entry_key: str | None,
    entry_base_url: str | None,
    key_env: str | None,
    base_url_env: str | None,
    secrets: SecretSource,
    entry_params: Mapping[str, object] | None = None,
    entry_secrets: Mapping[str, Secret] | None = None,
) -> ProviderCredentials:
    """The credentials of a model of ``profile``; llmcore's own profiles keep :func:`resolve_credentials`.

    ``entry_params`` / ``entry_secrets`` are the params the entry sets itself: an env var never
    overrides them. Nothing here raises: a missing key is a ``Credentials`` the registry judges.
    """
    if profile.own_credentials:
        return ProviderCredentials(credentials=resolve_credentials(
            profile=profile, entry_key=entry_key, entry_base_url=entry_base_url, key_env=key_env,
            base_url_env=base_url_env, secrets=secrets,
        ))
    entry_params = entry_params or {}
    entry_secrets = entry_secrets or {}
    params: dict[str, object] = {}
    secret_params: dict[str, Secret] = {}
    sources: dict[str, str] = {}
    for param, names in profile.param_envs.items():
        if param in ("api_key", "api_base") or param in entry_params or param in entry_secrets:
            continue
        found = _first_set(None, param, names, secrets)
        if found is None or found.value is None:
            continue
        if param in SECRET_ENV_PARAMS:
            secret_params[param] = found.value
        else:
            params[param] = found.value.reveal()
        sources[param] = found.source
    key_envs = _names(key_env, profile.param_envs.get("api_key", ()))
    base_envs = _names(base_url_env, profile.param_envs.get("api_base", ()))
    key = _first_set(entry_key, "litellm_params.api_key", key_envs, secrets)
    base = _first_set(entry_base_url, "litellm_params.api_base", base_envs, secrets)
    key_required, key_source = profile.key_required, key.source if key else "none"
    if key is None:
        alternative = next((p for p in KEY_ALTERNATIVES if p in entry_secrets or p in secret_params), None)
        if alternative is not None:
            key_required = False
            key_source = f"{alternative} ({sources.get(alternative, 'entry')})"
        elif profile.ambient_auth:
            key_source = profile.ambient_auth
        elif not profile.key_required:
            key = Resolved(value=Secret(NO_KEY_PLACEHOLDER), source="placeholder")
            key_source = (f"none ({profile.display_name} takes no key unless one is set; "
                          "a placeholder is sent so LiteLLM never sends OPENAI_API_KEY)")
    base_url = base.value.reveal() if base and base.value is not None else None
    base_source = base.source if base else "none"
    if base is None:
        base_url = profile.default_base_url
        base_source = "default (LiteLLM)" if base_url else f"LiteLLM's own default for {profile.display_name}"
    credentials = Credentials(
        api_key=key.value if key else None,
        api_key_source=key_source,
        api_key_problem=key.problem if key else None,
        base_url=base_url,
        base_url_source=base_source,
        base_url_problem=base.problem if base else None,
        key_hint=_provider_hint("api_key", entry_key, key_envs, _alternative_envs(profile)),
        base_url_hint=_provider_hint("api_base", entry_base_url, base_envs),
        key_required=key_required,
        base_url_required=profile.base_url_required,
    )
    return ProviderCredentials(credentials=credentials, provider_params=params, secret_params=secret_params,
                               sources=sources)


def _names(override: str | None, names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(((override,) if override else ()) + names))


def _alternative_envs(profile: ProviderProfile) -> str:
    names = [(param, env) for param in KEY_ALTERNATIVES for env in profile.param_envs.get(param, ())]
    return "".join(f" (or {env}, or {param} on the entry)" for param, env in names)


def _provider_hint(field: str, entry_value: str | None, env_names: tuple[str, ...], alternatives: str = "") -> str:
    if entry_value is not None:
        return f"fix the value of litellm_params.{field} on the model entry (it takes precedence over env vars)"
    if not env_names:
        return f"add {field} to the model entry{alternatives}"
    return f"set {' or '.join(env_names)}, or add {field} to the model entry{alternatives}"
