"""Reads the shared config file (LiteLLM proxy schema) and the built-in catalog into ModelSpecs.

Every problem in the file is collected, each naming the file, the entry (by
``model_name``) and the field, and raised as one ConfigError. Credentials
are not judged here: a model with a bad key is built, and the registry marks
it unavailable with a reason, so one bad model never stops the others.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from attrs import evolve, frozen

from llmcore.adapters import config_schema as schema
from llmcore.adapters.catalog import CATALOG, CatalogEntry, catalog_entry_for
from llmcore.adapters.config_ranges import add_setting_problem
from llmcore.adapters.credentials import resolve_credentials
from llmcore.adapters.env_file_secrets import EnvFileSecretSource, is_reference
from llmcore.adapters.provider_profiles import OPENAI_COMPATIBLE, PROFILES, ProviderProfile
from llmcore.domain.errors import ConfigError
from llmcore.domain.ranges import InvalidSettingError
from llmcore.domain.model_spec import Capabilities, Lifecycle, ModelSpec, ParamRules, RetryPolicy
from llmcore.domain.routing import RoutingSettings
from llmcore.domain.secret import Secret
from llmcore.domain.usage import Prices

CATALOG_SOURCE = "built-in catalog"
ROUTES = ("openai/", "xai/")


@frozen(kw_only=True)
class LoadedConfig:
    """The models and deployment settings read from one source, and the warnings met on the way."""

    source: str
    specs: tuple[ModelSpec, ...]
    master_key: Secret | None = None
    master_key_problem: str | None = None
    health_checks: bool = False
    health_check_interval: float = 300.0
    max_request_size_mb: float = 1.0
    warnings: tuple[str, ...] = ()
    routing: RoutingSettings = RoutingSettings()

    def secrets(self) -> list[Secret]:
        """Every key and the master key, for the masking filters."""
        found = [spec.api_key for spec in self.specs if spec.api_key is not None]
        return found + ([self.master_key] if self.master_key is not None else [])


def load_catalog(secrets: EnvFileSecretSource) -> LoadedConfig:
    """The catalog's models, credentials from the environment only."""
    specs = tuple(_build_spec(entry.alias, None, entry, secrets, global_drop=None) for entry in CATALOG.values())
    return LoadedConfig(source=CATALOG_SOURCE, specs=specs)


def load_file(path: str | Path, secrets: EnvFileSecretSource) -> LoadedConfig:
    """Exactly the file's models, the catalog filling defaults for entries it knows."""
    source = str(path)
    raw = _read_yaml(Path(path))
    problems: list[str] = []
    warnings: list[str] = []
    top, top_warn, top_err = schema.split_unknown(raw, schema.TOP_LEVEL_USED, schema.LITELLM_ONLY_KEYS[""], "config")
    warnings += top_warn
    problems += [e.replace("config: ", "", 1) for e in top_err]

    litellm_settings = _section(top, "litellm_settings", schema.LiteLLMSettings, problems, warnings)
    general = _section(top, "general_settings", schema.GeneralSettings, problems, warnings)

    raw_models = top.get("model_list")
    if raw_models is None:
        problems.append("model_list: required; list the models to serve (see docs/configuration.md)")
        raw_models = []
    elif not isinstance(raw_models, list):
        problems.append(f"model_list: expected a list of model entries, got {type(raw_models).__name__}")
        raw_models = []

    specs: list[ModelSpec] = []
    seen: set[str] = set()
    global_drop = litellm_settings.drop_params if litellm_settings else None
    for index, raw_entry in enumerate(raw_models):
        entry = _entry(index, raw_entry, problems, warnings)
        if entry is None:
            continue
        if entry.model_name in seen:
            problems.append(f"model_list[{index}] ({entry.model_name}): model_name is configured more than once")
            continue
        seen.add(entry.model_name)
        try:
            spec = _spec_from_entry(index, entry, secrets, global_drop, problems, warnings)
        except InvalidSettingError as error:  # a value out of its range (the domain's validators)
            add_setting_problem(problems, f"model_list[{index}] ({entry.model_name})", error)
            continue
        if spec is not None:
            specs.append(spec)

    master_key, master_problem = _master_key(general, secrets)
    proxy = _proxy_settings(general, problems)
    if problems:
        raise ConfigError(problems, source=source)
    return LoadedConfig(
        source=source, specs=tuple(specs), master_key=master_key, master_key_problem=master_problem,
        warnings=tuple(warnings), **proxy,
    )


def _proxy_settings(general: schema.GeneralSettings | None, problems: list[str]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    if general is None:
        return settings
    if general.background_health_checks is not None:
        settings["health_checks"] = general.background_health_checks
    for name, value in (("health_check_interval", general.health_check_interval),
                        ("max_request_size_mb", general.max_request_size_mb)):
        if value is None:
            continue
        if value <= 0:
            problems.append(f"general_settings.{name}: must be a positive number, got {value}")
        settings[name] = value
    return settings


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("the config file does not exist; check --config or LLMCORE_CONFIG", str(path)) from None
    except OSError as exc:
        raise ConfigError(f"the config file cannot be read ({exc.strerror})", str(path)) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"not valid YAML{where}: {problem}", str(path)) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"expected a mapping with model_list at the top, got {type(data).__name__}", str(path))
    return data


def _section(top: Mapping[str, Any], name: str, cls: type, problems: list[str], warnings: list[str]) -> Any:
    raw = top.get(name)
    if raw is None:
        return None
    if not isinstance(raw, dict):
        problems.append(f"{name}: expected a mapping, got {type(raw).__name__}")
        return None
    kept, warn, err = schema.split_unknown(raw, schema.used_keys(cls), schema.LITELLM_ONLY_KEYS[name], name)
    warnings += warn
    problems += err
    value, errors = schema.structure(kept, cls, name)
    problems += errors
    return value


def _entry(index: int, raw: Any, problems: list[str], warnings: list[str]) -> schema.ModelEntry | None:
    where = f"model_list[{index}]"
    if not isinstance(raw, dict):
        problems.append(f"{where}: expected a mapping with model_name and litellm_params")
        return None
    name = raw.get("model_name")
    if isinstance(name, str) and name.strip():
        where = f"{where} ({name})"
    else:
        problems.append(f"{where}: model_name is required and must be a non-empty string")
        return None
    entry_keys = schema.used_keys(schema.ModelEntry)
    kept, warn, err = schema.split_unknown(raw, entry_keys, schema.LITELLM_ONLY_KEYS["model_list[]"], where)
    warnings += warn
    problems += err
    for section, cls in (("litellm_params", schema.LiteLLMParams), ("model_info", schema.ModelInfo)):
        sub = kept.get(section)
        if sub is None:
            continue
        if not isinstance(sub, dict):
            problems.append(f"{where}.{section}: expected a mapping, got {type(sub).__name__}")
            return None
        inner, warn, err = schema.split_unknown(
            sub, schema.used_keys(cls), schema.LITELLM_ONLY_KEYS[section], f"{where}.{section}"
        )
        kept[section] = inner
        warnings += warn
        problems += err
    if "litellm_params" not in kept:
        problems.append(f"{where}: litellm_params is required (with at least model: openai/<model>)")
        return None
    entry, errors = schema.structure(kept, schema.ModelEntry, where)
    problems += errors
    return entry


def _spec_from_entry(
    index: int, entry: schema.ModelEntry, secrets: EnvFileSecretSource, global_drop: bool | None,
    problems: list[str], warnings: list[str],
) -> ModelSpec | None:
    where = f"model_list[{index}] ({entry.model_name})"
    params = entry.litellm_params
    info = entry.model_info or schema.ModelInfo()
    route, _, upstream = params.model.partition("/")
    if not upstream or f"{route}/" not in ROUTES:
        problems.append(
            f"{where}.litellm_params.model: {params.model!r} is not served by llmcore; "
            "use openai/<model> with api_base pointing at an OpenAI-compatible endpoint"
        )
        return None
    catalog = catalog_entry_for(entry.model_name, upstream)
    provider_name = info.provider or (catalog.provider if catalog else "openai_compatible")
    profile = PROFILES.get(provider_name)
    if profile is None:
        hint = schema.nearest(provider_name, frozenset(PROFILES))
        problems.append(f"{where}.model_info.provider: unknown provider {provider_name!r}{hint}")
        return None
    if params.api_key and not is_reference(params.api_key):
        warnings.append(
            f"{where}.litellm_params.api_key holds a literal key; use os.environ/NAME or file:/path "
            "so the key stays out of the file"
        )
    if params.max_retries is not None and params.num_retries is not None:
        problems.append(f"{where}.litellm_params: set max_retries or num_retries, not both")
    for name in ("timeout", "stream_timeout"):
        value = getattr(params, name)
        if value is not None and value <= 0:
            problems.append(f"{where}.litellm_params.{name}: must be a positive number of seconds, got {value}")
    return _build_spec(entry.model_name, entry, catalog, secrets, global_drop, profile)


def _build_spec(
    alias: str, entry: schema.ModelEntry | None, catalog: CatalogEntry | None, secrets: EnvFileSecretSource,
    global_drop: bool | None, profile: ProviderProfile | None = None,
) -> ModelSpec:
    params = entry.litellm_params if entry else None
    info = (entry.model_info if entry else None) or schema.ModelInfo()
    if profile is None:
        profile = PROFILES.get(catalog.provider if catalog else "", OPENAI_COMPATIBLE)
    upstream = params.model.partition("/")[2] if params else (catalog.upstream_model if catalog else alias)
    sources: dict[str, str] = {}
    credentials = resolve_credentials(
        profile=profile,
        entry_key=params.api_key if params else None,
        entry_base_url=params.api_base if params else None,
        key_env=info.api_key_env or profile.key_env,
        base_url_env=info.base_url_env or profile.base_url_env,
        secrets=secrets,
    )
    drop_params = _first(params.drop_params if params else None, global_drop, True)
    sources["drop_params"] = (
        "entry" if params and params.drop_params is not None
        else "litellm_settings" if global_drop is not None else "default"
    )
    return ModelSpec(
        alias=alias,
        upstream_model=upstream,
        provider=profile.name,
        route="openai",
        credentials=credentials,
        capabilities=_capabilities(profile.capabilities, info),
        param_rules=_param_rules(profile.param_rules, params, info, drop_params),
        retry=_retry(params, info),
        timeout=_first(params.timeout if params else None, catalog.timeout if catalog else None, 600.0),
        stream_timeout=params.stream_timeout if params else None,
        prices=_prices(catalog, params, info),
        lifecycle=_lifecycle(catalog, info),
        environments=tuple(info.environments or ()),
        usage_convention=profile.usage_convention,
        extra_headers={**profile.extra_headers, **((params.extra_headers if params else None) or {})},
        sources={
            **sources,
            "api_key": credentials.api_key_source,
            "api_base": credentials.base_url_source,
            "defaults": CATALOG_SOURCE if catalog else f"{profile.display_name} profile",
        },
    )


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


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
    base: ParamRules, params: schema.LiteLLMParams | None, info: schema.ModelInfo, drop_params: bool,
) -> ParamRules:
    rules = info.param_rules or schema.ParamRulesConfig()
    drop = list(rules.drop if rules.drop is not None else base.drop)
    for extra in (params.additional_drop_params if params else None) or ():
        if extra not in drop:
            drop.append(extra)
    return ParamRules(
        drop=tuple(drop),
        reasons=base.reasons,
        rename=rules.rename if rules.rename is not None else base.rename,
        strip_name_from_non_user=_first(rules.strip_name_from_non_user, base.strip_name_from_non_user),
        drop_params=drop_params,
    )


def _retry(params: schema.LiteLLMParams | None, info: schema.ModelInfo) -> RetryPolicy:
    default = RetryPolicy()
    retry = info.retry or schema.RetryConfig()
    return RetryPolicy(
        max_retries=_first(params.max_retries if params else None, params.num_retries if params else None,
                           default.max_retries),
        backoff_base=_first(retry.backoff_base, default.backoff_base),
        backoff_max=_first(retry.backoff_max, default.backoff_max),
        retry_after_max=_first(retry.retry_after_max, default.retry_after_max),
    )


def _prices(catalog: CatalogEntry | None, params: schema.LiteLLMParams | None, info: schema.ModelInfo) -> Prices:
    base = catalog.prices if catalog else Prices()
    return Prices(
        input_per_token=_first(info.input_cost_per_token, params.input_cost_per_token if params else None,
                               base.input_per_token),
        output_per_token=_first(info.output_cost_per_token, params.output_cost_per_token if params else None,
                                base.output_per_token),
        cached_input_per_token=_first(info.cache_read_input_token_cost, base.cached_input_per_token),
    )


def _lifecycle(catalog: CatalogEntry | None, info: schema.ModelInfo) -> Lifecycle:
    base = catalog.lifecycle if catalog else Lifecycle()
    own = info.lifecycle or schema.LifecycleConfig()
    return Lifecycle(
        deprecation_date=_first(own.deprecation_date, base.deprecation_date),
        successor=_first(own.successor, base.successor),
        served_by=_first(own.served_by, base.served_by),
    )


def _master_key(
    general: schema.GeneralSettings | None, secrets: EnvFileSecretSource
) -> tuple[Secret | None, str | None]:
    if general is None or general.master_key is None:
        return None, None
    resolved = secrets.resolve(general.master_key, field_name="general_settings.master_key")
    return resolved.value, resolved.problem
