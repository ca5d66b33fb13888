"""``POST /Suppliers({id})/Cost``: the cost feed (supplier-apis.md, "Cost feed")."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest

from iqmetrix_dropship.emulator import Emulator

from .conftest import SUPPLIER, Api

COST = f"/v1/Suppliers({SUPPLIER})/Cost"
# The spec's own example, as raw JSON: the number 12.99 must arrive as written.
SPEC_EXAMPLE = b'{"Products": [{"Sku": "1115884", "Cost": 12.99, "CompanyIds": [14146]}]}'


def post(api: Api, body: bytes | object, path: str = COST) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return api.client.post(path, content=content, headers={**api.headers, "Content-Type": "application/json"})


def test_a_cost_push_is_accepted_with_202_and_echoed_with_an_id(api: Api) -> None:
    response = post(api, SPEC_EXAMPLE)

    assert response.status_code == 202, response.text
    body = response.json()
    assert str(uuid.UUID(body["Id"])) == body["Id"]
    assert body["Products"] == [{"Sku": "1115884", "Cost": 12.99, "CompanyIds": [14146]}]
    assert b'"Cost":12.99' in response.content  # the digits received, not a float's 12.9900000001


def test_a_cost_is_stored_per_sku_and_company_as_a_decimal(api: Api, emulator: Emulator) -> None:
    post(api, SPEC_EXAMPLE)

    assert emulator.costs() == {("1115884", 14146): Decimal("12.99")}
    assert isinstance(emulator.costs()["1115884", 14146], Decimal)


def test_a_product_may_have_different_costs_for_different_companies(api: Api, emulator: Emulator) -> None:
    body = {
        "Products": [
            {"Sku": "1115884", "Cost": 12.99, "CompanyIds": [14146, 14147]},
            {"Sku": "1115884", "Cost": 11.5, "CompanyIds": [20000]},
        ]
    }

    assert post(api, body).status_code == 202
    assert emulator.costs() == {
        ("1115884", 14146): Decimal("12.99"),
        ("1115884", 14147): Decimal("12.99"),
        ("1115884", 20000): Decimal("11.5"),
    }


def test_a_company_given_two_costs_for_one_product_is_a_400_and_changes_nothing(api: Api, emulator: Emulator) -> None:
    body = {
        "Products": [
            {"Sku": "1115884", "Cost": 12.99, "CompanyIds": [14146]},
            {"Sku": "1115884", "Cost": 13.99, "CompanyIds": [20000, 14146]},
        ]
    }

    response = post(api, body)

    assert response.status_code == 400
    assert response.json()["Message"].startswith("Products[1].CompanyIds: company 14146 is given two costs")
    assert emulator.costs() == {}


def test_a_company_given_the_same_cost_twice_is_no_conflict(api: Api, emulator: Emulator) -> None:
    body = {"Products": [{"Sku": "1115884", "Cost": 12.99, "CompanyIds": [14146, 14146]}]}

    assert post(api, body).status_code == 202
    assert emulator.costs() == {("1115884", 14146): Decimal("12.99")}


def test_a_later_push_replaces_a_cost(api: Api, emulator: Emulator) -> None:
    post(api, SPEC_EXAMPLE)
    post(api, {"Products": [{"Sku": "1115884", "Cost": 10, "CompanyIds": [14146]}]})

    assert emulator.costs() == {("1115884", 14146): Decimal(10)}


def test_trailing_zeros_are_no_extra_decimal_places(api: Api, emulator: Emulator) -> None:
    assert post(api, b'{"Products": [{"Sku": "A", "Cost": 12.990, "CompanyIds": [1]}]}').status_code == 202
    assert emulator.costs()["A", 1] == Decimal("12.99")


def test_the_admin_endpoint_reads_the_costs_as_exact_strings(api: Api, client: httpx.Client) -> None:
    post(api, SPEC_EXAMPLE)

    assert client.get("/_emulator/costs").json() == [{"sku": "1115884", "company_id": 14146, "cost": "12.99"}]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{}", "Products"),
        (b'{"Products": [{"Cost": 1, "CompanyIds": [1]}]}', "Products[0].Sku"),
        (b'{"Products": [{"Sku": "A", "CompanyIds": [1]}]}', "Products[0].Cost"),
        (b'{"Products": [{"Sku": "A", "Cost": 1}]}', "Products[0].CompanyIds"),
        (b'{"Products": [{"Sku": "A", "Cost": null, "CompanyIds": [1]}]}', "Products[0].Cost"),
        (b'{"Products": [{"Sku": "A", "Cost": "12.99", "CompanyIds": [1]}]}', "Products[0].Cost"),
        (b'{"Products": [{"Sku": "A", "Cost": true, "CompanyIds": [1]}]}', "Products[0].Cost"),
        (b'{"Products": [{"Sku": "A", "Cost": -0.01, "CompanyIds": [1]}]}', "Products[0].Cost"),
        (b'{"Products": [{"Sku": "A", "Cost": 12.999, "CompanyIds": [1]}]}', "Products[0].Cost"),
        (b'{"Products": [{"Sku": "A", "Cost": NaN, "CompanyIds": [1]}]}', "Products[0].Cost"),
        (b'{"Products": [{"Sku": "A", "Cost": Infinity, "CompanyIds": [1]}]}', "Products[0].Cost"),
        (b'{"Products": [{"Sku": "A", "Cost": 1e13, "CompanyIds": [1]}]}', "Products[0].Cost"),
        (b'{"Products": [{"Sku": "A", "Cost": 1, "CompanyIds": []}]}', "Products[0].CompanyIds"),
        (b'{"Products": [{"Sku": "A", "Cost": 1, "CompanyIds": 14146}]}', "Products[0].CompanyIds"),
        (b'{"Products": [{"Sku": "A", "Cost": 1, "CompanyIds": [true]}]}', "Products[0].CompanyIds[0]"),
        (b'{"Products": [{"Sku": "A", "Cost": 1, "CompanyIds": ["14146"]}]}', "Products[0].CompanyIds[0]"),
        (b'{"Products": [{"Sku": "A", "Cost": 1, "CompanyIds": [0]}]}', "Products[0].CompanyIds[0]"),
        (b'{"Products": [{"Sku": "A", "Cost": 1, "CompanyIds": [1.0]}]}', "Products[0].CompanyIds[0]"),
    ],
)
def test_a_bad_value_is_a_400_naming_its_field_and_changes_nothing(
    api: Api, emulator: Emulator, body: bytes, field: str
) -> None:
    response = post(api, body)

    assert response.status_code == 400, response.text
    assert response.json()["Message"].startswith(f"{field}: ")
    assert emulator.costs() == {}


def test_a_refused_cost_is_shown_as_the_number_it_was(api: Api) -> None:
    response = post(api, b'{"Products": [{"Sku": "A", "Cost": 12.999, "CompanyIds": [1]}]}')

    assert "not 12.999" in response.json()["Message"]


def test_more_than_a_hundred_thousand_costs_in_one_push_is_a_413(api: Api, emulator: Emulator) -> None:
    products: list[dict[str, Any]] = [
        {"Sku": f"S{n}", "Cost": 1, "CompanyIds": list(range(1, 101))} for n in range(1001)
    ]

    response = post(api, {"Products": products})

    assert response.status_code == 413
    assert emulator.costs() == {}


def test_a_wrong_supplier_id_is_the_documented_400(api: Api) -> None:
    response = post(api, SPEC_EXAMPLE, path="/v1/Suppliers(1)/Cost")

    assert response.status_code == 400
    assert response.json() == {"Message": "Cannot find supplier identifier in the uri"}


def test_without_a_token_it_is_a_401(client: httpx.Client, emulator: Emulator) -> None:
    response = client.post(COST, content=SPEC_EXAMPLE, headers={"Content-Type": "application/json"})

    assert response.status_code == 401
    assert emulator.costs() == {}
