"""Whatever a request holds, the emulator answers it without a 500 and keeps a feed the SDK reads.

Generated bodies for every endpoint that reads one: the right field names with values of any
JSON type (NaN and Infinity included, as Python's json module reads them), unknown fields, nested values.
Each example gets a fresh emulator, so that what one accepted cannot hide what the next breaks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iqmetrix_dropship.emulator import Emulator

from .conftest import SUPPLIER, Api, assert_feed_readable

ORDER_ID = "0b05f9fb-1210-4494-b654-d051948716b4"
SKUS = ("AB-JH0786-MI", "EM-JH073-MI")

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Values of every JSON type, with the edges drawn more often than chance would: NaN and the
# infinities, integers past .NET's Int32 and the SDK's 19 digits, strings float() and Decimal() read.
edges = st.sampled_from(
    [
        *(float("nan"), float("inf"), -float("inf"), 1e308, 2**31, 10**30, -1, 0),
        *("nan", "inf", "-Infinity", "1e3", "1e-7", "-0", "29.99", "\ud800", "\x00", "&<>", "]]>"),
    ]
)
scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | edges
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
# Where a number is expected, mostly numbers: hypothesis draws NaN and the infinities often.
numbers = st.floats() | st.integers() | edges | values
# A count is kept small: a valid one places that many orders, and the test is about the values.
counts = st.integers(-2, 3) | st.none() | st.booleans() | st.floats() | st.text(max_size=5)


def fields(names: tuple[str, ...], value: st.SearchStrategy[Any] = values) -> st.SearchStrategy[dict[str, Any]]:
    """Some of ``names``; often just one, so that one bad value is not hidden by another."""
    one = st.sampled_from(names).flatmap(lambda name: value.map(lambda chosen: {name: chosen}))
    return one | st.fixed_dictionaries({}, optional=dict.fromkeys(names, value))


order_items = st.lists(
    fields(("sku", "description", "catalog_id", "bogus")) | fields(("quantity", "selling_price"), numbers) | values,
    max_size=3,
)
orders = (
    fields(("order_id", "ship_to_store", "country_code", "shipping_method", "bogus"))
    | fields(("company_id", "location_id"), numbers)
    | order_items.map(lambda items: {"items": items})
    | counts.map(lambda count: {"count": count})
)
item_fields = fields(("Sku", "Status", "CatalogId", "TrackingInfo", "ShippingProvider", "Info", "Message"))
item_updates = st.lists(
    (item_fields | fields(("Quantity",), numbers)).map(lambda item: {"Sku": SKUS[0], **item}) | values,
    max_size=3,
)
updates = st.fixed_dictionaries(
    {"Id": st.just(ORDER_ID) | values},
    optional={
        "Status": st.sampled_from(["Shipped", "Exception"]) | values,
        **dict.fromkeys(("TrackingInfo", "ShippingProvider", "Info", "Message"), values),
        "ItemInformation": item_updates | values,
    },
)
faults = fields(("latency", "error_rate", "unavailable", "retry_after"), numbers) | fields(
    ("reset", "expire_tokens", "bogus")
)
clocks = fields(("advance",), numbers)


@contextmanager
def fresh() -> Iterator[tuple[Emulator, httpx.Client]]:
    emulator = Emulator(orders=2, seed=4)
    emulator.place_order(order_id=ORDER_ID, items=[{"sku": sku} for sku in SKUS])
    with httpx.Client(transport=emulator.transport(), base_url="http://emulator.test") as client:
        yield emulator, client


def send(client: httpx.Client, method: str, path: str, body: object, **headers: str) -> httpx.Response:
    # json.dumps writes NaN and Infinity; httpx's json= would refuse them.
    content = json.dumps(body).encode()
    return client.request(method, path, content=content, headers={"Content-Type": "application/json", **headers})


def assert_still_whole(emulator: Emulator, client: httpx.Client) -> None:
    assert client.get("/_emulator/state").status_code == 200
    assert client.get("/_emulator/faults").status_code == 200
    assert_feed_readable(emulator)


@FUZZ
@given(body=orders)
def test_no_order_request_breaks_the_emulator_or_its_feed(body: dict[str, Any]) -> None:
    with fresh() as (emulator, client):
        response = send(client, "POST", "/_emulator/orders", body)

        assert response.status_code in (201, 400), response.text
        assert_still_whole(emulator, client)


@FUZZ
@given(body=updates, order_level=st.booleans())
def test_no_status_update_breaks_the_emulator_or_its_feed(body: dict[str, Any], order_level: bool) -> None:
    kind = "OrderStatusUpdate" if order_level else "ItemStatusUpdate"
    with fresh() as (emulator, client):
        api = Api(emulator, client)

        response = send(client, "PUT", f"/v1/Suppliers({SUPPLIER})/Orders({ORDER_ID})/{kind}", body, **api.headers)

        assert response.status_code in (202, 400), response.text
        assert_still_whole(emulator, client)


@FUZZ
@given(body=faults)
def test_no_fault_request_breaks_the_emulator(body: dict[str, Any]) -> None:
    with fresh() as (emulator, client):
        response = send(client, "POST", "/_emulator/faults", body)

        assert response.status_code in (200, 400), response.text
        assert_still_whole(emulator, client)


@FUZZ
@given(body=clocks)
def test_no_clock_request_breaks_the_emulator_or_its_tokens(body: dict[str, Any]) -> None:
    with fresh() as (emulator, client):
        response = send(client, "POST", "/_emulator/clock", body)

        assert response.status_code in (200, 400), response.text
        Api(emulator, client)  # a token is still granted
        emulator.place_order()
        assert_still_whole(emulator, client)
