"""The walk back through the feed's archive pages, as a small state machine.

A driver asks ``next_request()`` for the page to fetch, fetches it, hands it to ``receive()``,
and stops when ``done``. The walk starts at the current page (or at a given page) and follows
``prev-archive`` links back in time (traps.md 21) until the oldest page, which has none.

A hostile or broken feed cannot make it run forever: a page id seen twice ends the walk with
``FeedParseError``. Memory stays small: only page ids are remembered, never pages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from .._exceptions import FeedParseError
from .._text import preview
from .config import ClientConfig
from .feed import archive_request, notifications_request, page_id_of
from .http import Request

if TYPE_CHECKING:
    from ..models import FeedPage

__all__ = ["PageWalk"]


class PageWalk:
    def __init__(self, start: str | UUID | None = None) -> None:
        self._next: str | None = None if start is None else page_id_of(start)
        self._started = False
        self._seen: set[str] = set()
        self._broken: FeedParseError | None = None
        self.done = False

    def next_request(self, config: ClientConfig) -> Request:
        if self._broken is not None:
            raise self._broken  # found on the previous page, raised once that page was used
        if self.done:
            raise RuntimeError("the walk is over")
        if not self._started:
            self._started = True
            if self._next is None:
                return notifications_request(config)
        assert self._next is not None
        return archive_request(config, self._next)

    def receive(self, page: FeedPage) -> None:
        # Only for loop detection: this walk follows links and never asks for a page by its own
        # id, so a page without a self link still walks (the feed id stands in). The follower's
        # walk (follow.py) must re-read pages by id, and refuses such a page.
        page_id = page.page_id or page.id
        if page_id in self._seen:
            raise FeedParseError(f"the feed's prev-archive links loop back to page {page_id}")
        self._seen.add(page_id)
        href = page.links.prev_archive
        if not href:
            self.done = True  # the oldest page
            return
        prev = page.prev_archive_page_id
        if prev is None:
            # traps.md 4: a link that names no Pages({guid}) is never followed.
            self._broken = FeedParseError(f"prev-archive link {preview(href)} names no page id", element="link")
        elif prev in self._seen:
            self._broken = FeedParseError(f"the feed's prev-archive links loop back to page {prev}")
        self._next = prev
