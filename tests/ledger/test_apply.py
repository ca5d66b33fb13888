"""The pure rules: how an event changes an order, and how an order's status follows its items."""

from __future__ import annotations

from datetime import timedelta

import pytest

from iqmetrix_dropship.ledger._apply import (
    ItemReport,
    ItemState,
    OrderState,
    Shipment,
    apply_event,
    derive_order_status,
    item_status,
    order_id_of,
    report_items,
)
from iqmetrix_dropship.models import OrderStatusUpdate

from .builders import ORDER_ID, SKU_1, SKU_2, T0, created, info, order_item, unknown, updated


def items(*statuses: str) -> list[ItemState]:
    return [ItemState(line=n, sku=f"S{n}", quantity=1, status=s) for n, s in enumerate(statuses)]


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (("Cancelled", "Cancelled"), "Cancelled"),
        (("Shipped", "Shipped"), "Shipped"),
        (("Shipped", "Cancelled"), "Shipped"),
        (("Shipped", "Ordered"), "PartiallyShipped"),
        (("PartiallyShipped", "Ordered"), "PartiallyShipped"),
        (("Shipped", "BackOrdered", "Cancelled"), "PartiallyShipped"),
        (("Ordered", "Error", "BackOrdered"), "Error"),
        (("Ordered", "NotAvailable", "BackOrdered"), "NotAvailable"),
        (("Ordered", "BackOrdered", "PendingSupplier"), "BackOrdered"),
        (("Ordered", "PendingSupplier"), "PendingSupplier"),
        (("Other", "Ordered"), "Ordered"),
        (("Other", "Cancelled"), "Other"),
        (("OnHold", "Other"), "Other"),
        (("OnHold", "Cancelled"), "OnHold"),
    ],
)
def test_order_status_follows_its_items(statuses: tuple[str, ...], expected: str) -> None:
    assert derive_order_status(items(*statuses), "PendingSupplier") == expected


def test_an_order_without_items_keeps_its_own_status() -> None:
    assert derive_order_status([], "Cancelled") == "Cancelled"


def test_units_shipped_on_a_back_ordered_item_make_the_order_partially_shipped() -> None:
    item = ItemState(line=0, sku="S", quantity=2, status="BackOrdered", shipments=(Shipment("T1", "UPS", 1),))

    assert derive_order_status([item], "PendingSupplier") == "PartiallyShipped"


def test_a_shipped_report_short_of_the_quantity_is_partially_shipped() -> None:
    item = ItemState(line=0, sku="S", quantity=3, reported_status="Shipped", shipments=(Shipment("T", None, 2),))

    assert item_status(item) == "PartiallyShipped"
    assert item_status(ItemState(line=0, sku="S", quantity=None, reported_status="Shipped")) == "Shipped"


def test_shipped_quantity_is_capped_at_the_ordered_quantity() -> None:
    item = ItemState(line=0, sku="S", quantity=2, shipments=(Shipment("T1", None, 2), Shipment("T2", None, 2)))

    assert item.shipped_quantity == 2


def test_the_same_shipment_reported_twice_counts_once() -> None:
    order = apply_event(None, created().event, T0)
    report = ItemReport(sku=SKU_2, status="Shipped", quantity=1, tracking_info="T1", shipping_provider="UPS")

    once = report_items(order, str(ORDER_ID), [report], T0)
    twice = report_items(once, str(ORDER_ID), [report], T0)

    assert twice == once
    assert once.items[1].shipped_quantity == 1


def test_shipments_without_tracking_are_one_shipment() -> None:
    # Without a tracking number an echo cannot be told from a second parcel: the echo wins (traps.md 23).
    order = apply_event(None, created().event, T0)
    report = ItemReport(sku=SKU_2, status="Shipped", quantity=1)

    twice = report_items(report_items(order, str(ORDER_ID), [report], T0), str(ORDER_ID), [report], T0)

    assert twice.items[1].shipped_quantity == 1


def test_a_report_without_status_changes_no_status() -> None:
    order = apply_event(None, created().event, T0)
    assert order is not None
    ordered = report_items(order, str(ORDER_ID), [ItemReport(sku=SKU_1, status="Ordered")], T0)

    after = report_items(ordered, str(ORDER_ID), [ItemReport(sku=SKU_1, status=None, message="note")], T0)

    assert after.items[0].status == "Ordered"
    assert after.items[0].message == "note"


def test_a_report_naming_no_item_is_ignored() -> None:
    order = apply_event(None, created().event, T0)
    assert order is not None

    after = report_items(order, str(ORDER_ID), [ItemReport(sku=None, status="Cancelled")], T0 + timedelta(hours=1))

    assert after.items == order.items


def test_a_sku_on_two_lines_gets_the_report_on_both() -> None:
    event = created(items=[order_item(SKU_1, 1, "1"), order_item(SKU_1, 1, "1")]).event
    order = apply_event(None, event, T0)
    assert order is not None
    assert [i.line for i in order.items] == [0, 1]

    after = report_items(order, str(ORDER_ID), [ItemReport(sku=SKU_1, status="BackOrdered")], T0)

    assert [i.status for i in after.items] == ["BackOrdered", "BackOrdered"]


def test_order_created_again_keeps_statuses_and_lines() -> None:
    event = created().event
    order = apply_event(None, event, T0)
    assert order is not None
    ordered = report_items(order, str(ORDER_ID), [ItemReport(sku=SKU_2, status="Ordered")], T0)

    again = apply_event(ordered, event, T0)

    assert again == ordered


def test_unknown_events_change_no_order() -> None:
    assert apply_event(OrderState(order_id=str(ORDER_ID)), unknown().event, T0) is None


def test_order_id_of_each_kind_of_event() -> None:
    assert order_id_of(created().event) == str(ORDER_ID)
    assert order_id_of(updated(info(SKU_1, "Ordered")).event) == str(ORDER_ID)
    assert order_id_of(OrderStatusUpdate(id=ORDER_ID, status="Ordered")) == str(ORDER_ID)
    assert order_id_of(unknown().event) is None
    assert order_id_of(unknown(xml="<a><order-id>not-a-guid-at-all-but-long-enough-x</order-id></a>").event) is None
    upper = str(ORDER_ID).upper()
    assert order_id_of(unknown(xml=f"<a><p:order-id>{upper}</p:order-id></a>").event) == str(ORDER_ID)


def test_a_repeated_order_created_keeps_the_first_creation_time() -> None:
    order = apply_event(None, created().event, T0)

    again = apply_event(order, created().event, T0 + timedelta(days=1))

    assert again is not None
    assert again.created_at == T0
    assert again.updated_at == T0 + timedelta(days=1)


def test_shipments_whose_units_add_up_past_a_64_bit_integer_do_not_wedge_the_ledger() -> None:
    """Two Shipped reports of the largest Int64 for an order never seen: the units shipped stop at
    what a 64-bit column holds instead of overflowing the row (an OverflowError on every poll)."""
    biggest = 2**63 - 1
    state = apply_event(None, updated(info(SKU_1, "Shipped", quantity=biggest, tracking_info="1Z1")).event, T0)
    state = apply_event(state, updated(info(SKU_1, "Shipped", quantity=biggest, tracking_info="1Z2")).event, T0)
    assert state is not None
    assert state.items[0].shipped_quantity == biggest
