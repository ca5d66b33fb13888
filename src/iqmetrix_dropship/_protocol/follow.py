"""One poll of the feed follower, as a generator of steps that a driver carries out.

The feed has no ``since`` parameter and rolls its current page into an archive every 50 events
(traps.md 21, 22), so "what is new" is found by walking back from the current page until the page
that holds the cursor's entry, then reading forward, oldest first::

    walk back (cheap scans: page ids, entry ids)              read forward (full parse, oldest first)
    current -> prev-archive -> ... -> page with the cursor    page with the cursor -> ... -> current

The walk needs each page's links, and the entry ids only of the current page and of the cursor's:
the others are read up to their first entry (``ScanPage(entry_ids=False)``). The plan remembers page
ids, never pages; a driver may keep the bytes it fetched on the way back (within a bound) and answer
the forward read's ``ReadPage`` from them, so that no page is fetched twice in one poll. A
roll-over between two polls or during a walk loses nothing: the page that rolled keeps its id and
its entries, and anything newer is on the next current page, read by the next poll.

The driver loop (``follow/_follower.py``)::

    plan = poll_plan(config, cursor, start)
    step = next(plan)
    ScanPage(request, entry_ids) -> send the request, answer plan.send(scan_entry_ids(body)) (or, when
                              entry_ids is False, the links only: read_scan(response, entry_ids=False))
    ReadAhead(requests, page_ids) -> optionally start reading these pages ahead; answer plan.send(None)
    ReadPage(request, page_id) -> answer plan.send(parse_feed(body)), body as kept from the walk
                              back, or read ahead, or fetched now
    Deliver(entry, cursor) -> hand the entry to the consumer; once it is handled, commit the
                              cursor with it (store.advance) and answer plan.send(None)
    SavePosition(cursor)   -> store.save(cursor): a position with nothing to deliver (start="latest",
                              or an entry id the poll has already seen)
    a fetch that raised an APIError -> plan.throw(error): the plan decides what it means
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, Literal

from .._exceptions import BadRequestError, CursorLostError, FeedParseError, NotFoundError
from ..feed import PageScan
from ..models import FeedEntry, FeedPage
from .config import ClientConfig
from .feed import archive_request, notifications_request
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
    entry_ids: bool = True
    """Whether the plan needs the page's entry ids, or only its links."""


@dataclass(frozen=True)
class ReadPage:
    request: Request
    page_id: str = ""
    """The page's id, as the walk back scanned it (the key of its kept bytes)."""


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
    page_ids: tuple[str, ...] = ()


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
    if cursor is not None and cursor.entry_id is None:
        cursor = None  # "before the first entry": everything is still to come
    if cursor is not None and _is_idle(scan, cursor):
        return  # the newest entry is the last one handled: nothing new, one request per idle poll
    pages = yield from _walk_back(config, scan, cursor)
    yield from _read_forward(config, pages, cursor)


def _is_idle(scan: PageScan, cursor: Cursor) -> bool:
    """The current page is the cursor's page and its newest entry is the cursor's, with nothing after
    it: the id stands once on the page (an id emitted again at the top, after new entries, is not
    the position the cursor names, which is the id's first occurrence)."""
    ids = scan.entry_ids
    return bool(ids) and ids[0] == cursor.entry_id and cursor.entry_id not in ids[1:] and _is_cursor_page(scan, cursor)


def _is_cursor_page(scan: PageScan, cursor: Cursor) -> bool:
    # A cursor from a store that kept no page id falls back to the first page holding the entry.
    return cursor.page_id is None or scan.page_id == cursor.page_id


def _fetch(step: ScanPage | ReadPage, cursor: Cursor | None, page_id: str) -> Generator[Step, Any, Any]:
    """Yield ``step`` and return its answer. With a cursor, an archive page the server does not
    have (404) or will not serve (400 ``The request is invalid``) means the way back to the cursor
    is gone: ``CursorLostError``, the error an operator acts on, not a bare API error."""
    try:
        return (yield step)
    except (NotFoundError, BadRequestError) as error:
        if cursor is None:
            raise
        raise CursorLostError(
            f"page {page_id} on the way back to entry {cursor.entry_id} answered HTTP {error.status_code}",
            entry_id=cursor.entry_id,
            page_id=cursor.page_id,
        ) from None


def _walk_back(config: ClientConfig, scan: PageScan, cursor: Cursor | None) -> Generator[Step, Any, list[str]]:
    """Page ids from the current page back to the cursor's page (or the oldest page).

    The cursor names its page: the walk stops there, not at the first page that holds the entry's
    id, since an at-least-once feed may emit an id again on a newer page (stopping there would
    skip what follows the cursor on its own page).
    """
    pages: list[str] = []  # newest first
    while True:
        page_id = scan.page_id
        if page_id is None:
            raise FeedParseError("a feed page has no self link naming its Pages(...) id", element="link")
        if page_id in pages:
            raise FeedParseError(f"the feed's prev-archive links loop back to page {page_id}")
        pages.append(page_id)
        if cursor is not None and _is_cursor_page(scan, cursor):
            if cursor.entry_id in scan.entry_ids:
                return pages
            if cursor.page_id is not None:
                # Archive pages never change (traps.md 21): the entry should be here and is not.
                raise CursorLostError(
                    f"entry {cursor.entry_id} is no longer on page {page_id}",
                    entry_id=cursor.entry_id,
                    page_id=page_id,
                )
        prev = scan.prev_archive_page_id
        if prev is None:
            if cursor is not None:
                where = f"page {cursor.page_id} nor " if cursor.page_id is not None else ""
                raise CursorLostError(
                    f"neither {where}entry {cursor.entry_id} was found in the feed back to its oldest page",
                    entry_id=cursor.entry_id,
                    page_id=cursor.page_id,
                )
            return pages  # first replay: the oldest page
        # The entry ids matter on the cursor's page only (any page, for a cursor without one).
        ids = cursor is not None and cursor.page_id in (None, prev)
        scan = yield from _fetch(ScanPage(archive_request(config, prev), entry_ids=ids), cursor, prev)
        if not ids and cursor is not None and _is_cursor_page(scan, cursor):
            # The page names itself otherwise than the link that led to it (its id's case, say):
            # it is the cursor's page after all, and its entry ids are needed.
            scan = yield from _fetch(ScanPage(archive_request(config, prev)), cursor, prev)


def _read_forward(config: ClientConfig, pages: list[str], cursor: Cursor | None) -> Plan:
    """Read the pages oldest first and deliver each entry after the cursor, once per poll.

    Ids are de-duplicated across every page of the poll: an id seen before (on the cursor's page
    up to the cursor, or delivered earlier in this poll) is not delivered again, wherever it
    reappears; the cursor still moves past it (``SavePosition``), so that the next poll does not
    deliver it either. On the cursor's page the position is the entry's first occurrence: should
    the id appear twice there, what lies between is delivered again rather than skipped.
    """
    target = cursor.entry_id if cursor is not None else None
    passed = target is None
    seen: set[str] = set()
    if len(pages) > 1:
        forward = tuple(reversed(pages))
        yield ReadAhead(tuple(archive_request(config, page_id) for page_id in forward), forward)
    for page_id in reversed(pages):
        page: FeedPage = yield from _fetch(ReadPage(archive_request(config, page_id), page_id), cursor, page_id)
        on_page: set[str] = set()
        for entry in reversed(page.entries):  # entries are newest first within a page
            first_on_page = entry.id not in on_page
            on_page.add(entry.id)
            if not passed:
                seen.add(entry.id)  # handled in an earlier poll
                passed = entry.id == target
                continue
            if entry.id in seen:
                # A repeat: already handled, never delivered twice. The cursor moves past it if it
                # can name this place: (id, page) means the id's first occurrence on the page.
                if first_on_page:
                    yield SavePosition(Cursor(entry.id, page_id))
                continue
            seen.add(entry.id)
            yield Deliver(entry, Cursor(entry.id, page_id))
        if not passed:
            raise CursorLostError(
                f"entry {target} vanished from page {page_id} during the walk", entry_id=target, page_id=page_id
            )
