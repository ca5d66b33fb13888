"""How much the emulator reads and stores: the bounds that keep every feed page readable.

The SDK refuses a feed page over ``DEFAULT_MAX_FEED_BYTES`` (10 MiB, ``feed/_xml.py``) before
parsing it, and a page holds ``PAGE_SIZE`` (50) entries that never change once archived. So one
oversized entry would break every read of its page for good. Two bounds prevent that:

- every entry is at most ``MAX_ENTRY_BYTES`` rendered: 50 of them, plus the page's own markup,
  stay under the SDK's cap whatever the requests were (:func:`check_entry_size`);
- every request body is read with a cap (:func:`read_body`), refused with ``413`` as soon as it
  is known to pass it, so that an attacker's 12 MiB body is never held in memory, and an update
  body under the cap can always make an entry under ``MAX_ENTRY_BYTES`` (the arithmetic is at
  ``MAX_UPDATE_BODY_BYTES``).

JSON bodies are parsed by :func:`parse_json`, which refuses deep nesting before ``json`` can
recurse into a ``RecursionError``.
"""

from __future__ import annotations

import dataclasses
import json
import re
from decimal import Decimal
from typing import TYPE_CHECKING

from ._config import PAGE_SIZE
from ._xml import render_entry

if TYPE_CHECKING:
    from starlette.requests import Request

    from ._records import Event

__all__ = [
    "FEED_PAGE_BUDGET",
    "MAX_ADMIN_BODY_BYTES",
    "MAX_CATALOG_BODY_BYTES",
    "MAX_ENTRY_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_PRODUCT_BODY_BYTES",
    "MAX_TOKEN_BODY_BYTES",
    "MAX_UPDATE_BODY_BYTES",
    "BodyTooLargeError",
    "EntryTooLargeError",
    "InvalidJsonError",
    "RequestTooLargeError",
    "check_entry_size",
    "parse_json",
    "read_body",
]

FEED_PAGE_BUDGET = 10 * 1024 * 1024
"""The SDK's ``DEFAULT_MAX_FEED_BYTES`` (``feed/_xml.py``): no page may be larger (a test pins
the two together; the emulator does not import the SDK's parser to learn it)."""

MAX_ENTRY_BYTES = 200 * 1024
"""The largest rendered ``<entry>``: 50 x 200 KiB = 10,000 KiB, which leaves 240 KiB of the
10,240 KiB budget for the page's own markup (the XML declaration, title, id, author and four
links: under 1 KiB with the default public host)."""

MAX_UPDATE_BODY_BYTES = 32 * 1024
"""An ``OrderStatusUpdate`` / ``ItemStatusUpdate`` body. All its text lands in the feed, and
XML escaping grows it at most fivefold (``&`` -> ``&amp;``; ``<`` and ``>`` take four bytes, a
character takes as many UTF-8 bytes in the feed as in the JSON, and a ``\\uXXXX`` escape shrinks).
So the text of a one-item update is at most 5 x 32 KiB = 160 KiB in the feed, and with the
entry's markup, sku and catalog id (under 3 KiB) it fits ``MAX_ENTRY_BYTES``: fifty maximal
updates make a page of at most 50 x 163 KiB = 8 MiB, under the SDK's 10 MiB. Updates whose text is repeated (an
order-level update copies it into each of the order's items) or that list many items can
still render larger: those are refused by their rendered size (:func:`check_entry_size`). A
real update is a few hundred bytes; fifty items with tracking numbers are some 10 KiB."""

MAX_TOKEN_BODY_BYTES = 8 * 1024
"""A token request: five short form fields (iQmetrix's Authentication page, summarised in
docs/guides/authentication.md); a refresh token is 34 bytes."""

MAX_ADMIN_BODY_BYTES = 256 * 1024
"""An admin body. The largest is an order of ``MAX_ITEMS`` (50) items with the longest texts
(``_orders.py``: 400 characters per item), each character written as a 12-byte surrogate-pair
escape: 50 x 400 x 12 = 240,000 bytes, plus the keys."""

MAX_CATALOG_BODY_BYTES = 4 * 1024 * 1024
"""An ``Availability`` or ``Cost`` body. Their ``Products`` are capped at ``MAX_CATALOG_PRODUCTS``
(``_catalog.py``: 10,000); one product is some 60 bytes (``{"Sku": "9101AGAP6", "IsAvailable":
true, "Quantity": 10}``), and even with 100-character skus 10,000 of them come to some 1.6 MB."""

MAX_PRODUCT_BODY_BYTES = 1024 * 1024
"""A product-feed ``POST``: one product (or a short array of them, ``_products.py``)."""

MAX_JSON_DEPTH = 64
"""Json.NET's default ``MaxDepth`` (since 13.0.1). No body the emulator takes is deeper than 3;
Python's ``json`` would recurse into a ``RecursionError`` at about 1,000."""


class BodyTooLargeError(Exception):
    """A ``413``: the body is, or was declared, over ``limit`` bytes."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"The request body is larger than the limit of {limit} bytes.")
        self.limit = limit


class RequestTooLargeError(Exception):
    """A ``413``: the body is under the byte cap, but holds more than the emulator takes at once
    (more than 10,000 products in one ``Availability`` or ``Cost`` request, a full product feed)."""


class InvalidJsonError(ValueError):
    """A ``400``: the body is not JSON, or nested deeper than ``MAX_JSON_DEPTH``."""


class EntryTooLargeError(ValueError):
    """The change would make a feed entry over ``MAX_ENTRY_BYTES``: refused, nothing changed."""

    def __init__(self, size: int) -> None:
        super().__init__(
            f"The change would make a feed entry of {size} bytes, over the limit of {MAX_ENTRY_BYTES} bytes "
            f"(a page of {PAGE_SIZE} entries must stay under {FEED_PAGE_BUDGET} bytes)."
        )
        self.size = size


# As wide as the widest entry id (a malformed one, traps.md 18, is 49 characters after the
# prefix), so that an event can be measured before its real id is drawn.
_WIDEST_ENTRY_ID = "urn:uuid:" + "0" * 64


def check_entry_size(event: Event) -> None:
    """Raise :class:`EntryTooLargeError` if ``event``'s entry would be over ``MAX_ENTRY_BYTES``.

    ``event.entry_id`` is ignored: the entry is measured with the widest id there can be.
    """
    size = len(render_entry(dataclasses.replace(event, entry_id=_WIDEST_ENTRY_ID)).encode("utf-8"))
    if size > MAX_ENTRY_BYTES:
        raise EntryTooLargeError(size)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, read with a bound: never more than ``limit`` bytes are held.

    A ``Content-Length`` over ``limit`` is refused before any of the body is read; a chunked
    body as soon as the bytes received pass ``limit``.
    """
    declared = request.headers.get("content-length", "")
    # The length check comes first: int() of a 5,000-digit header raises ValueError.
    if declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
        raise BodyTooLargeError(limit)
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise BodyTooLargeError(limit)
        chunks.append(chunk)
    return b"".join(chunks)


# A JSON string, escapes included: what lies inside one is no nesting.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


def _depth(text: str) -> int:
    """How deep ``text``'s arrays and objects nest; for a valid document, exactly."""
    deepest = depth = 0
    for bracket in _BRACKETS.finditer(_JSON_STRING.sub('""', text)):
        if bracket.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def parse_json(raw: bytes, *, decimals: bool = False) -> object:
    """``raw`` parsed as JSON; :class:`InvalidJsonError` for anything that is not.

    The nesting is measured before parsing, so that ``json`` never recurses deep: its
    ``RecursionError`` is no ``ValueError``, and escaped as a ``500``.

    With ``decimals``, every JSON number with a fraction or an exponent is read as a ``Decimal``
    (never a float: a cost is money), and ``NaN``/``Infinity`` as the ``Decimal`` of that name,
    for the caller's checks to refuse; integers stay ``int``.
    """
    try:
        # As json.loads() decodes bytes (UTF-8, -16 or -32), so that the scan sees what it parses.
        text = raw.decode(json.detect_encoding(raw), "surrogatepass")
    except UnicodeDecodeError as error:
        raise InvalidJsonError(f"The request body is not valid JSON: {error}") from None
    if _depth(text) > MAX_JSON_DEPTH:
        raise InvalidJsonError(f"The JSON is nested deeper than {MAX_JSON_DEPTH} levels.")
    try:
        if decimals:
            return json.loads(text, parse_float=Decimal, parse_constant=Decimal)
        return json.loads(text)
    except (ValueError, RecursionError) as error:  # RecursionError: should the scan ever be fooled
        raise InvalidJsonError(f"The request body is not valid JSON: {error}") from None
