"""The ``param`` label of ``llmcore_param_adjustments_total``: a bounded set, whatever clients send.

A client names the fields and tools it sends. Used as a label value as they are, every
new name would be a new time series (an easy way to exhaust Prometheus' memory: finding 5
of the tester's report). The log line keeps the exact name; the metric keeps:

- an OpenAI chat-completions param (``OPENAI_CHAT_PARAMS``) or one the model's config names
  (``param_rules.drop`` / ``rename``), as it is: the operator's own vocabulary;
- an indexed path with the indexes removed: ``messages[3].name`` -> ``messages[].name``;
- a dropped tool, reported as ``tools[<name> (<type>)]`` by the Responses and Messages
  routes, as ``tools[<type>]`` for a hosted or server tool type those APIs define (a dated
  Anthropic version such as ``web_search_20250305`` counts as ``web_search``), else
  ``tools[other]``; ``tools[duplicate_name]`` for a second tool of one name;
- any other name as ``unknown_field``.
"""
from __future__ import annotations

import re

from llmcore.domain.model_spec import ModelSpec
from llmcore.domain.param_policy import OPENAI_CHAT_PARAMS

UNKNOWN_FIELD = "unknown_field"
OTHER_TOOL = "tools[other]"
DUPLICATE_TOOL = "tools[duplicate_name]"
# Hosted and server tool types of the OpenAI Responses API and Anthropic's Messages API (their API
# references, 2026), plus the kinds llmcore itself reports: a custom tool and an entry that is no tool.
KNOWN_TOOL_TYPES = frozenset({
    "web_search", "web_search_preview", "file_search", "code_interpreter", "computer_use_preview",
    "computer_use", "image_generation", "mcp", "local_shell", "shell", "apply_patch", "custom",
    "web_fetch", "bash", "text_editor", "computer", "code_execution", "memory", "tool_search_tool_regex",
    "tool_search_tool_bm25", "invalid",
})
_INDEX = re.compile(r"\[\d+\]")
_DATED = re.compile(r"_\d{8}$")
_TOOL = re.compile(r"^tools\[.*\((?P<kind>[^()]*)\)\]$", re.DOTALL)


def param_label(spec: ModelSpec, param: str) -> str:
    """The bounded ``param`` label for an adjustment of ``param`` on ``spec`` (see the module docstring)."""
    rules = spec.param_rules
    if param in OPENAI_CHAT_PARAMS or param in rules.drop or param in rules.rename:
        return param
    if param.startswith("tools["):
        return _tool_label(param)
    if param.startswith("messages["):
        indexed = _INDEX.sub("[]", param)
        return indexed if indexed == "messages[].name" else UNKNOWN_FIELD
    return UNKNOWN_FIELD


def _tool_label(param: str) -> str:
    match = _TOOL.match(param)
    if match is None:
        return OTHER_TOOL
    kind = match.group("kind")
    if kind == "a second tool of that name":
        return DUPLICATE_TOOL
    kind = _DATED.sub("", kind)
    return f"tools[{kind}]" if kind in KNOWN_TOOL_TYPES else OTHER_TOOL
