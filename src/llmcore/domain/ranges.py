"""Range validators for the numeric settings of the value objects (attrs validators).

A setting out of range fails where the value object is built, not inside a request: a negative
``retry_after_max`` used to surface as tenacity's "sleep length must be non-negative" on the first
429. Each failure is an :class:`InvalidSettingError` (a ``ValueError``) that names the class and
the field, so the config adapter can point at the line of the file that set it.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import attrs

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


class InvalidSettingError(ValueError):
    """A numeric setting out of its range. ``owner`` and ``field`` name it (``RetryPolicy``, ``backoff_base``)."""

    def __init__(self, owner: str, field: str, message: str) -> None:
        self.owner = owner
        self.field = field
        super().__init__(f"{field}: {message}")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check(instance: Any, attribute: attrs.Attribute[Any], value: Any, ok: bool, want: str) -> None:
    if not ok:
        raise InvalidSettingError(type(instance).__name__, attribute.name, f"must be {want}, got {value!r}")


def non_negative(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A finite number >= 0 (waits in seconds, prices in USD per token)."""
    _check(instance, attribute, value, _number(value) and value >= 0, "a finite number >= 0")


def positive(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A finite number > 0 (timeouts, intervals, sizes)."""
    _check(instance, attribute, value, _number(value) and value > 0, "a finite number > 0")


def count(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A whole number >= 0 (retries)."""
    _check(instance, attribute, value, isinstance(value, int) and not isinstance(value, bool) and value >= 0,
           "a whole number >= 0")


def positive_count(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A whole number > 0 (token limits)."""
    _check(instance, attribute, value, isinstance(value, int) and not isinstance(value, bool) and value > 0,
           "a whole number > 0")


def optional(validator: Validator) -> Validator:
    """``validator``, or None."""
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None:
            validator(instance, attribute, value)
    return check
