"""The differential suite's shared pair of Cores (module-scoped: one fake server per module)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.differential.pair import Pair, pair_fixture


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    yield from pair_fixture()
