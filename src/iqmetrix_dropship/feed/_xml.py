"""From untrusted bytes to an lxml tree, safely: the one door every feed page goes through.

A feed page is read from the network, so it is treated as hostile until proven otherwise:

- the size is capped *before* parsing (a 50-entry page is ~150 KB; the default cap is 10 MiB);
- the parser never resolves entities, never loads a DTD and never touches the network, and keeps
  libxml2's own limits on (``huge_tree=False``: depth, text-node size, entity amplification);
- any DOCTYPE is refused. With entity resolution off, ``&name;`` would not explode, but it would
  silently vanish from a value (a truncated SKU is worse than an error), and the feed has no use
  for a DTD anyway;
- elements are matched by namespace URI, never by prefix (traps.md 19).

Everything that goes wrong here is raised as :class:`~iqmetrix_dropship.FeedParseError`.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from lxml import etree

from .._exceptions import ArgumentTypeError, FeedParseError
from .._text import preview

__all__ = [
    "ATOM",
    "DEFAULT_MAX_FEED_BYTES",
    "DROPSHIP",
    "NIL",
    "UNFORESEEN",
    "XSI",
    "check_prolog",
    "describe",
    "is_nil",
    "local_name",
    "parse_xml",
    "preview",
    "pull_parser",
]

DEFAULT_MAX_FEED_BYTES: int = 10 * 1024 * 1024
"""The default size cap: 10 MiB, some 50 times a full 50-entry page."""

ATOM = "http://www.w3.org/2005/Atom"
DROPSHIP = "urn:iQmetrix:dropship"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NIL = f"{{{XSI}}}nil"

_FEED = f"{{{ATOM}}}feed"

# What escapes a converter or lxml when a page is broken in a way no check foresaw. Caught once,
# at the top of each entry point, so that a caller only ever has to handle FeedParseError.
# UnicodeError and pydantic's ValidationError are ValueErrors; OverflowError and decimal's
# errors are ArithmeticErrors.
UNFORESEEN = (ValueError, LookupError, ArithmeticError, RecursionError, etree.LxmlError)

# The prolog (XML declaration, comments, processing instructions, blanks) up to where a DOCTYPE
# would have to stand. Checking it before libxml2 reads the internal subset means that a hostile
# DTD is refused whatever libxml2 version lxml links (old ones have no amplification limit). It
# only sees ASCII-compatible encodings; the ``docinfo`` check after parsing catches the others.
# Blanks are matched as runs (\s+), not one by one: a megabyte of them is then one C loop.
_PROLOG = re.compile(rb"(?:\xef\xbb\xbf)?(?:\s+|<\?.*?\?>|<!--.*?-->)*", re.DOTALL)
_DOCTYPE = b"<!DOCTYPE"

_HARDENED: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    # Comments and processing instructions carry nothing for us; dropping them also keeps
    # ``element.text`` whole when a comment splits a value (``AB<!-- -->CD`` -> ``ABCD``).
    "remove_comments": True,
    "remove_pis": True,
    # Whitespace between elements is layout, not data: not building a node for each run
    # makes the parse about a quarter faster. A value that is only blanks (<notes> </notes>)
    # is kept: libxml2 only drops blanks that sit between elements.
    "remove_blank_text": True,
    # xml:id attributes mean nothing in the feed; not indexing them is a little faster.
    "collect_ids": False,
}

_local = threading.local()


def _new_parser() -> etree.XMLParser:
    return etree.XMLParser(**_HARDENED)


def pull_parser() -> etree.XMLPullParser:
    """A new hardened parser fed in pieces, for reading a page's head without the rest."""
    return etree.XMLPullParser(events=("start", "end"), **_HARDENED)


def _parser() -> etree.XMLParser:
    """This thread's parser. lxml parser objects must not be shared between threads, and reusing
    one per thread saves building a libxml2 context for every page."""
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = _new_parser()
    return parser


def _refuse_doctype() -> FeedParseError:
    return FeedParseError(
        "refused: the document has a DOCTYPE (DTDs and entity declarations are not allowed in a feed page)"
    )


def check_prolog(data: bytes, max_bytes: int) -> bytes:
    """``data`` as bytes, checked before any parse: its size, that it is not empty, no DOCTYPE
    in its prolog. ``TypeError`` when ``data`` is not bytes (a caller's bug, e.g. passing
    ``response.text``: the page must be parsed from its bytes, which carry the encoding)."""
    if type(data) is not bytes:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise ArgumentTypeError(f"a feed page must be bytes, not {type(data).__name__}")
        data = bytes(data)
    if len(data) > max_bytes:
        raise FeedParseError(f"refused: the page is {len(data)} bytes, over the {max_bytes} cap")
    if not data or data.isspace():
        raise FeedParseError("not a feed: the body is empty")
    prolog = _PROLOG.match(data)
    if prolog is not None and data.startswith(_DOCTYPE, prolog.end()):
        raise _refuse_doctype()
    return data


def parse_xml(data: bytes, max_bytes: int) -> etree._Element:
    """The root ``<feed>`` of ``data``, parsed by the hardened parser.

    Raises ``FeedParseError`` when ``data`` is too large, empty, not well-formed XML, has a
    DOCTYPE, or is not an Atom feed. ``TypeError`` when ``data`` is not bytes (a caller's bug,
    e.g. passing ``response.text``: the page must be parsed from its bytes, which carry the encoding).
    """
    data = check_prolog(data, max_bytes)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise FeedParseError(f"not well-formed XML: {exc}") from exc
    # What the prolog check cannot see (UTF-16 and other encodings). lxml-stubs lack ``doctype``.
    doctype: str = root.getroottree().docinfo.doctype  # type: ignore[union-attr]
    if doctype:
        raise _refuse_doctype()
    if root.tag != _FEED:
        raise FeedParseError(f"not an Atom feed: the root element is {describe(root)}")
    return root


def local_name(tag: object) -> str:
    """``order-id`` for ``{urn:iQmetrix:dropship}order-id``."""
    text = str(tag)
    return text.rpartition("}")[2]


def describe(element: etree._Element) -> str:
    """``<order-created>`` in namespace ``'urn:x'``, for error messages."""
    tag = str(element.tag)
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return f"<{local}> in namespace {namespace!r}"
    return f"<{tag}> in no namespace"


_TRUE = frozenset(("true", "1"))


def is_nil(element: etree._Element) -> bool:
    """``i:nil="true"``: the value is null, which is not the same as empty text (traps.md 19)."""
    value = element.get(NIL)
    # xsd:boolean, so "1" counts too, and blanks around the value are allowed.
    return value is not None and (value in _TRUE or value.strip() in _TRUE)
