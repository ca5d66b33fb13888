"""Text of a feed element -> the Python value its model field holds.

Each converter takes the element's text (``i:nil`` was handled before, traps.md 19) and raises
``ValueError`` with a short reason; the parser adds the entry id, the element and the text.
Surrounding whitespace is allowed for typed values (XML Schema collapses it for numbers,
booleans and GUIDs); strings are kept exactly as received.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache
from uuid import UUID

from ..models import ItemStatus
from ._timestamps import parse_timestamp

__all__ = [
    "parse_timestamp",
    "to_bool",
    "to_decimal",
    "to_int",
    "to_item_status",
    "to_uuid",
]

# ASCII digits only: int() would also take "1_000" and Arabic-Indic digits. Nineteen digits
# hold any .NET Int64, and keep int() far from Python's 4300-digit conversion limit.
# Surrounding blanks are allowed, but few: what matches is short enough to cache.
_INTEGER = re.compile(r"\s{0,32}[+-]?[0-9]{1,19}\s{0,32}")
# Every integer of the feed is a .NET Int32 or Int64: a value outside Int64 (nineteen digits
# reach 9,999,999,999,999,999,999) is no value the server can have written, nor one SQLite stores.
_INT64 = range(-(2**63), 2**63)
# xsd:decimal, as .NET writes a decimal: no exponent, no NaN or Infinity, no "1_000".
_DECIMAL = re.compile(r"\s{0,32}[+-]?(?:[0-9]{1,30}(?:\.[0-9]{0,30})?|\.[0-9]{1,30})\s{0,32}")
# The forms .NET writes a Guid in: D (hyphens), N (none), B (braces around D or N).
_GUID = re.compile(
    r"\s{0,32}(\{)?[0-9A-Fa-f]{8}(-?)[0-9A-Fa-f]{4}\2[0-9A-Fa-f]{4}\2[0-9A-Fa-f]{4}\2[0-9A-Fa-f]{12}(?(1)\})\s{0,32}"
)
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
_ITEM_STATUSES: dict[str, ItemStatus | str] = {status.value: status for status in ItemStatus}


# Numbers repeat across a page (quantities, the supplier id, the sellers' company and location
# ids, prices) and their values are immutable: a small cache makes most conversions a lookup.
# Only valid text is cached (a failure raises), and valid text is at most ~130 characters.
@lru_cache(maxsize=1024)
def to_int(text: str) -> int:
    """``quantity``, ``company-id``, ``location-id``, ``supplier-id``."""
    if _INTEGER.fullmatch(text) is None:
        raise ValueError("not an integer")
    value = int(text)
    if value not in _INT64:
        raise ValueError("out of the range of a 64-bit integer")
    return value


@lru_cache(maxsize=1024)
def to_decimal(text: str) -> Decimal:
    """``selling-price``: the consumer MSRP, never a float (traps.md 26)."""
    if _DECIMAL.fullmatch(text) is None:
        raise ValueError("not a decimal number")
    return Decimal(text.strip())


def to_bool(text: str) -> bool:
    """``ship-to-store``: ``true``/``false`` in any case, or ``1``/``0`` (traps.md 25)."""
    value = _BOOLEANS.get(text.strip().lower())
    if value is None:
        raise ValueError("not a boolean (true or false)")
    return value


# An order's id comes back in every order-status-updated event of that order (traps.md 23),
# usually soon after its order-created: worth a cache. Valid text is short, so keys are too.
@lru_cache(maxsize=1024)
def to_uuid(text: str) -> UUID:
    """``order-id``, the one id of the feed that is a real GUID (traps.md 18), in one of the
    forms .NET writes: ``D`` (hyphens), ``N`` (none) or ``B`` (braces)."""
    if _GUID.fullmatch(text) is None:
        raise ValueError("not a GUID")
    return UUID(text.strip())


def to_item_status(text: str) -> ItemStatus | str:
    """An ``ItemStatus`` for an exact wire name; any other text is kept as it is, so that a
    status added by iQmetrix later never breaks a consumer (traps.md 20)."""
    return _ITEM_STATUSES.get(text, text)
