"""The product feed: ``/v1/ProductFeeds({FeedId})`` (supplier-apis.md, "Product feed")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from iqmetrix_dropship.emulator import Emulator

from .conftest import Api

FEED_ID = 1234
FEED = f"/v1/ProductFeeds({FEED_ID})"
PRODUCTS = f"{FEED}/Products"
# Every field the spec names, required and optional.
PRODUCT: dict[str, Any] = {
    "Classification": {"Id": 1, "TreeId": 21},
    "Fields": [{"Definition": {"Id": 1}, "Value": "Samsung Galaxy S23 Clear Case"}],
    "ModelName": "Galaxy S23 Clear Case",
    "Assets": [{"AssetUrl": "https://example.com/case.png"}],
    "Manufacturer": "Samsung",
    "ManufacturerSku": "EF-QS911CTEGUS",
    "UPC": "887276656321",
    "LastModifiedByVendorUtc": "2016-01-01T12:00:00.000Z",
    "VendorSkus": [{"Sku": "9101AGAP6", "Description": "Clear case", "VendorName": "Supplier"}],
}
MINIMAL: dict[str, Any] = {
    "Classification": {"Id": 1, "TreeId": 21},
    "Fields": [{"Definition": {"Id": 1}, "Value": "Phone"}],
    "ModelName": "P1",
}


def add(api: Api, body: object, path: str = PRODUCTS) -> httpx.Response:
    return api.client.post(path, json=body, headers=api.headers)


def test_adding_a_product_answers_200_with_an_array_of_the_stored_product(api: Api) -> None:
    response = add(api, PRODUCT)

    assert response.status_code == 200, response.text
    [stored] = response.json()
    assert isinstance(stored["Id"], int)
    assert stored["Fields"] == [
        {"Definition": {"Id": 1, "Name": "Product Name"}, "Value": "Samsung Galaxy S23 Clear Case"}
    ]
    assert {key: value for key, value in stored.items() if key not in ("Id", "Fields")} == {
        key: value for key, value in PRODUCT.items() if key != "Fields"
    }


def test_optional_fields_left_out_are_null_or_empty(api: Api) -> None:
    [stored] = add(api, MINIMAL).json()

    assert stored["Assets"] == stored["VendorSkus"] == []
    assert stored["Manufacturer"] is stored["UPC"] is stored["LastModifiedByVendorUtc"] is None


def test_an_array_of_products_is_added_whole(api: Api) -> None:
    response = add(api, [MINIMAL, PRODUCT])

    assert response.status_code == 200
    assert [product["ModelName"] for product in response.json()] == ["P1", "Galaxy S23 Clear Case"]


def test_listing_the_products_gives_every_product_oldest_first(api: Api) -> None:
    first = add(api, MINIMAL).json()[0]
    second = add(api, PRODUCT).json()[0]

    response = api.get(PRODUCTS)

    assert response.status_code == 200
    assert response.json() == [first, second]


def test_the_feed_names_itself_and_holds_its_products(api: Api) -> None:
    [stored] = add(api, PRODUCT).json()

    feed = api.get(FEED).json()

    assert set(feed) == {"Id", "ProviderName", "Version", "LastReceivedUpdatesFromProviderUtc", "Products"}
    assert feed["Id"] == FEED_ID
    assert feed["Products"] == [stored]
    assert feed["LastReceivedUpdatesFromProviderUtc"].endswith("Z")


def test_every_change_raises_the_feeds_version(api: Api) -> None:
    before = api.get(FEED).json()["Version"]
    [stored] = add(api, MINIMAL).json()
    api.client.delete(f"{PRODUCTS}({stored['Id']})", headers=api.headers)

    assert api.get(FEED).json()["Version"] == before + 2


def test_deleting_a_product_answers_204_and_removes_it(api: Api, emulator: Emulator) -> None:
    [stored] = add(api, MINIMAL).json()

    response = api.client.delete(f"{PRODUCTS}({stored['Id']})", headers=api.headers)

    assert response.status_code == 204
    assert response.content == b""
    assert api.get(PRODUCTS).json() == []
    assert emulator.products() == []


def test_a_removed_products_id_is_never_given_again(api: Api) -> None:
    [first] = add(api, MINIMAL).json()
    api.client.delete(f"{PRODUCTS}({first['Id']})", headers=api.headers)

    [second] = add(api, MINIMAL).json()

    assert second["Id"] > first["Id"]


@pytest.mark.parametrize("product_id", ["999", "abc", "-1", "1" * 30, ""])
def test_deleting_no_such_product_is_a_404(api: Api, product_id: str) -> None:
    add(api, MINIMAL)

    response = api.client.delete(f"{PRODUCTS}({product_id})", headers=api.headers)

    assert response.status_code == 404
    assert response.json() == {"Message": "NotFound"}
    assert len(api.get(PRODUCTS).json()) == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/ProductFeeds(1)"), ("GET", "/v1/ProductFeeds(1)/Products"), ("POST", "/v1/ProductFeeds(x)/Products")],
)
def test_another_feed_id_is_a_404(api: Api, emulator: Emulator, method: str, path: str) -> None:
    response = api.client.request(method, path, json=MINIMAL, headers=api.headers)

    assert response.status_code == 404
    assert response.json() == {"Message": "NotFound"}
    assert emulator.products() == []


def test_the_feed_id_is_configurable() -> None:
    emulator = Emulator(orders=1, product_feed_id=77)
    with httpx.Client(transport=emulator.transport(), base_url="http://emulator.test") as client:
        api = Api(emulator, client)

        assert api.get("/v1/ProductFeeds(77)").json()["Id"] == 77
        assert api.get(FEED).status_code == 404


@pytest.mark.parametrize(("method", "path"), [("PUT", PRODUCTS), ("PUT", f"{PRODUCTS}(1)"), ("DELETE", FEED)])
def test_there_is_no_update_a_put_is_a_405(api: Api, method: str, path: str) -> None:
    assert api.client.request(method, path, json=MINIMAL, headers=api.headers).status_code == 405


def test_without_a_token_it_is_a_401(client: httpx.Client, emulator: Emulator) -> None:
    assert client.post(PRODUCTS, json=MINIMAL).status_code == 401
    assert client.get(FEED).status_code == 401
    assert emulator.products() == []


def test_paths_match_whatever_their_case(api: Api) -> None:
    assert add(api, MINIMAL, path=f"/V1/productfeeds({FEED_ID})/PRODUCTS").status_code == 200


def without(key: str) -> dict[str, Any]:
    return {name: value for name, value in MINIMAL.items() if name != key}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (without("Classification"), "Classification"),
        (without("Fields"), "Fields"),
        (without("ModelName"), "ModelName"),
        ({**MINIMAL, "Classification": {"Id": 1}}, "Classification.TreeId"),
        ({**MINIMAL, "Classification": {"Id": "1", "TreeId": 21}}, "Classification.Id"),
        ({**MINIMAL, "Fields": []}, "Fields"),
        ({**MINIMAL, "Fields": [{"Value": "Phone"}]}, "Fields[0].Definition"),
        ({**MINIMAL, "Fields": [{"Definition": {"Id": True}, "Value": "Phone"}]}, "Fields[0].Definition.Id"),
        ({**MINIMAL, "Fields": [{"Definition": {"Id": 1}}]}, "Fields[0].Value"),
        ({**MINIMAL, "Fields": [{"Definition": {"Id": 1}, "Value": 5}]}, "Fields[0].Value"),
        (
            {**MINIMAL, "Fields": [{"Definition": {"Id": 1}, "Value": "A"}, {"Definition": {"Id": 1}, "Value": "B"}]},
            "Fields[1].Definition.Id",
        ),
        ({**MINIMAL, "ModelName": ""}, "ModelName"),
        ({**MINIMAL, "Assets": [{}]}, "Assets[0].AssetUrl"),
        ({**MINIMAL, "Assets": "https://example.com/a.png"}, "Assets"),
        ({**MINIMAL, "UPC": 887276656321}, "UPC"),
        ({**MINIMAL, "LastModifiedByVendorUtc": "yesterday"}, "LastModifiedByVendorUtc"),
        ({**MINIMAL, "VendorSkus": [{"Description": "no sku"}]}, "VendorSkus[0].Sku"),
        ("a product", "body"),
        ([MINIMAL, without("ModelName")], "[1].ModelName"),
    ],
)
def test_a_bad_product_is_a_400_naming_its_field_and_changes_nothing(
    api: Api, emulator: Emulator, body: Any, field: str
) -> None:
    response = add(api, body)

    assert response.status_code == 400, response.text
    assert response.json()["Message"].startswith(f"{field}: ")
    assert emulator.products() == []


def test_the_admin_endpoint_reads_the_feed(api: Api, client: httpx.Client) -> None:
    [stored] = add(api, PRODUCT).json()

    assert client.get("/_emulator/products").json()["Products"] == [stored]


def test_the_python_api_gives_a_copy_of_the_products(api: Api, emulator: Emulator) -> None:
    add(api, MINIMAL)
    emulator.products()[0]["ModelName"] = "changed"

    assert emulator.products()[0]["ModelName"] == "P1"


def test_availability_costs_and_products_survive_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "emulator.db"
    with Emulator(orders=2, db=db) as emulator:
        service = emulator.service
        service.push_availability({"Products": [{"Sku": "A1", "IsAvailable": True, "Quantity": 3}]})
        service.push_costs({"Products": [{"Sku": "A1", "Cost": 12, "CompanyIds": [14146]}]})
        [kept] = service.add_products(MINIMAL)
        [gone] = service.add_products(PRODUCT)
        service.remove_product(gone["Id"])
        before = (emulator.availability(), emulator.costs(), emulator.product_feed())

    with Emulator(orders=2, db=db) as restarted:
        assert (restarted.availability(), restarted.costs(), restarted.product_feed()) == before
        [added] = restarted.service.add_products(MINIMAL)
        assert added["Id"] == gone["Id"] + 1
        assert kept in restarted.products()


@pytest.mark.parametrize("stamp", ["2016-02-30T12:00:00Z", "2016-01-01T25:61:61Z", "9999-12-31T23:59:59.9999999+99:99"])
def test_a_timestamp_no_client_could_read_back_is_refused(api: Api, stamp: str) -> None:
    response = add(api, {**PRODUCT, "LastModifiedByVendorUtc": stamp})

    assert response.status_code == 400
    assert "LastModifiedByVendorUtc" in response.text
    assert api.get(PRODUCTS).json() == []


def test_a_timestamp_with_seven_digits_and_an_offset_is_taken(api: Api) -> None:
    response = add(api, {**PRODUCT, "LastModifiedByVendorUtc": "2016-01-20T17:11:21.1234567+14:00"})

    assert response.status_code == 200, response.text
