"""A read-only mapping for value objects, so a frozen object cannot be changed through a dict it holds."""
from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any


def frozen_mapping(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """A read-only copy of ``value`` (the copy matters: the caller's dict stays theirs)."""
    return MappingProxyType(dict(value or {}))
