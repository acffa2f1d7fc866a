"""A credential that cannot leak by accident.

``repr``/``str``/``format`` show only a mask (``xai-…abcd``); the raw value is
reachable through :meth:`Secret.reveal`, which only the completion adapter
calls, at the moment it builds the upstream call.
"""
from __future__ import annotations

from attrs import field, frozen

_MIN_LENGTH_FOR_TAIL = 12


def mask_value(value: str) -> str:
    """The mask of a raw secret: its prefix up to the first dash and its last four characters.

    Short values are masked completely, since four characters of a short value
    are too large a share of it.
    """
    if len(value) < _MIN_LENGTH_FOR_TAIL:
        return "****"
    head, dash, _ = value.partition("-")
    prefix = f"{head}-" if dash and len(head) <= 4 else ""
    return f"{prefix}…{value[-4:]}"


@frozen(repr=False, eq=False)
class Secret:
    """A secret string (API key, master key); only :meth:`reveal` returns the raw value."""

    _value: str = field(alias="value")

    def reveal(self) -> str:
        """The raw value. Call this only to put it on the wire."""
        return self._value

    @property
    def mask(self) -> str:
        """What every log, error and repr shows instead of the value."""
        return mask_value(self._value)

    def __repr__(self) -> str:
        return f"Secret({self.mask!r})"

    def __str__(self) -> str:
        return self.mask

    def __format__(self, spec: str) -> str:
        return format(self.mask, spec)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return _constant_time_equal(self._value, other._value)

    def __hash__(self) -> int:
        return hash(("Secret", len(self._value)))

    def __reduce__(self) -> tuple[object, ...]:
        # Pickling would carry the raw value into caches and task queues.
        raise TypeError("Secret values are not picklable")

    def matches(self, candidate: str) -> bool:
        """Constant-time comparison with a presented credential (master key check)."""
        return _constant_time_equal(self._value, candidate)


def _constant_time_equal(left: str, right: str) -> bool:
    import hmac

    return hmac.compare_digest(left.encode("utf-8"), right.encode("utf-8"))
