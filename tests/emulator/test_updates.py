"""OrderStatusUpdate and ItemStatusUpdate: validation, the 202 echo, and the feed event (traps.md 6-15, 23)."""

from __future__ import annotations

from typing import Any

import pytest

from iqmetrix_dropship.emulator import Emulator

from .conftest import DROPSHIP, Api, Page, assert_feed_readable

ORDER = "OrderStatusUpdate"
ITEMS = "ItemStatusUpdate"
OMIT = object()


def _text(element: Any, name: str) -> str | None:
    found = element.find(f"{{{DROPSHIP}}}{name}")
    assert found is not None, name
    return None if found.get("{http://www.w3.org/2001/XMLSchema-instance}nil") == "true" else found.text


@pytest.fixture
def order_id(emulator: Emulator) -> str:
    return emulator.place_order(
        items=[
            {"sku": "AB-JH0786-MI", "quantity": 1, "catalog_id": "18e039de-f950-4d8e-a48a-d06e4db55a07"},
            {"sku": "EM-JH073-MI", "quantity": 2, "catalog_id": "dbc2577a-021f-4bbf-8289"},
        ],
        company_id=33772,
    )


def test_order_status_update_answers_202_with_the_echo(api: Api, order_id: str) -> None:
    body = {
        "Id": order_id,
        "Status": "Shipped",
        "TrackingInfo": "1Z999AA10123456784",
        "ShippingProvider": "UPS",
        "Message": "No errors",
    }

    response = api.put(order_id, ORDER, body)

    assert response.status_code == 202
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {
        "Id": order_id,
        "Status": "Shipped",
        "TrackingInfo": "1Z999AA10123456784",
        "ShippingProvider": "UPS",
        "Info": None,
        "Message": "No errors",
    }


def test_order_status_update_changes_the_order_and_every_item(api: Api, emulator: Emulator, order_id: str) -> None:
    api.put(order_id, ORDER, {"Id": order_id, "Status": "BackOrdered"})

    assert emulator.order_status(order_id) == "BackOrdered"
    assert emulator.item_statuses(order_id) == {"AB-JH0786-MI": "BackOrdered", "EM-JH073-MI": "BackOrdered"}


def test_order_status_update_appears_in_the_feed(api: Api, emulator: Emulator, order_id: str) -> None:
    body = {"Id": order_id, "Status": "Shipped", "TrackingInfo": "0012345", "ShippingProvider": "Purolator"}
    api.put(order_id, ORDER, body)

    newest = api.current().entries[0]
    event = Page.content(newest)
    assert event.tag == f"{{{DROPSHIP}}}order-status-updated"
    assert _text(event, "order-id") == order_id
    assert _text(event, "company-id") == "33772"
    assert _text(event, "supplier-id") == "60455"
    items = event.findall(f"{{{DROPSHIP}}}items/{{{DROPSHIP}}}item-information")
    assert [(_text(i, "sku"), _text(i, "quantity"), _text(i, "status")) for i in items] == [
        ("AB-JH0786-MI", "1", "Shipped"),
        ("EM-JH073-MI", "2", "Shipped"),
    ]
    assert {_text(i, "tracking-info") for i in items} == {"0012345"}
    assert {_text(i, "shipping-provider") for i in items} == {"Purolator"}
    assert {_text(i, "info") for i in items} == {None}
    assert _text(items[1], "catalog-id") == "dbc2577a-021f-4bbf-8289"


def test_omitted_status_defaults_to_pending_supplier(api: Api, emulator: Emulator, order_id: str) -> None:
    api.put(order_id, ORDER, {"Id": order_id, "Status": "Shipped", "TrackingInfo": "1", "ShippingProvider": "UPS"})

    # traps.md 7: faithfully dangerous, the order goes back to PendingSupplier.
    response = api.put(order_id, ORDER, {"Id": order_id, "Message": "just a note"})

    assert response.status_code == 202
    assert response.json()["Status"] == "PendingSupplier"
    assert emulator.order_status(order_id) == "PendingSupplier"


def test_numbers_in_text_fields_become_strings(api: Api, order_id: str) -> None:
    # traps.md 9: the guide sends TrackingInfo as a number; Json.NET echoes a string.
    response = api.put(order_id, ORDER, {"Id": order_id, "Status": "Shipped", "TrackingInfo": 23923408863})

    assert response.status_code == 202
    assert response.json()["TrackingInfo"] == "23923408863"


def test_the_id_may_be_spelled_in_upper_case(api: Api, order_id: str) -> None:
    response = api.put(order_id.upper(), ORDER, {"Id": order_id.upper(), "Status": "Ordered"})

    assert response.status_code == 202
    assert response.json()["Id"] == order_id


def test_reserved_fields_are_accepted_and_not_echoed(api: Api, order_id: str) -> None:
    body = {"Id": order_id, "Status": "Ordered", "ReferenceName": "x", "ReferenceValue": "y"}

    response = api.put(order_id, ORDER, body)

    assert response.status_code == 202
    assert "ReferenceName" not in response.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"Id": OMIT, "Status": "Shipped"}, "Id"),
        ({"Id": None, "Status": "Shipped"}, "Id"),
        ({"Id": "not-a-guid", "Status": "Shipped"}, "Id"),
        ({"Id": "91a57ddb-2d42-402b-85b4-fe327a347313", "Status": "Shipped"}, "Id"),
        ({"Status": "Exception"}, "Status"),
        ({"Status": "shipped"}, "Status"),
        ({"Status": "Shipped "}, "Status"),
        ({"Status": 2}, "Status"),
        ({"Status": "Shipped", "TrackingInfo": {"no": "objects"}}, "TrackingInfo"),
    ],
)
def test_order_status_update_rejections(
    api: Api, emulator: Emulator, order_id: str, body: dict[str, Any], field: str
) -> None:
    body = {key: value for key, value in {"Id": order_id, **body}.items() if value is not OMIT}
    events = emulator.event_count

    response = api.put(order_id, ORDER, body)

    assert response.status_code == 400
    answer = response.json()
    assert answer["Message"] == "The request is invalid"
    assert field in answer["ModelState"]
    assert emulator.event_count == events
    assert emulator.order_status(order_id) == "PendingSupplier"


def test_a_body_that_is_not_json_is_rejected(api: Api, order_id: str) -> None:
    response = api.client.put(
        f"/v1/Suppliers(60455)/Orders({order_id})/{ORDER}",
        content=b"{not json",
        headers={**api.headers, "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json()["Message"] == "The request is invalid"


def test_a_body_that_is_not_an_object_is_rejected(api: Api, order_id: str) -> None:
    assert api.put(order_id, ORDER, [order_id]).status_code == 400


def test_a_form_body_is_an_unsupported_media_type(api: Api, order_id: str) -> None:
    response = api.client.put(
        f"/v1/Suppliers(60455)/Orders({order_id})/{ORDER}", data={"Id": order_id}, headers=api.headers
    )

    assert response.status_code == 415


def test_an_unknown_order_is_not_found(api: Api) -> None:
    unknown = "0b05f9fb-1210-4494-b654-d051948716b4"

    response = api.put(unknown, ORDER, {"Id": unknown, "Status": "Ordered"})

    assert response.status_code == 404
    assert response.json() == {"Message": "Not found"}


def test_a_malformed_order_id_is_an_invalid_request(api: Api) -> None:
    response = api.put("12345", ORDER, {"Id": "12345", "Status": "Ordered"})

    assert response.status_code == 400
    assert response.json()["Message"] == "The request is invalid"


# -- ItemStatusUpdate ---------------------------------------------------------------------


def test_item_status_update_echo_fills_catalog_id_and_quantity_and_drops_product_name(api: Api, order_id: str) -> None:
    body = {
        "Id": order_id,
        "ItemInformation": [
            {
                "Sku": "EM-JH073-MI",
                "Status": "BackOrdered",
                "ProductName": "BlackBerry ACC53785101 N-X1 Battery Q10",
                "Message": "Error: Product dsf could not be found",
                "TrackingInfo": 23923408863,
                "ShippingProvider": "UPS",
            }
        ],
    }

    response = api.put(order_id, ITEMS, body)

    assert response.status_code == 202
    assert response.json() == {
        "Id": order_id,
        "ItemInformation": [
            {
                "Sku": "EM-JH073-MI",
                "CatalogId": "dbc2577a-021f-4bbf-8289",
                "Quantity": 2,
                "Status": "BackOrdered",
                "TrackingInfo": "23923408863",
                "ShippingProvider": "UPS",
                "Info": None,
                "Message": "Error: Product dsf could not be found",
            }
        ],
    }


def test_item_status_update_changes_only_the_items_given(api: Api, emulator: Emulator, order_id: str) -> None:
    body = {"Id": order_id, "ItemInformation": [{"Sku": "AB-JH0786-MI", "Status": "Shipped", "Quantity": 1}]}

    api.put(order_id, ITEMS, body)

    assert emulator.item_statuses(order_id) == {"AB-JH0786-MI": "Shipped", "EM-JH073-MI": "PendingSupplier"}
    assert emulator.order_status(order_id) == "PendingSupplier"


def test_item_status_update_appears_in_the_feed_with_the_items_given(
    api: Api, emulator: Emulator, order_id: str
) -> None:
    body = {
        "Id": order_id,
        "ItemInformation": [{"Sku": "EM-JH073-MI", "Status": "PartiallyShipped", "Quantity": 1, "Info": "www.ups.com"}],
    }

    api.put(order_id, ITEMS, body)

    event = Page.content(api.current().entries[0])
    assert _text(event, "order-id") == order_id
    items = event.findall(f"{{{DROPSHIP}}}items/{{{DROPSHIP}}}item-information")
    assert len(items) == 1
    assert _text(items[0], "sku") == "EM-JH073-MI"
    assert _text(items[0], "quantity") == "1"
    assert _text(items[0], "status") == "PartiallyShipped"
    assert _text(items[0], "info") == "www.ups.com"
    assert _text(items[0], "catalog-id") == "dbc2577a-021f-4bbf-8289"


def test_item_status_omitted_defaults_to_pending_supplier(api: Api, order_id: str) -> None:
    response = api.put(order_id, ITEMS, {"Id": order_id, "ItemInformation": [{"Sku": "EM-JH073-MI"}]})

    assert response.status_code == 202
    assert response.json()["ItemInformation"][0]["Status"] == "PendingSupplier"


def test_an_item_update_without_items_changes_nothing(api: Api, emulator: Emulator, order_id: str) -> None:
    events = emulator.event_count

    response = api.put(order_id, ITEMS, {"Id": order_id, "ItemInformation": []})

    assert response.status_code == 202
    assert response.json() == {"Id": order_id, "ItemInformation": []}
    assert emulator.event_count == events


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"Status": "Shipped"}, "ItemInformation[0].Sku"),
        ({"Sku": "NOT-IN-ORDER", "Status": "Shipped"}, "ItemInformation[0].Sku"),
        ({"Sku": "EM-JH073-MI", "Status": "Exception"}, "ItemInformation[0].Status"),
        ({"Sku": "EM-JH073-MI", "Quantity": "5"}, "ItemInformation[0].Quantity"),
        ({"Sku": "EM-JH073-MI", "Quantity": 1.5}, "ItemInformation[0].Quantity"),
        ({"Sku": "EM-JH073-MI", "Quantity": -1}, "ItemInformation[0].Quantity"),
        ({"Sku": "EM-JH073-MI", "CatalogId": "18e039de-f950-4d8e-a48a-d06e4db55a07"}, "ItemInformation[0].CatalogId"),
    ],
)
def test_item_status_update_rejections(
    api: Api, emulator: Emulator, order_id: str, item: dict[str, Any], field: str
) -> None:
    events = emulator.event_count

    response = api.put(order_id, ITEMS, {"Id": order_id, "ItemInformation": [item]})

    assert response.status_code == 400
    assert field in response.json()["ModelState"]
    assert emulator.event_count == events


@pytest.mark.parametrize("quantity", [2**31, 10**30])
def test_a_quantity_beyond_an_int32_is_refused_and_the_feed_stays_readable(
    api: Api, emulator: Emulator, order_id: str, quantity: int
) -> None:
    # The SDK reads integers of at most 19 digits: a 31-digit quantity would break the page.
    events = emulator.event_count
    body = {"Id": order_id, "ItemInformation": [{"Sku": "EM-JH073-MI", "Quantity": quantity}]}

    response = api.put(order_id, ITEMS, body)

    assert response.status_code == 400
    assert "ItemInformation[0].Quantity" in response.json()["ModelState"]
    assert emulator.event_count == events
    assert_feed_readable(emulator)


def test_the_largest_int32_quantity_is_accepted(api: Api, emulator: Emulator, order_id: str) -> None:
    body = {"Id": order_id, "ItemInformation": [{"Sku": "EM-JH073-MI", "Quantity": 2**31 - 1}]}

    assert api.put(order_id, ITEMS, body).status_code == 202
    assert_feed_readable(emulator)


def test_item_update_id_must_match_the_order(api: Api, order_id: str) -> None:
    body = {"Id": "91a57ddb-2d42-402b-85b4-fe327a347313", "ItemInformation": [{"Sku": "EM-JH073-MI"}]}

    response = api.put(order_id, ITEMS, body)

    assert response.status_code == 400
    assert "Id" in response.json()["ModelState"]


def test_item_information_must_be_a_list(api: Api, order_id: str) -> None:
    response = api.put(order_id, ITEMS, {"Id": order_id, "ItemInformation": "undefined"})

    assert response.status_code == 400


def test_characters_xml_cannot_carry_are_replaced(api: Api, order_id: str) -> None:
    response = api.put(order_id, ORDER, {"Id": order_id, "Status": "Error", "Message": "bad\x00byte & <tag>"})

    assert response.status_code == 202
    event = Page.content(api.current().entries[0])
    item = event.find(f"{{{DROPSHIP}}}items/{{{DROPSHIP}}}item-information")
    assert _text(item, "message") == "bad\ufffdbyte & <tag>"
