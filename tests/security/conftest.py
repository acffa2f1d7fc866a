"""Fixtures of the security suite: one set of canary keys per test session, made at run time."""
from __future__ import annotations

import pytest

from tests.security.canary_kit import Canaries


@pytest.fixture(scope="session")
def canaries() -> Canaries:
    return Canaries.make()
