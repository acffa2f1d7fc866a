"""Resolving credential references such as ``os.environ/NAME`` and ``file:/path``."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from attrs import frozen

from llmcore.domain.secret import Secret


@frozen(kw_only=True)
class Resolved:
    """The outcome of resolving one reference.

    ``value`` is None when it could not be resolved; then ``problem`` says why
    (naming the reference, never a value). ``is_set`` is False only when the
    reference points at something absent that a lower precedence level may
    fill (an unset variable looked up by name, not by an explicit reference).
    """

    value: Secret | None
    source: str
    problem: str | None = None
    is_set: bool = True


class SecretSource(Protocol):
    """Resolves references to secrets: literals, ``os.environ/NAME``, ``file:/path``.

    The config adapter reads every credential through this port (EnvFileSecretSource
    is the one implementation; bootstrap builds it); no method raises, a failure is a
    ``Resolved`` with its ``problem``.
    """

    def resolve(self, reference: str, *, field_name: str) -> Resolved:
        """A model entry's value: ``os.environ/NAME``, ``file:/path`` (one final newline dropped) or a literal."""

    def env(self, name: str) -> Resolved:
        """The variable ``name`` by precedence lookup: ``is_set`` is False when it is unset."""

    def with_defaults(self, defaults: Mapping[str, str]) -> SecretSource:
        """A source whose variables are ``defaults`` beneath this one's (a config file's
        ``environment_variables``; a variable the process sets wins)."""
