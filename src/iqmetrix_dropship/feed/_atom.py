"""The Atom layer of a feed page (RFC 4287, RFC 5005): ids, links, and the at-most-one rules.

Shared by the typed parser and the cheap scan, so that both refuse the same pages.
"""

from __future__ import annotations

from collections.abc import Collection

from lxml import etree

from .._exceptions import FeedParseError
from ._xml import ATOM, local_name

__all__ = [
    "CONTENT",
    "ENTRY",
    "ENTRY_MEMBERS",
    "FEED",
    "FEED_MEMBERS",
    "ID",
    "LINK",
    "LINK_RELS",
    "PUBLISHED",
    "TITLE",
    "UPDATED",
    "atom_id",
    "entry_id",
    "link_rel",
    "singletons",
]

_A = f"{{{ATOM}}}"
ID = _A + "id"
TITLE = _A + "title"
UPDATED = _A + "updated"
PUBLISHED = _A + "published"
CONTENT = _A + "content"
LINK = _A + "link"
ENTRY = _A + "entry"
FEED = _A + "feed"
ENTRY_MEMBERS = frozenset((ID, TITLE, PUBLISHED, UPDATED, CONTENT))
FEED_MEMBERS = frozenset((ID, TITLE, UPDATED))

# The rels the SDK follows (RFC 5005 section 4 for the archive ones); others are ignored.
LINK_RELS = {
    "current": "current",
    "self": "self",
    "prev-archive": "prev_archive",
    "next-archive": "next_archive",
}


def singletons(parent: etree._Element, tags: Collection[str], entry_id: str | None = None) -> dict[str, etree._Element]:
    """The children of ``parent`` among ``tags``, each of which may appear at most once.

    RFC 4287 (4.1.1, 4.1.2) allows one ``id``, ``title``, ``updated``, ``published`` and ``content``
    per feed or entry. Two ids would make the follower's cursor ambiguous (traps.md 22), two
    contents the event: refuse rather than guess.
    """
    found: dict[str, etree._Element] = {}
    for child in parent[:]:  # type: ignore[index]
        tag = child.tag
        if tag in tags:
            if tag in found:
                raise FeedParseError(
                    f"<{local_name(parent.tag)}> has more than one <{local_name(tag)}>",
                    entry_id=entry_id,
                    element=local_name(tag),
                )
            found[tag] = child
    return found


def atom_id(element: etree._Element | None, owner: str, entry_id: str | None = None) -> str:
    """The text of a required ``<id>``: an opaque string, stripped (an IRI has no blanks),
    never parsed as a UUID (traps.md 18)."""
    text = (element.text or "").strip() if element is not None else ""
    if not text:
        raise FeedParseError(f"{owner} has no <id>", entry_id=entry_id, element="id")
    return text


def entry_id(element: etree._Element | None, position: int) -> str:
    """The id of the ``position``-th entry of a page (from 1), required as ``atom_id``."""
    text = (element.text or "").strip() if element is not None else ""
    if not text:
        return atom_id(None, f"entry #{position} of the page")  # raises, saying which entry
    return text


def link_rel(link: etree._Element) -> str | None:
    """The model field a ``<link>`` fills (``prev_archive``, ...), or ``None`` for other rels."""
    rel = link.get("rel")
    if rel is None:
        return None
    return LINK_RELS.get(rel) or LINK_RELS.get(rel.strip())
