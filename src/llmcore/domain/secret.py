"""A credential that cannot leak by accident.

``repr``/``str``/``format`` show only a mask (``xai-…abcd``), and so does every
generic tool that dumps objects (``attrs.asdict``, ``cattrs.unstructure``,
``vars``, ``copy``, ``json.dumps(default=str)``); pickling refuses. The raw value
is reachable through :meth:`Secret.reveal`, which only the completion adapter
calls, at the moment it builds the upstream call.
"""
from __future__ import annotations

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


class Secret:
    """A secret string (API key, master key); only :meth:`reveal` returns the raw value.

    Opaque to every generic tool, not only to ``repr``: it is deliberately *not* an attrs class
    or a dataclass, so ``attrs.asdict`` / ``astuple``, ``cattrs.unstructure`` and
    ``dataclasses``-style helpers keep it as the object (which prints as its mask) instead of
    descending into its fields; it has ``__slots__`` and no ``__dict__``, so ``vars()`` raises;
    ``copy.copy`` / ``deepcopy`` return the same (immutable) object; ``__getstate__`` and
    pickling refuse (TypeError), so the value never reaches a cache, a task queue or a file.
    """

    __slots__ = ("_value",)
    _value: str

    def __init__(self, value: str) -> None:
        object.__setattr__(self, "_value", value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Secret is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Secret is immutable")

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

    def __copy__(self) -> Secret:
        return self  # immutable: a copy would only be another holder of the raw value

    def __deepcopy__(self, memo: object) -> Secret:
        return self

    def __getstate__(self) -> object:
        # Python 3.11's default would hand out the slots, raw value included, to any serializer.
        raise TypeError("Secret values are not serializable; call reveal() where the raw value is needed")

    def __reduce_ex__(self, protocol: object) -> tuple[object, ...]:
        # Pickling would carry the raw value into caches and task queues.
        raise TypeError("Secret values are not picklable")

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("Secret values are not picklable")

    def matches(self, candidate: str) -> bool:
        """Constant-time comparison with a presented credential (master key check)."""
        return _constant_time_equal(self._value, candidate)


def _constant_time_equal(left: str, right: str) -> bool:
    import hmac

    return hmac.compare_digest(left.encode("utf-8"), right.encode("utf-8"))
