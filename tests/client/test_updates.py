"""Status updates: exact bodies and paths, validation before any request, the echo as a model."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any
from uuid import UUID

import httpx
import pytest
import respx

from iqmetrix_dropship import (
    ConfigurationError,
    InvalidRequestError,
    ItemStatus,
    ItemStatusUpdate,
    ItemUpdate,
    OrderStatus,
    OrderStatusUpdate,
)
from iqmetrix_dropship.ledger import OrderLedger

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
        # A value of the wrong type is refused as such, not as "'float' object is not iterable".
        (lambda c: c.update_item_status(ORDER_ID, None), "list of ItemUpdate, got NoneType"),
        (lambda c: c.update_item_status(ORDER_ID, 5), "list of ItemUpdate, got int"),
        (lambda c: c.update_order_status(ORDER_ID, "Shipped", tracking_info=1.5, shipping_provider="UPS"), "Tracking"),
        (lambda c: c.update_order_status(ORDER_ID, "Shipped", tracking_info=[], shipping_provider="UPS"), "Tracking"),
        (lambda c: c.update_order_status(ORDER_ID, "Shipped", tracking_info="1Z", shipping_provider=[]), "Provider"),
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


# -- hardening: blank tracking, unsendable text, unknown fields, huge input, huge echoes -------------

BLANKS = ["", "   ", "\t\xa0", "\u200b", "\n \u3000"]


@pytest.mark.parametrize("blank", BLANKS)
def test_a_blank_tracking_number_does_not_satisfy_the_shipped_rule(
    api: respx.MockRouter, client: Any, blank: str
) -> None:
    route = api.put(ORDER_URL).respond(202, json={})
    with pytest.raises(InvalidRequestError, match="tracking_info and shipping_provider"):
        client.update_order_status(ORDER_ID, "Shipped", tracking_info=blank, shipping_provider="UPS")
    with pytest.raises(InvalidRequestError, match="tracking_info and shipping_provider"):
        client.update_order_status(ORDER_ID, "Shipped", tracking_info="1Z999", shipping_provider=blank)
    assert not route.called


@pytest.mark.parametrize("blank", BLANKS)
def test_a_blank_tracking_number_does_not_satisfy_the_shipped_rule_for_an_item(
    api: respx.MockRouter, client: Any, blank: str
) -> None:
    route = api.put(ITEM_URL).respond(202, json={})
    for item in (
        {"sku": "A", "status": "Shipped", "tracking_info": blank, "shipping_provider": "UPS"},
        {"sku": "A", "status": "Shipped", "tracking_info": "1Z9", "shipping_provider": blank},
    ):
        with pytest.raises(InvalidRequestError, match="Shipped without tracking_info"):
            client.update_item_status(ORDER_ID, [item])
    assert not route.called


def test_tracking_and_carrier_are_sent_without_the_white_space_around_them(api: respx.MockRouter, client: Any) -> None:
    route = api.put(ORDER_URL).respond(202, json={})
    client.update_order_status(ORDER_ID, "Shipped", tracking_info=" 1Z999\n", shipping_provider="\tUPS ")
    assert body(route)["TrackingInfo"] == "1Z999"
    assert body(route)["ShippingProvider"] == "UPS"


@pytest.mark.parametrize("field", ["tracking_info", "shipping_provider", "message", "info"])
def test_a_lone_surrogate_in_an_order_update_is_refused_before_any_request(
    api: respx.MockRouter, client: Any, field: str
) -> None:
    route = api.put(ORDER_URL).respond(202, json={})
    fields: dict[str, Any] = {"tracking_info": "1Z999", "shipping_provider": "UPS", field: "bad \ud800 text"}
    with pytest.raises(InvalidRequestError, match="cannot be sent"):
        client.update_order_status(ORDER_ID, "Shipped", **fields)
    assert not route.called


@pytest.mark.parametrize(
    "field", ["sku", "tracking_info", "shipping_provider", "message", "info", "catalog_id", "product_name"]
)
def test_a_lone_surrogate_in_an_item_update_is_refused_before_any_request(
    api: respx.MockRouter, client: Any, field: str
) -> None:
    route = api.put(ITEM_URL).respond(202, json={})
    item: dict[str, Any] = {"sku": "A", "status": "Shipped", "tracking_info": "1Z9", "shipping_provider": "UPS"}
    item[field] = "x\udfffy"
    with pytest.raises(InvalidRequestError, match="cannot be sent"):
        client.update_item_status(ORDER_ID, [item])
    assert not route.called


def test_a_misspelt_key_in_an_item_dict_is_refused_not_dropped(api: respx.MockRouter, client: Any) -> None:
    route = api.put(ITEM_URL).respond(202, json={})
    with pytest.raises(InvalidRequestError, match="mesage: unknown field"):
        client.update_item_status(ORDER_ID, [{"sku": "A", "status": "BackOrdered", "mesage": "Friday"}])
    assert not route.called


def test_a_misspelt_keyword_to_an_item_update_is_refused() -> None:
    with pytest.raises(ValueError, match="mesage"):
        ItemUpdate(sku="A", status=ItemStatus.BACK_ORDERED, mesage="Friday")  # type: ignore[call-arg]


def test_an_echo_with_fields_we_do_not_know_is_still_read(api: respx.MockRouter, client: Any) -> None:
    api.put(ITEM_URL).respond(
        202,
        json={"Id": ORDER_ID, "NewField": 1, "ItemInformation": [{"Sku": "A", "Status": "Cancelled", "Extra": "y"}]},
    )
    echo = client.update_item_status(ORDER_ID, [{"sku": "A", "status": "Cancelled"}])
    assert echo.item_information[0].sku == "A"


HUGE = "x" * 100_000


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.update_order_status(HUGE, "Cancelled"),
        lambda c: c.update_order_status(ORDER_ID, HUGE),
        lambda c: c.update_item_status(ORDER_ID, [{"sku": "A", "status": HUGE}]),
        lambda c: c.update_item_status(ORDER_ID, [{"sku": "A", "status": "Cancelled", "quantity": HUGE}]),
        lambda c: c.update_item_status(ORDER_ID, [{"sku": HUGE, "status": "Shipped"}]),
        lambda c: c.update_item_status(ORDER_ID, [{"sku": "A", "status": "Cancelled", HUGE: 1}]),
        lambda c: c.get_archive(HUGE),
    ],
)
def test_an_error_message_quotes_a_huge_input_as_a_short_preview(api: respx.MockRouter, client: Any, call: Any) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        call(client)
    assert len(str(caught.value)) < 1_000
    assert not api.calls  # nothing was sent


def test_an_accepted_update_whose_echo_is_over_the_size_limit_returns_what_was_sent(
    api: respx.MockRouter, client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    echo = {"Id": ORDER_ID, "Status": "Cancelled", "Message": "m" * (2 * 1024 * 1024)}
    api.put(ORDER_URL).respond(202, json=echo)
    update = client.update_order_status(ORDER_ID, "Cancelled")
    assert update.status is OrderStatus.CANCELLED
    assert update.id == UUID(ORDER_ID)
    assert any("was cut" in record.getMessage() for record in caplog.records)


def test_an_accepted_update_with_a_broken_gzip_echo_is_still_accepted(api: respx.MockRouter, client: Any) -> None:
    class Raw(httpx.SyncByteStream, httpx.AsyncByteStream):
        """A body handed over as it came: respx does not decode it first."""

        def __iter__(self) -> Iterator[bytes]:
            yield b"not gzip at all"

        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield b"not gzip at all"

    api.put(ORDER_URL).mock(return_value=httpx.Response(202, headers={"Content-Encoding": "gzip"}, stream=Raw()))
    assert client.update_order_status(ORDER_ID, "Cancelled").status is OrderStatus.CANCELLED


def test_an_echo_with_a_lone_surrogate_is_read_and_can_be_recorded(api: respx.MockRouter, client: Any) -> None:
    api.put(ORDER_URL).respond(
        202, content=b'{"Id": "' + ORDER_ID.encode() + b'", "Status": "Cancelled", "Message": "ok \\ud800"}'
    )
    echo = client.update_order_status(ORDER_ID, "Cancelled")
    assert echo.message == "ok \ufffd"
    with OrderLedger(":memory:") as ledger:
        ledger.record_update(echo)  # before: a raw UnicodeEncodeError
        assert ledger.order(ORDER_ID) is not None


@pytest.mark.parametrize("retries", [-1, 1.5, "3", True])
def test_a_calls_own_max_retries_is_checked_as_the_constructors_is(
    api: respx.MockRouter, client: Any, retries: Any
) -> None:
    with pytest.raises(ConfigurationError, match="max_retries must be an integer >= 0"):
        client.update_order_status(ORDER_ID, "Ordered", max_retries=retries)
    with pytest.raises(ConfigurationError, match="max_retries must be an integer >= 0"):
        client.get_notifications(max_retries=retries)
    assert api.calls.call_count == 0  # not even a token request


@pytest.mark.parametrize("page", [None, 5, 1.5, b"b8c6d0c8"])
def test_an_archive_page_that_is_not_a_str_or_uuid_is_refused_before_any_request(
    api: respx.MockRouter, client: Any, page: Any
) -> None:
    with pytest.raises(InvalidRequestError, match="a str or a UUID"):
        client.get_archive(page)
    assert api.calls.call_count == 0
