"""Fault injection, from Python and through the admin endpoints."""

from __future__ import annotations

import time

import httpx
import pytest

from iqmetrix_dropship.emulator import Emulator

from .conftest import FEED, Api, get_token


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
    assert emulator.summary()["faults"] == {"latency": 0.0, "error_rate": 0.0, "unavailable": 0, "retry_after": 1}


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
