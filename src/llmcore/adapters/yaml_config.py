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
from llmcore.adapters.native_selection import file_adapter
from llmcore.adapters.catalog import catalog
from llmcore.adapters.config_entry import RawEntry, build_catalog_spec, build_entry_spec
from llmcore.adapters.config_ranges import add_setting_problem
from llmcore.adapters.config_routing import file_defaults_from, routing_from, with_deployment_id
from llmcore.adapters.env_file_secrets import ENV_PREFIX
from llmcore.adapters.litellm_data import credential_params, provider_params
from llmcore.adapters.model_defaults import CATALOG_SOURCE
from llmcore.domain.errors import ConfigError
from llmcore.domain.model_spec import ModelSpec
from llmcore.domain.ranges import InvalidSettingError
from llmcore.domain.routing import RoutingSettings
from llmcore.domain.secret import Secret
from llmcore.ports.secret_source import SecretSource

__all__ = ["CATALOG_SOURCE", "LoadedConfig", "load_catalog", "load_file"]


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
        """Every key, every credential param and the master key, for the masking filters."""
        found = [spec.api_key for spec in self.specs if spec.api_key is not None]
        found += [secret for spec in self.specs for secret in spec.secret_params.values()]
        return found + ([self.master_key] if self.master_key is not None else [])


def load_catalog(secrets: SecretSource) -> LoadedConfig:
    """The catalog's models, credentials from the environment only."""
    specs = tuple(build_catalog_spec(entry, secrets) for entry in catalog().values() if entry.served_without_config)
    return LoadedConfig(source=CATALOG_SOURCE, specs=specs)


def load_file(path: str | Path, secrets: SecretSource) -> LoadedConfig:
    """Exactly the file's models (one spec per entry: a repeated model_name is several deployments),
    the catalog and LiteLLM's model map filling defaults; ConfigError lists every problem in the file."""
    source = str(path)
    raw = _read_yaml(Path(path))
    problems: list[str] = []
    warnings: list[str] = []
    top, top_warn, top_err = schema.split_unknown(
        raw, schema.TOP_LEVEL_USED, schema.litellm_only("", schema.TOP_LEVEL_USED), "config")
    warnings += top_warn
    problems += [e.replace("config: ", "", 1) for e in top_err]

    secrets = _with_environment_variables(top.get("environment_variables"), secrets, problems)
    litellm_settings = _section(top, "litellm_settings", schema.LiteLLMSettings, problems, warnings)
    router_settings = _section(top, "router_settings", schema.RouterSettings, problems, warnings)
    general = _section(top, "general_settings", schema.GeneralSettings, problems, warnings)
    file_defaults = evolve(file_defaults_from(litellm_settings, router_settings, problems),
                           adapter=file_adapter(general.llmcore_adapter if general else None, problems))

    raw_models = top.get("model_list")
    if raw_models is None:
        problems.append("model_list: required; list the models to serve (see docs/configuration.md)")
        raw_models = []
    elif not isinstance(raw_models, list):
        problems.append(f"model_list: expected a list of model entries, got {type(raw_models).__name__}")
        raw_models = []

    specs: list[ModelSpec] = []
    for index, raw_entry in enumerate(raw_models):
        entry = _entry(index, raw_entry, problems, warnings)
        if entry is None:
            continue
        try:
            spec = build_entry_spec(entry, secrets, file_defaults, problems, warnings)
        except InvalidSettingError as error:  # a value out of its range (the domain's validators)
            add_setting_problem(problems, entry.where, error)
            continue
        if spec is not None:
            specs.append(with_deployment_id(spec, entry, specs))

    routing = routing_from(litellm_settings, router_settings, {s.alias for s in specs}, problems)
    master_key, master_problem = _master_key(general, secrets)
    proxy = _proxy_settings(general, problems)
    if problems:
        raise ConfigError(problems, source=source)
    return LoadedConfig(
        source=source, specs=tuple(specs), master_key=master_key, master_key_problem=master_problem,
        warnings=tuple(warnings), routing=routing, **proxy,
    )


def _with_environment_variables(
    raw: Any, secrets: SecretSource, problems: list[str],
) -> SecretSource:
    """``environment_variables`` as defaults beneath the process environment, for this file's references.

    LiteLLM's proxy writes them into ``os.environ``; a library must not change its host's
    environment, so llmcore reads them only when resolving this file's ``os.environ/NAME``
    references and env lookups. A variable the process sets wins (so an operator can override
    the file); a value that is itself ``os.environ/NAME`` is read from the process, as LiteLLM does.
    """
    if raw is None:
        return secrets
    if not isinstance(raw, dict):
        problems.append(f"environment_variables: expected a mapping of NAME: value, got {type(raw).__name__}")
        return secrets
    values: dict[str, str] = {}
    for name, value in raw.items():
        if value is None:
            continue  # `NAME:` with no value: nothing to set (LiteLLM would set the text "None")
        if not isinstance(name, str) or isinstance(value, (dict, list)):
            problems.append(f"environment_variables.{name}: expected NAME: text, got {type(value).__name__}")
            continue
        text = str(value).lower() if isinstance(value, bool) else str(value)
        if text.startswith(ENV_PREFIX):
            resolved = secrets.env(text[len(ENV_PREFIX):])
            if resolved.value is None:
                continue  # LiteLLM leaves such a variable unset too
            text = resolved.value.reveal()
        values[name] = text
    return secrets.with_defaults(values)


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
    used = schema.used_keys(cls)
    kept, warn, err = schema.split_unknown(raw, used, schema.litellm_only(name, used), name,
                                           lenient=name in schema.LENIENT_PLACES)
    warnings += warn
    problems += err
    value, errors = schema.structure(kept, cls, name)
    problems += errors
    return value


def _entry(index: int, raw: Any, problems: list[str], warnings: list[str]) -> RawEntry | None:
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
    kept, warn, err = schema.split_unknown(raw, entry_keys, schema.litellm_only("model_list[]", entry_keys), where)
    warnings += warn
    problems += err
    pulled: dict[str, dict[str, Any]] = {"secret": {}, "provider": {}}
    for section, cls in (("litellm_params", schema.LiteLLMParams), ("model_info", schema.ModelInfo)):
        sub = kept.get(section)
        if sub is None:
            continue
        if not isinstance(sub, dict):
            problems.append(f"{where}.{section}: expected a mapping, got {type(sub).__name__}")
            return None
        if section == "litellm_params":
            sub = dict(sub)
            pulled["secret"] = {k: sub.pop(k) for k in list(sub) if k in credential_params()}
            pulled["provider"] = {k: sub.pop(k) for k in list(sub) if k in provider_params()}
        used = schema.used_keys(cls)
        inner, warn, err = schema.split_unknown(sub, used, schema.litellm_only(section, used), f"{where}.{section}")
        kept[section] = inner
        warnings += warn
        problems += err
    if "litellm_params" not in kept:
        problems.append(f"{where}: litellm_params is required (with at least model: <provider>/<model>)")
        return None
    entry, errors = schema.structure(kept, schema.ModelEntry, where)
    problems += errors
    if entry is None:
        return None
    return RawEntry(index=index, entry=entry, secret_params=pulled["secret"], provider_params=pulled["provider"])


def _master_key(
    general: schema.GeneralSettings | None, secrets: SecretSource
) -> tuple[Secret | None, str | None]:
    if general is None or general.master_key is None:
        return None, None
    resolved = secrets.resolve(general.master_key, field_name="general_settings.master_key")
    return resolved.value, resolved.problem
