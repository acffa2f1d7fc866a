"""One ``model_list`` entry -> one ModelSpec (one deployment of its alias).

An entry llmcore cannot serve (a mode other than chat, a provider LiteLLM does
not know, an unresolvable credential param) still becomes a spec, with
``unservable`` saying why and what to do: one entry never takes the file down.
Only errors in the file itself are added to ``problems``.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from attrs import evolve, field, frozen

from llmcore.adapters import config_schema as schema
from llmcore.adapters.catalog import CatalogEntry, catalog_entry_for
from llmcore.adapters.credentials import resolve_provider
from llmcore.adapters.env_file_secrets import is_reference
from llmcore.adapters.config_route import Route, choose_profile, parse_route
from llmcore.adapters.model_defaults import CATALOG_SOURCE, Defaults, defaults_for
from llmcore.adapters.native_selection import choose_adapter, native_refusal
from llmcore.adapters.provider_profiles import OPENAI_WIRE_ROUTES, XAI, ProviderProfile, known_provider_names
from llmcore.domain.frozen_mapping import frozen_mapping
from llmcore.domain.model_spec import Capabilities, Deployment, Lifecycle, ModelSpec, ParamRules, RetryPolicy
from llmcore.domain.secret import Secret
from llmcore.domain.usage import Prices
from llmcore.ports.secret_source import SecretSource

# litellm.completion serves these modes (text completion and Responses-only models are bridged by LiteLLM).
SERVED_MODES = frozenset({"chat", "completion", "responses"})


@frozen(kw_only=True)
class RawEntry:
    """A structured entry plus the provider params pulled out of ``litellm_params`` before structuring."""

    index: int
    entry: schema.ModelEntry
    secret_params: Mapping[str, Any] = field(factory=dict, converter=frozen_mapping)
    provider_params: Mapping[str, Any] = field(factory=dict, converter=frozen_mapping)

    @property
    def where(self) -> str:
        return f"model_list[{self.index}] ({self.entry.model_name})"


@frozen(kw_only=True)
class FileDefaults:
    """Values from ``litellm_settings`` / ``router_settings`` every entry inherits unless it sets its own.

    Each is ``(value, source)``; ``source`` is what ``models show`` prints (``router_settings.num_retries``).
    """

    drop_params: bool | None = None
    num_retries: tuple[int, str] | None = None
    timeout: tuple[float, str] | None = None
    adapter: str | None = None  # general_settings.llmcore_adapter


def build_entry_spec(
    raw: RawEntry, secrets: SecretSource, file_defaults: FileDefaults, problems: list[str],
    warnings: list[str],
) -> ModelSpec | None:
    """The spec of one entry, or None when the entry itself is wrong (then ``problems`` says why)."""
    entry, where = raw.entry, raw.where
    params = entry.litellm_params
    info = entry.model_info or schema.ModelInfo()
    _check_values(where, params, problems)
    route = parse_route(params.model, params.custom_llm_provider)
    entry_base = _entry_base_url(params.api_base, secrets)
    catalog = catalog_entry_for(route.upstream) if route.route in ("", "openai", "xai") else None
    if catalog is not None and route.route == "":
        # A bare catalog name (model: grok-build-0.1) is xAI's even where LiteLLM's map has no bare key for it.
        route = Route(route="", upstream=route.upstream, provider="xai")
    profile, why = choose_profile(info, route, entry_base, catalog)
    if profile is None:
        hint = schema.nearest(str(info.provider), known_provider_names())
        problems.append(f"{where}.model_info.provider: unknown provider {info.provider!r}{hint}")
        return None
    if params.api_key and not is_reference(params.api_key):
        warnings.append(f"{where}.litellm_params.api_key holds a literal key; use os.environ/NAME or file:/path "
                        "so the key stays out of the file")
    is_xai = profile.name == XAI.name
    provider = profile.name if is_xai or info.provider else route.provider
    call_route = "openai" if is_xai else route.route  # xAI via openai/ keeps its raw usage and cost ticks
    defaults = defaults_for(profile=profile, catalog=catalog if is_xai else None, route=route.route,
                            upstream=route.upstream, provider=route.provider, base_model=info.base_model)
    secret_params, secret_problem = _secret_params(where, raw.secret_params, secrets, problems, warnings)
    provider_params, param_problem = _provider_params(raw.provider_params, secrets)
    spec = _spec(
        alias=entry.model_name, params=params, info=info, profile=profile, defaults=defaults,
        secrets=secrets, file_defaults=file_defaults, entry_params=provider_params, entry_secrets=secret_params,
    )
    if spec.base_url and urlsplit(spec.base_url).username is not None and spec.api_key is not None:
        # httpx turns URL userinfo into an Authorization: Basic header that replaces the SDK's Bearer key.
        warnings.append(f"{where}: the base URL ({spec.credentials.base_url_source}) holds user:password, which "
                        "the HTTP client sends as Basic auth in place of the API key's Bearer header, so the "
                        "upstream never sees the key; take the credentials out of the URL unless the upstream "
                        "authenticates with Basic auth alone")
    mode = info.mode or defaults.mode
    sources = {
        **spec.sources,
        "profile": f"{profile.display_name} ({why})",
        "mode": "model_info" if info.mode else (defaults.source if defaults.mode else "default (chat)"),
        # Where each credential param came from, shown beside its mask: entry (os.environ/AWS_SECRET_ACCESS_KEY).
        **{name: f"entry ({raw.secret_params[name]})" if isinstance(raw.secret_params[name], str)
           and is_reference(raw.secret_params[name]) else "entry (literal)" for name in secret_params},
    }
    adapter = choose_adapter(info.adapter, file_defaults.adapter, where)
    if adapter.problem is not None:
        problems.append(adapter.problem)
    spec = evolve(
        spec, upstream_model=route.upstream, provider=provider, route=call_route,
        sources={**sources, "adapter": adapter.source}, adapter=adapter.adapter,
        # The entry's own params win over those the provider's env vars filled in.
        secret_params={**spec.secret_params, **secret_params},
        provider_params={**spec.provider_params, **provider_params},
        deployment=Deployment(
            id=info.id or "", weight=params.weight, rpm=_first(params.rpm, entry.rpm),
            tpm=_first(params.tpm, entry.tpm), order=params.order,
        ),
        unservable=route.problem or _mode_problem(mode, sources["mode"]) or secret_problem or param_problem,
    )
    if spec.adapter == "native" and spec.unservable is None:
        spec = evolve(spec, unservable=native_refusal(spec, adapter.source))
    return spec


def build_catalog_spec(entry: CatalogEntry, secrets: SecretSource) -> ModelSpec:
    """A catalog model served without a config file: credentials from the environment only."""
    defaults = defaults_for(profile=XAI, catalog=entry, route="openai", upstream=entry.upstream_model,
                            provider="xai", base_model=None)
    spec = _spec(alias=entry.alias, params=None, info=schema.ModelInfo(), profile=XAI, defaults=defaults,
                 secrets=secrets, file_defaults=FileDefaults())
    return evolve(spec, upstream_model=entry.upstream_model, provider=XAI.name, route="openai",
                  sources={**spec.sources, "profile": f"{XAI.display_name} ({CATALOG_SOURCE})"})


def derived_deployment_id(alias: str, params: schema.LiteLLMParams) -> str:
    """A stable id for an entry without ``model_info.id``: alias, model and base URL reference hashed
    (the raw ``api_base`` text, a reference or a URL; never a key)."""
    digest = hashlib.sha256(json.dumps([alias, params.model, params.api_base]).encode()).hexdigest()
    return f"{alias}-{digest[:10]}"


def _spec(
    *, alias: str, params: schema.LiteLLMParams | None, info: schema.ModelInfo, profile: ProviderProfile,
    defaults: Defaults, secrets: SecretSource, file_defaults: FileDefaults,
    entry_params: Mapping[str, object] | None = None, entry_secrets: Mapping[str, Secret] | None = None,
) -> ModelSpec:
    resolved = resolve_provider(
        profile=profile, entry_key=params.api_key if params else None,
        entry_base_url=params.api_base if params else None,
        key_env=info.api_key_env or profile.key_env, base_url_env=info.base_url_env or profile.base_url_env,
        secrets=secrets, entry_params=entry_params, entry_secrets=entry_secrets,
    )
    credentials = resolved.credentials
    drop_params, drop_source = _sourced(
        (params.drop_params if params else None, "entry"), (file_defaults.drop_params, "litellm_settings"),
        (True, "default"))
    retries, retries_source = _sourced(
        (params.max_retries if params else None, "entry"), (params.num_retries if params else None, "entry"),
        file_defaults.num_retries, (RetryPolicy().max_retries, "default"))
    timeout, timeout_source = _sourced(
        (params.timeout if params else None, "entry"), file_defaults.timeout, (defaults.timeout, defaults.source),
        (600.0, "default"))
    priced = any(v is not None for v in (info.input_cost_per_token, info.output_cost_per_token,
                                         info.cache_read_input_token_cost))
    return ModelSpec(
        alias=alias, upstream_model=alias, provider=profile.name,
        credentials=credentials,
        capabilities=_capabilities(defaults.capabilities, info),
        param_rules=_param_rules(profile, defaults, params, info, drop_params),
        retry=_retry(retries, info),
        timeout=timeout,
        stream_timeout=params.stream_timeout if params else None,
        prices=_prices(defaults.prices, params, info),
        lifecycle=_lifecycle(defaults.lifecycle, info),
        environments=tuple(info.environments or ()),
        usage_convention=profile.usage_convention,
        extra_headers={**profile.extra_headers, **((params.extra_headers if params else None) or {})},
        provider_params=resolved.provider_params,
        secret_params=resolved.secret_params,
        sources={
            **resolved.sources,
            "drop_params": drop_source, "max_retries": retries_source, "timeout": timeout_source,
            "api_key": credentials.api_key_source, "api_base": credentials.base_url_source,
            "defaults": defaults.source, "prices": "model_info" if priced else defaults.source,
        },
    )


def _sourced(*candidates: tuple[Any, str] | None) -> Any:
    return next((c for c in candidates if c is not None and c[0] is not None), (None, "default"))


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def _check_values(where: str, params: schema.LiteLLMParams, problems: list[str]) -> None:
    if params.max_retries is not None and params.num_retries is not None:
        problems.append(f"{where}.litellm_params: set max_retries or num_retries, not both")
    for name in ("timeout", "stream_timeout"):
        value = getattr(params, name)
        if value is not None and value <= 0:
            problems.append(f"{where}.litellm_params.{name}: must be a positive number of seconds, got {value}")


def _entry_base_url(api_base: str | None, secrets: SecretSource) -> str | None:
    if api_base is None:
        return None
    resolved = secrets.resolve(api_base, field_name="litellm_params.api_base")
    return resolved.value.reveal() if resolved.value is not None else None


def _mode_problem(mode: str | None, source: str) -> str | None:
    if mode is None or mode in SERVED_MODES:
        return None
    served = ", ".join(sorted(SERVED_MODES))
    return (f"mode {mode!r} (from {source}): llmcore serves chat models only (modes {served}); "
            "serve this model with LiteLLM's own proxy, or remove it from the file")


def _secret_params(
    where: str, raw: Mapping[str, Any], secrets: SecretSource, problems: list[str], warnings: list[str],
) -> tuple[dict[str, Secret], str | None]:
    """Credential params as Secrets, with api_key's reference rules; the first unresolvable one's problem."""
    found: dict[str, Secret] = {}
    unresolved: str | None = None
    for name, value in raw.items():
        if isinstance(value, dict):  # vertex_credentials may be the service-account JSON itself
            value = json.dumps(value)
        elif not isinstance(value, str):
            problems.append(f"{where}.litellm_params.{name}: expected a string (a reference such as "
                            f"os.environ/NAME or file:/path), got {type(value).__name__}")
            continue
        if not is_reference(value):
            warnings.append(f"{where}.litellm_params.{name} holds a literal credential; use os.environ/NAME or "
                            "file:/path so it stays out of the file")
        resolved = secrets.resolve(value, field_name=f"litellm_params.{name}")
        if resolved.value is not None:
            found[name] = resolved.value
        elif unresolved is None:
            unresolved = f"{resolved.problem}; set it, or fix the reference on the model entry"
    return found, unresolved


def _provider_params(raw: Mapping[str, Any], secrets: SecretSource) -> tuple[dict[str, object], str | None]:
    """Non-secret provider params as written; an ``os.environ/`` or ``file:`` value is resolved as LiteLLM does."""
    found: dict[str, object] = {}
    unresolved: str | None = None
    for name, value in raw.items():
        if isinstance(value, str) and is_reference(value):
            resolved = secrets.resolve(value, field_name=f"litellm_params.{name}")
            if resolved.value is None:
                unresolved = unresolved or f"{resolved.problem}; set it, or fix the reference on the model entry"
                continue
            value = resolved.value.reveal()
        found[name] = value
    return found, unresolved


def _capabilities(base: Capabilities, info: schema.ModelInfo) -> Capabilities:
    caps = info.capabilities or schema.CapabilitiesConfig()
    return evolve(
        base,
        streaming=_first(caps.streaming, base.streaming),
        reasoning=_first(caps.reasoning, info.supports_reasoning, base.reasoning),
        tools=_first(caps.tools, info.supports_function_calling, base.tools),
        tool_choice=_first(caps.tool_choice, info.supports_tool_choice, base.tool_choice),
        response_format=_first(caps.response_format, info.supports_response_schema, base.response_format),
        vision=_first(caps.vision, info.supports_vision, base.vision),
        max_input_tokens=_first(info.max_input_tokens, base.max_input_tokens),
        max_output_tokens=_first(info.max_output_tokens, base.max_output_tokens),
    )


def _param_rules(
    profile: ProviderProfile, defaults: Defaults, params: schema.LiteLLMParams | None, info: schema.ModelInfo,
    drop_params: bool,
) -> ParamRules:
    rules = info.param_rules or schema.ParamRulesConfig()
    drop = list(rules.drop if rules.drop is not None else defaults.drop)
    for extra in (params.additional_drop_params if params else None) or ():
        if extra not in drop:
            drop.append(extra)
    reasons = {p: r for p, r in defaults.drop.items() if r}
    if profile.route not in OPENAI_WIRE_ROUTES and "metadata" not in drop:
        # LiteLLM takes `metadata` as its own logging kwarg and sends nothing upstream on these routes
        # (on the OpenAI-wire ones llmcore sends it in the body): dropped visibly, not lost silently.
        drop.append("metadata")
        reasons["metadata"] = (f"LiteLLM's {profile.route}/ route keeps it for its own logging; "
                               "the upstream never sees it")
    return ParamRules(
        drop=tuple(drop),
        reasons=reasons,
        rename=rules.rename if rules.rename is not None else profile.param_rules.rename,
        strip_name_from_non_user=_first(rules.strip_name_from_non_user, profile.param_rules.strip_name_from_non_user),
        drop_params=drop_params,
    )


def _retry(max_retries: int, info: schema.ModelInfo) -> RetryPolicy:
    default = RetryPolicy()
    retry = info.retry or schema.RetryConfig()
    return RetryPolicy(
        max_retries=max_retries,
        backoff_base=_first(retry.backoff_base, default.backoff_base),
        backoff_max=_first(retry.backoff_max, default.backoff_max),
        retry_after_max=_first(retry.retry_after_max, default.retry_after_max),
    )


def _prices(base: Prices, params: schema.LiteLLMParams | None, info: schema.ModelInfo) -> Prices:
    return Prices(
        input_per_token=_first(info.input_cost_per_token, params.input_cost_per_token if params else None,
                               base.input_per_token),
        output_per_token=_first(info.output_cost_per_token, params.output_cost_per_token if params else None,
                                base.output_per_token),
        cached_input_per_token=_first(info.cache_read_input_token_cost, base.cached_input_per_token),
    )


def _lifecycle(base: Lifecycle, info: schema.ModelInfo) -> Lifecycle:
    own = info.lifecycle or schema.LifecycleConfig()
    return Lifecycle(
        deprecation_date=_first(own.deprecation_date, base.deprecation_date),
        successor=_first(own.successor, base.successor),
        served_by=_first(own.served_by, base.served_by),
    )
