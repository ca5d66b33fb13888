"""What the emulator reads and stores is bounded, so that every feed page stays one the SDK reads.

Request bodies are capped (413, read with a bound), JSON nesting too (400), and no change may
make a feed entry so large that a page of 50 would pass the SDK's 10 MiB cap.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import httpx
import pytest

from iqmetrix_dropship.emulator import Emulator, EmulatorServer

from .conftest import SUPPLIER, Api, assert_feed_readable, get_token, password_form

ORDER = "OrderStatusUpdate"
ITEMS = "ItemStatusUpdate"
UPDATE_CAP = 32 * 1024  # the documented cap of an update body (MAX_UPDATE_BODY_BYTES)
TWELVE_MIB = 12 * 1024 * 1024


def update_path(order_id: str, kind: str) -> str:
    return f"/v1/Suppliers({SUPPLIER})/Orders({order_id})/{kind}"


def put_raw(api: Api, order_id: str, kind: str, body: bytes) -> httpx.Response:
    headers = {**api.headers, "Content-Type": "application/json"}
    return api.client.put(update_path(order_id, kind), content=body, headers=headers)


def one_item_order(emulator: Emulator) -> str:
    return emulator.place_order(items=[{"sku": "AB-JH0786-MI", "catalog_id": "18e039de-f950-4d8e-a48a-d06e4db55a07"}])


def body_of_size(order_id: str, size: int) -> bytes:
    """An OrderStatusUpdate of exactly ``size`` bytes, its Message all ``&``: the text that
    grows most in the feed (``&amp;``)."""
    frame = json.dumps({"Id": order_id, "Status": "Other", "Message": ""}).encode()
    return json.dumps({"Id": order_id, "Status": "Other", "Message": "&" * (size - len(frame))}).encode()


def test_the_page_budget_is_the_sdks_size_cap() -> None:
    # Imported here, not at the top: every other test of this file speaks HTTP only, and must
    # be able to run (and fail) against an emulator from before these limits.
    from iqmetrix_dropship.emulator import _limits  # noqa: PLC0415
    from iqmetrix_dropship.feed import DEFAULT_MAX_FEED_BYTES  # noqa: PLC0415

    assert _limits.FEED_PAGE_BUDGET == DEFAULT_MAX_FEED_BYTES
    assert _limits.MAX_UPDATE_BODY_BYTES == UPDATE_CAP
    assert 50 * _limits.MAX_ENTRY_BYTES < DEFAULT_MAX_FEED_BYTES


# -- body caps ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [ORDER, ITEMS])
def test_an_update_body_over_the_cap_is_refused_with_413_and_the_feed_stays_readable(
    api: Api, emulator: Emulator, kind: str
) -> None:
    order_id = one_item_order(emulator)
    events = emulator.event_count

    response = put_raw(api, order_id, kind, body_of_size(order_id, TWELVE_MIB))

    assert response.status_code == 413
    assert "limit" in response.json()["Message"]
    assert emulator.event_count == events
    assert emulator.order_status(order_id) == "PendingSupplier"
    assert_feed_readable(emulator)


def test_an_update_body_at_the_cap_is_accepted(api: Api, emulator: Emulator) -> None:
    order_id = one_item_order(emulator)

    response = put_raw(api, order_id, ORDER, body_of_size(order_id, UPDATE_CAP))

    assert response.status_code == 202
    assert_feed_readable(emulator)


def test_fifty_maximal_updates_still_make_a_page_the_sdk_reads() -> None:
    emulator = Emulator(orders=0)
    with httpx.Client(transport=emulator.transport(), base_url="http://e") as client:
        api = Api(emulator, client)
        order_id = one_item_order(emulator)
        body = body_of_size(order_id, UPDATE_CAP)

        answers = {put_raw(api, order_id, ORDER, body).status_code for _ in range(49)}

    assert answers == {202}
    assert emulator.summary()["current_page_entries"] == 50  # one full page of maximal entries
    assert len(emulator.page()) < 10 * 1024 * 1024
    assert_feed_readable(emulator)


def test_an_update_whose_entry_would_pass_the_limit_is_refused_and_changes_nothing(
    api: Api, emulator: Emulator
) -> None:
    # An order-level update copies its text into every item: two items make it twice as large.
    order_id = emulator.place_order(items=[{"sku": "A"}, {"sku": "B"}])
    events = emulator.event_count

    response = put_raw(api, order_id, ORDER, body_of_size(order_id, UPDATE_CAP))

    assert response.status_code == 413
    assert "entry" in response.json()["Message"]
    assert emulator.event_count == events
    assert emulator.order_status(order_id) == "PendingSupplier"
    assert emulator.item_statuses(order_id) == {"A": "PendingSupplier", "B": "PendingSupplier"}
    assert_feed_readable(emulator)


def test_an_item_update_listing_an_item_a_thousand_times_is_refused(api: Api, emulator: Emulator) -> None:
    # Each listed item is a whole <item-information> in the feed: some 20 times its JSON.
    order_id = one_item_order(emulator)
    events = emulator.event_count
    body = {"Id": order_id, "ItemInformation": [{"Sku": "AB-JH0786-MI", "Status": "Shipped"}] * 1000}

    response = api.put(order_id, ITEMS, body)

    assert response.status_code == 413
    assert emulator.event_count == events
    assert emulator.item_statuses(order_id) == {"AB-JH0786-MI": "PendingSupplier"}
    assert_feed_readable(emulator)


def test_a_token_request_over_its_cap_is_refused_with_413(client: httpx.Client, emulator: Emulator) -> None:
    form = password_form(emulator, username="x" * TWELVE_MIB)

    response = client.post("/v1/oauth2/token", data=form)

    assert response.status_code == 413
    assert "limit" in response.json()["Message"]
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/_emulator/orders", "/_emulator/faults", "/_emulator/clock"])
def test_an_admin_body_over_its_cap_is_refused_with_413(client: httpx.Client, emulator: Emulator, path: str) -> None:
    events, faults = emulator.event_count, emulator.summary()["faults"]

    response = client.post(path, json={"padding": "x" * TWELVE_MIB})

    assert response.status_code == 413
    assert "limit" in response.json()["Message"]
    assert (emulator.event_count, emulator.summary()["faults"]) == (events, faults)


# -- over real HTTP: the body is never read past the cap ----------------------------------


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Emulator, EmulatorServer]]:
    emulator = Emulator(events=60, seed=3)
    with emulator.serve() as server:
        yield emulator, server


def read_status_line(sock: socket.socket) -> bytes:
    """The first line of the answer; the socket's timeout bounds the wait."""
    received = b""
    while b"\r\n" not in received:
        chunk = sock.recv(4096)
        if not chunk:
            break
        received += chunk
    return received.split(b"\r\n", 1)[0]


def request_head(server: EmulatorServer, method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def bearer(emulator: Emulator, server: EmulatorServer) -> str:
    with httpx.Client(base_url=server.url, timeout=5) as client:
        return f"Bearer {get_token(client, emulator)['access_token']}"


@pytest.mark.parametrize(
    ("method", "path", "content_type"),
    [
        ("PUT", ORDER, "application/json"),
        ("POST", "/v1/oauth2/token", "application/x-www-form-urlencoded"),
        ("POST", "/_emulator/orders", "application/json"),
    ],
)
def test_a_declared_length_over_the_cap_is_refused_before_any_body_is_sent(
    served: tuple[Emulator, EmulatorServer], method: str, path: str, content_type: str
) -> None:
    emulator, server = served
    if path == ORDER:
        path = update_path(emulator.order_ids()[0], ORDER)
    headers = {
        "Authorization": bearer(emulator, server),
        "Content-Type": content_type,
        "Content-Length": str(TWELVE_MIB),
    }

    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(request_head(server, method, path, headers))  # and not one byte of the body

        assert read_status_line(sock).startswith(b"HTTP/1.1 413 ")  # the phrase varies with Python


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_cap(served: tuple[Emulator, EmulatorServer]) -> None:
    emulator, server = served
    order_id = emulator.order_ids()[0]
    headers = {
        "Authorization": bearer(emulator, server),
        "Content-Type": "application/json",
        "Transfer-Encoding": "chunked",
    }
    chunk = b"&" * 8192
    events = emulator.event_count

    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(request_head(server, "PUT", update_path(order_id, ORDER), headers))
        for _ in range(UPDATE_CAP // len(chunk) + 1):  # just past the cap, and no last chunk
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))

        assert read_status_line(sock).startswith(b"HTTP/1.1 413 ")  # the phrase varies with Python
    assert emulator.event_count == events


# -- JSON nesting -------------------------------------------------------------------------


def nested_in_an_ignored_member(order_id: str, kind: str, depth: int) -> bytes:
    """A valid update of ``depth`` levels in all: an unknown member holds the nesting."""
    body = {"Id": order_id, "Status": "Ordered"} if kind == ORDER else {"Id": order_id, "ItemInformation": []}
    return json.dumps({**body, "Reserved": "@"}).encode().replace(b'"@"', b"[" * (depth - 1) + b"]" * (depth - 1))


@pytest.mark.parametrize("kind", [ORDER, ITEMS])
def test_json_nested_past_recursion_in_an_update_is_an_invalid_request(api: Api, emulator: Emulator, kind: str) -> None:
    order_id = emulator.order_ids()[0]
    events = emulator.event_count

    response = put_raw(api, order_id, kind, b"[" * 30_000)

    assert response.status_code == 400
    assert response.json()["Message"] == "The request is invalid"
    assert emulator.event_count == events


@pytest.mark.parametrize("kind", [ORDER, ITEMS])
def test_json_nested_deeper_than_json_net_allows_is_an_invalid_request(api: Api, emulator: Emulator, kind: str) -> None:
    order_id = emulator.order_ids()[0]
    events = emulator.event_count

    response = put_raw(api, order_id, kind, nested_in_an_ignored_member(order_id, kind, 65))

    assert response.status_code == 400
    assert "nested" in str(response.json()["ModelState"])
    assert emulator.event_count == events


@pytest.mark.parametrize("kind", [ORDER, ITEMS])
def test_json_nested_as_deep_as_json_net_allows_is_read(api: Api, emulator: Emulator, kind: str) -> None:
    order_id = emulator.order_ids()[0]

    response = put_raw(api, order_id, kind, nested_in_an_ignored_member(order_id, kind, 64))

    assert response.status_code == 202


@pytest.mark.parametrize("path", ["/_emulator/orders", "/_emulator/faults", "/_emulator/clock"])
def test_deeply_nested_json_in_an_admin_body_is_refused(client: httpx.Client, emulator: Emulator, path: str) -> None:
    events = emulator.event_count

    response = client.post(path, content=b'{"items": ' + b"[" * 30_000)

    assert response.status_code == 400
    assert "nested" in response.json()["Message"]
    assert emulator.event_count == events
    assert_feed_readable(emulator)
