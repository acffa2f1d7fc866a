"""Masking of secrets in free text: the one mechanism every sink uses.

Known secrets are replaced by their mask; anything shaped like an API key or
a bearer token is masked too, so a key we were never told about (one in a URL,
in an upstream error body, in an exception text) is caught as well. The
userinfo of a URL (``http://user:secret@host/v1``) is masked as ``***``
wherever a URL is shown (:func:`display_url`) and in any text :func:`redact` sees.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from llmcore.domain.secret import Secret, mask_value

# Key shapes: xAI (xai-...), OpenAI (sk-..., sk-proj-...), bearer tokens, and
# key=value pairs in URLs or headers. Kept deliberately broad: a false positive
# costs a masked word, a false negative costs a leaked key.
_KEY_SHAPES = re.compile(
    r"(?P<key>\b(?:xai|sk|sk-proj|sk-ant|gsk|pk)-[A-Za-z0-9_\-]{8,})"
    r"|(?P<bearer>(?i:bearer)\s+)(?P<token>[A-Za-z0-9._~+/\-]{8,}=*)"
    r"|(?P<param>(?i:api[_-]?key|access[_-]?token|token|key|secret|password)=)(?P<pvalue>[^&\s\"']{6,})"
    r"|(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^/\s@?#\"'<>]+)@"
)
USERINFO_MASK = "***"


def redact(text: str, secrets: Iterable[Secret | str] = ()) -> str:
    """``text`` with every known secret and every key-shaped word replaced by a mask."""
    if not text:
        return text
    for secret in secrets:
        raw = secret.reveal() if isinstance(secret, Secret) else secret
        if raw and len(raw) >= 4 and raw in text:
            text = text.replace(raw, mask_value(raw))
    return _KEY_SHAPES.sub(_mask_match, text)


def display_url(url: str | None) -> str | None:
    """``url`` as shown to anyone: its userinfo masked (``http://***@host/v1``), key-shaped parts too."""
    return redact(url) if url else url


def _mask_match(match: re.Match[str]) -> str:
    if match.group("scheme"):
        return match.group("scheme") + USERINFO_MASK + "@"
    if match.group("key"):
        return mask_value(match.group("key"))
    if match.group("token"):
        return match.group("bearer") + mask_value(match.group("token"))
    return match.group("param") + mask_value(match.group("pvalue"))


def truncate(text: str, limit: int = 500) -> str:
    """At most ``limit`` characters, marking that the rest was cut."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"… [{len(text) - limit} more characters]"
