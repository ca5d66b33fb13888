"""Every rule a status update follows before it is sent, in one place.

The request models (``models/_updates.py``) apply the rules on their fields when they are built;
the request builders (``updates.py``) apply the rules that span a call (the URL's order id, the
``Shipped`` rule with its opt-out). Each rule is a plain function raising ``ValueError`` with a
message that names the field and quotes the input as a short preview. When the server's echo is
read back (``echo=True``) the same fields are read leniently: what the server says is kept, never
refused (docs/traps.md 15).

=============================================  ========================================  ==========
rule                                           function                                  traps.md
=============================================  ========================================  ==========
a status is an enum member or its exact wire   ``status``                                6
name (not ``"Exception"``, ``"shipped "``)
``Status`` is always sent                      the models require it                     7
the body's ``Id`` is the URL's order id, a     ``order_id`` (and the builders)           8, 18
GUID
text fields are strings (a number becomes its  ``text``                                  9
digits); no lone surrogate
``Quantity`` is a whole number >= 1            ``quantity``                              10
an item update has items                       ``updates.item_status_request``           11
items are keyed by a non-blank ``Sku``         ``sku``                                   12
``ReferenceName``/``ReferenceValue`` are       ``RESERVED_FIELDS``                       13
accepted and never sent; other unknown fields
are refused
``Shipped`` needs a tracking number and a      ``untracked``, ``shipping_text``          14
carrier (blank is none) unless opted out
=============================================  ========================================  ==========
"""

from __future__ import annotations

import re
from typing import Any, TypeVar
from uuid import UUID

from .._text import is_blank, preview, unsendable_at
from ..models._enums import _Status

__all__ = [
    "RESERVED_FIELDS",
    "order_id",
    "quantity",
    "shipping_text",
    "sku",
    "status",
    "text",
    "tracking_numbers",
    "untracked",
]

S = TypeVar("S", bound=_Status)

RESERVED_FIELDS = frozenset({"ReferenceName", "ReferenceValue", "reference_name", "reference_value"})
"""traps.md 13: reserved for internal use; accepted (an item copied from an echo has them), never sent."""

_SURROGATE = re.compile("[\ud800-\udfff]")


def status(enum: type[S], value: object, *, echo: bool = False) -> S | str:
    """traps.md 6: a member or its exact wire name; an echo's unknown status is kept as its string."""
    if echo and isinstance(value, str) and value not in set(enum):
        return value
    member: S = enum.parse(value)
    return member


def order_id(value: object) -> UUID:
    """traps.md 18: only the order id is a real GUID; anything else is refused before sending."""
    if isinstance(value, UUID):
        return value
    if isinstance(value, str) and len(value) <= 64:
        try:
            return UUID(value.strip())
        except ValueError:
            pass
    raise ValueError(f"order_id must be a GUID, got {preview(value)}")


def text(value: Any, field: str, *, echo: bool = False) -> str | None:
    """traps.md 9: free text is a string; a whole number is sent as its digits. A lone surrogate
    cannot be sent (refused), nor stored (an echo's is read as U+FFFD)."""
    if value is None:
        return None
    if isinstance(value, str):
        at = unsendable_at(value)
        if at is None:
            return value
        if echo:
            return _SURROGATE.sub("\ufffd", value)
        raise ValueError(f"{field} holds a character that cannot be sent (a lone surrogate, at index {at})")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if echo:
        return str(value)
    raise ValueError(f"{field} must be a string, got {type(value).__name__}")


def shipping_text(value: Any, field: str, *, echo: bool = False) -> str | None:
    """A tracking number or carrier: text without the white space around it; blank is no value."""
    checked = text(value, field, echo=echo)
    if checked is None or echo:
        return checked
    return None if is_blank(checked) else checked.strip()


def sku(value: Any, *, echo: bool = False) -> str:
    """traps.md 12: items are keyed by their Sku, so an update without one means nothing."""
    checked = text(value, "Sku", echo=echo)
    if checked is None or is_blank(checked):
        raise ValueError(f"Sku is required, got {preview(value)}")
    return checked


def quantity(value: Any, *, echo: bool = False) -> int | None:
    """traps.md 10: the spec shows ``"5"``; the API takes a whole number, at least 1 when sent."""
    if value is None:
        return None
    if echo and isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"Quantity must be a whole number, got {preview(value)}")
    if value < 1 and not echo:
        raise ValueError(f"Quantity must be at least 1, got {value}")
    return value


def tracking_numbers(value: Any) -> str:
    """The guide: several tracking numbers of one shipment go in ``TrackingInfo`` separated by
    commas, so a number that itself holds a comma cannot be sent (it would read as two)."""
    given = [value] if isinstance(value, (str, int)) else value
    if isinstance(given, (bytes, dict)) or not hasattr(given, "__iter__"):
        raise ValueError(f"tracking_numbers must be a tracking number or a list of them, got {preview(value)}")
    numbers: list[str] = []
    for number in given:
        checked = shipping_text(number, "tracking number")
        if checked is None:
            raise ValueError(f"a tracking number is blank: {preview(number)}")
        if "," in checked:
            raise ValueError(
                f"tracking number {preview(checked)} holds a comma, which separates numbers: "
                "pass each number on its own"
            )
        if checked not in numbers:
            numbers.append(checked)
    if not numbers:
        raise ValueError("at least one tracking number is required")
    return ",".join(numbers)


def untracked(tracking_info: str | int | None, shipping_provider: str | None) -> bool:
    """traps.md 14: no tracking number or no carrier: missing, or blank (``"   "``, ``"\\t\\xa0"``)."""
    tracking = str(tracking_info) if isinstance(tracking_info, int) else tracking_info
    return is_blank(tracking) or is_blank(shipping_provider)
