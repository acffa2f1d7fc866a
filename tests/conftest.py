"""Shared fixtures: canary keys built at run time (never a key-shaped literal in a file)."""
from __future__ import annotations

import secrets

import pytest


def make_canary(prefix: str = "xai-canary") -> str:
    """A fresh key-shaped canary; tests assert it never shows up where it must not."""
    return f"{prefix}-{secrets.token_hex(12)}"


@pytest.fixture
def canary() -> str:
    return make_canary()
