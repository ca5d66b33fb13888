"""``dropship run``: a follower replica and/or workers on one PostgreSQL database, as real processes.

Two replicas elect one leader and log it; SIGTERM stops each cleanly (the leader steps down, and
the standby takes over at once); workers ship what they claim; bad options and a wrong DSN are
refused before anything runs, and the DSN's password is never shown.
"""

from __future__ import annotations

import re
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from iqmetrix_dropship import OrderLedger

from ..conftest import PgStore
from .conftest import Cli, assert_no_secret
from .processes import WAIT, Lines, dropship

HANDLER = "tests.cli.run_handler:ship"
ROOT = Path(__file__).resolve().parents[2]
_ORDER_STATUS = re.compile(r"/Orders\(([0-9a-f-]{36})\)/OrderStatusUpdate$")


def _run(store: PgStore, *extra: str) -> list[str]:
    return ["run", "--db", store.dsn, "--schema", store.schema, "--interval", "0.1", "--lease", "1", *extra]


def test_one_replica_leads_the_other_stands_by_and_takes_over_on_sigterm(cli: Cli, pg_store: PgStore) -> None:
    with dropship(_run(pg_store), env=cli.env, cwd=cli.cwd) as (first, _, first_log):
        first_log.wait_for(lambda line: "leads ledger:default now (term 1)" in line)
        with dropship(_run(pg_store), env=cli.env, cwd=cli.cwd) as (second, _, second_log):
            second_log.wait_for(lambda line: "stands by" in line and "(term 1)" in line)
            first.send_signal(signal.SIGTERM)
            assert first.wait(WAIT) == 0
            assert any("stepped down from ledger:default (term 1)" in line for line in first_log.rest())
            second_log.wait_for(lambda line: "leads ledger:default now (term 2)" in line)
            second.send_signal(signal.SIGTERM)
            assert second.wait(WAIT) == 0
    with OrderLedger(pg_store.dsn, schema=pg_store.schema) as ledger:
        assert ledger.entry_ids() == cli.emulator.entry_ids()  # every entry, once, across the two


def test_workers_ship_the_orders_they_claim(cli: Cli, pg_store: PgStore) -> None:
    # As the production guide says: workers start once the follower has read the history (an
    # order claimed before its later history is read would be shipped, then set back by it).
    env = {**cli.env, "PYTHONPATH": str(ROOT)}
    with dropship(_run(pg_store), env=env, cwd=cli.cwd) as (follower, _, _):
        with OrderLedger(pg_store.dsn, schema=pg_store.schema) as ledger:
            _until(lambda: ledger.entry_ids() == cli.emulator.entry_ids())
        workers = _run(pg_store, "--no-follower", "--workers", "2", "--handler", HANDLER, "--worker-interval", "0.1")
        with dropship(workers, env=env, cwd=cli.cwd) as (process, _, log):
            log.wait_for(lambda line: "worker-2 started: claims PendingSupplier orders" in line)
            with OrderLedger(pg_store.dsn, schema=pg_store.schema) as ledger:
                _until_no_pending(ledger, log)
            process.send_signal(signal.SIGTERM)
            assert process.wait(WAIT) == 0
        follower.send_signal(signal.SIGTERM)
        assert follower.wait(WAIT) == 0
    shipped = set(_puts(cli))
    with OrderLedger(pg_store.dsn, schema=pg_store.schema) as ledger:
        statuses = {order_id: ledger.order(order_id) for order_id in shipped}
        assert shipped
        assert all(order is not None and order.status == "Shipped" for order in statuses.values())
        assert len(_puts(cli)) == len(shipped)  # each order sent once


def _until(condition: Callable[[], bool], timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--no-follower"], "nothing to run"),
        (["--workers", "1"], "--workers needs --handler"),
        (["--workers", "1", "--handler", "nothing-here"], "--handler must be module:function"),
        (["--workers", "1", "--handler", "no_such_module_xyz:go"], "No module named 'no_such_module_xyz'"),
        (["--status", "Lost"], "--status must be one of"),
    ],
)
def test_options_that_cannot_work_are_refused_before_anything_runs(cli: Cli, args: list[str], said: str) -> None:
    result = cli("run", "--db", "postgresql://app@127.0.0.1:1/shop", *args, code=2)
    assert said in result.stderr


def test_workers_need_the_postgresql_ledger(cli: Cli) -> None:
    result = cli("run", "--db", "orders.db", "--workers", "1", "--handler", HANDLER, code=2)
    assert "workers claim orders on a PostgreSQL ledger" in result.stderr
    assert not (cli.cwd / "orders.db").exists()


def test_a_connection_string_that_is_not_a_url_is_refused_without_repeating_it(cli: Cli) -> None:
    result = cli("orders", "--db", "host=db user=app password=pg-SECRET-kv-77", code=2)
    assert "postgresql://user:password@host:port/dbname" in result.stderr
    assert "pg-SECRET-kv-77" not in result.stdout + result.stderr
    assert list(cli.cwd.iterdir()) == []


def test_a_wrong_dsn_is_a_clear_error_without_its_password(cli: Cli) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dsn = f"postgresql://app:pg-SECRET-dsn-41c@127.0.0.1:{port}/shop"
    result = cli("run", "--db", dsn, code=2)
    assert "cannot connect" in result.stderr
    assert "app:***@127.0.0.1" in result.stderr
    assert "pg-SECRET-dsn-41c" not in result.stdout + result.stderr
    assert_no_secret(result.stdout, result.stderr)


def _puts(cli: Cli) -> list[str]:
    """The orders whose status was PUT, once per PUT."""
    return [m.group(1) for _, path, _ in cli.updates_sent() if (m := _ORDER_STATUS.search(path))]


def _until_no_pending(ledger: OrderLedger, log: Lines) -> None:
    deadline = time.monotonic() + WAIT
    while ledger.counts().get("PendingSupplier", 0) or not ledger.entry_ids():
        assert time.monotonic() < deadline, f"orders still pending: {ledger.counts()}; log: {log.seen}"
        time.sleep(0.05)
