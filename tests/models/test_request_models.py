"""The request models: what a status update sends, and how the server's echo is read.

Bodies are compared whole, so that a stray key (``ReferenceName``, a ``null``) cannot slip in.
The echo examples are the spec's own (iQmetrix's Supplier Orders API reference), with its traps: ``"Exception"``
as a status, ``"Quantity": "5"``, a numeric ``TrackingInfo``, ``null`` fields.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import pytest

from iqmetrix_dropship import ItemStatus, ItemStatusUpdate, ItemUpdate, OrderStatus, OrderStatusUpdate

ORDER_ID = "91a57ddb-2d42-402b-85b4-fe327a347313"
VALID_NAMES = "PendingSupplier, Ordered, Shipped, BackOrdered, Error, NotAvailable, PartiallyShipped, Cancelled, Other"

# The spec's OrderStatusUpdate resource and echo, verbatim.
ORDER_ECHO = """{
    "Id": "91a57ddb-2d42-402b-85b4-fe327a347313",
    "Info": "www.ups.com",
    "Message": "Error: Product '98ESP456' is unavailable",
    "ShippingProvider": "UPS",
    "Status": "Shipped",
    "TrackingInfo": "23923408863"
}"""

# The spec's ItemInformation resource (Quantity a string, Status "Exception"), verbatim.
ITEM_RESOURCE = """{
	"CatalogId": "dbc2577a-021f-4bbf-8289",
	"Info": "www.ups.com",
	"Message": "Error: Product '98ESP456' is unavailable",
	"ProductName": "239234SMS L720 BLU SPT RTD8863",
	"Quantity": "5",
	"Status": "Exception",
	"Sku": "9356SAMGL6S",
	"ShippingProvider": "UPS",
	"TrackingInfo": "23923408863"
}"""

# The spec's ItemStatusUpdate echo, verbatim.
ITEM_ECHO = """{
    "Id": "91a57ddb-2d42-402b-85b4-fe327a347313",
    "ItemInformation": [
        {
            "CatalogId": "dbc2577a-021f-4bbf-8289",
            "Info": "www.ups.com",
            "Message": "Error: Product '98ESP456' is unavailable",
            "ProductName": "239234SMS L720 BLU SPT RTD8863",
            "Quantity": 5,
            "Status": "Exception",
            "Sku": "9356SAMGL6S",
            "ShippingProvider": "UPS",
            "TrackingInfo": "23923408863"
        }
    ]
}"""


# What is sent ---------------------------------------------------------------------------------


def test_order_status_update_body_has_exactly_the_spec_keys() -> None:
    update = OrderStatusUpdate(
        id=UUID(ORDER_ID),
        status=OrderStatus.SHIPPED,
        tracking_info="23923408863",
        shipping_provider="UPS",
        message="Error: Product '98ESP456' is unavailable",
        info="www.ups.com",
    )

    assert update.to_json_body() == json.loads(ORDER_ECHO)


def test_status_is_always_sent_even_the_default_one() -> None:
    body = OrderStatusUpdate(id=UUID(ORDER_ID), status="PendingSupplier").to_json_body()

    assert body == {"Id": ORDER_ID, "Status": "PendingSupplier"}


def test_status_cannot_be_left_out() -> None:
    # traps.md 7: an omitted Status would default to PendingSupplier on the server.
    with pytest.raises(ValueError, match="Status"):
        OrderStatusUpdate(id=UUID(ORDER_ID))
    with pytest.raises(ValueError, match="Status"):
        ItemUpdate(sku="A")


def test_unset_fields_are_left_out_not_sent_as_null() -> None:
    body = ItemStatusUpdate(id=UUID(ORDER_ID), item_information=[ItemUpdate(sku="A", status="Ordered")]).to_json_body()

    assert body == {"Id": ORDER_ID, "ItemInformation": [{"Sku": "A", "Status": "Ordered"}]}


@pytest.mark.parametrize(("given", "sent"), [(23923408863, "23923408863"), ("0012", "0012"), (7, "7")])
def test_tracking_info_is_sent_as_a_string(given: Any, sent: str) -> None:
    # traps.md 9: a number would lose leading zeros, a long one would overflow.
    order = OrderStatusUpdate(id=UUID(ORDER_ID), status="Shipped", tracking_info=given, shipping_provider="UPS")
    item = ItemUpdate(sku="A", status="Shipped", tracking_info=given)

    assert order.to_json_body()["TrackingInfo"] == sent
    assert item.to_json_body()["TrackingInfo"] == sent


def test_a_float_tracking_number_is_refused() -> None:
    with pytest.raises(ValueError, match="TrackingInfo must be a string"):
        OrderStatusUpdate(id=UUID(ORDER_ID), status="Shipped", tracking_info=1.5)


def test_item_status_update_body_matches_the_spec_with_an_integer_quantity() -> None:
    item = ItemUpdate(
        catalog_id="dbc2577a-021f-4bbf-8289",
        info="www.ups.com",
        message="Error: Product '98ESP456' is unavailable",
        product_name="239234SMS L720 BLU SPT RTD8863",
        quantity=5,
        status=ItemStatus.BACK_ORDERED,
        sku="9356SAMGL6S",
        shipping_provider="UPS",
        tracking_info="23923408863",
    )
    expected = json.loads(ITEM_ECHO)
    expected["ItemInformation"][0]["Status"] = "BackOrdered"  # "Exception" is no status (traps.md 6)

    body = ItemStatusUpdate(id=UUID(ORDER_ID), item_information=[item]).to_json_body()

    assert body == expected
    assert type(body["ItemInformation"][0]["Quantity"]) is int


@pytest.mark.parametrize("quantity", ["5", 5.0, True, 0, -1])
def test_a_quantity_that_is_not_a_positive_integer_is_refused(quantity: Any) -> None:
    with pytest.raises(ValueError, match="Quantity"):
        ItemUpdate(sku="A", status="Shipped", quantity=quantity)


@pytest.mark.parametrize(
    "extra",
    [
        {"reference_name": "r", "reference_value": "v"},
        {"ReferenceName": "r", "ReferenceValue": "v"},
    ],
)
def test_reference_name_and_value_are_never_sent(extra: dict[str, str]) -> None:
    # traps.md 13: reserved for internal use.
    order = OrderStatusUpdate(id=UUID(ORDER_ID), status="Shipped", **extra)
    item = ItemUpdate(sku="A", status="Shipped", **extra)
    items = ItemStatusUpdate(id=UUID(ORDER_ID), item_information=[item])

    for body in (order.to_json_body(), item.to_json_body(), items.to_json_body()["ItemInformation"][0]):
        assert not {"ReferenceName", "ReferenceValue"} & set(body)


def test_the_body_id_is_the_order_guid_in_its_canonical_form() -> None:
    body = OrderStatusUpdate(id=ORDER_ID.upper(), status="Ordered").to_json_body()

    assert body["Id"] == ORDER_ID


@pytest.mark.parametrize("order_id", ["not-a-guid", "", "urn:uuid:gf456fd486-df4s56g-d45fdsf-f74ds8fds456fs"])
def test_a_malformed_order_id_is_refused(order_id: str) -> None:
    with pytest.raises(ValueError, match="valid UUID"):
        OrderStatusUpdate(id=order_id, status="Ordered")


# Statuses: an enum member or its exact wire name, nothing else ---------------------------------


@pytest.mark.parametrize("status", ["Exception", "shipped ", "shipped", "Shipped ", 42, 2, None, "", "SHIPPED"])
def test_an_invalid_order_status_is_refused_listing_the_valid_names(status: Any) -> None:
    with pytest.raises(ValueError, match=f"valid names are: {VALID_NAMES}"):
        OrderStatusUpdate(id=UUID(ORDER_ID), status=status)


@pytest.mark.parametrize("status", ["Exception", "shipped ", 42, OrderStatus.SHIPPED])
def test_an_invalid_item_status_is_refused_listing_the_valid_names(status: Any) -> None:
    # An OrderStatus member is not an ItemStatus, even with the same name.
    with pytest.raises(ValueError, match=f"valid names are: {VALID_NAMES}"):
        ItemUpdate(sku="A", status=status)


@pytest.mark.parametrize("status", ["Exception", "shipped ", 42])
def test_the_enums_parse_strictly(status: Any) -> None:
    for enum in (OrderStatus, ItemStatus):
        with pytest.raises(ValueError, match=VALID_NAMES):
            enum.parse(status)


@pytest.mark.parametrize("member", list(OrderStatus))
def test_every_wire_name_is_accepted(member: OrderStatus) -> None:
    update = OrderStatusUpdate(id=UUID(ORDER_ID), status=member.value)

    assert update.status is member
    assert update.to_json_body()["Status"] == member.value
    assert ItemUpdate(sku="A", status=member.value).status is ItemStatus(member.value)


def test_status_ids_follow_the_spec_tables() -> None:
    names = [
        "PendingSupplier",
        "Ordered",
        "Shipped",
        "BackOrdered",
        "Error",
        "NotAvailable",
        "PartiallyShipped",
        "Cancelled",
        "Other",
    ]
    for enum in (OrderStatus, ItemStatus):
        assert [member.value for member in enum] == names
        assert [member.id for member in enum] == list(range(9))
        assert [enum.from_id(n).value for n in range(9)] == names

    assert OrderStatus.SHIPPED.id == 2
    assert ItemStatus.from_id(3) is ItemStatus.BACK_ORDERED
    assert OrderStatus.from_id(7) is OrderStatus.CANCELLED
    assert str(ItemStatus.NOT_AVAILABLE) == "NotAvailable"


@pytest.mark.parametrize("status_id", [-1, 9, 100])
def test_an_unknown_status_id_is_refused(status_id: int) -> None:
    with pytest.raises(ValueError, match=f"no OrderStatus has id {status_id}"):
        OrderStatus.from_id(status_id)


def test_an_item_update_without_items_is_refused() -> None:
    # traps.md 11: an item update without items means nothing.
    with pytest.raises(ValueError, match="at least one item"):
        ItemStatusUpdate(id=UUID(ORDER_ID), item_information=[])


def test_an_item_without_sku_is_refused() -> None:
    with pytest.raises(ValueError, match="Sku"):
        ItemUpdate(status="Shipped")


@pytest.mark.parametrize("sku", ["", "   ", None])
def test_an_empty_or_null_sku_is_refused(sku: Any) -> None:
    with pytest.raises(ValueError, match="Sku"):
        ItemUpdate(sku=sku, status="Shipped")


# Reading the echo -----------------------------------------------------------------------------


def test_the_order_echo_is_read() -> None:
    echo = OrderStatusUpdate.from_echo(json.loads(ORDER_ECHO))

    assert echo == OrderStatusUpdate(
        id=UUID(ORDER_ID),
        status=OrderStatus.SHIPPED,
        tracking_info="23923408863",
        shipping_provider="UPS",
        message="Error: Product '98ESP456' is unavailable",
        info="www.ups.com",
    )
    assert echo.status is OrderStatus.SHIPPED


def test_the_item_echo_keeps_an_unknown_status_as_its_string() -> None:
    echo = ItemStatusUpdate.from_echo(json.loads(ITEM_ECHO))

    assert echo.id == UUID(ORDER_ID)
    [item] = echo.item_information
    assert item.status == "Exception"
    assert type(item.status) is str
    assert (item.sku, item.quantity, item.catalog_id) == ("9356SAMGL6S", 5, "dbc2577a-021f-4bbf-8289")
    assert item.product_name == "239234SMS L720 BLU SPT RTD8863"


def test_the_spec_item_resource_is_read_leniently() -> None:
    # "Quantity": "5" and "Status": "Exception", as the spec's resource example shows them.
    item = ItemUpdate.from_echo(json.loads(ITEM_RESOURCE))

    assert item.quantity == 5
    assert type(item.quantity) is int
    assert item.status == "Exception"
    assert item.tracking_info == "23923408863"


def test_an_echo_with_nulls_numbers_and_server_fields_is_read() -> None:
    # traps.md 15: the echo may null unset fields, fill CatalogId, send numbers, add reserved keys.
    echo = {
        "Id": ORDER_ID,
        "ItemInformation": [
            {
                "Sku": "9356SAMGL6S",
                "Status": "BackOrdered",
                "Quantity": "5",
                "Info": None,
                "Message": None,
                "TrackingInfo": 23923408863,
                "ShippingProvider": None,
                "CatalogId": "dbc2577a-021f-4bbf-8289",
                "ReferenceName": "internal",
                "ReferenceValue": "internal",
            }
        ],
    }

    [item] = ItemStatusUpdate.from_echo(echo).item_information

    assert item.status is ItemStatus.BACK_ORDERED
    assert (item.quantity, item.info, item.message, item.shipping_provider) == (5, None, None, None)
    assert item.tracking_info == "23923408863"
    assert "ReferenceName" not in item.to_json_body()


def test_an_echo_with_an_empty_item_list_is_accepted() -> None:
    # Refused when sending, but the server's answer is read as it is.
    echo = ItemStatusUpdate.from_echo({"Id": ORDER_ID, "ItemInformation": []})

    assert echo.item_information == []


def test_an_order_echo_with_an_unknown_status_keeps_the_string() -> None:
    echo = OrderStatusUpdate.from_echo({"Id": ORDER_ID, "Status": "OnHold", "TrackingInfo": None})

    assert echo.status == "OnHold"
    assert echo.tracking_info is None
