"""Counting a prompt's tokens with LiteLLM's ``token_counter`` (for ``POST /v1/messages/count_tokens``).

LiteLLM picks the tokenizer by model name: a Hugging Face tokenizer for the
few families it maps (Llama, Cohere, ...), else OpenAI's tiktoken encoding,
bundled in the wheel. grok-code-fast-1 gets the latter (xAI publishes no
tokenizer), so its count is an estimate, close for English and code. No
upstream is called and nothing is billed.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llmcore.adapters.litellm_runtime import litellm_module
from llmcore.domain.model_spec import ModelSpec


def count_prompt_tokens(spec: ModelSpec, messages: Sequence[dict[str, Any]], tools: Sequence[dict[str, Any]]) -> int:
    """Tokens of ``messages`` (OpenAI chat form) and ``tools`` (function tools) for ``spec``'s upstream model."""
    litellm = litellm_module()
    return int(litellm.token_counter(model=spec.upstream_model, messages=list(messages), tools=list(tools) or None))
