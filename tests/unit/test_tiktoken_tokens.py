"""``adapters/tiktoken_tokens``: count_tokens for native models, by tiktoken alone, close to LiteLLM's count."""
from __future__ import annotations

from typing import Any

import pytest

from llmcore.adapters import litellm_tokens, tiktoken_tokens
from llmcore.domain.model_spec import ModelSpec

GROK = ModelSpec(alias="grok-code-fast-1", upstream_model="grok-code-fast-1")
AGENT_TURN: list[dict[str, Any]] = [
    {"role": "system", "content": "You are a coding agent. Read before you edit; keep answers short. " * 20},
    {"role": "user", "content": [{"type": "text", "text": "Fix the loop in main.py that never ends."}]},
    {"role": "assistant", "content": "Reading it.", "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "Read", "arguments": '{"path": "main.py"}'}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "while True:\n    x += 1\n" * 30},
]
TOOLS = [
    {"type": "function", "function": {"name": "Read", "description": "Read a file from disk", "parameters": {
        "type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}}},
    {"type": "function", "function": {"name": "Bash", "description": "Run a shell command", "parameters": {
        "type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}}},
]


@pytest.mark.parametrize("tools", [[], TOOLS], ids=["messages", "messages-and-tools"])
def test_the_count_is_within_3_percent_of_litellms_for_the_same_prompt(tools: list[dict[str, Any]]) -> None:
    ours = tiktoken_tokens.count_prompt_tokens(GROK, AGENT_TURN, tools)
    theirs = litellm_tokens.count_prompt_tokens(GROK, AGENT_TURN, tools)
    assert abs(ours - theirs) <= 0.03 * theirs, (ours, theirs)


def test_openais_message_rule_counts_overhead_names_and_images() -> None:
    empty = tiktoken_tokens.count_prompt_tokens(GROK, [], [])
    assert empty == tiktoken_tokens.REPLY_PRIMING_TOKENS
    one = tiktoken_tokens.count_prompt_tokens(GROK, [{"role": "user", "content": "hi"}], [])
    assert one == empty + tiktoken_tokens.TOKENS_PER_MESSAGE + 2  # "user" and "hi": one token each
    named = tiktoken_tokens.count_prompt_tokens(GROK, [{"role": "user", "content": "hi", "name": "ana"}], [])
    assert named > one + tiktoken_tokens.TOKENS_PER_NAME
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64," + "A" * 4000}}
    with_image = tiktoken_tokens.count_prompt_tokens(
        GROK, [{"role": "user", "content": [{"type": "text", "text": "hi"}, image]}], [])
    assert with_image == one + tiktoken_tokens.IMAGE_TOKENS  # the image's bytes are not counted as text


def test_the_encoding_is_tiktokens_for_a_model_it_knows_else_o200k() -> None:
    assert tiktoken_tokens.encoding_name("openai/gpt-4") == "cl100k_base"
    assert tiktoken_tokens.encoding_name("grok-code-fast-1") == "o200k_base"
