"""SecretSource over environment variables and mounted secret files (Vault Agent, Kubernetes)."""
from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

from llmcore.domain.secret import Secret
from llmcore.ports.secret_source import Resolved

ENV_PREFIX = "os.environ/"
FILE_PREFIX = "file:"
# A key file holds one key (xAI's are ~90 bytes; a PEM bundle a few KiB). Anything larger is
# the wrong file (`file:/dev/zero`, a log), and reading it whole would exhaust memory.
MAX_KEY_FILE_BYTES = 64 * 1024


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
            text = _read_small_regular_file(path)
        except _NotAKeyFile as exc:
            problem = f"{field_name} refers to {reference}, which {exc}"
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


class _NotAKeyFile(Exception):
    """The path exists but cannot hold a key; the message completes "…, which …"."""


def _read_small_regular_file(path: Path) -> str:
    """The UTF-8 text of ``path`` if it is a regular file of at most MAX_KEY_FILE_BYTES.

    Devices (``/dev/zero`` never ends), FIFOs and sockets (a read blocks until a
    writer comes) are refused without reading: the file is opened non-blocking and
    checked with ``fstat`` on the open descriptor, so a swap between check and read
    cannot slip one in. Raises ``_NotAKeyFile``, ``OSError`` or ``UnicodeDecodeError``.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(str(path))
        if not stat.S_ISREG(info.st_mode):
            kind = _file_kind(info.st_mode)
            raise _NotAKeyFile(f"is not a regular file ({kind}); point it at a file holding the key")
        if info.st_size > MAX_KEY_FILE_BYTES:
            raise _NotAKeyFile(f"is {info.st_size} bytes, larger than a key file can be "
                               f"({MAX_KEY_FILE_BYTES} bytes at most); point it at the file holding only the key")
        with os.fdopen(fd, "rb", closefd=True) as handle:
            fd = -1
            data = handle.read(MAX_KEY_FILE_BYTES + 1)  # the file may grow after fstat
        if len(data) > MAX_KEY_FILE_BYTES:
            raise _NotAKeyFile(f"is larger than a key file can be ({MAX_KEY_FILE_BYTES} bytes at most); "
                               "point it at the file holding only the key")
        # Universal newlines, as Path.read_text gave before: a CRLF key file reads as LF.
        return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    finally:
        if fd >= 0:
            os.close(fd)


def _file_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a plain file"
