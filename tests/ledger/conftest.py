from __future__ import annotations

from collections.abc import Iterator

import pytest

from iqmetrix_dropship.ledger import OrderLedger


@pytest.fixture
def ledger() -> Iterator[OrderLedger]:
    with OrderLedger(":memory:") as ledger:
        yield ledger
