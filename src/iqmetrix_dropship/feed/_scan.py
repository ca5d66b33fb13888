"""The cheap read of a feed page: its page ids and entry ids, and nothing else.

A feed follower walks back through ``prev-archive`` pages until it finds the entry it last
processed (traps.md 21-22). On the way it only needs each page's ids, so it need not pay for
building every event: ``scan_entry_ids`` applies the same hardening and refuses the same broken
Atom as ``parse_feed``, but never looks inside ``<content>``.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from .._exceptions import FeedParseError
from ..models._links import page_id_from_href
from . import _atom as atom
from ._xml import DEFAULT_MAX_FEED_BYTES, UNFORESEEN, check_prolog, local_name, parse_xml, pull_parser

__all__ = ["PageScan", "scan_entry_ids", "scan_links"]


@dataclass(frozen=True)
class PageScan:
    """What ``scan_entry_ids`` reads from a page. Page ids come from the links' ``Pages({id})``
    (``None`` when the link is absent or carries no page id, traps.md 4)."""

    page_id: str | None
    """This page's own id, from its ``self`` link."""
    prev_archive_page_id: str | None
    """The next older page; ``None`` on the oldest."""
    next_archive_page_id: str | None
    """The next newer page; ``None`` on the current page."""
    entry_ids: list[str]
    """The entries' ids as in the document: newest first."""


def _scan(root: etree._Element) -> PageScan:
    hrefs: dict[str, str | None] = {}
    entry_ids: list[str] = []
    feed_ids = 0
    for child in root[:]:  # type: ignore[index]
        tag = child.tag
        if tag == atom.ENTRY:
            ids = [member for member in child[:] if member.tag == atom.ID]  # type: ignore[index]
            if len(ids) > 1:  # as parse_feed refuses it (atom.singletons)
                raise FeedParseError("<entry> has more than one <id>", element="id")
            entry_ids.append(atom.entry_id(ids[0] if ids else None, len(entry_ids) + 1))
        elif tag == atom.LINK:
            rel = atom.link_rel(child)
            if rel is not None:
                hrefs[rel] = child.get("href")
        elif tag == atom.ID:
            feed_ids += 1
            atom.atom_id(child, "the feed")
    if feed_ids != 1:
        # The same refusals as parse_feed: a page without an id, or with two, is broken.
        problem = "has no <id>" if feed_ids == 0 else "has more than one <id>"
        raise FeedParseError(f"the feed {problem}", element=local_name(atom.ID))
    return PageScan(
        page_id=page_id_from_href(hrefs.get("self")),
        prev_archive_page_id=page_id_from_href(hrefs.get("prev_archive")),
        next_archive_page_id=page_id_from_href(hrefs.get("next_archive")),
        entry_ids=entry_ids,
    )


def scan_entry_ids(data: bytes, *, max_bytes: int = DEFAULT_MAX_FEED_BYTES) -> PageScan:
    """The page id, archive links and entry ids of one feed page, without building any event.

    Same hardening and same errors as ``parse_feed`` for the page and its entries' ids (a
    broken event inside ``<content>`` is only found by ``parse_feed``). Raises ``FeedParseError``
    and nothing else.
    """
    root = parse_xml(data, max_bytes)
    try:
        return _scan(root)
    except UNFORESEEN as exc:
        raise FeedParseError(f"invalid feed page: {exc}") from exc


_HEAD_CHUNK = 1024  # the links of a page stand in its first kilobyte or two: no need to read more


def scan_links(data: bytes, *, max_bytes: int = DEFAULT_MAX_FEED_BYTES) -> PageScan | None:
    """The page id and archive links from the head of a page (what precedes its first entry), with
    no entry ids; ``None`` when only ``scan_entry_ids`` can tell: the head does not name both this
    page (``self``) and the next older one (``prev-archive``) (the oldest page, links written after
    the entries), or the page may hold a second such link further down (its bytes hold either word
    twice, or a character reference that could spell one, or are not ASCII-compatible, as UTF-16),
    where the full scan, which takes the last, could disagree with the head. Or a DOCTYPE.

    What a follower's walk back needs from a page that cannot hold its cursor: reading a few
    kilobytes instead of the whole page. The page is parsed whole, by ``parse_feed``, when the
    forward read comes to it: anything broken further down is refused then. Same hardening as
    ``parse_xml`` (no entities, no DTD, no network); raises ``FeedParseError`` and nothing else.
    """
    data = check_prolog(data, max_bytes)
    # (``b"&"`` first: a one-byte search, much faster, and most pages have no ampersand at all.)
    if data.count(b"prev-archive") != 1 or data.count(b"self") != 1 or (b"&" in data and b"&#" in data):
        return None
    parser = pull_parser()
    links: dict[str, str | None] = {}
    depth = 0
    try:
        for offset in range(0, len(data), _HEAD_CHUNK):
            parser.feed(data[offset : offset + _HEAD_CHUNK])
            for event, element in parser.read_events():
                if not isinstance(element, etree._Element):
                    continue  # start-ns events are not asked for
                if event == "start":
                    depth += 1
                    if depth == 1 and (element.tag != atom.FEED or _has_doctype(element)):
                        return None  # not a feed, or a DTD (in UTF-16, say): the full scan refuses it
                    if depth == 2 and element.tag == atom.ENTRY:
                        return _head_scan(links)
                else:
                    if depth == 2 and element.tag == atom.LINK:
                        rel = atom.link_rel(element)
                        if rel is not None:
                            links[rel] = element.get("href")
                    depth -= 1
    except etree.XMLSyntaxError as exc:
        raise FeedParseError(f"not well-formed XML: {exc}") from exc
    except UNFORESEEN as exc:
        raise FeedParseError(f"invalid feed page: {exc}") from exc
    return None  # no entry at all: a short page, scanned whole


def _has_doctype(root: etree._Element) -> bool:
    doctype: str = root.getroottree().docinfo.doctype  # type: ignore[attr-defined] # lxml-stubs lack it
    return bool(doctype)


def _head_scan(links: dict[str, str | None]) -> PageScan | None:
    page_id = page_id_from_href(links.get("self"))
    prev = page_id_from_href(links.get("prev_archive"))
    if page_id is None or prev is None:
        return None
    return PageScan(
        page_id=page_id,
        prev_archive_page_id=prev,
        next_archive_page_id=page_id_from_href(links.get("next_archive")),
        entry_ids=[],
    )
