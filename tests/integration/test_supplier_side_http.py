"""The supplier side against the emulator over real HTTP on 127.0.0.1: availability, cost, the
product feed, ping and the order rules, on both clients, each call checked against what the
emulator then holds."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import anyio
import pytest

from iqmetrix_dropship import (
    InvalidRequestError,
    NotFoundError,
    OrderCreated,
    OrderLedger,
    ProductAvailability,
    ProductCost,
)
from iqmetrix_dropship.emulator import Emulator, EmulatorServer

from ..support import async_client_for, client_for

PRODUCT = {
    "Classification": {"Id": 4, "TreeId": 1},
    "Fields": [{"Definition": {"Id": 1}, "Value": "Galaxy S6 Case"}],
    "ModelName": "S6 Case",
    "Manufacturer": "Otterbox",
    "VendorSkus": [{"Sku": "CASE-1", "Description": "black", "VendorName": "Otter"}],
}


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(orders=30, seed=5)


@pytest.fixture
def server(emulator: Emulator) -> Iterator[EmulatorServer]:
    with emulator.serve() as running:
        yield running


@pytest.fixture(params=["sync", "async"])
def call(request: pytest.FixtureRequest, emulator: Emulator, server: EmulatorServer) -> Iterator[Callable[..., Any]]:
    """``call("method", *args)`` on a sync or an async client of the served emulator."""
    if request.param == "sync":
        with client_for(emulator, server.base_url) as client:
            yield lambda name, *args, **kwargs: getattr(client, name)(*args, **kwargs)
        return

    def run(name: str, *args: Any, **kwargs: Any) -> Any:
        async def main() -> Any:
            async with async_client_for(emulator, server.base_url) as client:
                return await getattr(client, name)(*args, **kwargs)

        return anyio.run(main)

    yield run


def test_pushed_availability_is_what_iqmetrix_then_holds(emulator: Emulator, call: Callable[..., Any]) -> None:
    stock = [ProductAvailability(f"SKU-{n}", n % 3 != 0, n) for n in range(25)]

    result = call("push_availability", stock, chunk_size=10)
    held = {sku.supplier_sku: (sku.is_available, sku.quantity) for sku in call("get_availability")}

    assert result.ok
    assert len(result.ids) == 3
    assert held == {p.sku: (p.is_available, p.quantity) for p in stock}
    assert {sku: (a.is_available, a.quantity) for sku, a in emulator.availability().items()} == held


def test_costs_are_stored_to_the_cent_per_company(emulator: Emulator, call: Callable[..., Any]) -> None:
    result = call(
        "push_costs",
        [ProductCost("1115884", Decimal("12.99"), [14146]), ProductCost("1115884", Decimal("11.50"), [14147, 14148])],
    )

    assert result.ok
    assert emulator.costs() == {
        ("1115884", 14146): Decimal("12.99"),
        ("1115884", 14147): Decimal("11.50"),
        ("1115884", 14148): Decimal("11.50"),
    }


def test_bad_input_reaches_no_server(emulator: Emulator, call: Callable[..., Any]) -> None:
    with pytest.raises(InvalidRequestError):
        call("push_costs", [{"sku": "A", "cost": Decimal("1.001"), "company_ids": [1]}])
    with pytest.raises(InvalidRequestError):
        call("push_availability", [{"sku": "A", "quantity": 3}])

    assert emulator.request_log() == []


def test_the_product_feed_round_trip(emulator: Emulator, call: Callable[..., Any]) -> None:
    feed_id = emulator.product_feed_id

    added = call("add_product", feed_id, PRODUCT)
    replaced = call("replace_product", feed_id, added.id, {**PRODUCT, "ModelName": "S6 Case (black)"})
    listed = call("list_products", feed_id)
    feed = call("get_product_feed", feed_id)

    assert added.id is not None
    assert added.vendor_skus[0].sku == "CASE-1"
    assert [p.model_name for p in listed] == ["S6 Case (black)"]
    assert [p.id for p in feed.products] == [replaced.id]
    assert replaced.id != added.id  # removed, then added again: the documented way
    call("remove_product", feed_id, replaced.id)
    assert call("list_products", feed_id) == []
    with pytest.raises(NotFoundError):
        call("remove_product", feed_id, replaced.id)
    with pytest.raises(NotFoundError):
        call("list_products", feed_id + 1)


def test_ping_answers_for_each_service(call: Callable[..., Any]) -> None:
    statuses = call("ping")

    assert set(statuses) == {"dropship", "accounts", "availability", "product_library"}
    assert all(status.ok and status.application_version for status in statuses.values())


def test_the_order_rules_take_an_order_from_ordered_to_shipped_in_two_parcels(
    emulator: Emulator, call: Callable[..., Any]
) -> None:
    order_id = emulator.place_order(items=[{"sku": "A-1", "quantity": 2}, {"sku": "B-2", "quantity": 1}])

    call("acknowledge_order", order_id)
    assert emulator.order_status(order_id) == "Ordered"
    call("ship_items", order_id, {"A-1": 2}, tracking_numbers="1Z1", shipping_provider="UPS", complete=False)
    assert emulator.order_status(order_id) == "PartiallyShipped"
    assert emulator.item_statuses(order_id) == {"A-1": "Shipped", "B-2": "Ordered"}
    call("ship_items", order_id, ["B-2"], tracking_numbers=["1Z2", "1Z3"], shipping_provider="UPS", complete=True)

    assert emulator.order_status(order_id) == "Shipped"
    assert emulator.item_statuses(order_id) == {"A-1": "Shipped", "B-2": "Shipped"}
    newest = call("get_notifications").entries[0]  # the order's Shipped, echoed by the feed
    assert {item.tracking_info for item in newest.event.items} == {"1Z2,1Z3"}


def test_the_ledger_pushes_only_what_changed_over_http(
    emulator: Emulator, server: EmulatorServer, tmp_path: Any
) -> None:
    with client_for(emulator, server.base_url) as client, OrderLedger(tmp_path / "orders.db") as ledger:
        ledger.push_availability(client, [ProductAvailability("A", True, 3), ProductAvailability("B", True, 1)])
        ledger.push_availability(client, [ProductAvailability("A", True, 2), ProductAvailability("B", True, 1)])
        ledger.push_availability(client, [ProductAvailability("A", True, 2)], complete=True)

    posts = [path for method, path, _ in emulator.request_log() if method == "POST" and path.endswith("/Availability")]
    assert len(posts) == 3
    held = emulator.availability()
    assert (held["A"].quantity, held["B"].is_available, held["B"].quantity) == (2, False, 0)


def test_an_acknowledged_order_read_back_from_the_feed(emulator: Emulator, server: EmulatorServer) -> None:
    with client_for(emulator, server.base_url) as client:
        order = next(e.event for e in client.iter_entries() if isinstance(e.event, OrderCreated))
        client.acknowledge_order(order.order_id)
        newest = client.get_notifications().entries[0]

    assert str(newest.event.order_id) == str(order.order_id)
    assert {item.status for item in newest.event.items} == {"Ordered"}
