"""Claims on the PostgreSQL ledger: orders no other worker holds, released when the block ends or the
worker dies, and updates tied to the ledger by the outbox (a crash between the PUT and the commit
is sent again, identically, never differently)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import psycopg
import pytest

from iqmetrix_dropship import (
    BadRequestError,
    CheckpointError,
    ConfigurationError,
    InvalidRequestError,
    OrderStatus,
    RateLimitError,
    ServerError,
    StoreUnavailableError,
)
from iqmetrix_dropship.emulator import Emulator
from iqmetrix_dropship.ledger import OrderLedger

from ..conftest import PgStore
from ..support import async_client_for, client_for


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(orders=12, seed=21, history_rate=0.0)  # every order still PendingSupplier


@pytest.fixture
def ledger(emulator: Emulator, pg_store: PgStore) -> Iterator[OrderLedger]:
    with OrderLedger(pg_store.dsn, schema=pg_store.schema) as ledger, client_for(emulator) as client:
        for _ in client.follow(checkpoint=ledger).poll():
            pass
        yield ledger


def puts(emulator: Emulator) -> list[str]:
    return [path for method, path, status in emulator.request_log() if method == "PUT"]


def pending(ledger: OrderLedger) -> set[str]:
    return {str(order.order_id) for order in ledger.orders(OrderStatus.PENDING_SUPPLIER)}


def test_two_workers_never_hold_the_same_order(ledger: OrderLedger) -> None:
    everything = pending(ledger)
    with (
        ledger.claim(OrderStatus.PENDING_SUPPLIER, limit=5) as first,
        ledger.claim(OrderStatus.PENDING_SUPPLIER, limit=5) as second,
        ledger.claim(OrderStatus.PENDING_SUPPLIER, limit=5) as third,
    ):
        held = [{str(o.order_id) for o in claim} for claim in (first, second, third)]
    assert [len(ids) for ids in held] == [5, 5, 2]
    assert held[0] | held[1] | held[2] == everything
    assert sum(len(ids) for ids in held) == len(everything)  # no order in two claims


def test_many_threads_claiming_at_once_split_the_orders(ledger: OrderLedger) -> None:
    barrier = threading.Barrier(6)
    held: list[set[str]] = []

    def work() -> None:
        with ledger.claim(OrderStatus.PENDING_SUPPLIER, limit=3) as orders:
            barrier.wait(timeout=10)  # every claim is open at once
            held.append({str(o.order_id) for o in orders})

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    claimed = [order_id for ids in held for order_id in ids]
    assert len(claimed) == len(set(claimed)) == 12


def test_orders_come_back_when_the_block_ends(ledger: OrderLedger) -> None:
    with ledger.claim(OrderStatus.PENDING_SUPPLIER, limit=12) as orders:
        assert len(orders) == 12
    with ledger.claim(OrderStatus.PENDING_SUPPLIER, limit=12) as again:
        assert len(again) == 12


def test_a_worker_that_dies_releases_its_orders(ledger: OrderLedger, pg_store: PgStore) -> None:
    opener = ledger.claim(OrderStatus.PENDING_SUPPLIER, limit=12)
    opener.__enter__()
    with ledger.claim(OrderStatus.PENDING_SUPPLIER, limit=12) as meanwhile:
        assert len(meanwhile) == 0
    # The worker's process dies: its session goes with it (here: ended by the server).
    with psycopg.connect(pg_store.dsn, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'iqmetrix-dropship worker' AND state = 'idle in transaction'"
        )
    with ledger.claim(OrderStatus.PENDING_SUPPLIER, limit=12) as after:
        assert len(after) == 12
    with pytest.raises(StoreUnavailableError):
        opener.__exit__(None, None, None)  # the dead worker's block cannot commit anything


def test_an_update_through_a_claim_is_sent_and_recorded(emulator: Emulator, ledger: OrderLedger) -> None:
    with client_for(emulator) as client, ledger.claim(OrderStatus.PENDING_SUPPLIER, limit=2) as orders:
        for order in orders:
            echo = orders.update_order_status(client, order.order_id, OrderStatus.ORDERED, message="picking")
            assert echo.status is OrderStatus.ORDERED
        done = [str(order.order_id) for order in orders]
    for order_id in done:
        assert emulator.order_status(order_id) == "Ordered"
        recorded = ledger.order(order_id)
        assert recorded is not None
        assert recorded.status is OrderStatus.ORDERED
    assert len(puts(emulator)) == 2
    with ledger.unfinished() as left:
        assert len(left) == 0  # the outbox is empty


def test_an_order_outside_the_claim_is_refused_before_anything_is_sent(emulator: Emulator, ledger: OrderLedger) -> None:
    with client_for(emulator) as client, ledger.claim(OrderStatus.PENDING_SUPPLIER, limit=1) as orders:
        other = next(iter(pending(ledger) - {str(orders[0].order_id)}))
        with pytest.raises(InvalidRequestError, match="not held"):
            orders.update_order_status(client, other, OrderStatus.ORDERED)
        with pytest.raises(InvalidRequestError, match="Shipped"):  # the client's own rules apply first
            orders.update_order_status(client, orders[0].order_id, OrderStatus.SHIPPED)
    assert puts(emulator) == []


def _crash_after_the_put(orders: Any) -> None:
    """The worker dies between the PUT and the commit: its claim's session is gone, nothing recorded."""
    orders._session._claim.close()


def test_a_crash_between_the_put_and_the_commit_is_sent_again_identically(
    emulator: Emulator, ledger: OrderLedger, pg_store: PgStore
) -> None:
    with client_for(emulator) as client:
        opener = ledger.claim(OrderStatus.PENDING_SUPPLIER, limit=1)
        orders = opener.__enter__()
        order_id = str(orders[0].order_id)
        real_update = client.update_order_status

        def put_then_die(*args: Any, **kwargs: Any) -> Any:
            echo = real_update(*args, **kwargs)
            _crash_after_the_put(orders)
            return echo

        client.update_order_status = put_then_die  # type: ignore[method-assign]
        with pytest.raises(StoreUnavailableError):
            orders.update_order_status(
                client, order_id, OrderStatus.SHIPPED, tracking_info="1Z1", shipping_provider="UPS"
            )
        client.update_order_status = real_update  # type: ignore[method-assign]
        with pytest.raises(StoreUnavailableError, match="nothing recorded in it was kept"):
            opener.__exit__(None, None, None)

        assert ledger.order(order_id).status is OrderStatus.PENDING_SUPPLIER  # type: ignore[union-attr]
        with ledger.claim(OrderStatus.PENDING_SUPPLIER, limit=20) as others:
            assert order_id not in {str(o.order_id) for o in others}  # no second, different update

        with ledger.unfinished() as unfinished:
            assert [str(o.order_id) for o in unfinished] == [order_id]
            assert unfinished.resend(client) == 1

    order = ledger.order(order_id)
    assert order is not None
    assert order.status is OrderStatus.SHIPPED
    bodies = [path for path in puts(emulator) if order_id in path]
    assert len(bodies) == 2  # the PUT before the crash, and the identical resend
    with psycopg.connect(pg_store.dsn, autocommit=True) as admin:
        admin.execute(f"SET search_path TO {pg_store.schema}")
        resent = admin.execute("SELECT order_id, kind FROM dropship_resent").fetchall()
        left = admin.execute("SELECT count(*) FROM dropship_outbox").fetchone()
    assert resent == [(order_id, "order")]  # the repeated PUT is accounted for
    assert left == (0,)


def test_an_update_the_server_refuses_leaves_nothing_to_send_again(emulator: Emulator, ledger: OrderLedger) -> None:
    with (
        client_for(emulator) as client,
        ledger.claim(OrderStatus.PENDING_SUPPLIER, limit=1) as orders,
        pytest.raises(BadRequestError, match="not an item of this order"),
    ):
        orders.update_item_status(client, orders[0].order_id, [{"sku": "NOT-IN-IT", "status": "BackOrdered"}])
    with ledger.unfinished() as left:
        assert len(left) == 0


def test_the_async_claim_sends_and_records(emulator: Emulator, ledger: OrderLedger) -> None:
    async def work() -> list[str]:
        async with async_client_for(emulator) as client, ledger.claim(OrderStatus.PENDING_SUPPLIER, limit=3) as orders:
            for order in orders:
                await orders.update_order_status(client, order.order_id, OrderStatus.BACK_ORDERED)
            return [str(order.order_id) for order in orders]

    done = anyio.run(work)
    assert len(done) == 3
    assert all(ledger.order(order_id).status is OrderStatus.BACK_ORDERED for order_id in done)  # type: ignore[union-attr]


def test_claims_need_the_postgresql_ledger(tmp_path: Path) -> None:
    with OrderLedger(tmp_path / "orders.db") as ledger, pytest.raises(CheckpointError, match="PostgreSQL"):
        ledger.claim(OrderStatus.PENDING_SUPPLIER)


@pytest.mark.parametrize("timeout", [0, 0.01, -1, float("nan"), float("inf"), 10**9, "600", True])
def test_a_claim_timeout_that_would_end_it_at_once_or_never_is_refused(ledger: OrderLedger, timeout: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"timeout must be seconds from 0\.1"):
        ledger.claim(OrderStatus.PENDING_SUPPLIER, timeout=timeout)
    with pytest.raises(ConfigurationError, match=r"timeout must be seconds from 0\.1"):
        ledger.unfinished(timeout=timeout)
    with ledger.claim(OrderStatus.PENDING_SUPPLIER, limit=1, timeout=0.5) as orders:
        assert len(orders) == 1


@pytest.mark.parametrize("limit", [0, -1, 1.5, "3", True])
def test_a_claim_limit_that_is_not_a_whole_number_from_1_is_refused(ledger: OrderLedger, limit: Any) -> None:
    with pytest.raises(ConfigurationError, match="limit must be a whole number >= 1"):
        ledger.claim(OrderStatus.PENDING_SUPPLIER, limit=limit)


def _left_by_a_dead_worker(pg_store: PgStore, order_ids: list[str]) -> None:
    with psycopg.connect(pg_store.dsn, autocommit=True) as db:
        db.execute(f"SET search_path TO {pg_store.schema}")
        for order_id in order_ids:
            db.execute(
                "INSERT INTO dropship_outbox (order_id, kind, body, worker, created_at) "
                "VALUES (%s, 'order', %s, 'dead', clock_timestamp())",
                (order_id, f'{{"Id": "{order_id}", "Status": "BackOrdered"}}'),
            )


def _outbox(pg_store: PgStore) -> list[str]:
    with psycopg.connect(pg_store.dsn, autocommit=True) as db:
        db.execute(f"SET search_path TO {pg_store.schema}")
        return [row[0] for row in db.execute("SELECT order_id FROM dropship_outbox ORDER BY id")]


def test_a_resend_that_meets_a_rate_limit_or_an_outage_keeps_the_update_for_the_next_resend(
    emulator: Emulator, ledger: OrderLedger, pg_store: PgStore
) -> None:
    # 429, 5xx, 401/403: the credentials, the address or the moment, not the update; and the dead
    # worker's PUT may have been applied. Dropping it would let another worker handle the order
    # again, differently.
    first, second = sorted(pending(ledger))[:2]
    _left_by_a_dead_worker(pg_store, [first, second])
    limited = Emulator(orders=12, seed=21, history_rate=0.0, rate_limit=1, rate_limit_scope="global")
    with client_for(limited, max_retries=0) as client, ledger.unfinished() as left, pytest.raises(RateLimitError):
        left.resend(client)  # the first goes through, the second meets the limit
    assert _outbox(pg_store) == [second]
    emulator.set_faults(unavailable=5, retry_after=0)
    with client_for(emulator, max_retries=0) as client, ledger.unfinished() as left, pytest.raises(ServerError):
        left.resend(client)
    assert _outbox(pg_store) == [second]
    emulator.reset_faults()
    with client_for(emulator) as client, ledger.unfinished() as left:
        assert left.resend(client) == 1
    assert _outbox(pg_store) == []


def test_a_resend_of_an_order_the_server_does_not_know_is_left_for_a_person_and_the_rest_go_on(
    emulator: Emulator, ledger: OrderLedger, pg_store: PgStore, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = sorted(pending(ledger))[:2]
    _left_by_a_dead_worker(pg_store, [first, second])
    elsewhere = Emulator(orders=12, seed=99, history_rate=0.0)  # a wrong base URL: knows none of them
    with client_for(elsewhere) as client, ledger.unfinished() as left:
        assert left.resend(client) == 0  # no raise: the first's 404 did not stop the second's try
        assert sorted(left.unfinished) == sorted([first, second])
    assert caplog.text.count("was not resent: the server does not know it (404)") == 2
    assert _outbox(pg_store) == [first, second]
    with client_for(emulator) as client, ledger.unfinished() as left:  # the address put right
        assert left.resend(client) == 2
    assert _outbox(pg_store) == []


def test_a_first_send_that_meets_a_rate_limit_stays_in_the_outbox(ledger: OrderLedger, pg_store: PgStore) -> None:
    limited = Emulator(orders=12, seed=21, history_rate=0.0, rate_limit=1, rate_limit_scope="global")
    with client_for(limited, max_retries=0) as client, ledger.claim(OrderStatus.PENDING_SUPPLIER, limit=2) as orders:
        orders.update_order_status(client, orders[0].order_id, OrderStatus.ORDERED)
        with pytest.raises(RateLimitError):
            orders.update_order_status(client, orders[1].order_id, OrderStatus.ORDERED)
        held = str(orders[1].order_id)
    assert _outbox(pg_store) == [held]  # sent again, identically, by the next resend
