"""llmcore: one shared configuration for LLM models behind LiteLLM, grok-code-fast-1 first-class.

::

    import llmcore
    core = llmcore.load()        # path > $LLMCORE_CONFIG > ./llmcore.yaml > built-in catalog
    r = core.complete("grok-code-fast-1", messages=[{"role": "user", "content": "hi"}])

Importing llmcore does not import LiteLLM (it costs seconds); the adapter
imports it on first use. The library logs through loguru under the name
``llmcore``, disabled until an application calls ``logger.enable("llmcore")``.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from loguru import logger

from llmcore import errors
from llmcore.domain.chat import ChatResponse, Choice, Message, ParamAdjustment, StreamChunk
from llmcore.domain.core import Core
from llmcore.domain.registry import ModelStatus
from llmcore.domain.secret import Secret
from llmcore.domain.stream_session import AsyncStreamSession, StreamSession
from llmcore.domain.usage import Usage

__version__ = "0.1.0"

logger.disable("llmcore")


def load(path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None, **overrides: Any) -> Core:
    """Build a Core from a config file (path > $LLMCORE_CONFIG > ./llmcore.yaml > built-in catalog).

    ``env`` defaults to ``os.environ``; it is copied, so later changes do not
    reach the Core. Raises ``llmcore.errors.ConfigError`` for a bad file; a
    model with bad credentials loads as unavailable with a reason.
    """
    from llmcore.bootstrap import build

    return build(path, env, **overrides)


__all__ = [
    "AsyncStreamSession",
    "ChatResponse",
    "Choice",
    "Core",
    "Message",
    "ModelStatus",
    "ParamAdjustment",
    "Secret",
    "StreamChunk",
    "StreamSession",
    "Usage",
    "__version__",
    "errors",
    "load",
]
