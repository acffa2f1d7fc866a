"""SecretSource over environment variables and mounted secret files (Vault Agent, Kubernetes)."""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from llmcore.domain.secret import Secret
from llmcore.ports.secret_source import Resolved

ENV_PREFIX = "os.environ/"
FILE_PREFIX = "file:"


def is_reference(value: str) -> bool:
    return value.startswith(ENV_PREFIX) or value.startswith(FILE_PREFIX)


class EnvFileSecretSource:
    """Resolves ``os.environ/NAME``, ``file:/path`` and literals against a fixed env mapping.

    The env mapping is copied at construction: a Core never sees the
    process environment change under it.
    """

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self._env = dict(os.environ if env is None else env)

    def with_defaults(self, defaults: Mapping[str, str]) -> EnvFileSecretSource:
        """A source whose variables are ``defaults`` overlaid by this one's (a set variable always wins)."""
        return EnvFileSecretSource({**defaults, **self._env})

    def resolve(self, reference: str, *, field_name: str) -> Resolved:
        if reference.startswith(ENV_PREFIX):
            name = reference[len(ENV_PREFIX):]
            source = f"entry ({reference})"
            if name not in self._env:
                return Resolved(value=None, source=source, problem=f"{field_name} refers to {reference}, "
                                f"but {name} is not set")
            return Resolved(value=Secret(self._env[name]), source=source)
        if reference.startswith(FILE_PREFIX):
            return self._read_file(reference, field_name)
        return Resolved(value=Secret(reference), source="entry (literal)")

    def env(self, name: str) -> Resolved:
        if name not in self._env:
            return Resolved(value=None, source=f"env {name}", is_set=False)
        return Resolved(value=Secret(self._env[name]), source=f"env {name}")

    def get(self, name: str) -> str | None:
        """A plain (non-secret) setting such as LLMCORE_ENV or LLMCORE_CONFIG."""
        return self._env.get(name)

    @staticmethod
    def _read_file(reference: str, field_name: str) -> Resolved:
        raw_path = reference[len(FILE_PREFIX):]
        if raw_path.startswith("//"):
            raw_path = raw_path[2:]  # file:///run/secrets/key
        path = Path(raw_path)
        source = f"entry ({reference})"
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            problem = f"{field_name} refers to {reference}, which does not exist"
        except IsADirectoryError:
            problem = f"{field_name} refers to {reference}, which is a directory, not a file"
        except PermissionError:
            problem = f"{field_name} refers to {reference}, which this process may not read"
        except (OSError, UnicodeDecodeError) as exc:
            problem = f"{field_name} refers to {reference}, which cannot be read ({type(exc).__name__})"
        else:
            # `echo KEY > file` and most editors add one final newline; Kubernetes does not.
            if text.endswith("\r\n"):
                text = text[:-2]
            elif text.endswith("\n"):
                text = text[:-1]
            return Resolved(value=Secret(text), source=source)
        return Resolved(value=None, source=source, problem=problem)
