"""A finance harness per test, on SQLite and on PostgreSQL, with the seed organisation."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.support.finance import finance_harness
from tests.support.harness import HandlerHarness


@pytest.fixture
def finance(make_database: Callable[[str], str]) -> Iterator[HandlerHarness]:
    harness = finance_harness(make_database("finance"))
    yield harness
    harness.close()
