"""The SDK against the emulator over real HTTP on 127.0.0.1 (a free port): both clients."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest
from lxml import etree

from iqmetrix_dropship import (
    AsyncDropshipClient,
    AuthenticationError,
    BadRequestError,
    DropshipClient,
    ItemStatus,
    ItemUpdate,
    NotFoundError,
    OrderCreated,
    OrderStatus,
    OrderStatusUpdated,
    TokenError,
)
from iqmetrix_dropship.emulator import Emulator, EmulatorServer

from ..support import LoopbackOnly, async_client_for, client_for


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(events=1_100, seed=11)  # 22 pages


@pytest.fixture
def server(emulator: Emulator) -> Iterator[EmulatorServer]:
    with emulator.serve() as running:
        yield running


@pytest.fixture
def client(emulator: Emulator, server: EmulatorServer) -> Iterator[DropshipClient]:
    with client_for(emulator, server.base_url) as sdk:
        yield sdk


def run_async(emulator: Emulator, server: EmulatorServer, scenario: Any) -> Any:
    async def main() -> Any:
        async with async_client_for(emulator, server.base_url) as sdk:
            return await scenario(sdk)

    return anyio.run(main)


def grants(emulator: Emulator) -> list[str]:
    return [path for method, path, status in emulator.request_log() if path.endswith("/oauth2/token")]


def test_the_password_grant_and_the_refresh_go_through_the_real_endpoints(
    emulator: Emulator, server: EmulatorServer, client: DropshipClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.get_notifications()
    now = DropshipClient._clock()
    monkeypatch.setattr(DropshipClient, "_clock", staticmethod(lambda: now + 43_199 - 60))  # early window
    client.get_notifications()

    assert emulator.summary()["tokens_issued"] == 2
    assert len(grants(emulator)) == 2
    # The refresh revoked the first token (traps.md 17), and the client uses the new one.
    client.get_notifications()


def test_a_revoked_token_is_refreshed_and_the_request_replayed(emulator: Emulator, client: DropshipClient) -> None:
    client.get_notifications()
    emulator.expire_tokens()
    page = client.get_notifications()
    assert page.entries
    statuses = [status for _, path, status in emulator.request_log() if "Notifications" in path]
    assert statuses == [200, 401, 200]


def test_walking_more_than_twenty_pages_yields_every_entry_once_newest_first(
    emulator: Emulator, client: DropshipClient
) -> None:
    ids = [entry.id for entry in client.iter_entries()]
    assert ids == list(reversed(emulator.entry_ids()))
    assert len(list(client.iter_pages())) == 22


def test_async_walk_of_more_than_twenty_pages(emulator: Emulator, server: EmulatorServer) -> None:
    async def walk(sdk: AsyncDropshipClient) -> list[str]:
        return [entry.id async for entry in sdk.iter_entries()]

    assert run_async(emulator, server, walk) == list(reversed(emulator.entry_ids()))


def _pending_order(client: DropshipClient, min_items: int = 1) -> OrderCreated:
    for entry in client.iter_entries():
        event = entry.event
        if isinstance(event, OrderCreated) and len(event.items) >= min_items:
            return event
    raise AssertionError("no order in the feed")


def test_an_order_update_comes_back_in_the_feed(emulator: Emulator, client: DropshipClient) -> None:
    order = _pending_order(client)
    echo = client.update_order_status(order.order_id, OrderStatus.SHIPPED, tracking_info="1Z1", shipping_provider="UPS")
    assert echo.status is OrderStatus.SHIPPED

    newest = client.get_notifications().entries[0].event
    assert isinstance(newest, OrderStatusUpdated)
    assert newest.order_id == order.order_id
    assert {item.sku for item in newest.items} == {item.sku for item in order.items}
    assert all(item.status is ItemStatus.SHIPPED and item.tracking_info == "1Z1" for item in newest.items)
    assert emulator.order_status(str(order.order_id)) == "Shipped"


def test_an_item_update_comes_back_in_the_feed(emulator: Emulator, client: DropshipClient) -> None:
    order = _pending_order(client, min_items=2)
    first, second = order.items[0], order.items[1]
    client.update_item_status(
        order.order_id,
        [
            ItemUpdate(
                sku=first.sku or "",
                status=ItemStatus.SHIPPED,
                quantity=1,
                tracking_info="T1",
                shipping_provider="FedEx",
            ),
            ItemUpdate(sku=second.sku or "", status=ItemStatus.BACK_ORDERED),
        ],
    )
    newest = client.get_notifications().entries[0].event
    assert isinstance(newest, OrderStatusUpdated)
    assert {item.sku: item.status for item in newest.items} == {
        first.sku: ItemStatus.SHIPPED,
        second.sku: ItemStatus.BACK_ORDERED,
    }
    assert emulator.item_statuses(str(order.order_id))[second.sku or ""] == "BackOrdered"


def test_async_updates_come_back_in_the_feed(
    emulator: Emulator, server: EmulatorServer, client: DropshipClient
) -> None:
    order = _pending_order(client)

    async def cancel(sdk: AsyncDropshipClient) -> Any:
        await sdk.update_order_status(order.order_id, OrderStatus.CANCELLED, message="gone")
        return (await sdk.get_notifications()).entries[0].event

    newest = run_async(emulator, server, cancel)
    assert isinstance(newest, OrderStatusUpdated)
    assert all(item.status is ItemStatus.CANCELLED for item in newest.items)


def test_a_wrong_supplier_id_is_a_bad_request(emulator: Emulator, server: EmulatorServer) -> None:
    with (
        client_for(emulator, server.base_url, supplier_id=99) as other,
        pytest.raises(BadRequestError, match="Cannot find supplier identifier in the uri"),
    ):
        other.get_notifications()


def test_an_unknown_page_is_a_bad_request(client: DropshipClient) -> None:
    with pytest.raises(BadRequestError, match="The request is invalid"):
        client.get_archive("00000000-0000-0000-0000-00000000dead")


def test_a_bad_static_token_is_an_authentication_error(emulator: Emulator, server: EmulatorServer) -> None:
    with (
        DropshipClient(
            supplier_id=emulator.supplier_id, access_token="not-a-token", base_url=server.base_url
        ) as static,
        pytest.raises(AuthenticationError, match="Invalid token"),
    ):
        static.get_notifications()


def test_an_unknown_order_is_not_found(client: DropshipClient) -> None:
    with pytest.raises(NotFoundError):
        client.update_order_status("0b05f9fb-1210-4494-b654-d051948716b4", OrderStatus.CANCELLED)


def test_wrong_credentials_are_a_token_error(emulator: Emulator, server: EmulatorServer) -> None:
    with client_for(emulator, server.base_url, password="wrong") as bad, pytest.raises(TokenError) as caught:
        bad.get_notifications()
    assert caught.value.error == "invalid_grant"


def test_rate_limiting_is_absorbed_by_the_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    emulator = Emulator(events=300, seed=3, rate_limit=4, rate_limit_window=60)
    waited: list[float] = []

    def simulated_sleep(seconds: float) -> None:  # the emulator's clock moves instead of ours
        waited.append(seconds)
        emulator.advance_clock(seconds)

    monkeypatch.setattr(DropshipClient, "_sleep", staticmethod(simulated_sleep))
    with emulator.serve() as server, client_for(emulator, server.base_url) as sdk:
        ids = [entry.id for entry in sdk.iter_entries()]  # 6 pages against a budget of 4 a minute

    assert ids == list(reversed(emulator.entry_ids()))
    assert waited, "the client must have waited for X-RateLimit-ResetSeconds"
    assert any(status == 429 for _, _, status in emulator.request_log())


def test_a_client_that_follows_hrefs_blindly_fails_and_ours_does_not(
    emulator: Emulator, server: EmulatorServer
) -> None:
    # The emulator's links name https://dropship.iqmetrix.net, as the real feed does (traps.md 4).
    with httpx.Client(transport=LoopbackOnly()) as naive:
        token = naive.post(
            f"{server.base_url}/oauth2/token",
            data={
                "grant_type": "password",
                **{k: str(v) for k, v in emulator.credentials.as_dict().items() if k != "supplier_id"},
            },
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/atom+xml"}
        first = naive.get(f"{server.base_url}/Suppliers({emulator.supplier_id})/Notifications", headers=headers)
        href = prev_archive_href(first.content)
        assert href.startswith("https://dropship.iqmetrix.net/")
        with pytest.raises(httpx.ConnectError, match="not on this machine"):
            naive.get(href, headers=headers)  # would have sent the bearer token to another host

    with (
        httpx.Client(transport=LoopbackOnly()) as guarded,
        client_for(emulator, server.base_url, http_client=guarded) as ours,
    ):
        assert len(list(ours.iter_pages())) == 22


def prev_archive_href(body: bytes) -> str:
    root = etree.fromstring(body)
    for link in root.iter("{http://www.w3.org/2005/Atom}link"):
        if link.get("rel") == "prev-archive":
            return str(link.get("href"))
    raise AssertionError("no prev-archive link")
