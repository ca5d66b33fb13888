"""What each feed entry does to the ledger, through ``advance`` as the follower calls it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from uuid import UUID

from iqmetrix_dropship.ledger import LedgerShipment, OrderLedger
from iqmetrix_dropship.models import FeedEntry, ItemStatus, OrderStatus

from .builders import ORDER_ID, PAGE, SKU_1, SKU_2, T0, created, cursor, info, unknown, updated


def feed(ledger: OrderLedger, *entries: FeedEntry) -> None:
    for entry in entries:
        ledger.advance(cursor(entry), entry)


def status_of(ledger: OrderLedger, order_id: UUID = ORDER_ID) -> OrderStatus | str:
    order = ledger.order(order_id)
    assert order is not None
    return order.status


def test_order_created_records_a_pending_order_with_its_items(ledger: OrderLedger) -> None:
    feed(ledger, created())

    order = ledger.order(ORDER_ID)
    assert order is not None
    assert order.order_id == ORDER_ID
    assert order.status is OrderStatus.PENDING_SUPPLIER
    assert order.has_created_event
    assert order.created_at == T0
    assert (order.supplier_id, order.company_id, order.location_id) == (60455, 33772, 33773)
    assert (order.po_reference, order.printable_id) == ("ABC123N1", "98764531")
    assert order.ship_to_store is True
    assert order.shipping_method == "123"
    assert order.shipping_address is not None
    assert order.shipping_address.attention_to == "Bob Eh"
    assert order.shipping_customer is not None
    assert order.shipping_customer.primary_name == "Bob"
    assert [(i.line, i.sku, i.quantity, i.status) for i in order.items] == [
        (0, SKU_1, 1, ItemStatus.PENDING_SUPPLIER),
        (1, SKU_2, 2, ItemStatus.PENDING_SUPPLIER),
    ]
    assert order.items[0].catalog_id == f"cat-{SKU_1}"
    assert order.items[0].description == f"item {SKU_1}"


def test_selling_price_stays_an_exact_decimal(ledger: OrderLedger) -> None:
    feed(ledger, created())

    order = ledger.order(ORDER_ID)
    assert order is not None
    assert [i.selling_price for i in order.items] == [Decimal("100"), Decimal("42.50")]
    assert str(order.items[1].selling_price) == "42.50"


def test_back_ordered_item_makes_the_order_back_ordered(ledger: OrderLedger) -> None:
    feed(ledger, created(), updated(info(SKU_1, "Ordered"), info(SKU_2, "BackOrdered", message="out of stock")))

    order = ledger.order(ORDER_ID)
    assert order is not None
    assert order.status is OrderStatus.BACK_ORDERED
    assert order.items[1].status is ItemStatus.BACK_ORDERED
    assert order.items[1].message == "out of stock"
    assert order.items[1].updated_at == T0 + timedelta(hours=1)
    assert order.updated_at == T0 + timedelta(hours=1)


def test_shipping_every_item_ships_the_order_with_its_tracking(ledger: OrderLedger) -> None:
    feed(
        ledger,
        created(),
        updated(
            info(SKU_1, "Shipped", quantity=1, tracking_info="1Z999", shipping_provider="UPS", info="www.ups.com"),
            info(SKU_2, "Shipped", quantity=2, tracking_info="1Z999", shipping_provider="UPS"),
        ),
    )

    order = ledger.order(ORDER_ID)
    assert order is not None
    assert order.status is OrderStatus.SHIPPED
    first = order.items[0]
    assert (first.status, first.tracking_info, first.shipping_provider, first.info) == (
        ItemStatus.SHIPPED,
        "1Z999",
        "UPS",
        "www.ups.com",
    )
    assert [i.shipped_quantity for i in order.items] == [1, 2]
    assert first.shipments == [LedgerShipment(tracking_info="1Z999", shipping_provider="UPS", quantity=1)]


def test_shipped_without_quantity_ships_the_whole_line(ledger: OrderLedger) -> None:
    feed(ledger, created(), updated(info(SKU_2, "Shipped", tracking_info="T1", shipping_provider="UPS")))

    order = ledger.order(ORDER_ID)
    assert order is not None
    assert order.items[1].shipped_quantity == 2
    assert order.items[1].status is ItemStatus.SHIPPED


def test_partial_shipment_over_two_events_is_visible_then_complete(ledger: OrderLedger) -> None:
    feed(
        ledger,
        created(),
        updated(info(SKU_1, "Shipped", quantity=1, tracking_info="T1", shipping_provider="UPS")),
        updated(info(SKU_2, "Shipped", quantity=1, tracking_info="T1", shipping_provider="UPS")),
    )
    order = ledger.order(ORDER_ID)
    assert order is not None
    assert order.status is OrderStatus.PARTIALLY_SHIPPED
    second = order.items[1]
    assert (second.shipped_quantity, second.quantity) == (1, 2)
    assert second.status is ItemStatus.PARTIALLY_SHIPPED  # 1 of 2 units
    assert second.reported_status is ItemStatus.SHIPPED  # what the supplier said

    feed(ledger, updated(info(SKU_2, "Shipped", quantity=1, tracking_info="T2", shipping_provider="FedEx")))

    order = ledger.order(ORDER_ID)
    assert order is not None
    assert order.status is OrderStatus.SHIPPED
    assert order.items[1].shipped_quantity == 2
    assert [s.tracking_info for s in order.items[1].shipments] == ["T1", "T2"]
    assert order.items[1].tracking_info == "T2"  # the latest report


def test_one_item_shipped_and_one_pending_is_partially_shipped(ledger: OrderLedger) -> None:
    feed(ledger, created(), updated(info(SKU_1, "Shipped", tracking_info="T1", shipping_provider="UPS")))

    assert status_of(ledger) is OrderStatus.PARTIALLY_SHIPPED


def test_cancelling_every_item_cancels_the_order(ledger: OrderLedger) -> None:
    feed(ledger, created(), updated(info(SKU_1, "Cancelled"), info(SKU_2, "Cancelled")))

    assert status_of(ledger) is OrderStatus.CANCELLED


def test_cancelled_items_do_not_hold_back_a_shipped_order(ledger: OrderLedger) -> None:
    feed(
        ledger,
        created(),
        updated(info(SKU_1, "Cancelled")),
        updated(info(SKU_2, "Shipped", tracking_info="T1", shipping_provider="UPS")),
    )

    assert status_of(ledger) is OrderStatus.SHIPPED


def test_status_update_for_an_unseen_order_creates_a_stub(ledger: OrderLedger) -> None:
    # traps.md 24: older than the consumer, so its order-created was never read.
    feed(ledger, updated(info("SKU-X", "BackOrdered", quantity=3), company_id=50068))

    order = ledger.order(ORDER_ID)
    assert order is not None
    assert not order.has_created_event
    assert order.created_at is None
    assert order.supplier_id == 60455
    assert order.company_id is None  # the update's company may not be the seller (traps.md 24)
    assert order.status is OrderStatus.BACK_ORDERED
    assert [(i.sku, i.quantity, i.status) for i in order.items] == [("SKU-X", None, ItemStatus.BACK_ORDERED)]


def test_order_created_after_its_stub_fills_it_in_and_keeps_the_reported_statuses(ledger: OrderLedger) -> None:
    feed(
        ledger,
        updated(info(SKU_2, "Shipped", quantity=1, tracking_info="T1", shipping_provider="UPS")),
        created(),
    )

    order = ledger.order(ORDER_ID)
    assert order is not None
    assert order.has_created_event
    assert order.created_at == T0
    assert [(i.sku, i.quantity) for i in order.items] == [(SKU_2, 2), (SKU_1, 1)]
    # Now that the ordered quantity is known, 1 of 2 is a partial shipment.
    assert order.items[0].status is ItemStatus.PARTIALLY_SHIPPED
    assert order.status is OrderStatus.PARTIALLY_SHIPPED


def test_an_item_the_order_does_not_have_is_added(ledger: OrderLedger) -> None:
    feed(ledger, created(), updated(info("SURPRISE", "Ordered", catalog_id="cat-s")))

    order = ledger.order(ORDER_ID)
    assert order is not None
    assert [(i.line, i.sku) for i in order.items] == [(0, SKU_1), (1, SKU_2), (2, "SURPRISE")]
    assert order.items[2].catalog_id == "cat-s"
    assert order.status is OrderStatus.PENDING_SUPPLIER  # two items still untouched


def test_item_without_sku_is_matched_by_catalog_id(ledger: OrderLedger) -> None:
    feed(ledger, created(), updated(info(None, "BackOrdered", catalog_id=f"CAT-{SKU_1}")))

    order = ledger.order(ORDER_ID)
    assert order is not None
    assert len(order.items) == 2
    assert order.items[0].status is ItemStatus.BACK_ORDERED


def test_unknown_item_status_is_kept_as_its_string(ledger: OrderLedger) -> None:
    feed(ledger, created(), updated(info(SKU_1, "OnHold"), info(SKU_2, "OnHold")))

    order = ledger.order(ORDER_ID)
    assert order is not None
    assert order.items[0].status == "OnHold"
    assert order.status == "OnHold"
    assert ledger.orders("OnHold")[0].order_id == ORDER_ID


def test_unknown_event_is_history_only(ledger: OrderLedger) -> None:
    feed(ledger, created())
    before = ledger.order(ORDER_ID)
    entry = unknown("order-cancelled")

    feed(ledger, entry)

    after = ledger.order(ORDER_ID)
    assert after is not None
    assert before is not None
    assert after.model_copy(update={"history": []}) == before.model_copy(update={"history": []})
    assert ledger.event_count() == 2
    assert ledger.entry_ids()[-1] == entry.id
    assert ledger.load() == cursor(entry)


def test_unknown_event_naming_an_order_is_filed_in_its_history(ledger: OrderLedger) -> None:
    xml = f'<x:order-cancelled xmlns:x="urn:iQmetrix:dropship"><x:order-id>{ORDER_ID}</x:order-id></x:order-cancelled>'
    feed(ledger, created(), unknown("order-cancelled", xml=xml))

    history = ledger.history(ORDER_ID)
    assert [e.kind for e in history] == ["order-created", "order-cancelled"]
    assert history[1].payload["xml"] == xml
    assert status_of(ledger) is OrderStatus.PENDING_SUPPLIER


def test_history_rows_carry_the_entry_and_its_page(ledger: OrderLedger) -> None:
    entry = created(entry_id="urn:uuid:not-a-valid-uuid")
    ledger.advance(cursor(entry, page="p-7"), entry)

    (event,) = ledger.history(ORDER_ID)
    assert event.entry_id == "urn:uuid:not-a-valid-uuid"
    assert (event.kind, event.source, event.page_id) == ("order-created", "feed", "p-7")
    assert event.order_id == ORDER_ID
    assert event.published == T0
    assert event.title == "Dropship Order Created"
    assert event.payload["order_id"] == str(ORDER_ID)
    assert event.payload["items"][1]["selling_price"] == "42.50"


def test_advancing_twice_over_one_entry_applies_it_once(ledger: OrderLedger) -> None:
    first = updated(info(SKU_2, "Shipped", quantity=1, tracking_info="T1", shipping_provider="UPS"))
    feed(ledger, created(), first)
    again = cursor(first, page="later-page")

    ledger.advance(again, first)

    assert ledger.event_count() == 2
    assert ledger.entry_ids().count(first.id) == 1
    order = ledger.order(ORDER_ID)
    assert order is not None
    assert order.items[1].shipped_quantity == 1
    assert ledger.load() == again  # the cursor still moves


def test_the_same_entry_id_with_other_content_is_not_applied(ledger: OrderLedger) -> None:
    feed(ledger, created(), updated(info(SKU_1, "Ordered"), entry_id="urn:uuid:same"))

    feed(ledger, updated(info(SKU_1, "Cancelled"), entry_id="urn:uuid:same"))

    order = ledger.order(ORDER_ID)
    assert order is not None
    assert order.items[0].status is ItemStatus.ORDERED


def test_cursor_is_saved_with_each_entry(ledger: OrderLedger) -> None:
    assert ledger.load() is None
    entry = created()

    ledger.advance(cursor(entry), entry)

    assert ledger.load() == cursor(entry)
    assert ledger.load() == cursor(entry, PAGE)
