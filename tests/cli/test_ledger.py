"""`dropship orders` and `dropship order`: reading the ledger that `sync` filled."""

from __future__ import annotations

import json
from uuid import UUID

from .conftest import Cli


def test_orders_lists_every_order_oldest_first(cli: Cli) -> None:
    cli("sync")
    listed = cli.json("orders")
    assert sorted(order["order_id"] for order in listed) == sorted(cli.emulator.order_ids())
    placed = [order["created_at"] for order in listed]
    assert placed == sorted(placed)
    table = cli("orders").stdout
    positions = [table.index(order["order_id"]) for order in listed]
    assert positions == sorted(positions)
    assert table.rstrip().endswith("12 orders")


def test_orders_status_filter_and_json(cli: Cli) -> None:
    cli("sync")
    pending = cli.json("orders", "--status", "PendingSupplier")
    assert len(pending) == 7
    assert {order["status"] for order in pending} == {"PendingSupplier"}
    assert all("history" not in order for order in pending)
    assert {order["order_id"] for order in pending} <= set(cli.emulator.order_ids())
    assert "PendingSupplier orders" in cli("orders", "--status", "PendingSupplier").stdout


def test_orders_open_and_waiting_hours(cli: Cli) -> None:
    cli("sync")
    open_orders = cli.json("orders", "--open")
    assert {order["status"] for order in open_orders}.isdisjoint({"Shipped", "Cancelled"})
    waiting = cli.json("orders", "--waiting-hours", "24")  # the seeded orders were placed in 2023
    assert [order["order_id"] for order in waiting] == [
        order["order_id"] for order in cli.json("orders", "--status", "PendingSupplier")
    ]
    assert cli.json("orders", "--waiting-hours", "1000000") == []


def test_orders_limit(cli: Cli) -> None:
    cli("sync")
    assert len(cli.json("orders", "--limit", "3")) == 3


def test_orders_with_an_unknown_status_exits_2_and_lists_the_valid_ones(cli: Cli) -> None:
    cli("sync")
    result = cli("orders", "--status", "Exception", code=2)
    assert "PendingSupplier, Ordered, Shipped, BackOrdered" in result.stderr


def test_orders_takes_one_filter_at_a_time(cli: Cli) -> None:
    cli("sync")
    result = cli("orders", "--open", "--status", "Ordered", code=2)
    assert "choose one of --status, --open and --waiting-hours" in result.stderr


def test_orders_without_a_ledger_exits_2_and_creates_none(cli: Cli) -> None:
    result = cli("orders", code=2)
    assert "no ledger at orders.db" in result.stderr
    assert not (cli.cwd / "orders.db").exists()


def test_order_shows_items_and_history(cli: Cli) -> None:
    order_id = cli.pending_order()
    placed = cli.emulator.order(order_id)
    result = cli("order", order_id)
    assert result.stdout.startswith(f"order     {order_id}")
    assert "PendingSupplier" in result.stdout
    for item in placed["items"]:
        assert item["sku"] in result.stdout
    assert "History" in result.stdout
    assert "order-created" in result.stdout


def test_order_json_parses_with_items_and_history(cli: Cli) -> None:
    order_id = cli.pending_order()
    data = cli.json("order", order_id.upper())  # any spelling of the GUID
    assert data["order_id"] == order_id
    assert [item["sku"] for item in data["items"]] == [item["sku"] for item in cli.emulator.order(order_id)["items"]]
    assert data["history"][0]["kind"] == "order-created"
    assert json.dumps(data)


def test_order_unknown_to_the_ledger_exits_4(cli: Cli) -> None:
    cli("sync")
    unknown = str(UUID(int=42))
    result = cli("order", unknown, code=4)
    assert f"order {unknown} is not in the ledger orders.db" in result.stderr


def test_order_with_a_malformed_id_exits_2(cli: Cli) -> None:
    cli("sync")
    result = cli("order", "not-a-guid", code=2)
    assert "order id must be a GUID" in result.stderr
