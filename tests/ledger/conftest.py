"""The ledger's tests run on both back ends: SQLite, and PostgreSQL (a schema of its own per test,
in the session's throwaway server). ``open_ledger(**options)`` opens the test's ledger, again and
again if the test reopens it; ``ledger`` is one opened for the test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from iqmetrix_dropship.ledger import OrderLedger

OpenLedger = Callable[..., OrderLedger]


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def open_ledger(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenLedger]:
    opened: list[OrderLedger] = []
    # Set up first, so that it is torn down last: a ledger closed at the end writes what it took.
    store = request.getfixturevalue("pg_store") if backend == "postgres" else None

    def open_it(**options: Any) -> OrderLedger:
        if store is None:
            ledger = OrderLedger(tmp_path / "orders.db", **options)
        else:
            ledger = OrderLedger(store.dsn, **store.options, **options)
        opened.append(ledger)
        return ledger

    yield open_it
    for ledger in opened:
        ledger.close()


@pytest.fixture
def ledger(backend: str, open_ledger: OpenLedger) -> Iterator[OrderLedger]:
    if backend == "sqlite":
        with OrderLedger(":memory:") as ledger:
            yield ledger
    else:
        yield open_ledger()
