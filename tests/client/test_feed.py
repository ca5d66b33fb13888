"""Feed reading and walking: pages, archives, hrefs rebuilt on the configured base, loops, size caps."""

from __future__ import annotations

import gzip
import zlib
from typing import Any

import anyio
import httpx
import pytest
import respx

from iqmetrix_dropship import AsyncDropshipClient, DropshipClient, FeedParseError, InvalidRequestError

from .conftest import ACCOUNTS, BASE, CREDENTIALS, NOTIFICATIONS, TOKEN_URL, token_json
from .feeds import chain, page, page_ids

PAGES = f"{NOTIFICATIONS}/Pages"


@pytest.fixture(autouse=True)
def token(api: respx.MockRouter) -> respx.Route:
    return api.post(TOKEN_URL).respond(200, json=token_json(1))


def serve(api: respx.MockRouter, pages: dict[str, bytes], current: str) -> None:
    api.get(NOTIFICATIONS).respond(200, content=pages[current], headers={"Content-Type": "application/atom+xml"})
    for page_id, body in pages.items():
        api.get(f"{PAGES}({page_id})").respond(200, content=body)


def test_feed_requests_ask_for_atom(api: respx.MockRouter, client: Any) -> None:
    route = api.get(NOTIFICATIONS).respond(200, content=page(page_ids(1)[0], ["urn:uuid:a"]))
    client.get_notifications()
    headers = route.calls[0].request.headers
    assert headers["Accept"] == "application/atom+xml"
    assert headers["User-Agent"].startswith("iqmetrix-dropship/")
    assert "Python" in headers["User-Agent"]
    assert "httpx" in headers["User-Agent"]


def test_iter_entries_over_five_pages_yields_every_entry_once_newest_first(api: respx.MockRouter, client: Any) -> None:
    newest_first, pages = chain(5)
    serve(api, pages, current=page_ids(5)[-1])

    ids = [e.id for e in client.iter_entries()]

    assert ids == newest_first
    assert len(ids) == len(set(ids)) == 15
    assert [p.page_id for p in client.iter_pages()] == list(reversed(page_ids(5)))


def test_hrefs_naming_another_host_are_rebuilt_on_the_configured_base(api: respx.MockRouter, client: Any) -> None:
    # The pages' links name https://dropship.iqmetrix.net (traps.md 4); respx refuses any
    # request to a host it does not mock, so a request sent there would fail the test.
    _, pages = chain(3)
    serve(api, pages, current=page_ids(3)[-1])

    list(client.iter_pages())

    hosts = {call.request.url.host for call in api.calls}
    assert hosts == {"dropship.test", "accounts.test"}
    assert all(str(call.request.url).startswith(BASE) for call in api.calls if "oauth2" not in str(call.request.url))


def test_get_archive_takes_a_guid_or_an_href(api: respx.MockRouter, client: Any) -> None:
    pid = page_ids(1)[0]
    api.get(f"{PAGES}({pid})").respond(200, content=page(pid, ["urn:uuid:x"]))

    by_id = client.get_archive(pid)
    by_href = client.get_archive(f"https://evil.example.com/v1/Suppliers(60455)/Notifications/Pages({pid})")

    assert by_id.page_id == by_href.page_id == pid


@pytest.mark.parametrize(
    "bad",
    [
        "https://dropship.iqmetrix.net/v1/Suppliers(60455)/Notifications",
        "../../etc/passwd",
        "Pages(../x)",
        "",
    ],
)
def test_get_archive_refuses_an_href_without_a_page_id(api: respx.MockRouter, client: Any, bad: str) -> None:
    with pytest.raises(InvalidRequestError):
        client.get_archive(bad)
    assert [c for c in api.calls if "oauth2" not in str(c.request.url)] == []


def test_a_loop_of_prev_archive_links_ends_in_feed_parse_error(api: respx.MockRouter, client: Any) -> None:
    a, b = page_ids(2)
    pages = {a: page(a, ["urn:uuid:a1"], prev=b), b: page(b, ["urn:uuid:b1"], prev=a)}
    serve(api, pages, current=a)

    with pytest.raises(FeedParseError, match="loop"):
        list(client.iter_pages())


def test_a_page_linking_to_itself_ends_in_feed_parse_error(api: respx.MockRouter, client: Any) -> None:
    a = page_ids(1)[0]
    serve(api, {a: page(a, ["urn:uuid:a1"], prev=a)}, current=a)
    with pytest.raises(FeedParseError, match="loop"):
        list(client.iter_pages())


def test_a_prev_archive_link_without_a_page_id_is_not_followed(api: respx.MockRouter, client: Any) -> None:
    a = page_ids(1)[0]
    serve(api, {a: page(a, ["urn:uuid:a1"], prev_href="https://elsewhere.example.com/feed")}, current=a)
    with pytest.raises(FeedParseError, match="names no page id"):
        list(client.iter_pages())


def test_iter_pages_is_lazy(api: respx.MockRouter) -> None:
    _, pages = chain(3)
    serve(api, pages, current=page_ids(3)[-1])
    with DropshipClient(supplier_id=60455, **CREDENTIALS, base_url=BASE, accounts_url=ACCOUNTS) as client:
        first = next(client.iter_pages())
    assert first.page_id == page_ids(3)[-1]
    assert sum(1 for c in api.calls if "Notifications" in str(c.request.url)) == 1


def test_async_iter_pages_is_lazy(api: respx.MockRouter) -> None:
    _, pages = chain(3)
    serve(api, pages, current=page_ids(3)[-1])

    async def first_page() -> str | None:
        async with AsyncDropshipClient(supplier_id=60455, **CREDENTIALS, base_url=BASE, accounts_url=ACCOUNTS) as c:
            async for first in c.iter_pages():
                return first.page_id
        return None

    assert anyio.run(first_page) == page_ids(3)[-1]
    assert sum(1 for c in api.calls if "Notifications" in str(c.request.url)) == 1


class CountingStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """Serves ``data`` in small chunks and counts how much of it was read."""

    def __init__(self, data: bytes, chunk: int = 1024) -> None:
        self.data = data
        self.chunk = chunk
        self.sent = 0

    def __iter__(self) -> Any:
        for i in range(0, len(self.data), self.chunk):
            self.sent += self.chunk
            yield self.data[i : i + self.chunk]

    async def __aiter__(self) -> Any:
        for part in self:
            yield part


def test_a_gzip_feed_inflating_past_the_cap_raises_without_inflating_it_whole(
    api: respx.MockRouter, client_factory: Any, gzip_bomb: bytes
) -> None:
    client = client_factory(max_feed_bytes=1_000_000)
    body = gzip_bomb  # 200 MB of XML in ~200 KB of gzip
    stream = CountingStream(body)
    api.get(NOTIFICATIONS).mock(return_value=httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=stream))

    with pytest.raises(FeedParseError, match="limit"):
        client.get_notifications()

    assert stream.sent < len(body) / 10  # stopped early: read only the start of the stream


def test_a_gzip_feed_under_the_cap_is_read(api: respx.MockRouter, client: Any) -> None:
    pid = page_ids(1)[0]
    api.get(NOTIFICATIONS).respond(
        200, content=gzip.compress(page(pid, ["urn:uuid:a"])), headers={"Content-Encoding": "gzip"}
    )
    assert client.get_notifications().page_id == pid


def test_a_deflate_feed_is_read(api: respx.MockRouter, client: Any) -> None:
    pid = page_ids(1)[0]
    api.get(NOTIFICATIONS).respond(
        200, content=zlib.compress(page(pid, ["urn:uuid:a"])), headers={"Content-Encoding": "deflate"}
    )
    assert client.get_notifications().page_id == pid


def test_a_plain_feed_over_the_cap_is_refused(api: respx.MockRouter, client_factory: Any) -> None:
    client = client_factory(max_feed_bytes=10_000)
    pid = page_ids(1)[0]
    api.get(NOTIFICATIONS).respond(200, content=page(pid, [f"urn:uuid:{i}" for i in range(50)]))
    with pytest.raises(FeedParseError, match="limit"):
        client.get_notifications()


def test_corrupt_gzip_is_a_feed_parse_error(api: respx.MockRouter, client: Any) -> None:
    api.get(NOTIFICATIONS).mock(
        return_value=httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=CountingStream(b"not gzip"))
    )
    with pytest.raises(FeedParseError):
        client.get_notifications()


def test_a_non_xml_200_is_a_feed_parse_error(api: respx.MockRouter, client: Any) -> None:
    api.get(NOTIFICATIONS).respond(200, text="<html>captive portal</html>")
    with pytest.raises(FeedParseError):
        client.get_notifications()


def test_closing_the_client_closes_only_a_connection_pool_it_created(api: respx.MockRouter) -> None:
    mine = httpx.Client()
    with DropshipClient(supplier_id=60455, **CREDENTIALS, base_url=BASE, accounts_url=ACCOUNTS, http_client=mine):
        pass
    assert not mine.is_closed  # the caller's, to close
    mine.close()

    with DropshipClient(supplier_id=60455, **CREDENTIALS, base_url=BASE, accounts_url=ACCOUNTS) as owned:
        pool = owned._transport._client
    assert pool.is_closed


def test_async_closing_closes_only_a_connection_pool_it_created(api: respx.MockRouter) -> None:
    async def scenario() -> tuple[bool, bool]:
        mine = httpx.AsyncClient()
        async with AsyncDropshipClient(
            supplier_id=60455, **CREDENTIALS, base_url=BASE, accounts_url=ACCOUNTS, http_client=mine
        ):
            pass
        kept = not mine.is_closed
        await mine.aclose()
        async with AsyncDropshipClient(supplier_id=60455, **CREDENTIALS, base_url=BASE, accounts_url=ACCOUNTS) as sdk:
            pool = sdk._transport._client
        return kept, pool.is_closed

    assert anyio.run(scenario) == (True, True)


def test_the_per_call_timeout_reaches_the_request(api: respx.MockRouter, client: Any) -> None:
    route = api.get(NOTIFICATIONS).respond(200, content=page(page_ids(1)[0], []))
    client.get_notifications(timeout=1.5)
    timeouts = route.calls[0].request.extensions["timeout"]
    # Every phase gets the call's timeout, cut to what is left of it (the token fetch came first).
    assert set(timeouts) == {"connect", "read", "write", "pool"}
    assert all(1.0 < value <= 1.5 for value in timeouts.values()), timeouts
