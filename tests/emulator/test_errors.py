"""The documented errors (the Supplier Orders API reference's "Errors"; docs/traps.md 16) and rate limiting."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from iqmetrix_dropship.emulator import Emulator

from .conftest import FEED, Api, get_token, password_form


@pytest.mark.parametrize(
    "path",
    [
        "/v1/Suppliers(99999)/Notifications",
        "/v1/Suppliers(abc)/Notifications",
        "/v1/Suppliers()/Notifications",
        "/v1/Suppliers(-60455)/Notifications",
        "/v1/Suppliers(60455.0)/Notifications",
        "/v1/Suppliers(99999)/Notifications/Pages(f1be4a74-508f-4159-b3f1-c6efe76c03e4)",
    ],
)
def test_a_wrong_supplier_id_cannot_be_found_in_the_uri(api: Api, path: str) -> None:
    response = api.get(path)

    assert response.status_code == 400
    assert response.json() == {"Message": "Cannot find supplier identifier in the uri"}


def test_a_supplier_id_too_long_for_any_integer_is_a_wrong_supplier_id(api: Api) -> None:
    # int() refuses more than 4,300 digits (CVE-2020-10735): the id must not reach it.
    response = api.get(f"/v1/Suppliers({'1' * 5000})/Notifications")

    assert response.status_code == 400
    assert response.json() == {"Message": "Cannot find supplier identifier in the uri"}


def test_leading_zeros_still_name_the_supplier(api: Api) -> None:
    assert api.get("/v1/Suppliers(0060455)/Notifications").status_code == 200


def test_a_wrong_supplier_id_on_a_status_update(api: Api, emulator: Emulator) -> None:
    order_id = emulator.order_ids()[0]

    response = api.client.put(
        f"/v1/Suppliers(1)/Orders({order_id})/OrderStatusUpdate",
        json={"Id": order_id, "Status": "Ordered"},
        headers=api.headers,
    )

    assert response.status_code == 400
    assert response.json()["Message"] == "Cannot find supplier identifier in the uri"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic ZW11bGF0b3I6c2VjcmV0"},
    ],
)
def test_a_missing_or_unknown_token_is_an_invalid_token(client: httpx.Client, headers: dict[str, str]) -> None:
    response = client.get(FEED, headers=headers)

    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "Invalid token"


def test_the_scheme_is_case_insensitive(api: Api) -> None:
    assert api.client.get(FEED, headers={"Authorization": f"bearer {api.token}"}).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/Zxppliers(60455)"),
        ("GET", "/v1/Zxppliers(60455)/Notifications"),
        ("GET", "/v1/Supplier(60455)/Notifications"),
        ("GET", "/v1/Suppliers(60455)/Notification"),
        ("GET", "/v1/Suppliers(60455)"),
        ("GET", "/Suppliers(60455)/Notifications"),
        ("GET", "/"),
        ("PUT", "/v1/Suppliers(60455)/Orders(0b05f9fb-1210-4494-b654-d051948716b4)/StatusUpdate"),
    ],
)
def test_an_unknown_path_is_not_found(api: Api, method: str, path: str) -> None:
    response = api.client.request(method, path, headers=api.headers)

    assert response.status_code == 404
    assert response.json() == {"Message": "Not found"}


def test_paths_match_case_insensitively_like_aspnet(api: Api) -> None:
    assert api.get("/v1/suppliers(60455)/notifications").status_code == 200


def test_a_wrong_method_is_not_allowed(api: Api) -> None:
    assert api.client.post(FEED, headers=api.headers).status_code == 405
    assert api.client.get("/v1/oauth2/token").status_code == 405


# -- rate limiting ------------------------------------------------------------------------


@pytest.fixture
def limited() -> Iterator[tuple[Emulator, httpx.Client]]:
    emulator = Emulator(orders=5, rate_limit=3, rate_limit_window=60)
    with httpx.Client(transport=emulator.transport(), base_url="http://e") as client:
        yield emulator, client


def test_past_the_budget_requests_get_429_with_the_documented_headers(
    limited: tuple[Emulator, httpx.Client],
) -> None:
    emulator, client = limited
    api = Api(emulator, client)
    answers = [api.get(FEED) for _ in range(4)]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert refused.text == "rate limit exceeded"
    assert refused.headers["content-type"].startswith("text/plain")
    assert refused.headers["X-RateLimit-Limit"] == "3"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert refused.headers["X-RateLimit-Reset"].isdigit()
    assert 1 <= int(refused.headers["X-RateLimit-ResetSeconds"]) <= 60
    assert "retry-after" not in refused.headers  # not documented: clients use ResetSeconds
    assert [answer.headers["x-ratelimit-remaining"] for answer in answers[:3]] == ["2", "1", "0"]


def test_the_budget_comes_back_after_the_window(limited: tuple[Emulator, httpx.Client]) -> None:
    emulator, client = limited
    api = Api(emulator, client)
    for _ in range(3):
        api.get(FEED)
    assert api.get(FEED).status_code == 429

    emulator.advance_clock(61)

    assert api.get(FEED).status_code == 200


def test_the_budget_is_per_token_by_default(limited: tuple[Emulator, httpx.Client]) -> None:
    emulator, client = limited
    first, second = Api(emulator, client), Api(emulator, client)
    for _ in range(3):
        first.get(FEED)

    assert first.get(FEED).status_code == 429
    assert second.get(FEED).status_code == 200


def test_a_global_budget_is_shared_by_every_token() -> None:
    emulator = Emulator(orders=5, rate_limit=2, rate_limit_scope="global")
    with httpx.Client(transport=emulator.transport(), base_url="http://e") as client:
        first, second = Api(emulator, client), Api(emulator, client)
        assert first.get(FEED).status_code == 200
        assert second.get(FEED).status_code == 200
        assert first.get(FEED).status_code == 429
        assert second.get(FEED).status_code == 429


def test_the_token_endpoint_is_not_rate_limited(limited: tuple[Emulator, httpx.Client]) -> None:
    emulator, client = limited

    for _ in range(5):
        assert client.post("/v1/oauth2/token", data=password_form(emulator)).status_code == 200


def test_no_rate_limit_by_default(api: Api) -> None:
    answers = [api.get(FEED) for _ in range(20)]

    assert {answer.status_code for answer in answers} == {200}
    assert "x-ratelimit-limit" not in answers[0].headers


def test_an_invalid_token_is_refused_before_the_rate_limit(limited: tuple[Emulator, httpx.Client]) -> None:
    emulator, client = limited
    get_token(client, emulator)

    assert client.get(FEED, headers={"Authorization": "Bearer nope"}).status_code == 401


@pytest.mark.parametrize("path", ["/_emulator/orders", "/_emulator/faults", "/_emulator/clock"])
def test_an_unknown_admin_field_named_with_a_lone_surrogate_is_a_400(client: httpx.Client, path: str) -> None:
    response = client.post(path, content=b'{"\\ud800": 1}', headers={"Content-Type": "application/json"})
    assert response.status_code == 400  # before: 500, the 400's message could not be encoded
    assert "unknown field" in response.json()["Message"]
