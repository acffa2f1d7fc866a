"""The config file's schema (LiteLLM proxy's, plus llmcore's keys under ``model_info``), structured with cattrs.

An unknown key that LiteLLM's own proxy accepts in that place is accepted
with a warning that llmcore does not use it; any other unknown key is an
error that names the nearest valid key.
"""
from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Mapping
from typing import Any

import cattrs
from attrs import define, fields

# --- The raw file, as written ------------------------------------------------


@define
class LiteLLMParams:
    model: str
    api_key: str | None = None
    api_base: str | None = None
    drop_params: bool | None = None
    additional_drop_params: list[str] | None = None
    timeout: float | None = None
    stream_timeout: float | None = None
    max_retries: int | None = None
    num_retries: int | None = None
    extra_headers: dict[str, str] | None = None
    input_cost_per_token: float | None = None
    output_cost_per_token: float | None = None


@define
class CapabilitiesConfig:
    streaming: bool | None = None
    reasoning: bool | None = None
    tools: bool | None = None
    tool_choice: bool | None = None
    response_format: bool | None = None
    vision: bool | None = None


@define
class ParamRulesConfig:
    drop: list[str] | None = None
    rename: dict[str, str] | None = None
    strip_name_from_non_user: bool | None = None


@define
class RetryConfig:
    backoff_base: float | None = None
    backoff_max: float | None = None
    retry_after_max: float | None = None


@define
class LifecycleConfig:
    deprecation_date: dt.date | None = None
    successor: str | None = None
    served_by: str | None = None


@define
class ModelInfo:
    # LiteLLM's own model_info keys that llmcore reads.
    id: str | None = None
    mode: str | None = None
    base_model: str | None = None
    input_cost_per_token: float | None = None
    output_cost_per_token: float | None = None
    cache_read_input_token_cost: float | None = None
    max_input_tokens: int | None = None
    max_output_tokens: int | None = None
    supports_function_calling: bool | None = None
    supports_tool_choice: bool | None = None
    supports_response_schema: bool | None = None
    supports_reasoning: bool | None = None
    supports_vision: bool | None = None
    # llmcore's own keys.
    provider: str | None = None
    api_key_env: str | None = None
    base_url_env: str | None = None
    capabilities: CapabilitiesConfig | None = None
    param_rules: ParamRulesConfig | None = None
    retry: RetryConfig | None = None
    lifecycle: LifecycleConfig | None = None
    environments: list[str] | None = None


@define
class ModelEntry:
    model_name: str
    litellm_params: LiteLLMParams
    model_info: ModelInfo | None = None


@define
class LiteLLMSettings:
    drop_params: bool | None = None
    num_retries: int | None = None
    request_timeout: float | None = None


@define
class GeneralSettings:
    master_key: str | None = None
    # LiteLLM proxy names, same meaning: the proxy's optional background probe and body limit.
    background_health_checks: bool | None = None
    health_check_interval: float | None = None
    max_request_size_mb: float | None = None


# --- Keys LiteLLM's proxy accepts that llmcore does not use -------------------

LITELLM_ONLY_KEYS: Mapping[str, frozenset[str]] = {
    "": frozenset({"router_settings", "environment_variables", "callback_settings", "credential_list",
                   "include", "files_settings", "assistant_settings", "vector_store_registry",
                   "guardrails", "mcp_servers", "search_tools", "prompts"}),
    "model_list[]": frozenset(),
    "litellm_params": frozenset({
        "rpm", "tpm", "max_parallel_requests", "weight", "order", "tags", "api_version", "organization",
        "custom_llm_provider", "region_name", "input_cost_per_second", "output_cost_per_second",
        "merge_reasoning_content_in_choices", "use_in_pass_through", "use_litellm_proxy", "mock_response",
        "headers", "cooldown_time", "litellm_credential_name", "configurable_clientside_auth_params",
        "allowed_openai_params", "max_tokens", "temperature", "top_p", "seed", "user", "litellm_trace_id",
        "model_info", "budget_duration", "max_budget", "cache_control_injection_points",
    }),
    "model_info": frozenset({
        "tier", "team_id", "access_groups", "description", "litellm_provider", "db_model", "updated_at",
        "created_at", "updated_by", "created_by", "max_tokens", "cache_creation_input_token_cost",
        "output_cost_per_reasoning_token", "input_cost_per_token_above_200k_tokens",
        "output_cost_per_token_above_200k_tokens", "supports_prompt_caching", "supports_system_messages",
        "supports_parallel_function_calling", "supports_web_search", "supports_audio_input",
        "supports_audio_output", "supports_pdf_input", "supports_native_streaming", "source",
        "deprecation_date", "successor_model", "supported_openai_params", "key",
    }),
    "litellm_settings": frozenset({
        "set_verbose", "json_logs", "success_callback", "failure_callback", "callbacks", "cache",
        "cache_params", "turn_off_message_logging", "redact_user_api_key_info", "context_window_fallbacks",
        "fallbacks", "default_fallbacks", "content_policy_fallbacks", "allowed_fails", "max_budget",
        "budget_duration", "telemetry", "service_callback", "modify_params", "enable_preview_features",
        "additional_drop_params", "default_team_settings", "ssl_verify", "force_ipv4",
    }),
    "general_settings": frozenset({
        "database_url", "database_connection_pool_limit", "database_connection_timeout", "alerting",
        "alerting_threshold", "proxy_batch_write_at", "disable_spend_logs", "store_model_in_db",
        "master_key_ttl", "allowed_routes", "public_routes", "enable_jwt_auth", "litellm_jwtauth",
        "health_check_details", "ui_access_mode",
        "disable_master_key_return", "custom_auth", "max_parallel_requests", "global_max_parallel_requests",
        "infer_model_from_keys", "forward_client_headers_to_llm_api", "maximum_spend_logs_retention_period",
    }),
}

TOP_LEVEL_USED = frozenset({"model_list", "litellm_settings", "general_settings"})


def used_keys(cls: type) -> frozenset[str]:
    return frozenset(a.name for a in fields(cls))


def nearest(key: str, candidates: frozenset[str]) -> str:
    """A hint naming the valid key closest to a typo, if any is close."""
    match = difflib.get_close_matches(key, sorted(candidates), n=1, cutoff=0.6)
    return f"; did you mean {match[0]!r}?" if match else f"; valid keys: {', '.join(sorted(candidates))}"


def split_unknown(
    raw: Mapping[str, Any], used: frozenset[str], litellm_only: frozenset[str], where: str,
) -> tuple[dict[str, Any], list[str], list[str]]:
    """(the keys llmcore uses, warnings for LiteLLM-only keys, errors for unknown keys)."""
    kept: dict[str, Any] = {}
    warnings: list[str] = []
    errors: list[str] = []
    for key, value in raw.items():
        if key in used:
            kept[key] = value
        elif key in litellm_only:
            warnings.append(f"{where}.{key} is a LiteLLM proxy setting that llmcore does not use; ignored")
        else:
            errors.append(f"{where}: unknown key {key!r}{nearest(str(key), used)}")
    return kept, warnings, errors


# --- cattrs: strict scalars, so "false" or 3.5 never slip through as the wrong type ----------


def _strict(kind: type, accept: tuple[type, ...], reject: tuple[type, ...] = ()) -> Any:
    def structure(value: Any, _: type) -> Any:
        if isinstance(value, reject) or not isinstance(value, accept):
            raise ValueError(f"expected {kind.__name__}, got {type(value).__name__} {value!r}")
        return kind(value)
    return structure


def _structure_bool(value: Any, _: type) -> bool:
    # LiteLLM's proxy normalises "true"/"false" strings (PR #33738); so do we.
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError(f"expected true or false, got {value!r}")


def _structure_date(value: Any, _: type) -> dt.date:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value)
    raise ValueError(f"expected a date like 2026-05-15, got {value!r}")


def make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True)
    converter.register_structure_hook(bool, _structure_bool)
    converter.register_structure_hook(str, _strict(str, (str,)))
    converter.register_structure_hook(int, _strict(int, (int,), (bool,)))
    converter.register_structure_hook(float, _strict(float, (int, float), (bool,)))
    converter.register_structure_hook(dt.date, _structure_date)
    return converter


CONVERTER = make_converter()


# A wrong value in these fields may well be a key pasted in the wrong shape: say its type, never its value.
SECRET_FIELDS = ("api_key", "master_key", "extra_headers")


def structure(raw: Any, cls: type, where: str) -> tuple[Any, list[str]]:
    """``raw`` as ``cls``, or None and every problem, each prefixed with ``where``."""
    try:
        return CONVERTER.structure(raw, cls), []
    except Exception as exc:  # cattrs raises ClassValidationError / BaseValidationError groups
        messages = cattrs.transform_error(exc, path="", format_exception=_fmt)
        return None, [f"{where}{_hide_secret_value(_dotted(msg))}" for msg in messages]


def _hide_secret_value(problem: str) -> str:
    path, _, text = problem.partition(": ")
    if not any(field in path for field in SECRET_FIELDS):
        return problem
    shown, got, rest = text.partition(", got ")
    return f"{path}: {shown}, got {rest.split(' ', 1)[0]} (value not shown)" if got else f"{path}: {shown}"


def _fmt(exc: BaseException, type_: Any) -> str:
    if isinstance(exc, KeyError):
        return "required field missing"
    if isinstance(exc, ValueError) and str(exc):
        return str(exc)
    return cattrs.v.format_exception(exc, type_)


def _dotted(message: str) -> str:
    # transform_error says "invalid value @ $.litellm_params.timeout"; we say ".litellm_params.timeout: invalid value"
    text, _, path = message.rpartition(" @ ")
    if not _:
        return f": {message}"
    path = path.removeprefix("$")
    return f"{path}: {text}"
