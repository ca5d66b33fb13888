"""The rest of the supplier side on both clients: availability, cost, the product feed, ping, and
the guide's order rules. Exact bodies and hosts; bad input sends nothing; chunks fail on their own."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx

from iqmetrix_dropship import (
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    DropshipClient,
    InvalidRequestError,
    NotFoundError,
    OrderStatus,
    Product,
    ProductAvailability,
    ProductCost,
    PushError,
    ServerError,
    UnexpectedResponseError,
)

from .conftest import ACCOUNTS, BASE, ORDER_ID, SUPPLIER, TOKEN_URL, token_json

AVAILABILITY = "https://availability.test/v1"
LIBRARY = "https://library.test/v1"
AVAILABILITY_POST = f"{SUPPLIER}/Availability"
COST_POST = f"{SUPPLIER}/Cost"
SKUS = f"{AVAILABILITY}/Suppliers(60455)/SupplierSkus"
FEED = f"{LIBRARY}/ProductFeeds(1234)"
PRODUCT = {
    "Classification": {"Id": 4, "TreeId": 1},
    "Fields": [{"Definition": {"Id": 1}, "Value": "Galaxy S6 Case"}],
    "ModelName": "S6 Case",
    "Manufacturer": "Otterbox",
}


@pytest.fixture(autouse=True)
def token(api: respx.MockRouter) -> respx.Route:
    return api.post(TOKEN_URL).respond(200, json=token_json(1))


@pytest.fixture
def client(client_factory: Any) -> Any:
    return client_factory(availability_url=AVAILABILITY, product_library_url=LIBRARY)


def bodies(route: respx.Route) -> list[Any]:
    return [json.loads(call.request.content) for call in route.calls]


def echo(request: httpx.Request) -> httpx.Response:
    return httpx.Response(202, json={"Id": "a84549a1-0000-4000-8000-000000000001", **json.loads(request.content)})


def stock(count: int) -> list[ProductAvailability]:
    return [ProductAvailability(f"SKU-{n}", n % 2 == 0, n) for n in range(count)]


# -- availability ------------------------------------------------------------------------------


def test_availability_sends_is_available_and_quantity_always_even_for_an_unavailable_product(
    api: respx.MockRouter, client: Any
) -> None:
    route = api.post(AVAILABILITY_POST).mock(side_effect=echo)

    result = client.push_availability(
        [ProductAvailability("9101AGAP6", False, 0), {"sku": "B", "is_available": True, "quantity": 10}]
    )

    assert bodies(route) == [
        {
            "Products": [
                {"Sku": "9101AGAP6", "IsAvailable": False, "Quantity": 0},
                {"Sku": "B", "IsAvailable": True, "Quantity": 10},
            ]
        }
    ]
    request = route.calls[0].request
    assert request.headers["Authorization"] == "Bearer access-1"
    assert request.headers["Content-Type"] == "application/json"
    assert result.ok
    assert [p.sku for p in result.accepted] == ["9101AGAP6", "B"]
    assert result.ids == ("a84549a1-0000-4000-8000-000000000001",)


def test_availability_accepts_200_as_well_as_202(api: respx.MockRouter, client: Any) -> None:
    api.post(AVAILABILITY_POST).respond(200, json={"Id": "x", "Products": []})

    assert client.push_availability(stock(1)).ok


def test_a_large_availability_list_goes_in_chunks_of_the_size_asked(api: respx.MockRouter, client: Any) -> None:
    route = api.post(AVAILABILITY_POST).mock(side_effect=echo)

    result = client.push_availability(stock(1001), chunk_size=400)

    assert [len(body["Products"]) for body in bodies(route)] == [400, 400, 201]
    assert len(result.accepted) == 1001
    assert len(result.ids) == 3


def test_a_chunk_that_fails_is_reported_and_the_others_are_still_sent(
    api: respx.MockRouter, client: Any, sleeps: list[float]
) -> None:
    answers = iter([202, 500, 500, 202])
    route = api.post(AVAILABILITY_POST).mock(
        side_effect=lambda request: httpx.Response(next(answers), json={"Message": "An error has occurred."})
    )

    result = client.push_availability(stock(6), chunk_size=2, max_retries=1)

    assert route.call_count == 4  # chunk 2 retried once on its own, then given up
    assert not result.ok
    assert [p.sku for p in result.accepted] == ["SKU-0", "SKU-1", "SKU-4", "SKU-5"]
    assert [p.sku for p in result.failed_products] == ["SKU-2", "SKU-3"]
    assert isinstance(result.failed[0].error, ServerError)
    with pytest.raises(PushError, match="2 of 6 products were not accepted") as raised:
        result.raise_for_failures()
    assert raised.value.result is result


def test_refused_credentials_stop_the_push_and_every_chunk_is_reported_failed(
    api: respx.MockRouter, client: Any
) -> None:
    route = api.post(AVAILABILITY_POST).respond(401, text="Invalid token")

    result = client.push_availability(stock(6), chunk_size=2)

    assert route.call_count == 2  # the first chunk, and its one replay with a fresh token
    assert len(result.failed_products) == 6
    assert all(isinstance(chunk.error, AuthenticationError) for chunk in result.failed)


def test_a_wrong_supplier_id_stops_the_push(api: respx.MockRouter, client: Any) -> None:
    route = api.post(AVAILABILITY_POST).respond(400, json={"Message": "Cannot find supplier identifier in the uri"})

    result = client.push_availability(stock(4), chunk_size=2)

    assert route.call_count == 1
    assert isinstance(result.failed[0].error, BadRequestError)
    assert len(result.failed_products) == 4


def test_an_accepted_push_without_an_echo_is_accepted(api: respx.MockRouter, client: Any) -> None:
    api.post(AVAILABILITY_POST).respond(202)

    result = client.push_availability(stock(2))

    assert result.ok
    assert result.ids == ()


@pytest.mark.parametrize("body", ["<html><title>Sign in</title></html>", "OK", '{"Id": '])
def test_a_2xx_that_is_not_a_json_echo_is_not_counted_as_accepted(
    api: respx.MockRouter, client: Any, body: str
) -> None:
    # A proxy's or a login page's 200 at a wrong base_url: the stock never reached iQmetrix.
    api.post(AVAILABILITY_POST).respond(200, text=body)

    result = client.push_availability(stock(2))

    assert not result.ok
    assert result.accepted == ()
    assert isinstance(result.failed[0].error, UnexpectedResponseError)
    assert "base_url" in str(result.failed[0].error)


def test_a_zero_cost_is_never_sent_as_negative_zero(api: respx.MockRouter, client: Any) -> None:
    route = api.post(COST_POST).mock(side_effect=echo)

    client.push_costs([ProductCost("A", Decimal("-0.00"), [1]), {"sku": "B", "cost": "-0", "company_ids": [1]}])

    assert b"-0" not in route.calls[0].request.content
    assert [p["Cost"] for p in bodies(route)[0]["Products"]] == [0.0, 0.0]


@pytest.mark.parametrize(
    ("products", "named"),
    [
        ([{"sku": "", "is_available": True, "quantity": 1}], "products[0]: sku: Sku is required"),
        ([{"sku": "   ", "is_available": True, "quantity": 1}], "Sku is required"),
        ([{"sku": " A", "is_available": True, "quantity": 1}], "white space"),
        ([{"sku": "A", "is_available": True, "quantity": -1}], "Quantity must be at least 0"),
        ([{"sku": "A", "is_available": True, "quantity": True}], "Quantity must be a whole number"),
        ([{"sku": "A", "is_available": True, "quantity": 1.5}], "Quantity must be a whole number"),
        ([{"sku": "A", "is_available": "yes", "quantity": 1}], "IsAvailable must be True or False"),
        ([{"sku": "A", "quantity": 1}], "IsAvailable: Field required"),
        ([{"sku": "A", "is_available": True}], "Quantity: Field required"),
        ([{"sku": "A", "is_available": True, "quantity": 1, "qty": 2}], "qty: unknown field"),
        (
            [ProductAvailability("A", True, 1), ProductAvailability("B", True, 1), ProductAvailability("A", False, 0)],
            "products[2]: Sku 'A' is also products[0]",
        ),
        ("SKU-1", "products must be a list"),
        ([42], "products[0] must be a ProductAvailability"),
    ],
)
def test_bad_availability_is_refused_before_any_request(
    api: respx.MockRouter, client: Any, products: Any, named: str
) -> None:
    with pytest.raises(InvalidRequestError, match=named.replace("[", r"\[").replace("]", r"\]")):
        client.push_availability(products)

    assert api.calls.call_count == 0  # not even a token


@pytest.mark.parametrize("chunk_size", [0, -1, True, 1.5, 10_001])
def test_a_bad_chunk_size_is_refused_before_any_request(api: respx.MockRouter, client: Any, chunk_size: Any) -> None:
    with pytest.raises(InvalidRequestError, match="chunk_size"):
        client.push_availability(stock(3), chunk_size=chunk_size)

    assert api.calls.call_count == 0


def test_a_bad_product_late_in_a_long_list_stops_the_whole_push_before_its_first_chunk(
    api: respx.MockRouter, client: Any
) -> None:
    products: list[Any] = [*stock(999), {"sku": "LAST", "is_available": True, "quantity": -5}]

    with pytest.raises(InvalidRequestError, match=r"products\[999\]"):
        client.push_availability(products, chunk_size=100)

    assert api.calls.call_count == 0


def test_get_availability_reads_the_supplier_skus_from_the_availability_host(
    api: respx.MockRouter, client: Any
) -> None:
    route = api.get(SKUS).respond(
        200,
        json=[
            {
                "Id": "0b1e5d7a-6c3f-4a59-9e0b-3c3c1b7d2a11",
                "IsAvailable": True,
                "SupplierSku": "9101AGAP6",
                "SupplierEntityId": 60455,
                "Quantity": 10,
            }
        ],
    )

    skus = client.get_availability()

    assert route.called
    assert route.calls[0].request.headers["Authorization"] == "Bearer access-1"
    assert [(s.supplier_sku, s.is_available, s.quantity, s.supplier_entity_id) for s in skus] == [
        ("9101AGAP6", True, 10, 60455)
    ]


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="Service is up"),
        httpx.Response(200, json={"Message": "not a list"}),
        httpx.Response(200, json=[{"IsAvailable": True}]),
    ],
)
def test_supplier_skus_that_are_not_the_documented_array_are_a_typed_error(
    api: respx.MockRouter, client: Any, answer: httpx.Response
) -> None:
    api.get(SKUS).mock(return_value=answer)

    with pytest.raises(UnexpectedResponseError, match="SupplierSkus") as raised:
        client.get_availability()
    assert raised.value.status_code == 200


def test_supplier_skus_error_answers_are_api_errors(api: respx.MockRouter, client: Any) -> None:
    api.get(SKUS).respond(400, json={"Message": "Cannot find supplier identifier in the uri"})

    with pytest.raises(BadRequestError, match="Cannot find supplier identifier"):
        client.get_availability()


# -- cost ----------------------------------------------------------------------------------------


def test_costs_are_sent_as_exact_json_numbers(api: respx.MockRouter, client: Any) -> None:
    route = api.post(COST_POST).mock(side_effect=echo)

    result = client.push_costs(
        [
            ProductCost("1115884", Decimal("12.99"), [14146]),
            ProductCost("1115884", Decimal("11.50"), [14147, 14148]),
            {"sku": "X", "cost": "0.1", "company_ids": 1},
        ]
    )

    raw = route.calls[0].request.content
    assert b'"Cost":12.99' in raw.replace(b" ", b"")
    assert bodies(route)[0] == {
        "Products": [
            {"Sku": "1115884", "Cost": 12.99, "CompanyIds": [14146]},
            {"Sku": "1115884", "Cost": 11.5, "CompanyIds": [14147, 14148]},
            {"Sku": "X", "Cost": 0.1, "CompanyIds": [1]},
        ]
    }
    assert result.ok
    assert result.accepted[0].cost == Decimal("12.99")


@pytest.mark.parametrize(
    ("products", "named"),
    [
        ([{"sku": "A", "cost": Decimal("1.999"), "company_ids": [1]}], "at most 2 decimals"),
        ([{"sku": "A", "cost": 0.1 + 0.2, "company_ids": [1]}], "at most 2 decimals"),
        ([{"sku": "A", "cost": Decimal("-0.01"), "company_ids": [1]}], "must be 0 or more"),
        ([{"sku": "A", "cost": "NaN", "company_ids": [1]}], "finite"),
        ([{"sku": "A", "cost": "twelve", "company_ids": [1]}], "amount of money"),
        ([{"sku": "A", "cost": True, "company_ids": [1]}], "Cost must be a Decimal"),
        ([{"sku": "A", "cost": 1, "company_ids": []}], "at least one company"),
        ([{"sku": "A", "cost": 1}], "CompanyIds: Field required"),
        ([{"sku": "A", "cost": 1, "company_ids": [0]}], "positive whole numbers"),
        ([{"sku": "A", "cost": 1, "company_ids": ["14146"]}], "positive whole numbers"),
        ([{"sku": "A", "cost": 1, "company_ids": [5, 5]}], "names a company twice"),
        ([{"sku": "", "cost": 1, "company_ids": [5]}], "Sku is required"),
        (
            [ProductCost("A", 1, [5, 6]), ProductCost("B", 1, [5]), ProductCost("A", 2, [7, 6])],
            "products[2]: company 6 already has a cost for Sku 'A' in products[0]",
        ),
    ],
)
def test_bad_costs_are_refused_before_any_request(
    api: respx.MockRouter, client: Any, products: Any, named: str
) -> None:
    with pytest.raises(InvalidRequestError, match=named.replace("[", r"\[").replace("]", r"\]")):
        client.push_costs(products)

    assert api.calls.call_count == 0


# -- the product feed ----------------------------------------------------------------------------


def stored(request: httpx.Request) -> httpx.Response:
    product = json.loads(request.content)
    product["Id"] = 9001
    product["Fields"] = [{"Definition": {"Id": 1, "Name": "Product Name"}, "Value": "Galaxy S6 Case"}]
    return httpx.Response(200, json=[product])


def test_add_product_posts_to_the_product_library_and_returns_it_as_stored(api: respx.MockRouter, client: Any) -> None:
    route = api.post(f"{FEED}/Products").mock(side_effect=stored)

    product = client.add_product(1234, PRODUCT)

    assert bodies(route) == [PRODUCT]
    assert product.id == 9001
    assert product.fields[0].definition_id == 1
    assert product.model_name == "S6 Case"


def test_adding_a_product_is_not_replayed_after_a_server_error(
    api: respx.MockRouter, client: Any, sleeps: list[float]
) -> None:
    route = api.post(f"{FEED}/Products").respond(500, json={"Message": "An error has occurred."})

    with pytest.raises(ServerError):
        client.add_product(1234, PRODUCT)

    assert route.call_count == 1  # it may have been stored: a second POST could store it twice
    assert sleeps == []


def test_adding_a_product_is_retried_after_a_rate_limit(
    api: respx.MockRouter, client: Any, sleeps: list[float]
) -> None:
    answers = iter([httpx.Response(429, text="rate limit exceeded", headers={"X-RateLimit-ResetSeconds": "2"})])
    route = api.post(f"{FEED}/Products").mock(side_effect=lambda request: next(answers, None) or stored(request))

    assert client.add_product(1234, PRODUCT).id == 9001
    assert route.call_count == 2
    assert sleeps == [2.0]


def test_adding_a_product_is_retried_when_the_connection_was_never_made(
    api: respx.MockRouter, client: Any, sleeps: list[float]
) -> None:
    calls = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ConnectError("refused", request=request)
        return stored(request)

    api.post(f"{FEED}/Products").mock(side_effect=flaky)

    assert client.add_product(1234, PRODUCT).id == 9001
    assert len(calls) == 2


def test_adding_a_product_is_not_retried_when_the_answer_was_lost(
    api: respx.MockRouter, client: Any, sleeps: list[float]
) -> None:
    route = api.post(f"{FEED}/Products").mock(side_effect=httpx.ReadError("connection reset"))

    with pytest.raises(APIConnectionError):
        client.add_product(1234, PRODUCT)
    assert route.call_count == 1


@pytest.mark.parametrize(
    ("product", "named"),
    [
        ({**PRODUCT, "ModelName": ""}, "ModelName is required"),
        ({**PRODUCT, "Fields": []}, "Fields"),
        ({key: value for key, value in PRODUCT.items() if key != "Classification"}, "Classification"),
        ({**PRODUCT, "Modelname": "typo"}, "unknown field"),
    ],
)
def test_a_bad_product_is_refused_before_any_request(
    api: respx.MockRouter, client: Any, product: Any, named: str
) -> None:
    with pytest.raises(InvalidRequestError, match=named):
        client.add_product(1234, product)
    with pytest.raises(InvalidRequestError, match=named):
        client.replace_product(1234, 9001, product)

    assert api.calls.call_count == 0


@pytest.mark.parametrize("feed_id", [0, -3, "abc", True, None, 1.5])
def test_a_bad_feed_id_is_refused_before_any_request(api: respx.MockRouter, client: Any, feed_id: Any) -> None:
    with pytest.raises(InvalidRequestError, match="feed_id"):
        client.list_products(feed_id)

    assert api.calls.call_count == 0


def test_list_products_and_the_feed_are_read_from_the_product_library(api: respx.MockRouter, client: Any) -> None:
    api.get(f"{FEED}/Products").respond(200, json=[{**PRODUCT, "Id": 1}, {**PRODUCT, "Id": 2, "Extra": [1]}])
    api.get(FEED).respond(
        200,
        json={
            "Id": 1234,
            "ProviderName": "Otter",
            "Version": 3,
            "LastReceivedUpdatesFromProviderUtc": "2016-01-20T17:11:21.123",
            "Products": [{**PRODUCT, "Id": 1}],
        },
    )

    assert [p.id for p in client.list_products(1234)] == [1, 2]
    feed = client.get_product_feed(1234)
    assert (feed.id, feed.provider_name, [p.id for p in feed.products]) == (1234, "Otter", [1])


def test_remove_product_deletes_it_and_a_wrong_id_is_not_found(api: respx.MockRouter, client: Any) -> None:
    gone = api.delete(f"{FEED}/Products(9001)").respond(204)
    api.delete(f"{FEED}/Products(9002)").respond(404, json={"Message": "NotFound"})

    assert client.remove_product(1234, 9001) is None
    assert gone.called
    with pytest.raises(NotFoundError):
        client.remove_product(1234, 9002)


def test_replace_product_removes_then_adds(api: respx.MockRouter, client: Any) -> None:
    removed = api.delete(f"{FEED}/Products(9001)").respond(204)
    added = api.post(f"{FEED}/Products").mock(side_effect=stored)

    product = client.replace_product(1234, 9001, PRODUCT)

    assert product.id == 9001
    methods = [call.request.method for call in api.calls if call.request.url.host == "library.test"]
    assert methods == ["DELETE", "POST"]
    assert removed.called
    assert added.called


def test_a_removal_whose_first_attempt_failed_and_whose_retry_finds_it_gone_succeeds(
    api: respx.MockRouter, client: Any, sleeps: list[float]
) -> None:
    answers = iter([httpx.Response(503, text="Service Unavailable"), httpx.Response(404, json={"Message": "NotFound"})])
    api.delete(f"{FEED}/Products(9001)").mock(side_effect=lambda request: next(answers))
    added = api.post(f"{FEED}/Products").mock(side_effect=stored)

    assert client.replace_product(1234, 9001, PRODUCT).id == 9001
    assert added.called  # the 503 may have removed it: the 404 of the retry says it did


def test_replace_product_adds_nothing_when_the_product_to_remove_is_unknown(api: respx.MockRouter, client: Any) -> None:
    api.delete(f"{FEED}/Products(9001)").respond(404, json={"Message": "NotFound"})
    added = api.post(f"{FEED}/Products").mock(side_effect=stored)

    with pytest.raises(NotFoundError):
        client.replace_product(1234, 9001, PRODUCT)
    assert not added.called


def test_a_product_built_in_python_reads_like_the_wire(api: respx.MockRouter, client: Any) -> None:
    route = api.post(f"{FEED}/Products").mock(side_effect=stored)
    product = Product(
        classification={"id": 4, "tree_id": 1},
        fields=[{"definition_id": 1, "value": "Galaxy S6 Case"}],
        model_name="S6 Case",
        manufacturer="Otterbox",
    )

    client.add_product(1234, product)

    assert bodies(route) == [PRODUCT]


# -- ping ------------------------------------------------------------------------------------------


def test_ping_asks_each_configured_host_without_a_token(api: respx.MockRouter, client: Any) -> None:
    versions = {"ApplicationVersion": "1.2.3", "DbVersion": "45"}
    routes = [api.get(f"{host}/ping").respond(200, json=versions) for host in (BASE, ACCOUNTS, AVAILABILITY)]
    api.get(f"{LIBRARY}/ping").respond(503, text="Service Unavailable")

    statuses = client.ping()

    assert set(statuses) == {"dropship", "accounts", "availability", "product_library"}
    assert statuses["dropship"].ok
    assert statuses["dropship"].application_version == "1.2.3"
    assert statuses["dropship"].db_version == "45"
    assert not statuses["product_library"].ok
    assert statuses["product_library"].status_code == 503
    assert all("Authorization" not in call.request.headers for route in routes for call in route.calls)


def test_ping_asks_a_host_serving_several_services_once(api: respx.MockRouter, client_factory: Any) -> None:
    route = api.get(f"{BASE}/ping").respond(200, json={"ApplicationVersion": "1"})
    api.get(f"{ACCOUNTS}/ping").respond(200, json={})
    client = client_factory()  # availability and the product library on base_url

    statuses = client.ping()

    assert route.call_count == 1
    assert {name: status.service for name, status in statuses.items()} == {name: name for name in statuses}
    assert statuses["product_library"].application_version == "1"


def test_ping_reports_an_unreachable_host_rather_than_raising(api: respx.MockRouter, client: Any) -> None:
    for host in (BASE, ACCOUNTS, AVAILABILITY):
        api.get(f"{host}/ping").respond(200, json={})
    api.get(f"{LIBRARY}/ping").mock(side_effect=httpx.ConnectError("refused"))

    statuses = client.ping()

    assert statuses["dropship"].ok
    assert not statuses["product_library"].ok
    assert "APIConnectionError" in (statuses["product_library"].error or "")


# -- order rules -----------------------------------------------------------------------------------

ORDER_URL = f"{SUPPLIER}/Orders({ORDER_ID})/OrderStatusUpdate"
ITEM_URL = f"{SUPPLIER}/Orders({ORDER_ID})/ItemStatusUpdate"


def put_echo(request: httpx.Request) -> httpx.Response:
    return httpx.Response(202, json=json.loads(request.content))


def test_acknowledging_an_order_sets_it_ordered(api: respx.MockRouter, client: Any) -> None:
    route = api.put(ORDER_URL).mock(side_effect=put_echo)

    update = client.acknowledge_order(ORDER_ID)

    assert bodies(route) == [{"Id": ORDER_ID, "Status": "Ordered"}]
    assert update.status is OrderStatus.ORDERED


def test_several_tracking_numbers_are_joined_with_commas(api: respx.MockRouter, client: Any) -> None:
    route = api.put(ORDER_URL).mock(side_effect=put_echo)

    client.ship_order(ORDER_ID, ["1Z999AA1", " 1Z999AA2 ", 1234], "UPS")

    assert bodies(route)[0]["TrackingInfo"] == "1Z999AA1,1Z999AA2,1234"
    assert bodies(route)[0]["Status"] == "Shipped"


@pytest.mark.parametrize(
    ("numbers", "named"),
    [
        (["1Z1", "1Z2,1Z3"], "holds a comma"),
        ("1Z1,1Z2", "holds a comma"),
        ([], "at least one tracking number"),
        (["1Z1", "  "], "blank"),
        ([None], "blank"),
    ],
)
def test_a_tracking_number_that_cannot_be_sent_is_refused_before_any_request(
    api: respx.MockRouter, client: Any, numbers: Any, named: str
) -> None:
    with pytest.raises(InvalidRequestError, match=named):
        client.ship_order(ORDER_ID, numbers, "UPS")
    with pytest.raises(InvalidRequestError, match=named):
        client.ship_items(ORDER_ID, ["A"], tracking_numbers=numbers, shipping_provider="UPS", complete=False)

    assert api.calls.call_count == 0


def test_a_split_shipment_ships_its_items_then_marks_the_order_partially_shipped(
    api: respx.MockRouter, client: Any
) -> None:
    items = api.put(ITEM_URL).mock(side_effect=put_echo)
    order = api.put(ORDER_URL).mock(side_effect=put_echo)

    first = client.ship_items(
        ORDER_ID, {"A": 2}, tracking_numbers=["1Z1", "1Z2"], shipping_provider="UPS", complete=False
    )
    last = client.ship_items(ORDER_ID, ["B"], tracking_numbers="1Z3", shipping_provider="UPS", complete=True)

    assert bodies(items)[0]["ItemInformation"] == [
        {"Sku": "A", "Status": "Shipped", "Quantity": 2, "TrackingInfo": "1Z1,1Z2", "ShippingProvider": "UPS"}
    ]
    assert [body["Status"] for body in bodies(order)] == ["PartiallyShipped", "Shipped"]
    assert first.order.status is OrderStatus.PARTIALLY_SHIPPED
    assert last.order.status is OrderStatus.SHIPPED
    assert last.items.item_information[0].sku == "B"
    paths = [call.request.url.path for call in api.calls if call.request.method == "PUT"]
    assert paths[0].endswith("ItemStatusUpdate")  # the items first, then the order
    assert paths[1].endswith("OrderStatusUpdate")


def test_a_split_shipment_without_items_or_carrier_is_refused_before_any_request(
    api: respx.MockRouter, client: Any
) -> None:
    with pytest.raises(InvalidRequestError, match="at least one item"):
        client.ship_items(ORDER_ID, [], tracking_numbers="1Z", shipping_provider="UPS", complete=True)
    with pytest.raises(InvalidRequestError, match="shipping_provider"):
        client.ship_items(ORDER_ID, ["A"], tracking_numbers="1Z", shipping_provider=" ", complete=True)

    assert api.calls.call_count == 0


# -- hosts -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "availability", "library"),
    [
        ("sandbox", "https://availabilitydemo.iqmetrix.net/v1", "https://productlibrarydemo.iqmetrix.net/v1"),
        ("production", "https://availability.iqmetrix.net/v1", "https://productlibrary.iqmetrix.net/v1"),
    ],
)
def test_each_service_has_its_own_host_for_each_environment(environment: str, availability: str, library: str) -> None:
    client = DropshipClient(60455, access_token="t", environment=environment)
    assert client.config.availability_url == availability
    assert client.config.product_library_url == library
    client.close()


def test_a_local_base_url_serves_every_service_unless_told_otherwise() -> None:
    with DropshipClient(60455, access_token="t", base_url="http://127.0.0.1:8000/v1") as client:
        assert client.config.availability_url == "http://127.0.0.1:8000/v1"
        assert client.config.product_library_url == "http://127.0.0.1:8000/v1"
    with DropshipClient(
        60455,
        access_token="t",
        base_url="https://dropshiprc.iqmetrix.net/v1",
        availability_url="https://availabilityrc.iqmetrix.net/v1/",
    ) as client:
        assert client.config.availability_url == "https://availabilityrc.iqmetrix.net/v1"
        assert client.config.product_library_url == "https://productlibrarydemo.iqmetrix.net/v1"
