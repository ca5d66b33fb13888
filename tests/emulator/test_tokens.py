"""The accounts token endpoint (iQmetrix's Authentication page; docs/traps.md 17)."""

from __future__ import annotations

import httpx
import pytest

from iqmetrix_dropship.emulator import Emulator

from .conftest import FEED, get_token, password_form


def refresh_form(emulator: Emulator, token: object, **changes: str) -> dict[str, str]:
    credentials = emulator.credentials
    form = {
        "grant_type": "refresh_token",
        "client_id": credentials.client_id,
        "client_secret": credentials.client_secret,
        "refresh_token": str(token),
    }
    form.update(changes)
    return form


def feed_status(client: httpx.Client, access_token: object) -> int:
    return client.get(FEED, headers={"Authorization": f"Bearer {access_token}"}).status_code


def test_password_grant_answers_the_documented_json(client: httpx.Client, emulator: Emulator) -> None:
    response = client.post("/v1/oauth2/token", data=password_form(emulator))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"access_token", "expires_in", "refresh_token"}
    assert body["expires_in"] == 43199
    assert isinstance(body["access_token"], str)
    assert isinstance(body["refresh_token"], str)
    assert feed_status(client, body["access_token"]) == 200


def test_token_lifetime_is_configurable() -> None:
    emulator = Emulator(orders=1, token_lifetime=60)
    with httpx.Client(transport=emulator.transport(), base_url="http://e") as client:
        assert get_token(client, emulator)["expires_in"] == 60


def test_access_token_expires_after_its_lifetime(client: httpx.Client, emulator: Emulator) -> None:
    token = get_token(client, emulator)

    emulator.advance_clock(43198)
    assert feed_status(client, token["access_token"]) == 200
    emulator.advance_clock(2)
    assert feed_status(client, token["access_token"]) == 401


def test_refresh_issues_new_tokens_and_revokes_the_old_pair(client: httpx.Client, emulator: Emulator) -> None:
    old = get_token(client, emulator)

    response = client.post("/v1/oauth2/token", data=refresh_form(emulator, old["refresh_token"]))

    assert response.status_code == 200
    new = response.json()
    assert set(new) == {"access_token", "expires_in", "refresh_token"}
    assert new["access_token"] != old["access_token"]
    assert new["refresh_token"] != old["refresh_token"]
    assert feed_status(client, new["access_token"]) == 200
    # traps.md 17: the access token issued with the refresh token is revoked...
    assert feed_status(client, old["access_token"]) == 401
    # ...and the refresh token itself cannot be used twice.
    again = client.post("/v1/oauth2/token", data=refresh_form(emulator, old["refresh_token"]))
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_a_new_password_grant_does_not_revoke_older_tokens(client: httpx.Client, emulator: Emulator) -> None:
    first = get_token(client, emulator)
    second = get_token(client, emulator)

    assert first["access_token"] != second["access_token"]
    assert feed_status(client, first["access_token"]) == 200
    assert feed_status(client, second["access_token"]) == 200


def test_refresh_only_revokes_its_own_access_token(client: httpx.Client, emulator: Emulator) -> None:
    first = get_token(client, emulator)
    second = get_token(client, emulator)

    client.post("/v1/oauth2/token", data=refresh_form(emulator, second["refresh_token"]))

    assert feed_status(client, first["access_token"]) == 200
    assert feed_status(client, second["access_token"]) == 401


def test_refresh_token_expires_after_seven_days(client: httpx.Client, emulator: Emulator) -> None:
    token = get_token(client, emulator)
    emulator.advance_clock(7 * 24 * 3600)

    response = client.post("/v1/oauth2/token", data=refresh_form(emulator, token["refresh_token"]))

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
        ({"grant_type": ""}, "unsupported_grant_type"),
        ({"client_id": "someone-else"}, "invalid_client"),
        ({"client_secret": "wrong"}, "invalid_client"),
        ({"username": "nobody@example.com"}, "invalid_grant"),
        ({"password": "wrong"}, "invalid_grant"),
    ],
)
def test_password_grant_errors(client: httpx.Client, emulator: Emulator, changes: dict[str, str], error: str) -> None:
    response = client.post("/v1/oauth2/token", data=password_form(emulator, **changes))

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == error
    assert body["error_description"]


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"refresh_token": "not-a-token"}, "invalid_grant"),
        ({"refresh_token": ""}, "invalid_grant"),
        ({"client_secret": "wrong"}, "invalid_client"),
    ],
)
def test_refresh_grant_errors(client: httpx.Client, emulator: Emulator, changes: dict[str, str], error: str) -> None:
    token = get_token(client, emulator)

    response = client.post("/v1/oauth2/token", data=refresh_form(emulator, token["refresh_token"], **changes))

    assert response.status_code == 400
    assert response.json()["error"] == error


def test_a_json_body_has_no_grant_type(client: httpx.Client, emulator: Emulator) -> None:
    response = client.post("/v1/oauth2/token", json=password_form(emulator))

    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_token_answers_are_not_cached(client: httpx.Client, emulator: Emulator) -> None:
    response = client.post("/v1/oauth2/token", data=password_form(emulator))

    assert response.headers["cache-control"] == "no-store"
