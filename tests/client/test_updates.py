"""Status updates: exact bodies and paths, validation before any request, the echo as a model."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import pytest
import respx

from iqmetrix_dropship import (
    InvalidRequestError,
    ItemStatus,
    ItemStatusUpdate,
    ItemUpdate,
    OrderStatus,
    OrderStatusUpdate,
)

from .conftest import ORDER_ID, SUPPLIER, TOKEN_URL, token_json

ORDER_URL = f"{SUPPLIER}/Orders({ORDER_ID})/OrderStatusUpdate"
ITEM_URL = f"{SUPPLIER}/Orders({ORDER_ID})/ItemStatusUpdate"


@pytest.fixture(autouse=True)
def token(api: respx.MockRouter) -> respx.Route:
    return api.post(TOKEN_URL).respond(200, json=token_json(1))


def body(route: respx.Route) -> Any:
    return json.loads(route.calls[0].request.content)


def test_shipped_order_update_sends_the_exact_json_to_the_order_status_path(api: respx.MockRouter, client: Any) -> None:
    route = api.put(ORDER_URL).respond(
        202,
        json={
            "Id": ORDER_ID,
            "Status": "Shipped",
            "TrackingInfo": "23923408863",
            "ShippingProvider": "UPS",
            "Info": None,
            "Message": "No errors",
        },
    )

    echo = client.update_order_status(
        ORDER_ID, OrderStatus.SHIPPED, tracking_info=23923408863, shipping_provider="UPS", message="No errors"
    )

    request = route.calls[0].request
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Authorization"] == "Bearer access-1"
    assert body(route) == {
        "Id": ORDER_ID,
        "Status": "Shipped",
        "TrackingInfo": "23923408863",
        "ShippingProvider": "UPS",
        "Message": "No errors",
    }
    assert isinstance(echo, OrderStatusUpdate)
    assert echo.status is OrderStatus.SHIPPED
    assert echo.info is None
    assert echo.id == UUID(ORDER_ID)


def test_status_is_always_sent_and_the_body_id_is_the_url_order_id(api: respx.MockRouter, client: Any) -> None:
    route = api.put(ORDER_URL).respond(202, json={})
    client.update_order_status(UUID(ORDER_ID.upper()), "BackOrdered")
    assert body(route) == {"Id": ORDER_ID, "Status": "BackOrdered"}


def test_item_update_sends_the_exact_json_to_the_item_status_path(api: respx.MockRouter, client: Any) -> None:
    route = api.put(ITEM_URL).respond(
        202,
        json={
            "Id": ORDER_ID,
            "ItemInformation": [
                {
                    "Sku": "802975857401",
                    "CatalogId": "dbc2577a-021f-4bbf-8289-ff9cac593a8b",
                    "Quantity": 1,
                    "Status": "BackOrdered",
                    "TrackingInfo": None,
                    "ShippingProvider": None,
                    "Info": None,
                    "Message": "Error: Product dsf could not be found",
                }
            ],
        },
    )

    echo = client.update_item_status(
        ORDER_ID,
        [
            ItemUpdate(
                sku="802975857401",
                status=ItemStatus.BACK_ORDERED,
                quantity=1,
                message="Error: Product dsf could not be found",
            )
        ],
    )

    assert body(route) == {
        "Id": ORDER_ID,
        "ItemInformation": [
            {
                "Sku": "802975857401",
                "Status": "BackOrdered",
                "Quantity": 1,
                "Message": "Error: Product dsf could not be found",
            }
        ],
    }
    assert isinstance(echo, ItemStatusUpdate)
    item = echo.item_information[0]
    assert item.catalog_id == "dbc2577a-021f-4bbf-8289-ff9cac593a8b"  # filled in by the server
    assert item.status is ItemStatus.BACK_ORDERED


def test_partial_shipment_items_given_as_dicts(api: respx.MockRouter, client: Any) -> None:
    route = api.put(ITEM_URL).respond(202, json={})
    client.update_item_status(
        ORDER_ID,
        [
            {"sku": "A", "status": "Shipped", "quantity": 2, "tracking_info": "1Z1", "shipping_provider": "UPS"},
            {"sku": "B", "status": ItemStatus.BACK_ORDERED},
        ],
    )
    assert body(route)["ItemInformation"] == [
        {"Sku": "A", "Status": "Shipped", "Quantity": 2, "TrackingInfo": "1Z1", "ShippingProvider": "UPS"},
        {"Sku": "B", "Status": "BackOrdered"},
    ]


def test_an_echo_with_an_unknown_status_is_kept_as_its_string(api: respx.MockRouter, client: Any) -> None:
    api.put(ITEM_URL).respond(
        202, json={"Id": ORDER_ID, "ItemInformation": [{"Sku": "A", "Status": "Exception", "Quantity": "5"}]}
    )
    echo = client.update_item_status(ORDER_ID, [ItemUpdate(sku="A", status="Other")])
    assert echo.item_information[0].status == "Exception"
    assert echo.item_information[0].quantity == 5


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda c: c.update_order_status(ORDER_ID, "Exception"), "valid names are: PendingSupplier"),
        (lambda c: c.update_order_status(ORDER_ID, "shipped "), "valid names are"),
        (lambda c: c.update_order_status(ORDER_ID, 42), "valid names are"),
        (lambda c: c.update_order_status("not-a-guid", "Cancelled"), "GUID"),
        (lambda c: c.update_order_status(12345, "Cancelled"), "GUID"),
        (lambda c: c.update_order_status(ORDER_ID, "Shipped"), "tracking_info and shipping_provider"),
        (lambda c: c.update_order_status(ORDER_ID, "Shipped", tracking_info="1Z"), "shipping_provider"),
        (lambda c: c.update_item_status(ORDER_ID, []), "at least one item"),
        (lambda c: c.update_item_status(ORDER_ID, [{"sku": "A", "status": "Exception"}]), "valid names"),
        (lambda c: c.update_item_status(ORDER_ID, [{"sku": "A", "status": 42}]), "valid names"),
        (lambda c: c.update_item_status(ORDER_ID, [{"sku": "A", "status": "Shipped"}]), "Shipped without"),
        (lambda c: c.update_item_status(ORDER_ID, [{"sku": "", "status": "Cancelled"}]), "Sku is required"),
        (lambda c: c.update_item_status(ORDER_ID, [{"sku": "A", "status": "Ordered", "quantity": "2"}]), "Quantity"),
        (lambda c: c.update_item_status(ORDER_ID, [{"sku": "A", "status": "Ordered", "quantity": 0}]), "Quantity"),
        (lambda c: c.update_item_status("nope", [{"sku": "A", "status": "Ordered"}]), "GUID"),
        (lambda c: c.update_item_status(ORDER_ID, {"sku": "A", "status": "Ordered"}), "list"),
    ],
)
def test_bad_updates_raise_value_error_and_send_nothing(
    api: respx.MockRouter, client: Any, call: Any, match: str
) -> None:
    with pytest.raises(ValueError, match=match) as caught:
        call(client)
    assert isinstance(caught.value, InvalidRequestError)
    assert api.calls.call_count == 0  # not even a token request


def test_shipped_without_tracking_is_sent_when_the_caller_opts_out(api: respx.MockRouter, client: Any) -> None:
    route = api.put(ORDER_URL).respond(202, json={})
    client.update_order_status(ORDER_ID, "Shipped", require_tracking=False)
    assert body(route) == {"Id": ORDER_ID, "Status": "Shipped"}


def test_updates_are_never_sent_with_reference_fields(api: respx.MockRouter, client: Any) -> None:
    route = api.put(ITEM_URL).respond(202, json={})
    client.update_item_status(ORDER_ID, [{"sku": "A", "status": "Cancelled", "ReferenceName": "x"}])
    assert "ReferenceName" not in json.dumps(body(route))
