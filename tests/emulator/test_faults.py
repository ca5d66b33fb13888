"""Fault injection, from Python and through the admin endpoints."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from iqmetrix_dropship.emulator import Emulator

from .conftest import FEED, Api, assert_feed_readable, get_token

NAN, INF = float("nan"), float("inf")


def test_forced_token_expiry_makes_every_access_token_invalid(api: Api, emulator: Emulator) -> None:
    assert api.get(FEED).status_code == 200

    assert emulator.expire_tokens() == 1

    response = api.get(FEED)
    assert response.status_code == 401
    assert response.text == "Invalid token"


def test_refresh_tokens_still_work_after_forced_expiry(client: httpx.Client, emulator: Emulator) -> None:
    token = get_token(client, emulator)
    emulator.expire_tokens()

    response = client.post(
        "/v1/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": emulator.credentials.client_id,
            "client_secret": emulator.credentials.client_secret,
            "refresh_token": str(token["refresh_token"]),
        },
    )

    assert response.status_code == 200
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    assert client.get(FEED, headers=headers).status_code == 200


def test_unavailable_answers_503_with_retry_after_for_the_next_k_requests(api: Api, emulator: Emulator) -> None:
    emulator.set_faults(unavailable=2, retry_after=7)

    answers = [api.get(FEED) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [503, 503, 200]
    assert answers[0].headers["Retry-After"] == "7"


def test_error_rate_one_answers_every_api_request_500(api: Api, emulator: Emulator) -> None:
    emulator.set_faults(error_rate=1.0)

    response = api.get(FEED)

    assert response.status_code == 500
    assert response.json()["Message"]


def test_error_rate_is_reproducible_with_the_seed() -> None:
    def pattern() -> list[int]:
        emulator = Emulator(orders=3, seed=11, error_rate=0.3)
        with httpx.Client(transport=emulator.transport(), base_url="http://e") as client:
            api = Api(emulator, client)
            return [api.get(FEED).status_code for _ in range(40)]

    first = pattern()
    assert first == pattern()
    assert set(first) == {200, 500}


def test_failed_status_updates_change_nothing(api: Api, emulator: Emulator) -> None:
    order_id = emulator.order_ids()[-1]
    events = emulator.event_count
    emulator.set_faults(error_rate=1.0)

    response = api.put(order_id, "OrderStatusUpdate", {"Id": order_id, "Status": "Cancelled"})

    assert response.status_code == 500
    assert emulator.event_count == events


def test_faults_spare_the_token_endpoint(client: httpx.Client, emulator: Emulator) -> None:
    emulator.set_faults(error_rate=1.0, unavailable=5)

    get_token(client, emulator)


def test_latency_delays_answers(api: Api, emulator: Emulator) -> None:
    emulator.set_faults(latency=0.05)

    started = time.perf_counter()
    assert api.get(FEED).status_code == 200

    assert time.perf_counter() - started >= 0.05


def test_reset_faults_clears_everything(api: Api, emulator: Emulator) -> None:
    emulator.set_faults(latency=0.01, error_rate=1.0, unavailable=3)

    emulator.reset_faults()

    assert api.get(FEED).status_code == 200
    assert emulator.summary()["faults"] == {
        "latency": 0.0,
        "error_rate": 0.0,
        "unavailable": 0,
        "throttled": 0,
        "retry_after": 1,
    }


def test_set_faults_validates(emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="error_rate"):
        emulator.set_faults(error_rate=2.0)


def test_faults_through_the_admin_endpoint(api: Api, client: httpx.Client) -> None:
    answer = client.post("/_emulator/faults", json={"unavailable": 1, "retry_after": 3, "expire_tokens": True})

    assert answer.status_code == 200
    assert answer.json()["unavailable"] == 1
    assert answer.json()["expired_tokens"] == 1
    assert api.get(FEED).status_code == 503
    assert api.get(FEED).status_code == 401  # the forced expiry

    client.post("/_emulator/faults", json={"error_rate": 1.0})
    assert client.delete("/_emulator/faults").json()["error_rate"] == 0.0
    assert client.get("/_emulator/faults").json()["error_rate"] == 0.0


def test_bad_fault_settings_are_refused(client: httpx.Client) -> None:
    assert client.post("/_emulator/faults", json={"error_rate": -1}).status_code == 400
    assert client.post("/_emulator/faults", json={"bogus": 1}).status_code == 400
    assert client.post("/_emulator/faults", json=[1]).status_code == 400


def test_configured_faults_apply_from_the_start() -> None:
    emulator = Emulator(orders=1, error_rate=1.0)
    with httpx.Client(transport=emulator.transport(), base_url="http://e") as client:
        assert Api(emulator, client).get(FEED).status_code == 500


# -- numbers that are no numbers: refused, naming the field, changing nothing --------------

# Python's json module reads NaN and Infinity, so that they arrive as floats; a 400-digit
# integer arrives as an int that float() cannot convert.
BAD_FAULTS = [
    (b'{"latency": NaN}', "latency"),
    (b'{"latency": Infinity}', "latency"),
    (b'{"latency": "nan"}', "latency"),
    (b'{"latency": -1}', "latency"),
    (b'{"latency": 61}', "latency"),
    (b'{"latency": 1' + b"0" * 400 + b"}", "latency"),
    (b'{"error_rate": NaN}', "error_rate"),
    (b'{"error_rate": 2}', "error_rate"),
    (b'{"unavailable": NaN}', "unavailable"),
    (b'{"unavailable": 1.5}', "unavailable"),
    (b'{"unavailable": -1}', "unavailable"),
    (b'{"unavailable": true}', "unavailable"),
    (b'{"retry_after": NaN}', "retry_after"),
    (b'{"retry_after": 1.5}', "retry_after"),
    (b'{"retry_after": "3"}', "retry_after"),
    (b'{"reset": "yes"}', "reset"),
    (b'{"expire_tokens": 1}', "expire_tokens"),
    (b'{"bogus": 1}', "bogus"),
]


@pytest.mark.parametrize(("body", "field"), BAD_FAULTS, ids=[body.decode()[:30] for body, _ in BAD_FAULTS])
def test_bad_fault_numbers_are_refused_naming_the_field(
    api: Api, client: httpx.Client, emulator: Emulator, body: bytes, field: str
) -> None:
    before = emulator.summary()["faults"]

    response = client.post("/_emulator/faults", content=body)

    assert response.status_code == 400
    assert response.json()["Field"] == field
    assert client.get("/_emulator/faults").json() == before
    assert client.get("/_emulator/state").status_code == 200
    assert api.get(FEED).status_code == 200


def test_a_refused_fault_request_neither_resets_nor_expires_tokens(
    api: Api, client: httpx.Client, emulator: Emulator
) -> None:
    emulator.set_faults(retry_after=9)

    response = client.post("/_emulator/faults", json={"reset": True, "expire_tokens": True, "error_rate": 2})

    assert response.status_code == 400
    assert emulator.summary()["faults"]["retry_after"] == 9
    assert api.get(FEED).status_code == 200  # the token was not expired


@pytest.mark.parametrize(
    ("faults", "field"),
    [
        ({"latency": NAN}, "latency"),
        ({"latency": INF}, "latency"),
        ({"error_rate": NAN}, "error_rate"),
        ({"unavailable": 1.5}, "unavailable"),
        ({"unavailable": True}, "unavailable"),
        ({"retry_after": NAN}, "retry_after"),
        ({"retry_after": "3"}, "retry_after"),
    ],
    ids=repr,
)
def test_set_faults_refuses_what_is_no_number_in_range(emulator: Emulator, faults: dict[str, Any], field: str) -> None:
    before = emulator.summary()["faults"]

    with pytest.raises(ValueError, match=field):
        emulator.set_faults(**faults)

    assert emulator.summary()["faults"] == before


BAD_ADVANCES = [
    b'{"advance": NaN}',
    b'{"advance": Infinity}',
    b'{"advance": -Infinity}',
    b'{"advance": "nan"}',
    b'{"advance": "inf"}',
    b'{"advance": 1e308}',
    b'{"advance": 1' + b"0" * 400 + b"}",
    b'{"advance": -1}',
    b'{"advance": true}',
    b'{"advance": null}',
    b'{"advance": [1]}',
]


@pytest.mark.parametrize("body", BAD_ADVANCES, ids=[body.decode()[:30] for body in BAD_ADVANCES])
def test_a_clock_advance_that_is_no_finite_number_is_refused_and_the_clock_keeps_working(
    client: httpx.Client, emulator: Emulator, body: bytes
) -> None:
    response = client.post("/_emulator/clock", content=body)

    assert response.status_code == 400
    assert response.json()["Field"] == "advance"
    assert emulator.now() < time.time() + 60  # the clock did not move
    api = Api(emulator, client)  # a token is granted, and accepted
    assert api.get(FEED).status_code == 200
    emulator.place_order()
    assert_feed_readable(emulator)


@pytest.mark.parametrize("body", [b"[1]", b'{"bogus": 1}', b"{not json"], ids=repr)
def test_a_clock_request_that_is_no_advance_is_refused(client: httpx.Client, emulator: Emulator, body: bytes) -> None:
    response = client.post("/_emulator/clock", content=body)

    assert response.status_code == 400
    assert emulator.now() < time.time() + 60


@pytest.mark.parametrize("seconds", [NAN, INF, -INF, -1, 1e308, True, "10"], ids=repr)
def test_advance_clock_refuses_what_is_no_finite_number_of_seconds(emulator: Emulator, seconds: Any) -> None:
    with pytest.raises(ValueError, match="seconds"):
        emulator.advance_clock(seconds)

    assert emulator.now() < time.time() + 60


def test_the_clock_stops_before_the_feed_would_need_a_five_digit_year(emulator: Emulator) -> None:
    emulator.advance_clock(253_000_000_000 - time.time())  # the year 9987

    with pytest.raises(ValueError, match="9999"):
        emulator.advance_clock(400_000_000)  # 12 more years
    emulator.place_order()

    assert_feed_readable(emulator)


def test_throttled_answers_the_next_requests_429_with_the_rate_limit_headers(
    emulator: Emulator, client: httpx.Client
) -> None:
    emulator.set_faults(throttled=1, retry_after=7)
    token = get_token(client, emulator)["access_token"]
    headers = {"Authorization": f"Bearer {token}"}

    first = client.get(FEED, headers=headers)
    second = client.get(FEED, headers=headers)

    assert first.status_code == 429
    assert first.headers["X-RateLimit-ResetSeconds"] == "7"
    assert first.headers["X-RateLimit-Remaining"] == "0"
    assert second.status_code == 200
