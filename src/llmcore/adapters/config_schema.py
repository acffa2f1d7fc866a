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

from llmcore.adapters.litellm_data import accepted_keys, litellm_version

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
    # LiteLLM's explicit provider for a model name that carries none (model: my-model, custom_llm_provider: openai).
    custom_llm_provider: str | None = None
    # LiteLLM Router's deployment inputs: simple-shuffle weights and priority.
    rpm: int | None = None
    tpm: int | None = None
    weight: float | None = None
    order: int | None = None


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
    # The completion adapter: litellm (default) or native (OpenAI-compatible fast path; Decision 18).
    adapter: str | None = None


@define
class ModelEntry:
    model_name: str
    litellm_params: LiteLLMParams
    model_info: ModelInfo | None = None
    # LiteLLM's Router also reads rpm/tpm at entry level (load_balancer.yaml writes them there).
    rpm: int | None = None
    tpm: int | None = None


# LiteLLM's shape: [{alias: [fallback, ...]}, ...]
Fallbacks = list[dict[str, list[str]]]


@define
class LiteLLMSettings:
    drop_params: bool | None = None
    num_retries: int | None = None
    request_timeout: float | None = None
    fallbacks: Fallbacks | None = None
    context_window_fallbacks: Fallbacks | None = None
    content_policy_fallbacks: Fallbacks | None = None


@define
class RouterSettings:
    """LiteLLM Router's own names (Router.__init__), read into RoutingSettings and the per-entry defaults."""

    fallbacks: Fallbacks | None = None
    context_window_fallbacks: Fallbacks | None = None
    content_policy_fallbacks: Fallbacks | None = None
    allowed_fails: int | None = None
    cooldown_time: float | None = None
    routing_strategy: str | None = None
    num_retries: int | None = None
    timeout: float | None = None


@define
class GeneralSettings:
    master_key: str | None = None
    # LiteLLM proxy names, same meaning: the proxy's optional background probe and body limit.
    background_health_checks: bool | None = None
    health_check_interval: float | None = None
    max_request_size_mb: float | None = None
    # llmcore's own: the adapter of every model whose model_info.adapter is unset (litellm | native).
    llmcore_adapter: str | None = None


# --- Keys: what llmcore reads, and what LiteLLM's proxy accepts (generated from the locked LiteLLM) ----

TOP_LEVEL_USED = frozenset({"model_list", "litellm_settings", "router_settings", "general_settings",
                            "environment_variables"})


# LiteLLM's proxy loads a file with any key in these places: router_settings keys that are not Router arguments
# are logged as ignored ("Key 'x' is not a valid argument for Router.__init__(). Ignoring this key."), and every
# litellm_settings key is set as an attribute of the litellm module, to no effect when LiteLLM has no such
# setting (proxy_server.py). llmcore does the same, so a file LiteLLM's proxy loads loads here too, with a
# warning that names the nearest real key.
LENIENT_PLACES = frozenset({"router_settings", "litellm_settings"})


def litellm_only(place: str, used: frozenset[str]) -> frozenset[str]:
    """Keys LiteLLM's proxy accepts in ``place`` that llmcore does not read: accepted with a warning."""
    return accepted_keys(place) - used


def used_keys(cls: type) -> frozenset[str]:
    return frozenset(a.name for a in fields(cls))


def nearest(key: str, candidates: frozenset[str], listed: frozenset[str] | None = None) -> str:
    """A hint naming the valid key closest to a typo; else the keys in ``listed`` (default: all candidates)."""
    match = difflib.get_close_matches(key, sorted(candidates), n=1, cutoff=0.6)
    if match:
        return f"; did you mean {match[0]!r}?"
    shown = candidates if listed is None else listed
    more = "" if listed is None or listed == candidates else " (or another key LiteLLM's proxy accepts here)"
    return f"; valid keys: {', '.join(sorted(shown))}{more}"


def split_unknown(
    raw: Mapping[str, Any], used: frozenset[str], litellm_only: frozenset[str], where: str,
    *, lenient: bool = False,
) -> tuple[dict[str, Any], list[str], list[str]]:
    """(the keys llmcore uses, warnings for LiteLLM-only keys, errors for unknown keys).

    With ``lenient`` (a place where LiteLLM's proxy itself ignores unknown keys) an unknown key is a warning.
    """
    kept: dict[str, Any] = {}
    warnings: list[str] = []
    errors: list[str] = []
    for key, value in raw.items():
        if key in used:
            kept[key] = value
        elif key in litellm_only:
            warnings.append(f"{where}.{key} is a LiteLLM proxy setting that llmcore does not use; ignored")
        elif lenient:
            warnings.append(f"{where}.{key} is read by neither llmcore nor LiteLLM {litellm_version()} (LiteLLM's "
                            f"proxy ignores it too); ignored{nearest(str(key), used | litellm_only, used)}")
        else:
            errors.append(f"{where}: unknown key {key!r}{nearest(str(key), used | litellm_only, used)} "
                          f"(neither llmcore nor LiteLLM {litellm_version()} reads it here)")
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
