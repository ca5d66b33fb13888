"""Our own updates: recorded as ``local`` history and applied, then echoed by the feed (traps.md 23)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from iqmetrix_dropship.ledger import OrderLedger
from iqmetrix_dropship.models import (
    FeedEntry,
    ItemStatus,
    ItemStatusUpdate,
    ItemUpdate,
    OrderStatus,
    OrderStatusUpdate,
)

from .builders import ORDER_ID, SKU_1, SKU_2, T0, created, cursor, info, updated

AT = T0 + timedelta(hours=2)


def feed(ledger: OrderLedger, *entries: FeedEntry) -> None:
    for entry in entries:
        ledger.advance(cursor(entry), entry)


def test_order_status_update_applies_to_every_item(ledger: OrderLedger) -> None:
    feed(ledger, created())
    update = OrderStatusUpdate(id=ORDER_ID, status="Shipped", tracking_info="1Z999", shipping_provider="UPS")

    ledger.record_update(update, at=AT)

    order = ledger.order(ORDER_ID)
    assert order is not None
    assert order.status is OrderStatus.SHIPPED
    assert [(i.status, i.tracking_info, i.shipping_provider) for i in order.items] == [
        (ItemStatus.SHIPPED, "1Z999", "UPS"),
        (ItemStatus.SHIPPED, "1Z999", "UPS"),
    ]
    assert [i.shipped_quantity for i in order.items] == [1, 2]
    assert order.updated_at == AT


def test_local_update_is_a_local_history_row(ledger: OrderLedger) -> None:
    feed(ledger, created())
    update = OrderStatusUpdate(id=ORDER_ID, status=OrderStatus.ORDERED, message="picking")

    recorded = ledger.record_update(update, at=AT)

    history = ledger.history(ORDER_ID)
    assert history[-1] == recorded
    assert recorded.entry_id.startswith("local:")
    assert (recorded.kind, recorded.source, recorded.page_id) == ("local-order-status-update", "local", None)
    assert recorded.published == recorded.updated == AT
    assert recorded.payload["status"] == "Ordered"
    assert recorded.payload["message"] == "picking"
    assert ledger.entry_ids() == [history[0].entry_id]  # local rows are not feed entries
    assert ledger.event_count() == 2
    assert ledger.event_count("local") == 1


def test_item_status_update_applies_to_the_items_given(ledger: OrderLedger) -> None:
    feed(ledger, created())
    update = ItemStatusUpdate(
        id=ORDER_ID,
        item_information=[ItemUpdate(sku=SKU_2, status=ItemStatus.BACK_ORDERED, quantity=2, message="late")],
    )

    recorded = ledger.record_update(update, at=AT)

    assert recorded.kind == "local-item-status-update"
    assert recorded.payload["item_information"][0]["sku"] == SKU_2
    order = ledger.order(ORDER_ID)
    assert order is not None
    assert order.items[0].status is ItemStatus.PENDING_SUPPLIER
    assert (order.items[1].status, order.items[1].message) == (ItemStatus.BACK_ORDERED, "late")
    assert order.status is OrderStatus.BACK_ORDERED


def test_the_feed_echo_of_our_shipment_does_not_ship_it_twice(ledger: OrderLedger) -> None:
    feed(ledger, created())
    ledger.record_update(
        ItemStatusUpdate(
            id=ORDER_ID,
            item_information=[
                ItemUpdate(sku=SKU_2, status="Shipped", quantity=1, tracking_info="T1", shipping_provider="UPS")
            ],
        ),
        at=AT,
    )

    # traps.md 23: the same update comes back from the feed, and is applied again.
    feed(ledger, updated(info(SKU_2, "Shipped", quantity=1, tracking_info="T1", shipping_provider="UPS"), at=AT))

    order = ledger.order(ORDER_ID)
    assert order is not None
    assert order.items[1].shipped_quantity == 1
    assert order.items[1].status is ItemStatus.PARTIALLY_SHIPPED
    assert order.status is OrderStatus.PARTIALLY_SHIPPED
    assert [(e.source, e.kind) for e in ledger.history(ORDER_ID)] == [
        ("feed", "order-created"),
        ("local", "local-item-status-update"),
        ("feed", "order-status-updated"),
    ]


def test_the_echo_of_an_order_update_sets_the_same_values(ledger: OrderLedger) -> None:
    feed(ledger, created())
    ledger.record_update(
        OrderStatusUpdate(id=ORDER_ID, status="Shipped", tracking_info="T9", shipping_provider="UPS"), at=AT
    )
    before = ledger.order(ORDER_ID)

    # The service echoes one item-information per item, quantities filled in (traps.md 15).
    feed(
        ledger,
        updated(
            info(SKU_1, "Shipped", quantity=1, tracking_info="T9", shipping_provider="UPS"),
            info(SKU_2, "Shipped", quantity=2, tracking_info="T9", shipping_provider="UPS"),
            at=AT,
        ),
    )

    after = ledger.order(ORDER_ID)
    assert before is not None
    assert after is not None
    assert after.items == before.items
    assert after.status is OrderStatus.SHIPPED


def test_local_update_for_an_unseen_order_makes_a_stub_with_its_status(ledger: OrderLedger) -> None:
    ledger.record_update(OrderStatusUpdate(id=ORDER_ID, status="Cancelled"), at=AT)

    order = ledger.order(ORDER_ID)
    assert order is not None
    assert not order.has_created_event
    assert order.items == []
    assert order.status is OrderStatus.CANCELLED


def test_unknown_status_in_an_echo_is_kept_as_its_string(ledger: OrderLedger) -> None:
    feed(ledger, created())
    echo = OrderStatusUpdate.from_echo({"Id": str(ORDER_ID), "Status": "OnHold"})

    ledger.record_update(echo, at=AT)

    order = ledger.order(ORDER_ID)
    assert order is not None
    assert order.status == "OnHold"
    assert order.items[0].status == "OnHold"


def test_naive_at_is_utc_and_no_at_is_now(ledger: OrderLedger) -> None:
    feed(ledger, created())

    naive = ledger.record_update(OrderStatusUpdate(id=ORDER_ID, status="Ordered"), at=datetime(2016, 1, 2, 3, 4, 5))
    default = ledger.record_update(OrderStatusUpdate(id=ORDER_ID, status="Ordered"))

    assert naive.updated == datetime(2016, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert default.updated is not None
    assert abs(default.updated - datetime.now(timezone.utc)) < timedelta(minutes=1)
    assert ledger.history(ORDER_ID)[1].updated == naive.updated
