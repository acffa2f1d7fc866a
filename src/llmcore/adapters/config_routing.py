"""The file's routing: deployments of one alias, fallbacks, and the retry/timeout defaults every entry inherits.

LiteLLM's semantics (Decision 13): a repeated ``model_name`` is several
deployments; ``fallbacks`` is ``[{alias: [fallback, ...]}]`` under
``litellm_settings`` or ``router_settings`` (the Router's own wins, as in
LiteLLM, where ``router_settings`` are the Router's arguments and
``litellm_settings`` module-wide defaults). ``num_retries`` and
``request_timeout`` / ``timeout`` apply to every entry that sets none (Decision 2).
"""
from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from typing import Any

from attrs import evolve

from llmcore.adapters import config_schema as schema
from llmcore.adapters.config_entry import FileDefaults, RawEntry, derived_deployment_id
from llmcore.domain.model_spec import ModelSpec
from llmcore.domain.routing import RoutingSettings

FALLBACK_KINDS = ("fallbacks", "context_window_fallbacks", "content_policy_fallbacks")


def file_defaults_from(
    litellm: schema.LiteLLMSettings | None, router: schema.RouterSettings | None, problems: list[str],
) -> FileDefaults:
    """``num_retries`` and the timeout every entry inherits: router_settings > litellm_settings."""
    retries = _pick((router, "num_retries", "router_settings.num_retries"),
                    (litellm, "num_retries", "litellm_settings.num_retries"))
    timeout = _pick((router, "timeout", "router_settings.timeout"),
                    (litellm, "request_timeout", "litellm_settings.request_timeout"))
    if retries is not None and retries[0] < 0:
        problems.append(f"{retries[1]}: must be 0 or more retries, got {retries[0]}")
    if timeout is not None and timeout[0] <= 0:
        problems.append(f"{timeout[1]}: must be a positive number of seconds, got {timeout[0]}")
    return FileDefaults(drop_params=litellm.drop_params if litellm else None, num_retries=retries, timeout=timeout)


def _pick(*candidates: tuple[Any, str, str]) -> tuple[Any, str] | None:
    for section, name, source in candidates:
        value = getattr(section, name) if section is not None else None
        if value is not None:
            return value, source
    return None


def routing_from(
    litellm: schema.LiteLLMSettings | None, router: schema.RouterSettings | None, aliases: Iterable[str],
    problems: list[str],
) -> RoutingSettings:
    """RoutingSettings from both sections; a fallback naming an alias the file does not serve is a problem."""
    known = set(aliases)
    values: dict[str, Any] = {}
    for kind in FALLBACK_KINDS:
        for section_name, section in (("litellm_settings", litellm), ("router_settings", router)):
            raw = getattr(section, kind) if section is not None else None
            if raw is not None:
                values[kind] = _fallback_map(f"{section_name}.{kind}", raw, known, problems)
    if router is not None:
        for name in ("allowed_fails", "cooldown_time", "routing_strategy"):
            value = getattr(router, name)
            if value is not None:
                values[name] = value
    return RoutingSettings(**values)


def _fallback_map(
    where: str, raw: Sequence[dict[str, list[str]]], known: set[str], problems: list[str],
) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for index, item in enumerate(raw):
        for alias, targets in item.items():
            for name in (alias, *targets):
                if not _served(name, known):
                    problems.append(
                        f"{where}[{index}]: {name!r} is not a model_name in this file; "
                        f"fallbacks name aliases from model_list (served: {', '.join(sorted(known)) or 'none'})")
            found.setdefault(alias, []).extend(targets)
    return found


def _served(name: str, known: set[str]) -> bool:
    # A wildcard alias (anthropic/*, *) serves every name it matches, as in LiteLLM.
    return name in known or any("*" in alias and fnmatch.fnmatchcase(name, alias) for alias in known)


def with_deployment_id(spec: ModelSpec, raw: RawEntry, earlier: Sequence[ModelSpec]) -> ModelSpec:
    """The spec with ``deployment.id`` set: ``model_info.id``, else a stable id derived from the entry
    (suffixed when two entries of one alias would derive the same id)."""
    if spec.deployment.id:
        return spec
    base = derived_deployment_id(spec.alias, raw.entry.litellm_params)
    taken = {s.deployment.id for s in earlier}
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return evolve(spec, deployment=evolve(spec.deployment, id=candidate))
