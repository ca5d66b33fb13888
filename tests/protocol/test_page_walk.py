"""``PageWalk`` driven directly: which page it asks for next, when it is done, what it refuses."""

from __future__ import annotations

import pytest

from iqmetrix_dropship import FeedParseError, InvalidRequestError
from iqmetrix_dropship._protocol.config import ClientConfig
from iqmetrix_dropship._protocol.walk import PageWalk
from iqmetrix_dropship.feed import parse_feed
from iqmetrix_dropship.models import FeedPage

from ..client.feeds import page

CONFIG = ClientConfig.build(supplier_id=60455, base_url="https://dropship.test/v1", accounts_url="https://a.test/v1")
NOTIFICATIONS = "https://dropship.test/v1/Suppliers(60455)/Notifications"
P = [f"00000000-0000-4000-8000-{n:012d}" for n in range(4)]


def feed_page(page_id: str, prev: str | None = None, prev_href: str | None = None) -> FeedPage:
    return parse_feed(page(page_id, [f"urn:uuid:{page_id}"], prev=prev, prev_href=prev_href))


def walk_urls(walk: PageWalk, pages: dict[str, FeedPage], first: str) -> list[str]:
    """Drive ``walk`` to its end; the URLs it asked for."""
    urls = []
    current = first
    while not walk.done:
        request = walk.next_request(CONFIG)
        urls.append(request.url)
        fetched = pages[current]
        walk.receive(fetched)
        current = fetched.prev_archive_page_id or ""
    return urls


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (None, [NOTIFICATIONS, *(f"{NOTIFICATIONS}/Pages({p})" for p in (P[1], P[0]))]),
        (P[1], [f"{NOTIFICATIONS}/Pages({P[1]})", f"{NOTIFICATIONS}/Pages({P[0]})"]),
        (
            f"https://dropship.iqmetrix.net/v1/Suppliers(60455)/Notifications/Pages({P[1]})",
            [f"{NOTIFICATIONS}/Pages({P[1]})", f"{NOTIFICATIONS}/Pages({P[0]})"],
        ),
    ],
)
def test_the_walk_follows_prev_archive_back_to_the_oldest_page_on_the_configured_host(
    start: str | None, expected: list[str]
) -> None:
    pages = {P[2]: feed_page(P[2], prev=P[1]), P[1]: feed_page(P[1], prev=P[0]), P[0]: feed_page(P[0])}
    first = P[2] if start is None else P[1]
    assert walk_urls(PageWalk(start), pages, first) == expected


def test_a_walk_past_its_end_is_refused() -> None:
    walk = PageWalk()
    walk.next_request(CONFIG)
    walk.receive(feed_page(P[0]))
    assert walk.done
    with pytest.raises(RuntimeError, match="over"):
        walk.next_request(CONFIG)


def test_a_page_seen_twice_ends_the_walk_with_a_parse_error() -> None:
    walk = PageWalk()
    walk.next_request(CONFIG)
    walk.receive(feed_page(P[1], prev=P[0]))
    walk.next_request(CONFIG)
    with pytest.raises(FeedParseError, match="loop"):
        walk.receive(feed_page(P[1], prev=P[0]))


def test_a_link_back_to_a_page_already_walked_is_refused_once_that_page_is_used() -> None:
    walk = PageWalk()
    walk.next_request(CONFIG)
    walk.receive(feed_page(P[1], prev=P[1]))  # the page itself is delivered first
    with pytest.raises(FeedParseError, match="loop"):
        walk.next_request(CONFIG)


def test_a_prev_archive_link_without_a_page_id_is_never_followed() -> None:
    walk = PageWalk()
    walk.next_request(CONFIG)
    walk.receive(feed_page(P[1], prev_href="https://elsewhere.test/steal-the-token"))
    with pytest.raises(FeedParseError, match="names no page id"):
        walk.next_request(CONFIG)


def test_a_start_that_is_no_page_id_nor_link_is_refused() -> None:
    with pytest.raises(InvalidRequestError):
        PageWalk("https://dropship.iqmetrix.net/v1/Suppliers(60455)/Orders(1)")
