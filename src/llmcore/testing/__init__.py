"""Test kit shipped with llmcore: the fake xAI server and the adapter contract suite.

Imported lazily, so ``python -m llmcore.testing.fake_xai`` does not import the
module twice and nothing here costs anything until it is used.
"""
from __future__ import annotations

from typing import Any

__all__ = ["FakeXAIServer", "Fault", "RecordedRequest"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from llmcore.testing import fake_xai

        return getattr(fake_xai, name)
    raise AttributeError(f"module 'llmcore.testing' has no attribute {name!r}")
