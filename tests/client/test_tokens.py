"""Tokens: the password grant, refresh before expiry, fallback, 401 replay, one refresh at a time."""

from __future__ import annotations

import asyncio
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio
import httpx
import pytest
import respx
from pydantic import SecretStr

from iqmetrix_dropship import AsyncDropshipClient, AuthenticationError, DropshipClient, TokenError
from iqmetrix_dropship._protocol.config import ClientConfig
from iqmetrix_dropship._protocol.http import Response
from iqmetrix_dropship._protocol.tokens import Credentials, FetchToken, TokenCache, UseToken, Wait

from .conftest import ACCOUNTS, BASE, CREDENTIALS, NOTIFICATIONS, TOKEN_URL, form_of, token_json
from .feeds import page

FEED = page("f1be4a74-508f-4159-b3f1-c6efe76c03e4", ["urn:uuid:a"])


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(DropshipClient, "_clock", staticmethod(fake))
    monkeypatch.setattr(AsyncDropshipClient, "_clock", staticmethod(fake))
    return fake


def grants(route: respx.Route) -> list[str]:
    return [form_of(call.request)["grant_type"] for call in route.calls]


def bearer(route: respx.Route) -> list[str]:
    return [call.request.headers["Authorization"] for call in route.calls]


def test_first_call_makes_exactly_one_password_grant_with_the_documented_fields(
    api: respx.MockRouter, client: Any
) -> None:
    token = api.post(TOKEN_URL).respond(200, json=token_json(1))
    feed = api.get(NOTIFICATIONS).respond(200, content=FEED)

    client.get_notifications()
    client.get_notifications()

    assert token.call_count == 1
    request = token.calls[0].request
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert form_of(request) == {
        "grant_type": "password",
        "username": CREDENTIALS["username"],
        "password": CREDENTIALS["password"],
        "client_id": CREDENTIALS["client_id"],
        "client_secret": CREDENTIALS["client_secret"],
    }
    assert bearer(feed) == ["Bearer access-1", "Bearer access-1"]


def test_expires_in_as_a_numeric_string_is_accepted(api: respx.MockRouter, client: Any, clock: Clock) -> None:
    token = api.post(TOKEN_URL).respond(200, json=token_json(1, expires_in="43199"))
    api.get(NOTIFICATIONS).respond(200, content=FEED)
    client.get_notifications()
    clock.now += 3600
    client.get_notifications()
    assert token.call_count == 1


def test_token_inside_its_refresh_window_is_refreshed_with_the_refresh_grant_before_use(
    api: respx.MockRouter, client: Any, clock: Clock
) -> None:
    token = api.post(TOKEN_URL)
    token.side_effect = [httpx.Response(200, json=token_json(1)), httpx.Response(200, json=token_json(2))]
    feed = api.get(NOTIFICATIONS).respond(200, content=FEED)

    client.get_notifications()
    clock.now += 43199 - 120  # two minutes before expiry: inside the 5-minute early window
    client.get_notifications()

    assert grants(token) == ["password", "refresh_token"]
    refresh = form_of(token.calls[1].request)
    assert refresh == {
        "grant_type": "refresh_token",
        "client_id": CREDENTIALS["client_id"],
        "client_secret": CREDENTIALS["client_secret"],
        "refresh_token": "refresh-1",
    }
    assert bearer(feed) == ["Bearer access-1", "Bearer access-2"]


def test_refused_refresh_falls_back_to_the_password_grant(api: respx.MockRouter, client: Any, clock: Clock) -> None:
    token = api.post(TOKEN_URL)
    token.side_effect = [
        httpx.Response(200, json=token_json(1)),
        httpx.Response(400, json={"error": "invalid_grant"}),
        httpx.Response(200, json=token_json(2)),
    ]
    feed = api.get(NOTIFICATIONS).respond(200, content=FEED)

    client.get_notifications()
    clock.now += 43199 + 1  # expired
    client.get_notifications()

    assert grants(token) == ["password", "refresh_token", "password"]
    assert bearer(feed)[-1] == "Bearer access-2"


def test_invalid_token_401_causes_exactly_one_refresh_and_one_replay(api: respx.MockRouter, client: Any) -> None:
    token = api.post(TOKEN_URL)
    token.side_effect = [httpx.Response(200, json=token_json(1)), httpx.Response(200, json=token_json(2))]
    feed = api.get(NOTIFICATIONS)
    feed.side_effect = [httpx.Response(401, text="Invalid token"), httpx.Response(200, content=FEED)]

    assert client.get_notifications().entries[0].id == "urn:uuid:a"

    assert grants(token) == ["password", "refresh_token"]
    assert bearer(feed) == ["Bearer access-1", "Bearer access-2"]


def test_a_second_401_raises_authentication_error(api: respx.MockRouter, client: Any) -> None:
    token = api.post(TOKEN_URL)
    token.side_effect = [httpx.Response(200, json=token_json(1)), httpx.Response(200, json=token_json(2))]
    feed = api.get(NOTIFICATIONS).respond(401, text="Invalid token")

    with pytest.raises(AuthenticationError) as caught:
        client.get_notifications()

    assert caught.value.status_code == 401
    assert caught.value.message == "Invalid token"
    assert grants(token) == ["password", "refresh_token"]
    assert feed.call_count == 2


def test_refused_credentials_raise_token_error_with_the_oauth_code(api: respx.MockRouter, client: Any) -> None:
    api.post(TOKEN_URL).respond(400, json={"error": "invalid_client"})
    feed = api.get(NOTIFICATIONS).respond(200, content=FEED)

    with pytest.raises(TokenError) as caught:
        client.get_notifications()

    assert caught.value.error == "invalid_client"
    assert feed.call_count == 0


def test_static_access_token_is_sent_as_is_and_never_refreshed(api: respx.MockRouter, client_factory: Any) -> None:
    client = client_factory(access_token="held-token", client_id=None, client_secret=None)
    token = api.post(TOKEN_URL).respond(200, json=token_json(1))
    feed = api.get(NOTIFICATIONS).respond(401, text="Invalid token")

    with pytest.raises(AuthenticationError):
        client.get_notifications()

    assert token.call_count == 0
    assert bearer(feed) == ["Bearer held-token"]


def _count_waits(cache: TokenCache, target: int) -> threading.Event:
    """Sets the returned event once ``target`` callers are waiting for the token in flight."""
    reached = threading.Event()
    waits = 0
    acquire = cache.acquire

    def counting(now: float, waited: Wait | None = None) -> Any:
        nonlocal waits
        action = acquire(now, waited)
        if isinstance(action, Wait):
            waits += 1
            if waits >= target:
                reached.set()
        return action

    cache.acquire = counting  # type: ignore[method-assign]
    return reached


def test_sixteen_threads_meeting_an_expired_token_cause_exactly_one_token_request(
    api: respx.MockRouter, clock: Clock
) -> None:
    with DropshipClient(supplier_id=60455, **CREDENTIALS, base_url=BASE, accounts_url=ACCOUNTS) as client:
        token = api.post(TOKEN_URL).respond(200, json=token_json(1))
        api.get(NOTIFICATIONS).respond(200, content=FEED)
        client.get_notifications()
        clock.now += 50_000  # expired
        others_waiting = _count_waits(client._tokens, 15)

        def slow_refresh(request: httpx.Request) -> httpx.Response:
            # Hold the refresh until the 15 other threads are waiting for it (bounded).
            others_waiting.wait(timeout=10)
            return httpx.Response(200, json=token_json(2))

        token.side_effect = slow_refresh
        barrier = threading.Barrier(16)

        def call() -> str:
            barrier.wait(timeout=10)
            return client.get_notifications().id

        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(lambda _: call(), range(16)))

    assert others_waiting.is_set()
    assert len(results) == 16
    assert grants(token) == ["password", "refresh_token"]


def test_sixteen_tasks_meeting_an_expired_token_cause_exactly_one_token_request(
    api: respx.MockRouter, clock: Clock
) -> None:
    async def scenario() -> tuple[list[str], bool]:
        async with AsyncDropshipClient(
            supplier_id=60455, **CREDENTIALS, base_url=BASE, accounts_url=ACCOUNTS
        ) as client:
            token = api.post(TOKEN_URL).respond(200, json=token_json(1))
            api.get(NOTIFICATIONS).respond(200, content=FEED)
            await client.get_notifications()
            clock.now += 50_000
            others_waiting = _count_waits(client._tokens, 15)
            released = asyncio.Event()

            async def slow_refresh(request: httpx.Request) -> httpx.Response:
                while not others_waiting.is_set():  # noqa: ASYNC110 - set by sync code in this loop
                    await asyncio.sleep(0)  # yield until the 15 others wait (bounded by wait_for)
                released.set()
                return httpx.Response(200, json=token_json(2))

            token.side_effect = slow_refresh
            results = await asyncio.wait_for(
                asyncio.gather(*(client.get_notifications() for _ in range(16))), timeout=10
            )
            return [r.id for r in results], released.is_set()

    ids, released = asyncio.run(scenario())
    assert released
    assert len(ids) == 16
    assert grants(api.routes[0]) == ["password", "refresh_token"]


def _cache() -> TokenCache:
    config = ClientConfig.build(supplier_id=1, base_url=BASE, accounts_url=ACCOUNTS)
    return TokenCache(config, Credentials("c", SecretStr("s"), "u", SecretStr("p")))


def _granted(cache: TokenCache, now: float, body: bytes) -> str | None:
    fetch = cache.acquire(now)
    assert isinstance(fetch, FetchToken)
    return cache.finish(fetch, now, Response(200, {}, body))


def test_while_a_refresh_is_in_flight_nobody_starts_a_request_with_the_token_it_revokes() -> None:
    cache = _cache()
    assert _granted(cache, 0.0, b'{"access_token": "a1", "expires_in": 3600, "refresh_token": "r1"}') == "a1"
    assert cache.acquire(10.0) == UseToken("a1")  # fresh
    refresh = cache.acquire(3600 - 100)  # early window: this caller refreshes
    assert isinstance(refresh, FetchToken)
    assert refresh.grant == "refresh_token"
    assert isinstance(cache.acquire(3600 - 90), Wait)  # the refresh will revoke a1 (traps.md 17): wait for a2
    assert cache.finish(refresh, 3600 - 80, Response(200, {}, b'{"access_token": "a2", "expires_in": 3600}')) == "a2"
    assert cache.acquire(3600 - 70) == UseToken("a2")


def test_while_a_password_grant_is_in_flight_a_valid_token_stays_in_use() -> None:
    cache = _cache()
    _granted(cache, 0.0, b'{"access_token": "a1", "expires_in": 3600}')  # no refresh token
    grant = cache.acquire(3600 - 100)
    assert isinstance(grant, FetchToken)
    assert grant.grant == "password"
    assert cache.acquire(3600 - 90) == UseToken("a1")  # a password grant revokes nothing
    assert isinstance(cache.acquire(3600 - 10), Wait)  # within the margin: must wait


@pytest.mark.parametrize("body", [b'{"access_token": "a1"}', b'{"access_token": "a1", "expires_in": 0}'])
def test_a_token_without_a_lifetime_is_taken_for_the_documented_twelve_hours(body: bytes) -> None:
    cache = _cache()
    assert _granted(cache, 0.0, body) == "a1"
    assert cache.acquire(43199 - 600) == UseToken("a1")


def test_a_token_shorter_lived_than_the_refresh_window_is_used_not_refetched_in_a_loop(
    api: respx.MockRouter, client: Any
) -> None:
    token = api.post(TOKEN_URL).respond(200, json={"access_token": "access-1", "expires_in": 1})
    feed = api.get(NOTIFICATIONS).respond(200, content=FEED)
    client.get_notifications()
    assert token.call_count == 1
    assert bearer(feed) == ["Bearer access-1"]


def test_a_cancelled_token_fetch_does_not_block_the_next_caller(api: respx.MockRouter) -> None:
    slow = anyio.Event()

    async def stalled(request: httpx.Request) -> httpx.Response:
        await slow.wait()  # never set: the caller gives up first
        return httpx.Response(200, json=token_json(1))

    async def scenario() -> str:
        async with AsyncDropshipClient(supplier_id=60455, **CREDENTIALS, base_url=BASE, accounts_url=ACCOUNTS) as sdk:
            route = api.post(TOKEN_URL)
            route.side_effect = stalled
            with anyio.move_on_after(0.05):
                await sdk.authenticate()
            route.side_effect = None
            route.respond(200, json=token_json(2))
            with anyio.fail_after(5):  # a deadlock would hang here
                await sdk.authenticate()
            return str(sdk._tokens.current.access_token.get_secret_value() if sdk._tokens.current else None)

    assert anyio.run(scenario) == "access-2"


@pytest.mark.parametrize("expires_in", [2**63 - 1, 1e12, 10**400, "1e400", float("inf")])
def test_an_absurd_token_lifetime_is_clamped_to_a_week(api: respx.MockRouter, client: Any, expires_in: Any) -> None:
    api.post(TOKEN_URL).respond(200, content=json.dumps({"access_token": "access-1", "expires_in": expires_in}))
    expiry = client.authenticate()
    assert expiry is not None
    assert expiry - datetime.now(timezone.utc) <= timedelta(days=7, minutes=1)


@pytest.mark.parametrize("expires_in", [-1, -3600, "abc", "12 hours", True, float("nan"), [3600], {"s": 1}])
def test_a_negative_or_non_numeric_token_lifetime_is_a_token_error(
    api: respx.MockRouter, client: Any, expires_in: Any
) -> None:
    api.post(TOKEN_URL).respond(200, content=json.dumps({"access_token": "access-1", "expires_in": expires_in}))
    with pytest.raises(TokenError, match="expires_in"):
        client.authenticate()


def test_waiters_for_a_refused_token_share_the_refusal_instead_of_asking_again(api: respx.MockRouter) -> None:
    """Eight threads meet no token; the one fetch is refused: all eight get a TokenError, and the
    accounts server was asked once, not once per waiter in turn."""
    release = threading.Event()
    refused = httpx.Response(400, json={"error": "invalid_grant"})

    def slow_refusal(request: httpx.Request) -> httpx.Response:
        release.wait(5)  # until the other threads are waiting (bounded)
        return refused

    token = api.post(TOKEN_URL).mock(side_effect=slow_refusal)
    with DropshipClient(supplier_id=60455, **CREDENTIALS, base_url=BASE, accounts_url=ACCOUNTS) as client:
        waiting = _count_waits(client._tokens, 7)
        with ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(client.get_notifications) for _ in range(8)]
            waiting.wait(5)
            release.set()
            errors = [future.exception() for future in futures]
    assert all(isinstance(error, TokenError) for error in errors), errors
    assert token.call_count == 1
    assert len({id(error) for error in errors}) == 8  # each thread raises its own copy
