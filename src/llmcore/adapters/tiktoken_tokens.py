"""Counting a prompt's tokens with tiktoken alone, for models the native adapter serves.

``POST /v1/messages/count_tokens`` for a ``native`` model must not import LiteLLM (docs/configuration.md:
a native-only setup never does; importing it took the proxy from ~55 to ~259 MB RSS). tiktoken is what
LiteLLM's own ``token_counter`` uses for these models, so the figure is the same kind of estimate, for
~80 MB (the o200k_base table; a native-only proxy measured 50 -> 128 MB RSS at its first count) and
~0.25 s on the first count, instead of ~200 MB and ~3 s.

- **Encoding**: tiktoken's own for a model name it knows, else ``o200k_base`` (every OpenAI model
  since gpt-4o; what LiteLLM picks for an unlisted name). xAI publishes no tokenizer for
  grok-code-fast-1, so its count is an estimate, close for English and code.
- **Offline**: the encoding file comes from ``$CUSTOM_TIKTOKEN_CACHE_DIR`` when set, else from the
  copy LiteLLM's wheel bundles (found without importing LiteLLM), the same directory LiteLLM points
  tiktoken at when it is imported (``litellm_core_utils/default_encoding.py``); tiktoken would
  otherwise download it.
- **Messages** (OpenAI chat form, as ``anthropic_request`` converts them): OpenAI's published rule
  for chat models (the openai-cookbook's "How to count tokens with tiktoken"): 3 tokens per message,
  1 more for a ``name``, 3 priming the reply, plus the tokens of every text in the message (content
  text parts, tool calls' names and arguments, tool results). An image part counts
  :data:`IMAGE_TOKENS`. **Tools**: the tokens of each function's JSON definition. LiteLLM renders
  tools in OpenAI's internal TypeScript-like form instead, so the two counts differ by a few tokens
  per tool.
"""
from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from llmcore.domain.model_spec import ModelSpec

__all__ = ["IMAGE_TOKENS", "count_prompt_tokens", "encoding_name"]

TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING_TOKENS = 3
# OpenAI's figure for one image at low detail; the real cost depends on its size and the model.
IMAGE_TOKENS = 85
DEFAULT_ENCODING = "o200k_base"


def _bundled_encodings() -> str | None:
    # LiteLLM's wheel ships tiktoken's cache files; locating the package does not import it.
    found = importlib.util.find_spec("litellm")
    locations = list(found.submodule_search_locations or []) if found is not None else []
    for location in locations:
        directory = Path(location) / "litellm_core_utils" / "tokenizers"
        if directory.is_dir():
            return str(directory)
    return None  # pragma: no cover - LiteLLM is a dependency, so its wheel is always there


@lru_cache(maxsize=4)
def _encoding(name: str) -> Any:
    custom = os.environ.get("CUSTOM_TIKTOKEN_CACHE_DIR")
    cache = custom or _bundled_encodings()
    if cache and "TIKTOKEN_CACHE_DIR" not in os.environ:
        # tiktoken reads its cache directory from the environment only; LiteLLM sets the same one.
        os.environ["TIKTOKEN_CACHE_DIR"] = cache
    import tiktoken

    return tiktoken.get_encoding(name)


def encoding_name(model: str) -> str:
    """tiktoken's encoding for ``model`` (a provider prefix such as ``openai/`` dropped), else ``o200k_base``."""
    import tiktoken

    try:
        return str(tiktoken.encoding_name_for_model(model.rsplit("/", 1)[-1]))
    except KeyError:
        return DEFAULT_ENCODING


def _texts(value: Any) -> Iterator[str]:
    # Every string a message carries the model reads: text, tool call names and arguments, tool results.
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if key not in ("type", "id", "tool_call_id", "cache_control", "image_url"):
                yield from _texts(item)
    elif isinstance(value, Sequence):
        for item in value:
            yield from _texts(item)


def _images(value: Any) -> int:
    if isinstance(value, Mapping):
        return (1 if value.get("type") == "image_url" else 0) + sum(_images(item) for item in value.values())
    if isinstance(value, Sequence) and not isinstance(value, str):
        return sum(_images(item) for item in value)
    return 0


def count_prompt_tokens(spec: ModelSpec, messages: Sequence[dict[str, Any]], tools: Sequence[dict[str, Any]]) -> int:
    """Tokens of ``messages`` (OpenAI chat form) and ``tools`` (function tools) for ``spec``'s upstream
    model: an estimate by OpenAI's counting rule (module docstring). Never calls an upstream."""
    encoding = _encoding(encoding_name(spec.upstream_model))

    def tokens(text: str) -> int:
        return len(encoding.encode(text, disallowed_special=()))

    total = REPLY_PRIMING_TOKENS
    for message in messages:
        total += TOKENS_PER_MESSAGE + tokens(str(message.get("role", "")))
        total += sum(tokens(text) for text in _texts(message.get("content")))
        total += sum(tokens(text) for text in _texts(message.get("tool_calls")))
        total += IMAGE_TOKENS * _images(message.get("content"))
        if message.get("name"):
            total += TOKENS_PER_NAME + tokens(str(message["name"]))
    for tool in tools:
        total += tokens(json.dumps(tool.get("function", tool), ensure_ascii=False, separators=(",", ":")))
    return total
