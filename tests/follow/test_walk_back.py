"""The follower's walk back, against a programmable feed: what identifies the cursor's position, what
happens when an entry id is emitted again, when ``CursorLostError`` is raised.

Each page is served by respx from ``tests/client/feeds.page`` (entries newest first, as the feed
has them); both followers run every test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest
import respx

from iqmetrix_dropship import (
    AsyncDropshipClient,
    Cursor,
    CursorLostError,
    DropshipClient,
    MemoryCheckpoint,
    NotFoundError,
)

from ..client.conftest import BASE, NOTIFICATIONS
from ..client.feeds import page

P0, P1, P2 = (f"00000000-0000-4000-8000-00000000000{n}" for n in range(3))


class Feed:
    """Pages (oldest first, the last is the current page), each a list of entry ids oldest first.
    ``refuse[page_id] = status`` makes that page answer with an error."""

    def __init__(self, router: respx.MockRouter) -> None:
        self.pages: list[tuple[str, list[str]]] = []
        self.refuse: dict[str, int] = {}
        self.reads: list[str] = []
        router.get(NOTIFICATIONS).mock(side_effect=lambda request: self.serve(self.pages[-1][0]))
        router.get(url__regex=re.escape(NOTIFICATIONS) + r"/Pages\((?P<pid>[^)]+)\)").mock(
            side_effect=lambda request, pid: self.serve(pid)
        )

    def set(self, *pages: tuple[str, list[str]]) -> None:
        self.pages = list(pages)

    def serve(self, page_id: str) -> httpx.Response:
        self.reads.append(page_id)
        if page_id in self.refuse:
            return httpx.Response(self.refuse[page_id], json={"Message": "Not found"})
        ids = [pid for pid, _ in self.pages]
        if page_id not in ids:
            return httpx.Response(400, json={"Message": "The request is invalid"})
        n = ids.index(page_id)
        entries = list(reversed(self.pages[n][1]))  # the feed lists entries newest first
        return httpx.Response(200, content=page(page_id, entries, prev=ids[n - 1] if n else None))


@pytest.fixture
def feed() -> Iterator[Feed]:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        yield Feed(router)


@pytest.fixture(params=["sync", "async"])
def poll(request: pytest.FixtureRequest) -> Any:
    """``poll(checkpoint, keep=True)``: the ids one poll of this test's follower delivers; with
    ``keep=False`` it keeps no page from the walk back, so that the forward read fetches each."""

    def sync_poll(checkpoint: MemoryCheckpoint, keep: bool = True) -> list[str]:
        with DropshipClient(supplier_id=60455, access_token="held-token", base_url=BASE) as client:
            follower = client.follow(checkpoint=checkpoint)
            follower.keep_pages_bytes = follower.keep_pages_bytes if keep else 0
            return [entry.id for entry in follower.poll()]

    async def async_poll(checkpoint: MemoryCheckpoint, keep: bool) -> list[str]:
        async with AsyncDropshipClient(supplier_id=60455, access_token="held-token", base_url=BASE) as client:
            follower = client.follow(checkpoint=checkpoint)
            follower.keep_pages_bytes = follower.keep_pages_bytes if keep else 0
            return [entry.id async for entry in follower.poll()]

    if request.param == "sync":
        return sync_poll
    return lambda checkpoint, keep=True: anyio.run(async_poll, checkpoint, keep)


def test_an_id_re_emitted_on_a_newer_page_does_not_hide_the_rest_of_the_cursors_page(feed: Feed, poll: Any) -> None:
    """Cursor (e3, P0); P0 became an archive of e1..e5 and the current page re-emits e3 first."""
    feed.set((P0, ["e1", "e2", "e3", "e4", "e5"]), (P1, ["e3", "f1", "f2"]))
    checkpoint = MemoryCheckpoint(Cursor("e3", P0))
    assert poll(checkpoint) == ["e4", "e5", "f1", "f2"]  # before: ["f1", "f2"], e4 and e5 lost
    assert checkpoint.load() == Cursor("f2", P1)
    assert poll(checkpoint) == []


def test_the_cursors_id_as_the_newest_entry_of_another_page_is_not_an_idle_feed(feed: Feed, poll: Any) -> None:
    feed.set((P0, ["e1", "e2", "e3", "e4", "e5"]), (P1, ["f1", "e3"]))
    checkpoint = MemoryCheckpoint(Cursor("e3", P0))
    assert poll(checkpoint) == ["e4", "e5", "f1"]  # before: [], the poll took the feed for idle


def test_an_id_repeated_on_pages_that_are_not_adjacent_is_delivered_once(feed: Feed, poll: Any) -> None:
    feed.set((P0, ["a", "b"]), (P1, ["c", "d"]), (P2, ["b", "e", "a"]))
    checkpoint = MemoryCheckpoint()
    assert poll(checkpoint) == ["a", "b", "c", "d", "e"]
    # The repeat at the very end moved the cursor past it: the next poll does not deliver it either.
    assert checkpoint.load() == Cursor("a", P2)
    assert poll(checkpoint) == []


def test_an_id_handled_before_the_cursor_and_emitted_again_after_it_is_not_delivered(feed: Feed, poll: Any) -> None:
    feed.set((P0, ["e1", "e2", "e3"]), (P1, ["f1", "e2", "f2"]))
    checkpoint = MemoryCheckpoint(Cursor("e3", P0))
    assert poll(checkpoint) == ["f1", "f2"]


def test_a_cursor_whose_page_holds_it_twice_counts_from_the_first_occurrence(feed: Feed, poll: Any) -> None:
    # At least once: what lies between the two occurrences comes again rather than being skipped.
    feed.set(
        (P0, ["e1", "e2", "x", "e2", "e3"]),
    )
    assert poll(MemoryCheckpoint(Cursor("e2", P0))) == ["x", "e3"]


def test_a_cursor_without_a_page_id_falls_back_to_the_first_page_holding_its_entry(feed: Feed, poll: Any) -> None:
    feed.set((P0, ["e1", "e2"]), (P1, ["e3", "e4"]))
    assert poll(MemoryCheckpoint(Cursor("e3", None))) == ["e4"]


def test_a_cursor_whose_page_no_longer_holds_its_entry_is_lost(feed: Feed, poll: Any) -> None:
    feed.set((P0, ["e1", "e2"]), (P1, ["e3", "e4"]))
    with pytest.raises(CursorLostError) as caught:
        poll(MemoryCheckpoint(Cursor("e9", P0)))
    assert caught.value.entry_id == "e9"


def test_a_cursor_whose_page_the_feed_does_not_reach_is_lost(feed: Feed, poll: Any) -> None:
    feed.set(
        (P1, ["e3", "e4"]),
    )  # the entry is here, on a page that is not the cursor's
    with pytest.raises(CursorLostError) as caught:
        poll(MemoryCheckpoint(Cursor("e3", P0)))
    assert caught.value.page_id == P0


@pytest.mark.parametrize("status", [404, 400])
def test_a_page_on_the_way_to_the_cursor_answering_an_error_is_a_lost_cursor(
    feed: Feed, poll: Any, status: int
) -> None:
    feed.set((P0, ["e1", "e2"]), (P1, ["e3"]), (P2, ["e4"]))
    feed.refuse[P0] = status  # the cursor's own page
    with pytest.raises(CursorLostError) as caught:
        poll(MemoryCheckpoint(Cursor("e1", P0)))
    assert caught.value.entry_id == "e1"
    assert caught.value.page_id == P0


@pytest.mark.parametrize("status", [404, 400])
def test_the_cursors_page_vanishing_between_the_walk_and_the_read_is_a_lost_cursor(
    feed: Feed, poll: Any, status: int
) -> None:
    feed.set((P0, ["e1", "e2"]), (P1, ["e3"]))
    original = feed.serve

    def vanishing(page_id: str) -> httpx.Response:
        if page_id == P0 and feed.reads.count(P0) >= 1:
            feed.refuse[P0] = status  # read once by the walk back; gone for the forward read
        return original(page_id)

    feed.serve = vanishing  # type: ignore[method-assign]
    with pytest.raises(CursorLostError):
        poll(MemoryCheckpoint(Cursor("e1", P0)), keep=False)


def test_a_poll_fetches_each_page_once_and_only_the_current_and_cursor_pages_are_scanned_whole(
    feed: Feed, poll: Any
) -> None:
    pages = [(f"00000000-0000-4000-8000-{n:012d}", [f"e{n}-{k}" for k in range(3)]) for n in range(6)]
    feed.set(*pages)
    checkpoint = MemoryCheckpoint(Cursor("e1-1", pages[1][0]))
    assert poll(checkpoint) == ["e1-2"] + [f"e{n}-{k}" for n in range(2, 6) for k in range(3)]
    # the current page (through /Notifications), then each archive back to the cursor's: once each
    assert feed.reads == [pages[5][0]] + [page_id for page_id, _ in reversed(pages[1:5])]

    feed.reads.clear()
    assert poll(MemoryCheckpoint(Cursor("e1-1", pages[1][0])), keep=False) != []
    assert sorted(feed.reads) == sorted([pages[5][0]] + [p for p, _ in pages[1:5]] + [p for p, _ in pages[1:6]])


def test_without_a_cursor_a_missing_archive_is_the_api_error_it_is(feed: Feed, poll: Any) -> None:
    feed.set((P0, ["e1"]), (P1, ["e2"]))
    feed.refuse[P0] = 404
    with pytest.raises(NotFoundError):
        poll(MemoryCheckpoint())


def test_the_cursors_id_emitted_again_at_the_top_of_its_page_does_not_hide_what_came_between(
    feed: Feed, poll: Any
) -> None:
    feed.set(
        (P0, ["a", "b", "x", "new", "x"]),
    )  # x handled; "new" came; then x was emitted again
    checkpoint = MemoryCheckpoint(Cursor("x", P0))
    assert poll(checkpoint) == ["new"]  # before: [], the poll took the feed for idle, poll after poll
    assert checkpoint.load() == Cursor("new", P0)  # not (x, P0), which names x's first place
    assert poll(checkpoint) == []
    assert poll(checkpoint) == []  # "new" is never delivered again


def test_a_cursors_page_reached_by_a_link_spelt_otherwise_than_its_self_link_is_read_whole(
    feed: Feed, poll: Any
) -> None:
    """The newer page's prev-archive names the cursor's page in upper case, its self link in lower
    case (the server ignores case): the walk reads it by its links only, then sees it is the
    cursor's page, and reads its entry ids before deciding anything."""
    old, mine, new = "aaaaaaaa-0000-4000-8000-00000000000a", "bbbbbbbb-0000-4000-8000-00000000000b", P2
    feed.set((old, ["e0"]), (mine, ["e1", "e2", "e3"]), (new, ["f1"]))
    original = feed.serve

    def case_blind(page_id: str) -> httpx.Response:
        response = original(page_id.lower())
        if page_id.lower() == new.lower():  # its prev-archive link: the cursor's page, in upper case
            body = response.content.replace(f"Pages({mine})".encode(), f"Pages({mine.upper()})".encode())
            return httpx.Response(200, content=body)
        return response

    feed.serve = case_blind  # type: ignore[method-assign]
    checkpoint = MemoryCheckpoint(Cursor("e2", mine))
    assert poll(checkpoint) == ["e3", "f1"]
