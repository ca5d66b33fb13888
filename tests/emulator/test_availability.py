"""``POST /Suppliers({id})/Availability`` and ``GET /Suppliers({id})/SupplierSkus`` (supplier-apis.md)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from iqmetrix_dropship.emulator import Emulator, SkuAvailability

from .conftest import SUPPLIER, Api

AVAILABILITY = f"/v1/Suppliers({SUPPLIER})/Availability"
SUPPLIER_SKUS = f"/v1/Suppliers({SUPPLIER})/SupplierSkus"
# The spec's own example.
SPEC_EXAMPLE = {"Products": [{"Sku": "9101AGAP6", "IsAvailable": True, "Quantity": 10}]}


def push(api: Api, body: object, path: str = AVAILABILITY) -> httpx.Response:
    return api.client.post(path, json=body, headers=api.headers)


def test_an_availability_push_is_accepted_with_202_and_echoed_with_an_id(api: Api) -> None:
    response = push(api, SPEC_EXAMPLE)

    assert response.status_code == 202, response.text
    body = response.json()
    assert set(body) == {"Id", "Products"}
    assert str(uuid.UUID(body["Id"])) == body["Id"]
    assert body["Products"] == SPEC_EXAMPLE["Products"]


def test_each_push_gets_its_own_id(api: Api) -> None:
    assert push(api, SPEC_EXAMPLE).json()["Id"] != push(api, SPEC_EXAMPLE).json()["Id"]


def test_leaving_out_is_available_and_quantity_marks_the_sku_unavailable(api: Api, emulator: Emulator) -> None:
    push(api, SPEC_EXAMPLE)

    response = push(api, {"Products": [{"Sku": "9101AGAP6"}]})

    # The documented defaults, the trap the SDK guards against: false and 0, not "unchanged".
    assert response.json()["Products"] == [{"Sku": "9101AGAP6", "IsAvailable": False, "Quantity": 0}]
    assert emulator.availability()["9101AGAP6"].is_available is False
    assert emulator.availability()["9101AGAP6"].quantity == 0


def test_supplier_skus_is_an_empty_array_before_any_push(api: Api) -> None:
    response = api.get(SUPPLIER_SKUS)

    assert response.status_code == 200
    assert response.json() == []


def test_supplier_skus_lists_what_the_pushes_left_one_row_per_sku(api: Api) -> None:
    push(
        api,
        {
            "Products": [
                {"Sku": "A1", "IsAvailable": True, "Quantity": 3},
                {"Sku": "B2", "IsAvailable": True, "Quantity": 1},
            ]
        },
    )
    push(api, {"Products": [{"Sku": "A1", "IsAvailable": False, "Quantity": 0}]})

    rows = api.get(SUPPLIER_SKUS).json()

    assert [(row["SupplierSku"], row["IsAvailable"], row["Quantity"]) for row in rows] == [
        ("A1", False, 0),
        ("B2", True, 1),
    ]
    assert {row["SupplierEntityId"] for row in rows} == {SUPPLIER}
    assert set(rows[0]) == {"Id", "IsAvailable", "SupplierSku", "SupplierEntityId", "Quantity"}


def test_the_last_of_a_sku_in_one_push_wins(api: Api, emulator: Emulator) -> None:
    push(
        api,
        {
            "Products": [
                {"Sku": "A1", "IsAvailable": True, "Quantity": 3},
                {"Sku": "A1", "IsAvailable": True, "Quantity": 7},
            ]
        },
    )

    assert emulator.availability()["A1"].quantity == 7
    assert len(api.get(SUPPLIER_SKUS).json()) == 1


def test_a_skus_id_stays_the_same_across_pushes_and_emulators(api: Api) -> None:
    push(api, SPEC_EXAMPLE)
    first = api.get(SUPPLIER_SKUS).json()[0]["Id"]
    push(api, {"Products": [{"Sku": "9101AGAP6", "IsAvailable": False, "Quantity": 0}]})

    assert api.get(SUPPLIER_SKUS).json()[0]["Id"] == first
    assert str(uuid.UUID(first)) == first
    other = Emulator(orders=1)
    other.service.push_availability(SPEC_EXAMPLE)
    assert other.availability()["9101AGAP6"].id == first


def test_the_python_api_reads_the_availability(api: Api, emulator: Emulator) -> None:
    push(api, SPEC_EXAMPLE)

    record = emulator.availability()["9101AGAP6"]

    assert isinstance(record, SkuAvailability)
    assert (record.sku, record.is_available, record.quantity) == ("9101AGAP6", True, 10)


def test_the_admin_endpoint_reads_the_availability(api: Api, client: httpx.Client) -> None:
    push(api, SPEC_EXAMPLE)

    rows = client.get("/_emulator/availability").json()

    assert [(row["sku"], row["is_available"], row["quantity"]) for row in rows] == [("9101AGAP6", True, 10)]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "Products"),
        ({"Products": None}, "Products"),
        ({"Products": {"Sku": "A"}}, "Products"),
        ([{"Sku": "A"}], "body"),
        ({"Products": ["A"]}, "Products[0]"),
        ({"Products": [{"IsAvailable": True, "Quantity": 1}]}, "Products[0].Sku"),
        ({"Products": [{"Sku": None}]}, "Products[0].Sku"),
        ({"Products": [{"Sku": 9101}]}, "Products[0].Sku"),
        ({"Products": [{"Sku": "   "}]}, "Products[0].Sku"),
        ({"Products": [{"Sku": "A" * 101}]}, "Products[0].Sku"),
        ({"Products": [{"Sku": "A\nB"}]}, "Products[0].Sku"),
        ({"Products": [{"Sku": "A", "IsAvailable": "true"}]}, "Products[0].IsAvailable"),
        ({"Products": [{"Sku": "A", "IsAvailable": 1}]}, "Products[0].IsAvailable"),
        ({"Products": [{"Sku": "A", "IsAvailable": None}]}, "Products[0].IsAvailable"),
        ({"Products": [{"Sku": "A", "Quantity": -1}]}, "Products[0].Quantity"),
        ({"Products": [{"Sku": "A", "Quantity": 1.5}]}, "Products[0].Quantity"),
        ({"Products": [{"Sku": "A", "Quantity": 2.0}]}, "Products[0].Quantity"),
        ({"Products": [{"Sku": "A", "Quantity": True}]}, "Products[0].Quantity"),
        ({"Products": [{"Sku": "A", "Quantity": "5"}]}, "Products[0].Quantity"),
        ({"Products": [{"Sku": "A", "Quantity": None}]}, "Products[0].Quantity"),
        ({"Products": [{"Sku": "A", "Quantity": 2**31}]}, "Products[0].Quantity"),
        (
            {"Products": [{"Sku": "A", "IsAvailable": True, "Quantity": 1}, {"Sku": "B", "Quantity": -3}]},
            "Products[1].Quantity",
        ),
    ],
)
def test_a_bad_value_is_a_400_naming_its_field_and_changes_nothing(
    api: Api, emulator: Emulator, body: Any, field: str
) -> None:
    response = push(api, body)

    assert response.status_code == 400, response.text
    message = response.json()["Message"]
    assert message.startswith(f"{field}: ")
    assert response.json()["ModelState"] == {field: [message.removeprefix(f"{field}: ")]}
    assert emulator.availability() == {}


def test_a_body_that_is_no_json_is_a_400(api: Api, emulator: Emulator) -> None:
    response = api.client.post(
        AVAILABILITY, content=b'{"Products": [', headers={**api.headers, "Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert "not valid JSON" in response.text
    assert emulator.availability() == {}


def test_a_body_that_is_not_json_typed_is_a_415(api: Api) -> None:
    response = api.client.post(AVAILABILITY, content=json.dumps(SPEC_EXAMPLE), headers=api.headers)

    assert response.status_code == 415


def test_more_than_ten_thousand_products_is_a_413(api: Api, emulator: Emulator) -> None:
    products = [{"Sku": f"S{n}", "IsAvailable": True, "Quantity": 1} for n in range(10_001)]

    response = push(api, {"Products": products})

    assert response.status_code == 413
    assert "10000" in response.json()["Message"]
    assert emulator.availability() == {}


def test_ten_thousand_products_are_taken(api: Api, emulator: Emulator) -> None:
    products = [{"Sku": f"S{n}", "IsAvailable": True, "Quantity": n} for n in range(10_000)]

    assert push(api, {"Products": products}).status_code == 202
    assert len(emulator.availability()) == 10_000


def test_a_body_over_the_cap_is_a_413_before_it_is_read(api: Api) -> None:
    response = api.client.post(
        AVAILABILITY,
        content=b" " * (4 * 1024 * 1024 + 1),
        headers={**api.headers, "Content-Type": "application/json"},
    )

    assert response.status_code == 413


def test_a_wrong_supplier_id_is_the_documented_400(api: Api) -> None:
    response = push(api, SPEC_EXAMPLE, path="/v1/Suppliers(12345)/Availability")

    assert response.status_code == 400
    assert response.json() == {"Message": "Cannot find supplier identifier in the uri"}
    assert api.get("/v1/Suppliers(12345)/SupplierSkus").status_code == 400


@pytest.mark.parametrize(("method", "path"), [("POST", AVAILABILITY), ("GET", SUPPLIER_SKUS)])
def test_without_a_token_it_is_a_401(client: httpx.Client, method: str, path: str) -> None:
    response = client.request(method, path, json=SPEC_EXAMPLE)

    assert response.status_code == 401
    assert response.text == "Invalid token"


def test_paths_match_whatever_their_case(api: Api) -> None:
    assert push(api, SPEC_EXAMPLE, path=f"/V1/suppliers({SUPPLIER})/AVAILABILITY/").status_code == 202
    assert api.get(f"/v1/SUPPLIERS({SUPPLIER})/supplierskus").json()[0]["SupplierSku"] == "9101AGAP6"


@pytest.mark.parametrize(("method", "path"), [("GET", AVAILABILITY), ("PUT", AVAILABILITY), ("POST", SUPPLIER_SKUS)])
def test_another_method_is_a_405(api: Api, method: str, path: str) -> None:
    assert api.client.request(method, path, json=SPEC_EXAMPLE, headers=api.headers).status_code == 405


def test_the_rate_limit_counts_availability_pushes() -> None:
    emulator = Emulator(orders=1, rate_limit=1)
    with httpx.Client(transport=emulator.transport(), base_url="http://emulator.test") as client:
        api = Api(emulator, client)
        assert push(api, SPEC_EXAMPLE).status_code == 202

        response = push(api, SPEC_EXAMPLE)

        assert response.status_code == 429
        assert response.headers["X-RateLimit-Limit"] == "1"


def test_an_injected_outage_answers_availability_pushes_first(api: Api, emulator: Emulator) -> None:
    emulator.set_faults(unavailable=1)

    assert push(api, SPEC_EXAMPLE).status_code == 503
    assert emulator.availability() == {}
    assert push(api, SPEC_EXAMPLE).status_code == 202
