"""A value object's range error (InvalidSettingError), said in the config file's own words.

The ranges live on the domain's value objects (``llmcore.domain.ranges``), so a Core built from
code is checked as one built from a file. This module only names where in the file each field is
set, so ``llmcore config check`` points at the key to fix (exit 2), e.g.
``model_list[0] (grok-code-fast-1).model_info.retry.retry_after_max: must be a finite number >= 0, got -1``.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from llmcore.domain.ranges import InvalidSettingError

# (value object, field) -> the key of a model_list entry that sets it (LiteLLM's proxy names).
CONFIG_KEYS: Mapping[tuple[str, str], str] = {
    ("RetryPolicy", "max_retries"): "litellm_params.max_retries",
    ("RetryPolicy", "backoff_base"): "model_info.retry.backoff_base",
    ("RetryPolicy", "backoff_max"): "model_info.retry.backoff_max",
    ("RetryPolicy", "retry_after_max"): "model_info.retry.retry_after_max",
    ("Prices", "input_per_token"): "model_info.input_cost_per_token",
    ("Prices", "output_per_token"): "model_info.output_cost_per_token",
    ("Prices", "cached_input_per_token"): "model_info.cache_read_input_token_cost",
    ("ModelSpec", "timeout"): "litellm_params.timeout",
    ("ModelSpec", "stream_timeout"): "litellm_params.stream_timeout",
    ("Capabilities", "max_input_tokens"): "model_info.max_input_tokens",
    ("Capabilities", "max_output_tokens"): "model_info.max_output_tokens",
}
# Where the same value may come from another key too.
ALSO_FROM: Mapping[str, str] = {
    "litellm_params.max_retries": "litellm_params.num_retries",
    "model_info.input_cost_per_token": "litellm_params.input_cost_per_token",
    "model_info.output_cost_per_token": "litellm_params.output_cost_per_token",
}


def setting_problem(where: str, error: InvalidSettingError) -> str:
    """``<where>.<config key>: <what is wrong>``; an unmapped field is named as ``Owner.field``."""
    key = CONFIG_KEYS.get((error.owner, error.field))
    if key is None:
        return f"{where}: {error.owner}.{error}"
    also = f" (or {ALSO_FROM[key]})" if key in ALSO_FROM else ""
    message = str(error).partition(": ")[2]
    return f"{where}.{key}{also}: {message}"


def add_setting_problem(problems: list[str], where: str, error: InvalidSettingError) -> None:
    """Append the problem unless one about the same key is listed already (checked earlier, in other words)."""
    problem = setting_problem(where, error)
    prefix = problem.partition(":")[0].partition(" (or ")[0]
    if not _mentions(problems, prefix):
        problems.append(problem)


def _mentions(problems: Sequence[str], prefix: str) -> bool:
    return any(p.startswith(prefix + ":") or p.startswith(prefix + " ") for p in problems)
