"""``poll_plan`` driven directly, without a network: a feed given as a table of pages, a cursor, and
what one poll must fetch, deliver and save. The driver here answers the plan as the followers do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from iqmetrix_dropship import APIError, BadRequestError, Cursor, CursorLostError, FeedParseError, NotFoundError
from iqmetrix_dropship._protocol.config import ClientConfig
from iqmetrix_dropship._protocol.follow import Deliver, ReadAhead, ReadPage, SavePosition, ScanPage, poll_plan
from iqmetrix_dropship.feed import parse_feed, scan_entry_ids

from ..client.feeds import page

CONFIG = ClientConfig.build(supplier_id=60455, base_url="https://dropship.test/v1", accounts_url="https://a.test/v1")
P = [f"00000000-0000-4000-8000-{n:012d}" for n in range(5)]


@dataclass
class Poll:
    """What one poll did: the pages it scanned and read (by id), what it delivered and saved."""

    scanned: list[str] = field(default_factory=list)
    read: list[str] = field(default_factory=list)
    delivered: list[str] = field(default_factory=list)
    saved: list[Cursor] = field(default_factory=list)
    read_ahead: list[str] = field(default_factory=list)
    last: Cursor | None = None


def run(pages: list[tuple[str, list[str]]], cursor: Cursor | None, start: str = "earliest", **refuse: int) -> Poll:
    """One poll over ``pages`` (oldest first, each with its entry ids oldest first)."""
    ids = [page_id for page_id, _ in pages]
    bodies = {
        page_id: page(page_id, list(reversed(entries)), prev=ids[n - 1] if n else None)
        for n, (page_id, entries) in enumerate(pages)
    }
    done = Poll()

    def fetch(url: str) -> bytes:
        page_id = ids[-1] if url.endswith("/Notifications") else url.rsplit("Pages(", 1)[1].rstrip(")")
        status = refuse.get(f"p{ids.index(page_id)}")
        if status is not None:
            raise (NotFoundError if status == 404 else BadRequestError)("refused", status_code=status)
        return bodies[page_id]

    plan = poll_plan(CONFIG, cursor, start)  # type: ignore[arg-type]
    answer: Any = None
    failure: BaseException | None = None
    while True:
        try:
            step = plan.send(answer) if failure is None else plan.throw(failure)
        except StopIteration:
            return done
        answer, failure = None, None
        try:
            if isinstance(step, ScanPage):
                scan = scan_entry_ids(fetch(step.request.url))
                done.scanned.append(str(scan.page_id))
                answer = scan
            elif isinstance(step, ReadPage):
                feed = parse_feed(fetch(step.request.url))
                done.read.append(str(feed.page_id))
                answer = feed
            elif isinstance(step, ReadAhead):
                done.read_ahead = [request.url.rsplit("Pages(", 1)[1].rstrip(")") for request in step.requests]
            elif isinstance(step, SavePosition):
                done.saved.append(step.cursor)
                done.last = step.cursor
            elif isinstance(step, Deliver):
                done.delivered.append(step.entry.id)
                done.last = step.cursor
        except APIError as error:  # handed to the plan, as the followers do
            failure = error


FEED = [(P[0], ["a", "b", "c"]), (P[1], ["d", "e", "f"]), (P[2], ["g", "h"])]


@pytest.mark.parametrize(
    ("cursor", "delivered", "scanned", "read"),
    [
        # no cursor: the whole history, oldest first; the walk back scans every page
        (None, list("abcdefgh"), [P[2], P[1], P[0]], [P[0], P[1], P[2]]),
        # a cursor in an archive: the walk stops at its page, and reads forward from there
        (Cursor("e", P[1]), ["f", "g", "h"], [P[2], P[1]], [P[1], P[2]]),
        (Cursor("c", P[0]), ["d", "e", "f", "g", "h"], [P[2], P[1], P[0]], [P[0], P[1], P[2]]),
        # the last entry of the current page: one request, nothing read
        (Cursor("h", P[2]), [], [P[2]], []),
        # a cursor on the current page, but not its newest entry
        (Cursor("g", P[2]), ["h"], [P[2]], [P[2]]),
        # a cursor without a page (a store of one's own): the first page that holds the entry
        (Cursor("e", None), ["f", "g", "h"], [P[2], P[1]], [P[1], P[2]]),
        # "before the first entry" (what start="latest" records on an empty feed)
        (Cursor(None, None), list("abcdefgh"), [P[2], P[1], P[0]], [P[0], P[1], P[2]]),
    ],
)
def test_a_poll_fetches_delivers_and_moves_the_cursor_as_the_table_says(
    cursor: Cursor | None, delivered: list[str], scanned: list[str], read: list[str]
) -> None:
    done = run(FEED, cursor)
    assert done.delivered == delivered
    assert done.scanned == scanned
    assert done.read == read
    if delivered:
        assert done.last == Cursor(
            delivered[-1], P[0] if delivered[-1] in "abc" else P[1] if delivered[-1] in "def" else P[2]
        )


def test_reading_ahead_is_announced_in_the_order_the_pages_are_read() -> None:
    done = run(FEED, None)
    assert done.read_ahead == [P[0], P[1], P[2]]
    assert run(FEED, Cursor("g", P[2])).read_ahead == []  # one page: nothing to read ahead


@pytest.mark.parametrize(
    ("pages", "cursor", "delivered", "saved"),
    [
        # an id emitted again on a newer page is delivered once; the cursor moves past the repeat
        ([(P[0], ["a", "b"]), (P[1], ["c", "a"])], None, ["a", "b", "c"], [Cursor("a", P[1])]),
        # the cursor's id on a newer page does not hide what follows the cursor on its own page
        ([(P[0], ["a", "b", "c"]), (P[1], ["b", "d"])], Cursor("b", P[0]), ["c", "d"], [Cursor("b", P[1])]),
        # an id twice on one page: its second place cannot be named by (id, page), the cursor stays
        ([(P[0], ["a", "b", "c", "b"])], Cursor("b", P[0]), ["c"], []),
    ],
)
def test_ids_are_delivered_once_per_poll_wherever_they_reappear(
    pages: list[tuple[str, list[str]]], cursor: Cursor | None, delivered: list[str], saved: list[Cursor]
) -> None:
    done = run(pages, cursor)
    assert done.delivered == delivered
    assert done.saved == saved


def test_start_latest_saves_the_newest_entry_and_delivers_nothing() -> None:
    done = run(FEED, None, start="latest")
    assert done.delivered == []
    assert done.saved == [Cursor("h", P[2])]
    assert done.scanned == [P[2]]


def test_start_latest_on_an_empty_feed_saves_before_the_first_entry() -> None:
    assert run([(P[0], [])], None, start="latest").saved == [Cursor(None, None)]


@pytest.mark.parametrize(
    ("cursor", "refused", "message"),
    [
        (Cursor("zz", P[1]), {}, "no longer on page"),  # archive pages never change
        (Cursor("a", P[4]), {}, "back to its oldest page"),  # a page the feed does not reach
        (Cursor("zz", None), {}, "back to its oldest page"),
        (Cursor("a", P[0]), {"p0": 404}, "answered HTTP 404"),  # a page on the way answers an error
        (Cursor("d", P[1]), {"p1": 400}, "answered HTTP 400"),
    ],
)
def test_a_cursor_the_feed_cannot_lead_back_to_is_lost(cursor: Cursor, refused: dict[str, int], message: str) -> None:
    with pytest.raises(CursorLostError, match=message) as caught:
        run(FEED, cursor, **refused)
    assert caught.value.entry_id == cursor.entry_id


def test_without_a_cursor_a_missing_archive_is_the_api_error_it_is() -> None:
    with pytest.raises(NotFoundError):
        run(FEED, None, p0=404)


def test_a_loop_of_prev_archive_links_is_a_parse_error() -> None:
    looped = page(P[1], ["x"], prev=P[1])
    plan = poll_plan(CONFIG, None)
    step = next(plan)
    assert isinstance(step, ScanPage)
    step = plan.send(scan_entry_ids(looped))
    with pytest.raises(FeedParseError, match="loop"):
        plan.send(scan_entry_ids(looped))
