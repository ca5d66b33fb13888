"""One poll of the feed follower, as a generator of steps that a driver carries out.

The feed has no ``since`` parameter and rolls its current page into an archive every 50 events
(traps.md 21, 22), so "what is new" is found by walking back from the current page until the page
that holds the cursor's entry, then reading forward, oldest first::

    walk back (cheap scans: page ids and entry ids only)      read forward (full parse, oldest first)
    current -> prev-archive -> ... -> page with the cursor    page with the cursor -> ... -> current

The walk remembers page ids, never pages, so memory stays flat on a backfill of any length. A
roll-over between two polls or during a walk loses nothing: the page that rolled keeps its id and
its entries, and anything newer is on the next current page, read by the next poll.

The driver loop (``follow/_follower.py``)::

    plan = poll_plan(config, cursor, start)
    step = next(plan)
    ScanPage(request)  -> send the request, answer plan.send(scan_entry_ids(body))
    ReadAhead(requests) -> optionally start fetching these pages ahead; answer plan.send(None)
    ReadPage(request)  -> send the request (or take the page fetched ahead), answer plan.send(parse_feed(body))
    Deliver(entry, cursor) -> hand the entry to the consumer; once it is handled, commit the
                              cursor with it (store.advance) and answer plan.send(None)
    SavePosition(cursor)   -> store.save(cursor) (start="latest": nothing to deliver)
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, Literal

from .._exceptions import CursorLostError, FeedParseError
from ..feed import PageScan
from ..models import FeedEntry, FeedPage
from .config import ClientConfig
from .endpoints import archive_request, notifications_request
from .http import Request

__all__ = ["Cursor", "Deliver", "ReadAhead", "ReadPage", "SavePosition", "ScanPage", "Start", "poll_plan"]

Start = Literal["earliest", "latest"]


@dataclass(frozen=True)
class Cursor:
    """The follower's place in the feed.

    ``entry_id`` is the last entry handled, ``page_id`` the page it was on when handled.
    ``Cursor(None, None)`` means "before the first entry": everything is still to come
    (what ``start="latest"`` records on an empty feed).
    """

    entry_id: str | None
    page_id: str | None


@dataclass(frozen=True)
class ScanPage:
    request: Request


@dataclass(frozen=True)
class ReadPage:
    request: Request


@dataclass(frozen=True)
class Deliver:
    entry: FeedEntry
    cursor: Cursor


@dataclass(frozen=True)
class SavePosition:
    cursor: Cursor


@dataclass(frozen=True)
class ReadAhead:
    """A hint, answered with ``None``: the pages the forward read will ask for, in order. A driver
    may fetch a few of them ahead of their ``ReadPage`` (their order and content are known now),
    so that the network wait overlaps the parse; or ignore it."""

    requests: tuple[Request, ...]


Step = ScanPage | ReadPage | ReadAhead | Deliver | SavePosition
Plan = Generator[Step, Any, None]


def poll_plan(config: ClientConfig, cursor: Cursor | None, start: Start = "earliest") -> Plan:
    """The steps of one poll: every entry after ``cursor``, oldest first."""
    scan: PageScan = yield ScanPage(notifications_request(config))
    if cursor is None and start == "latest":
        # Start after the newest entry; on an empty feed, before the first one to come.
        newest = Cursor(scan.entry_ids[0], scan.page_id) if scan.entry_ids else Cursor(None, None)
        yield SavePosition(newest)
        return
    target = cursor.entry_id if cursor is not None else None
    if target is not None and scan.entry_ids[:1] == [target]:
        return  # the newest entry is the last one handled: nothing new, one request per idle poll
    pages = yield from _walk_back(config, scan, cursor)
    yield from _read_forward(config, pages, target)


def _walk_back(config: ClientConfig, scan: PageScan, cursor: Cursor | None) -> Generator[Step, Any, list[str]]:
    """Page ids from the current page back to the page holding the cursor (or the oldest page)."""
    target = cursor.entry_id if cursor is not None else None
    pages: list[str] = []  # newest first
    while True:
        page_id = scan.page_id
        if page_id is None:
            raise FeedParseError("a feed page has no self link naming its Pages(...) id", element="link")
        if page_id in pages:
            raise FeedParseError(f"the feed's prev-archive links loop back to page {page_id}")
        pages.append(page_id)
        if target is not None and target in scan.entry_ids:
            return pages
        if target is not None and cursor is not None and page_id == cursor.page_id:
            # Archive pages never change (traps.md 21): the entry should be here and is not.
            raise CursorLostError(f"entry {target} is no longer on page {page_id}", entry_id=target, page_id=page_id)
        prev = scan.prev_archive_page_id
        if prev is None:
            if target is not None:
                raise CursorLostError(
                    f"entry {target} was not found in the feed back to its oldest page",
                    entry_id=target,
                    page_id=cursor.page_id if cursor else None,
                )
            return pages  # first replay: the oldest page
        scan = yield ScanPage(archive_request(config, prev))


def _read_forward(config: ClientConfig, pages: list[str], target: str | None) -> Plan:
    passed = target is None
    # A safety net against repeats: the previous page's ids, and those delivered from this one.
    delivered: set[str] = set()
    if len(pages) > 1:
        yield ReadAhead(tuple(archive_request(config, page_id) for page_id in reversed(pages)))
    for page_id in reversed(pages):
        page: FeedPage = yield ReadPage(archive_request(config, page_id))
        on_page: set[str] = set()
        for entry in reversed(page.entries):  # entries are newest first within a page
            on_page.add(entry.id)
            if not passed:
                passed = entry.id == target
                continue
            if entry.id in delivered:
                continue
            delivered.add(entry.id)
            yield Deliver(entry, Cursor(entry.id, page_id))
        if not passed:
            raise CursorLostError(
                f"entry {target} vanished from page {page_id} during the walk", entry_id=target, page_id=page_id
            )
        delivered = on_page
