"""Whatever an availability, cost or product body holds, or a shipping-options server answers, the
emulator answers without a 500 and keeps its state whole (as ``test_hostile_requests`` does for the orders API)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st

from iqmetrix_dropship.emulator import Emulator
from iqmetrix_dropship.emulator._shipping import judge_answer

from .conftest import SUPPLIER, Api
from .test_hostile_requests import FUZZ, fields, numbers, values

availability_products = st.lists(
    fields(("Sku", "bogus")).map(lambda product: {"Sku": "A1", **product})
    | fields(("IsAvailable",))
    | fields(("Quantity",), numbers)
    | values,
    max_size=3,
)
cost_products = st.lists(
    fields(("Sku",))
    | fields(("Cost",), numbers)
    | fields(("CompanyIds",), st.lists(numbers, max_size=3) | values)
    | st.fixed_dictionaries(
        {"Sku": st.just("A1"), "Cost": numbers, "CompanyIds": st.lists(st.integers(1, 3) | numbers, max_size=3)}
    ),
    max_size=3,
)
catalog_bodies = st.fixed_dictionaries({}, optional={"Products": values}) | values
products = fields(("Classification", "Fields", "ModelName", "Assets", "UPC", "LastModifiedByVendorUtc", "VendorSkus"))
product_bodies = (
    products.map(
        lambda given: {
            "Classification": {"Id": 1, "TreeId": 1},
            "Fields": [{"Definition": {"Id": 1}, "Value": "P"}],
            "ModelName": "M",
            **given,
        }
    )
    | st.lists(products, max_size=2)
    | values
)
option = st.fixed_dictionaries(
    {"Id": st.just("1") | values, "Cost": numbers, "Currency": st.sampled_from(["CAD", "USD", "EUR"]) | values},
    optional={"Name": values, "EstimatedTransitTime": values},
)
answers = st.fixed_dictionaries({"ShippingOptions": st.lists(option, max_size=3) | values}) | values


def send(api: Api, path: str, body: object) -> httpx.Response:
    # json.dumps writes NaN and Infinity; httpx's json= would refuse them.
    headers = {**api.headers, "Content-Type": "application/json"}
    return api.client.post(path, content=json.dumps(body).encode(), headers=headers)


@contextmanager
def fresh() -> Iterator[tuple[Emulator, Api]]:
    emulator = Emulator(orders=1, seed=4)
    with httpx.Client(transport=emulator.transport(), base_url="http://emulator.test") as client:
        yield emulator, Api(emulator, client)


def assert_still_whole(api: Api) -> None:
    for path in ("SupplierSkus",):
        assert api.get(f"/v1/Suppliers({SUPPLIER})/{path}").status_code == 200
    assert api.get("/v1/ProductFeeds(1234)").status_code == 200
    for admin in ("availability", "costs", "products", "state"):
        assert api.client.get(f"/_emulator/{admin}").status_code == 200


@FUZZ
@given(body=catalog_bodies | availability_products.map(lambda products: {"Products": products}))
def test_no_availability_push_breaks_the_emulator(body: Any) -> None:
    with fresh() as (emulator, api):
        response = send(api, f"/v1/Suppliers({SUPPLIER})/Availability", body)

        assert response.status_code in (202, 400), response.text
        assert_still_whole(api)
        if response.status_code == 400:
            assert emulator.availability() == {}


@FUZZ
@given(body=catalog_bodies | cost_products.map(lambda products: {"Products": products}))
def test_no_cost_push_breaks_the_emulator(body: Any) -> None:
    with fresh() as (emulator, api):
        response = send(api, f"/v1/Suppliers({SUPPLIER})/Cost", body)

        assert response.status_code in (202, 400), response.text
        assert_still_whole(api)
        if response.status_code == 400:
            assert emulator.costs() == {}


@FUZZ
@given(body=product_bodies)
def test_no_product_breaks_the_emulator(body: Any) -> None:
    with fresh() as (emulator, api):
        response = send(api, "/v1/ProductFeeds(1234)/Products", body)

        assert response.status_code in (200, 400), response.text
        assert_still_whole(api)
        assert len(emulator.products()) == (len(response.json()) if response.status_code == 200 else 0)


@FUZZ
@given(answer=answers, status=st.sampled_from([200, 400, 401, 500]))
def test_no_shipping_options_answer_raises(answer: Any, status: int) -> None:
    quote = judge_answer(status, json.dumps(answer).encode(), has_credentials=True)

    assert quote.outcome == ("refused" if status == 400 else quote.outcome)
    assert (quote.outcome == "quoted") == bool(quote.options)
