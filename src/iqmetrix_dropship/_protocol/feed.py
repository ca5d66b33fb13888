"""Feed requests and replies: the current page, an archive page by its id or href, and reading
an answer as a typed page or as the cheap scan a follower walks back with.

Paths follow docs/traps.md 2 (plural ``Suppliers``, bare keys); a page is always fetched from the
configured host, never from the host a feed link names (traps.md 4).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from uuid import UUID

from .._exceptions import FeedParseError, InvalidRequestError
from .._text import preview
from ..feed import PageScan, scan_entry_ids
from ..feed._scan import scan_links
from ..models._links import page_id_from_href
from .config import ClientConfig
from .http import Request, Response

if TYPE_CHECKING:
    from ..models import FeedPage

__all__ = ["archive_request", "notifications_request", "page_id_of", "parse_page", "read_feed", "read_scan"]

_FEED_HEADERS = {"Accept": "application/atom+xml"}
_BARE_PAGE_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")


def notifications_request(config: ClientConfig) -> Request:
    """``GET /Suppliers({id})/Notifications``: the current page."""
    return Request(
        "GET",
        f"{config.supplier_url}/Notifications",
        purpose="feed",
        headers=_FEED_HEADERS,
        max_body_bytes=config.max_feed_bytes,
    )


def page_id_of(page: str | UUID) -> str:
    """A page's id from its GUID or from a ``prev-archive``/``next-archive`` href.

    traps.md 4: hrefs always name the production host, so only the ``Pages({guid})`` id is
    taken from them and the URL is rebuilt on the configured base: the bearer token never
    goes to a host the caller did not configure. An href without a page id is refused.
    """
    if isinstance(page, UUID):
        return str(page)
    if not isinstance(page, str):  # None, an int: never sent as Pages(None)
        raise InvalidRequestError(f"a page is a page id or a link to one (a str or a UUID), not {type(page).__name__}")
    text = page.strip()
    if _BARE_PAGE_ID.match(text):
        return text
    page_id = page_id_from_href(text)
    if page_id is None:
        raise InvalidRequestError(f"{preview(page)} is neither a page id nor a link to a Pages(...) page")
    return page_id


def archive_request(config: ClientConfig, page: str | UUID) -> Request:
    """``GET /Suppliers({id})/Notifications/Pages({guid})``: any page, the current one included."""
    return Request(
        "GET",
        f"{config.supplier_url}/Notifications/Pages({page_id_of(page)})",
        purpose="feed",
        headers=_FEED_HEADERS,
        max_body_bytes=config.max_feed_bytes,
    )


def read_feed(response: Response) -> FeedPage:
    """The typed page. The transport already refused a body over the client's ``max_feed_bytes``."""
    return parse_page(response.content)


def parse_page(content: bytes) -> FeedPage:
    """The typed page from a body the transport took (and capped) already."""
    from ..feed import parse_feed  # noqa: PLC0415 - the typed models load with the first page read

    return parse_feed(content, max_bytes=len(content) + 1)


def read_scan(response: Response, *, entry_ids: bool = True) -> PageScan:
    """The cheap read of a page that a follower uses while walking back: its ids, or with
    ``entry_ids=False`` only its links when its head has them (``entry_ids`` is then empty)."""
    content = response.content
    if not entry_ids:
        try:
            head = scan_links(content, max_bytes=len(content) + 1)
        except FeedParseError:
            head = None  # the full scan decides (lxml's pull parser misses a UTF-32 BOM, say)
        if head is not None:
            return head
    return scan_entry_ids(content, max_bytes=len(content) + 1)
