"""``--db``: orders, events, statuses and page ids survive a restart."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import httpx
import pytest

from iqmetrix_dropship.emulator import Emulator

from .conftest import FEED, Api


def test_a_restart_keeps_entries_pages_and_statuses(tmp_path: Path) -> None:
    db = tmp_path / "emulator.db"
    with Emulator(events=130, seed=4, db=db) as first:
        order_id = first.place_order()
        with httpx.Client(transport=first.transport(), base_url="http://e") as client:
            api = Api(first, client)
            body = {
                "Id": order_id,
                "ItemInformation": [{"Sku": next(iter(first.item_statuses(order_id))), "Status": "Shipped"}],
            }
            assert api.put(order_id, "ItemStatusUpdate", body).status_code == 202
            api.put(first.order_ids()[0], "OrderStatusUpdate", {"Id": first.order_ids()[0], "Status": "Cancelled"})
            pages = [api.get(f"{FEED}/Pages({page_id})").content for page_id in first.page_ids()]
        entry_ids, page_ids = first.entry_ids(), first.page_ids()
        statuses = {oid: (first.order_status(oid), first.item_statuses(oid)) for oid in first.order_ids()}

    with Emulator(db=db, seed=999, orders=1) as second:  # the file's seed and history win
        assert second.entry_ids() == entry_ids
        assert second.page_ids() == page_ids
        assert {oid: (second.order_status(oid), second.item_statuses(oid)) for oid in second.order_ids()} == statuses
        assert [second.page(page_id) for page_id in page_ids[:-1]] == pages[:-1]
        second.place_order()
        assert second.entry_ids()[:-1] == entry_ids
        grown = second.entry_ids()

    with Emulator(db=db) as third:
        assert third.entry_ids() == grown
        assert len(set(grown)) == len(grown)


def test_a_new_file_is_seeded_and_saved(tmp_path: Path) -> None:
    db = tmp_path / "new.db"

    with Emulator(orders=20, seed=3, db=db) as emulator:
        assert emulator.summary()["persistent"] is True
        entry_ids = emulator.entry_ids()

    assert Emulator(orders=20, seed=3).entry_ids() == entry_ids
    with Emulator(db=db) as again:
        assert again.entry_ids() == entry_ids


def test_a_file_of_another_supplier_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    Emulator(orders=2, db=db).close()

    with pytest.raises(ValueError, match="60455"):
        Emulator(db=db, supplier_id=1)


def test_the_emulators_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        with Emulator(orders=3, seed=1, db=tmp_path / "emulator.db"):
            pass
    finally:
        os.umask(previous)
    made = [path for path in tmp_path.iterdir() if path.name.startswith("emulator.db")]
    assert made
    assert {path.name: stat.S_IMODE(path.stat().st_mode) for path in made} == {path.name: 0o600 for path in made}
