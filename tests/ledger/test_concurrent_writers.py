"""Several writers on one PostgreSQL ledger at once: the follower and workers' claims. Each test
makes the race happen for certain (a writer is let go only once the other waits on it, as seen in
``pg_stat_activity``), and checks the outcome is what the same writes in sequence give."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from iqmetrix_dropship import CheckpointError, OrderStatus, StoreUnavailableError
from iqmetrix_dropship.emulator import Emulator
from iqmetrix_dropship.ledger import OrderLedger
from iqmetrix_dropship.models import OrderStatusUpdate

from ..conftest import PgStore
from ..support import client_for
from .builders import ORDER_ID, SKU_1, created, cursor, info, updated


@pytest.fixture
def two(pg_store: PgStore) -> Iterator[tuple[OrderLedger, OrderLedger]]:
    """A follower's ledger and a worker process's, on one schema."""
    with (
        OrderLedger(pg_store.dsn, schema=pg_store.schema) as follower,
        OrderLedger(pg_store.dsn, schema=pg_store.schema) as worker,
    ):
        yield follower, worker


def _db(store: PgStore) -> psycopg.Connection[Any]:
    connection = psycopg.connect(store.dsn, autocommit=True)
    connection.execute(f"SET search_path TO {store.schema}")
    return connection


def _until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.01)


def _someone_waits_on_a_lock(store: PgStore) -> Callable[[], bool]:
    def check() -> bool:
        with _db(store) as db:
            row = db.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'").fetchone()
        return row is not None and row[0] >= 1

    return check


def test_the_follower_writing_an_order_a_claim_holds_waits_and_keeps_the_workers_update(
    two: tuple[OrderLedger, OrderLedger], pg_store: PgStore
) -> None:
    follower, worker = two
    order_created = created(ORDER_ID)
    follower.advance(cursor(order_created), order_created)
    follower.flush()  # its page is committed: the worker's ledger sees the order
    echo = updated(info(SKU_1, "Ordered"))  # the feed brings news of the same order meanwhile
    shipped = OrderStatusUpdate(id=ORDER_ID, status="Shipped", tracking_info="1ZAAA", shipping_provider="UPS")

    with worker.claim(OrderStatus.PENDING_SUPPLIER, limit=5, worker="w1") as orders:
        orders.record_update(shipped)

        def apply_echo() -> None:
            follower.advance(cursor(echo), echo)
            follower.flush()  # the page's write, which waits for the claim

        applying = threading.Thread(target=apply_echo)
        applying.start()
        _until(_someone_waits_on_a_lock(pg_store))  # the follower waits for the claim
    applying.join(timeout=30)

    with OrderLedger(":memory:") as sequential:  # the same writes, one after the other
        sequential.advance(cursor(order_created), order_created)
        sequential.record_update(shipped)
        sequential.advance(cursor(echo), echo)
        expected = sequential.order(ORDER_ID)
    got = follower.order(ORDER_ID)
    assert got is not None
    assert expected is not None
    assert got.status == expected.status
    assert [(i.sku, i.status, i.tracking_info) for i in got.items] == [
        (i.sku, i.status, i.tracking_info) for i in expected.items
    ]
    with worker.claim(OrderStatus.PENDING_SUPPLIER, limit=5, worker="w2") as again:
        assert len(again) == 0  # not pending again: no second worker ships it


def test_a_worker_whose_claim_was_cut_off_sends_nothing(pg_store: PgStore) -> None:
    emulator = Emulator(orders=2, seed=4, history_rate=0.0)
    with OrderLedger(pg_store.dsn, schema=pg_store.schema) as ledger, client_for(emulator) as client:
        for _ in client.follow(checkpoint=ledger).poll():
            pass
        opener = ledger.claim(OrderStatus.PENDING_SUPPLIER, limit=1, worker="slow")
        orders = opener.__enter__()
        order_id = str(orders[0].order_id)
        with _db(pg_store) as admin:  # the claim's timeout passes while the worker is busy
            print("DIAG", admin.execute("SELECT application_name, state FROM pg_stat_activity").fetchall())
            killed = admin.execute(
                "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
                "WHERE application_name = 'iqmetrix-dropship worker' AND state = 'idle in transaction'"
            ).fetchall()
        assert killed == [(True,)]
        before = len(emulator.request_log())
        with pytest.raises(StoreUnavailableError, match="nothing was sent"):
            orders.update_order_status(
                client, order_id, OrderStatus.SHIPPED, tracking_info="1ZA", shipping_provider="UPS"
            )
        assert [entry for entry in emulator.request_log()[before:] if entry[0] == "PUT"] == []
        with pytest.raises(StoreUnavailableError):
            opener.__exit__(None, None, None)  # nor can the block's end commit anything
        with ledger.unfinished() as left:
            assert len(left) == 0  # nothing half-sent to resend


def test_two_updates_of_one_order_in_one_claim_are_both_sent_and_recorded(pg_store: PgStore) -> None:
    emulator = Emulator(orders=2, seed=4, history_rate=0.0)
    with OrderLedger(pg_store.dsn, schema=pg_store.schema) as ledger, client_for(emulator) as client:
        for _ in client.follow(checkpoint=ledger).poll():
            pass
        with ledger.claim(OrderStatus.PENDING_SUPPLIER, limit=1, timeout=30) as orders:
            order = orders[0]
            first, *_ = order.items
            orders.update_item_status(
                client,
                order.order_id,
                [{"sku": first.sku, "status": "Shipped", "tracking_info": "1ZB", "shipping_provider": "UPS"}],
            )
            orders.update_order_status(
                client, order.order_id, OrderStatus.SHIPPED, tracking_info="1ZC", shipping_provider="UPS"
            )
        got = ledger.order(order.order_id)
        assert got is not None
        assert got.status is OrderStatus.SHIPPED
        assert [event.kind for event in got.history][-2:] == ["local-item-status-update", "local-order-status-update"]
        with ledger.unfinished() as left:
            assert len(left) == 0


def test_a_resend_the_server_now_refuses_is_dropped_and_logged_and_the_rest_go_on(
    pg_store: PgStore, caplog: pytest.LogCaptureFixture
) -> None:
    emulator = Emulator(orders=2, seed=4, history_rate=0.0)
    with OrderLedger(pg_store.dsn, schema=pg_store.schema) as ledger, client_for(emulator) as client:
        for _ in client.follow(checkpoint=ledger).poll():
            pass
        order_id = str(ledger.orders()[0].order_id)
        refused = f'{{"Id": "{order_id}", "ItemInformation": [{{"Sku": "NOT-IN-IT", "Status": "BackOrdered"}}]}}'
        fine = f'{{"Id": "{order_id}", "Status": "BackOrdered"}}'
        with _db(pg_store) as db:  # what a dead worker left: one the server will refuse, then one it takes
            for kind, body in (("items", refused), ("order", fine)):
                db.execute(
                    "INSERT INTO dropship_outbox (order_id, kind, body, worker, created_at) "
                    "VALUES (%s, %s, %s, 'dead', clock_timestamp())",
                    (order_id, kind, body),
                )
        with ledger.unfinished(worker="next") as left:
            assert len(left.unfinished[order_id]) == 2
            assert left.resend(client) == 1
        assert "was refused (400)" in caplog.text
        with _db(pg_store) as db:
            assert db.execute("SELECT count(*) FROM dropship_outbox").fetchone() == (0,)
            outcomes = db.execute("SELECT kind, outcome FROM dropship_resent ORDER BY id").fetchall()
        assert outcomes == [("items", "refused: 400"), ("order", "recorded")]
        got = ledger.order(order_id)
        assert got is not None
        assert got.status is OrderStatus.BACK_ORDERED


@pytest.mark.parametrize("nonsense", ['{{"Id": "{order_id}", "Status": "Teleported"}}', "{{not json", "[1, 2]"])
def test_an_outbox_row_edited_into_nonsense_is_named_and_not_sent_and_the_rest_go_on(
    pg_store: PgStore, nonsense: str, caplog: pytest.LogCaptureFixture
) -> None:
    emulator = Emulator(orders=2, seed=4, history_rate=0.0)
    with OrderLedger(pg_store.dsn, schema=pg_store.schema) as ledger, client_for(emulator) as client:
        for _ in client.follow(checkpoint=ledger).poll():
            pass
        spoilt, fine = (str(order.order_id) for order in ledger.orders())
        with _db(pg_store) as db:  # someone "fixed" a dead worker's update by hand; another is fine
            row = db.execute(
                "INSERT INTO dropship_outbox (order_id, kind, body, worker, created_at) "
                "VALUES (%s, 'order', %s, 'dead', clock_timestamp()) RETURNING id",
                (spoilt, nonsense.format(order_id=spoilt)),
            ).fetchone()
            db.execute(
                "INSERT INTO dropship_outbox (order_id, kind, body, worker, created_at) "
                "VALUES (%s, 'order', %s, 'dead', clock_timestamp())",
                (fine, f'{{"Id": "{fine}", "Status": "BackOrdered"}}'),
            )
        assert row is not None
        with ledger.unfinished(worker="next") as left:
            assert left.resend(client) == 1
            with pytest.raises(CheckpointError, match=rf"dropship_outbox: row {row[0]} \(order {spoilt}\)"):
                _ = left.unfinished
        assert f"order {spoilt} was not resent: row {row[0]}" in caplog.text
        puts = [path for method, path, _ in emulator.request_log() if method == "PUT"]
        assert len(puts) == 1
        assert fine in puts[0]
        with _db(pg_store) as db:  # left for an operator
            assert db.execute("SELECT order_id FROM dropship_outbox").fetchall() == [(spoilt,)]
