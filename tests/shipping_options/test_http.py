"""``create_app`` over real HTTP: uvicorn on 127.0.0.1 at a free port, in a background thread, and
httpx as iQmetrix would call it."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from iqmetrix_dropship.shipping_options import (
    ApiKeyAuth,
    OutOfStock,
    ShippingOption,
    ShippingQuery,
    create_app,
)

from .conftest import API_KEY, BODY, KEYED, OUT_OF_STOCK_SKU, PASSWORD, QUERY, TOKEN, USERNAME, Serve, log_text

DENIED = {"Message": "Authorization has been denied for this request."}
ERROR = {"Message": "An error has occurred."}


def _post(client: httpx.Client, body: Any = QUERY, **options: Any) -> httpx.Response:
    options.setdefault("auth", (USERNAME, PASSWORD))
    if isinstance(body, bytes):
        options.setdefault("headers", {"Content-Type": "application/json"})
        return client.post("/ShippingOptions", content=body, **options)
    return client.post("/ShippingOptions", json=body, **options)


def test_basic_credentials_get_the_options(http: httpx.Client) -> None:
    response = _post(http)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json() == {
        "ShippingOptions": [
            {"Id": "350", "Name": "PurolatorExpress", "Cost": 7.94, "Currency": "CAD", "EstimatedTransitTime": "1 week"}
        ]
    }


def test_the_cost_arrives_as_the_exact_decimal(http: httpx.Client) -> None:
    response = _post(http)
    assert b'"Cost": 7.94,' in response.content
    assert json.loads(response.content, parse_float=Decimal)["ShippingOptions"][0]["Cost"] == Decimal("7.94")


@pytest.mark.parametrize(
    "auth",
    [(USERNAME, "wrong"), ("someone", PASSWORD), None],
    ids=["wrong-password", "wrong-user", "no-header"],
)
def test_wrong_or_missing_basic_credentials_are_a_401_with_a_challenge(
    http: httpx.Client, auth: tuple[str, str] | None
) -> None:
    response = _post(http, auth=auth)
    assert (response.status_code, response.json()) == (401, DENIED)
    assert response.headers["www-authenticate"] == 'Basic realm="ShippingOptions"'


@pytest.mark.parametrize("value", ["Basic !!!", "Basic aXFtZXRyaXg=", f"Basic {TOKEN}x", "Basic", "Digest x"])
def test_a_malformed_authorization_header_is_a_401_not_a_500(http: httpx.Client, value: str) -> None:
    response = _post(http, auth=None, headers={"Authorization": value})
    assert (response.status_code, response.json()) == (401, DENIED)


def test_the_basic_scheme_is_taken_in_any_case(http: httpx.Client) -> None:
    assert _post(http, auth=None, headers={"Authorization": f"bASIC {TOKEN}"}).status_code == 200


def test_an_api_key_gets_the_options_and_a_wrong_one_a_401(serve: Serve) -> None:
    client = serve(auth=KEYED)
    assert _post(client, auth=None, headers={"Api-Key": API_KEY}).status_code == 200
    assert _post(client, auth=None, headers={"api-key": API_KEY}).status_code == 200
    assert _post(client, auth=None, headers={"Api-Key": "9c269e40-0000"}).json() == DENIED
    assert _post(client, auth=None).status_code == 401
    assert _post(client).status_code == 401  # Basic credentials are not a key


def test_an_api_key_in_a_header_of_the_suppliers_naming(serve: Serve) -> None:
    client = serve(auth=ApiKeyAuth(API_KEY, header="X-Shipping-Key"))
    assert _post(client, auth=None, headers={"X-Shipping-Key": API_KEY}).status_code == 200
    assert _post(client, auth=None, headers={"Api-Key": API_KEY}).status_code == 401


def test_a_plain_quote_function_runs_off_the_event_loop_thread(serve: Serve) -> None:
    threads: list[str] = []

    def quote(query: ShippingQuery) -> list[ShippingOption]:
        threads.append(threading.current_thread().name)
        return [ShippingOption(id="1", cost=Decimal("3.50"), currency="USD")]

    client = serve(quote)
    assert _post(client).json()["ShippingOptions"][0]["Cost"] == 3.5
    assert len(threads) == 1
    assert not threads[0].startswith("dropship-emulator")  # the server's event loop thread


def test_an_async_quote_function_is_awaited(serve: Serve) -> None:
    async def quote(query: ShippingQuery) -> list[ShippingOption]:
        await asyncio.sleep(0)
        return [ShippingOption(id=f"ground-{query.postal_code}", cost=5, currency="CAD")]

    client = serve(quote)
    assert _post(client).json()["ShippingOptions"][0]["Id"] == "ground-A1A1A1"


def test_out_of_stock_is_a_400_naming_the_skus(http: httpx.Client) -> None:
    items = [
        {"Sku": f"{OUT_OF_STOCK_SKU}-a", "Quantity": 1},
        {"Sku": "fine", "Quantity": 1},
        {"Sku": f"{OUT_OF_STOCK_SKU}-b", "Quantity": 2},
    ]
    response = _post(http, {**QUERY, "Items": items})
    assert response.status_code == 400
    assert response.json() == {
        "Message": f"Out of stock: {OUT_OF_STOCK_SKU}-a, {OUT_OF_STOCK_SKU}-b",
        "OutOfStock": [f"{OUT_OF_STOCK_SKU}-a", f"{OUT_OF_STOCK_SKU}-b"],
    }


def test_an_async_quote_function_may_raise_out_of_stock(serve: Serve) -> None:
    async def quote(query: ShippingQuery) -> list[ShippingOption]:
        raise OutOfStock("SKU1")

    client = serve(quote)
    assert _post(client).json()["OutOfStock"] == ["SKU1"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "The body is not valid JSON."),
        (b"[1, 2]", "The body must be a JSON object."),
        ({"PostalCode": "A1A1A1"}, "CompanyId: is required"),
        ({"CompanyId": "abc", "PostalCode": "A1A1A1"}, "CompanyId: must be an integer"),
        ({"CompanyId": True, "PostalCode": "A1A1A1"}, "CompanyId: must be an integer"),
        ({"CompanyId": -4, "PostalCode": "A1A1A1"}, "CompanyId: must be 1 or more"),
        ({"CompanyId": 1, "PostalCode": "SW1A 1AA"}, "PostalCode: must be a Canadian"),
        ({**QUERY, "Items": [{"Sku": "A", "Quantity": -1}]}, "Items[0].Quantity: must be 1 or more"),
        ({**QUERY, "Items": [{"Quantity": 1}]}, "Items[0].Sku: is required"),
    ],
    ids=[
        "not-json",
        "json-array",
        "no-company-id",
        "company-id-abc",
        "company-id-bool",
        "negative-company-id",
        "uk-postal-code",
        "negative-quantity",
        "missing-sku",
    ],
)
def test_a_malformed_query_is_a_400_naming_the_field(http: httpx.Client, body: Any, message: str) -> None:
    response = _post(http, body)
    assert response.status_code == 400
    assert message in response.json()["Message"]
    assert set(response.json()) == {"Message"}


def test_a_huge_body_is_a_413(http: httpx.Client) -> None:
    response = _post(http, b"{" + b" " * 70_000 + b"}")
    assert (response.status_code, response.json()) == (413, {"Message": "The body is larger than 65536 bytes."})


def test_a_huge_chunked_body_is_a_413(http: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap is applied while reading
        for _ in range(100):
            yield b" " * 65_536

    headers = {"Content-Type": "application/json"}
    response = http.post("/ShippingOptions", content=chunks(), headers=headers, auth=(USERNAME, PASSWORD))
    assert response.status_code == 413


def test_a_body_under_a_custom_cap_is_taken_and_over_it_refused(serve: Serve) -> None:
    client = serve(max_body_bytes=len(BODY))
    assert _post(client, BODY).status_code == 200
    assert _post(client, BODY + b" ").status_code == 413


def test_a_body_that_is_not_json_is_a_415(http: httpx.Client) -> None:
    response = _post(http, BODY, headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert "application/json" in response.json()["Message"]


def test_get_is_a_405_naming_post(http: httpx.Client) -> None:
    response = http.get("/ShippingOptions", auth=(USERNAME, PASSWORD))
    assert (response.status_code, response.headers["allow"]) == (405, "POST")


def test_an_unauthenticated_get_learns_nothing(http: httpx.Client) -> None:
    assert http.get("/ShippingOptions").status_code == 401


@pytest.mark.parametrize("path", ["/shippingoptions", "/SHIPPINGOPTIONS/", "/ShippingOptions/"])
def test_the_path_is_matched_whatever_its_case(http: httpx.Client, path: str) -> None:
    assert http.post(path, json=QUERY, auth=(USERNAME, PASSWORD)).status_code == 200


def test_another_path_is_a_404(http: httpx.Client) -> None:
    response = http.post("/Shipping", json=QUERY, auth=(USERNAME, PASSWORD))
    assert response.status_code == 404


def test_a_custom_path_is_served(serve: Serve) -> None:
    client = serve(path="/api/v2/ShippingOptions")
    assert client.post("/api/v2/shippingoptions", json=QUERY, auth=(USERNAME, PASSWORD)).status_code == 200
    assert client.post("/ShippingOptions", json=QUERY, auth=(USERNAME, PASSWORD)).status_code == 404


def test_healthz_answers_without_credentials(http: httpx.Client) -> None:
    response = http.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"Status": "ok"})


def test_a_raising_quote_function_is_a_500_without_trace_or_detail(
    caplog: pytest.LogCaptureFixture, serve: Serve
) -> None:
    def quote(query: ShippingQuery) -> list[ShippingOption]:
        raise KeyError("rates table for A1A")

    client = serve(quote)
    response = _post(client)
    assert (response.status_code, response.json()) == (500, ERROR)
    assert b"rates table" not in response.content
    assert b"Traceback" not in response.content
    assert "Traceback" in log_text(caplog)
    assert "KeyError: 'rates table for A1A'" in log_text(caplog)


@pytest.mark.parametrize(
    ("option", "logged"),
    [
        ({"Id": "1", "Cost": 7.945, "Currency": "CAD"}, "ShippingOptions[0].Cost: must have at most 2 decimals"),
        ({"Id": "1", "Cost": 7, "Currency": "EUR"}, "ShippingOptions[0].Currency: must be 'USD' or 'CAD'"),
    ],
)
def test_an_invalid_option_is_a_500_and_the_log_names_the_field(
    option: dict[str, Any], logged: str, caplog: pytest.LogCaptureFixture, serve: Serve
) -> None:
    client = serve(lambda query: [option])
    response = _post(client)
    assert (response.status_code, response.json()) == (500, ERROR)
    assert logged in log_text(caplog)


def test_serving_without_auth_must_be_said() -> None:
    with pytest.raises(TypeError, match="auth"):
        create_app(lambda query: [])  # type: ignore[call-arg]


def test_an_explicit_auth_none_serves_without_credentials(serve: Serve) -> None:
    client = serve(auth=None)
    assert _post(client, auth=None).status_code == 200


@pytest.mark.parametrize("path", ["ShippingOptions", "/", "", "/healthz"])
def test_a_path_that_cannot_be_the_endpoint_is_refused(path: str) -> None:
    with pytest.raises(ValueError, match="path"):
        create_app(lambda query: [], auth=None, path=path)
