"""The fields of an order a retailer places, checked once for ``Emulator.place_order`` and
``POST /_emulator/orders`` alike.

Every value given must be one the feed can carry and the SDK can read back (``feed/_values.py``):
``ship-to-store`` is an ``xsd:boolean``; ids and quantities are integers of at most 19 digits
(here .NET ``int``s, as the service's are); a ``selling-price`` is a decimal without exponent,
NaN or infinity (traps.md 26). Text is cleaned of what XML cannot carry and bounded, so that the
largest order still renders as an entry well under ``MAX_ENTRY_BYTES`` (``_limits.py``): each
item's texts are at most 400 characters, at most 5 bytes each once escaped (``&amp;``), so 50
items with their markup come to some 120 KB.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from ._checks import InvalidFieldError, boolean, integer, preview, text, unknown_fields
from ._updates import normalize_guid
from ._xml import xml_safe

__all__ = [
    "COUNTRY_CODES",
    "INT32_MAX",
    "ITEM_FIELDS",
    "MAX_ITEMS",
    "MAX_ORDERS_PER_CALL",
    "ORDER_FIELDS",
    "ItemRequest",
    "OrderRequest",
    "order_request",
]

ORDER_FIELDS = (
    "order_id",
    "items",
    "ship_to_store",
    "country_code",
    "company_id",
    "location_id",
    "shipping_method",
    "postal_code",
)
ITEM_FIELDS = ("sku", "description", "quantity", "selling_price", "catalog_id")
COUNTRY_CODES = ("CA", "US")
INT32_MAX = 2**31 - 1
MAX_ITEMS = 50
MAX_ORDERS_PER_CALL = 10_000
_MAX_ID_LENGTH = 100  # sku, catalog_id, shipping_method
_MAX_DESCRIPTION_LENGTH = 200
# str(Decimal) writes an exponent (1E-7, 1E+3) outside these bounds, and the SDK reads no exponent.
_MAX_PRICE_PLACES = 6
_MAX_PRICE = Decimal(10) ** 15
# The shapes supplier-apis.md names ("Shipping options"): A1A1A1 (Canada, here with or without
# the space), 08540 or 02139-4301 (the US). ASCII only: \d would take any script's digits.
_POSTAL_CODES = (
    ("CA", re.compile(r"[A-Za-z][0-9][A-Za-z] ?[0-9][A-Za-z][0-9]")),
    ("US", re.compile(r"[0-9]{5}(?:-[0-9]{4})?")),
)


@dataclass(frozen=True)
class ItemRequest:
    """One item as given; ``None`` is drawn at random (from one catalog product)."""

    sku: str | None = None
    description: str | None = None
    quantity: int = 1
    selling_price: Decimal | None = None
    catalog_id: str | None = None


@dataclass(frozen=True)
class OrderRequest:
    """An order as given; every ``None`` is drawn at random."""

    order_id: str | None = None
    items: tuple[ItemRequest, ...] | None = None
    ship_to_store: bool | None = None
    country_code: str | None = None
    company_id: int | None = None
    location_id: int | None = None
    shipping_method: str | None = None
    postal_code: str | None = None
    """The shipping address's postal code; its country is the order's country."""


def _order_id(value: object) -> str:
    if isinstance(value, uuid.UUID):
        return str(value)
    guid = normalize_guid(value) if isinstance(value, str) else None
    if guid is None:
        raise InvalidFieldError("order_id", f"must be a GUID, not {preview(value)}")
    return guid


def _country_code(value: object) -> str:
    if not isinstance(value, str) or value not in COUNTRY_CODES:
        raise InvalidFieldError("country_code", f"must be one of {', '.join(COUNTRY_CODES)}, not {preview(value)}")
    return value


def _postal_code(value: object) -> tuple[str, str]:
    """The postal code and the country it belongs to."""
    if isinstance(value, str):
        for country, shape in _POSTAL_CODES:
            if shape.fullmatch(value):
                return value, country
    raise InvalidFieldError(
        "postal_code",
        f"must be a Canadian (A1A1A1, A1A 1A1) or US (08540, 02139-4301) postal code, not {preview(value)}",
    )


def _text(value: object, field: str, max_length: int, min_length: int = 1) -> str:
    return xml_safe(text(value, field, min_length=min_length, max_length=max_length))


def _price(value: object, field: str) -> Decimal:
    """A price as the feed writes it: plain decimal notation, at most 6 places, never negative."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise InvalidFieldError(field, f'must be a decimal number (such as "29.99"), not {preview(value)}')
    try:
        # repr() of a float is its shortest round-trip spelling: 29.99, not 29.989999999999998...
        price = Decimal(repr(value) if isinstance(value, float) else value)
    except ArithmeticError:  # decimal.InvalidOperation
        raise InvalidFieldError(field, f"must be a decimal number, not {preview(value)}") from None
    if not price.is_finite():  # NaN, sNaN, Infinity: and an sNaN raises on any comparison
        raise InvalidFieldError(field, f"must be a finite decimal number, not {preview(value)}")
    exponent = price.as_tuple().exponent
    assert isinstance(exponent, int)  # finite, so not 'n', 'N' or 'F'
    if exponent < -_MAX_PRICE_PLACES:
        raise InvalidFieldError(field, f"must have at most {_MAX_PRICE_PLACES} decimal places, not {preview(value)}")
    if not 0 <= price < _MAX_PRICE:
        raise InvalidFieldError(field, f"must be from 0 to less than {_MAX_PRICE}, not {preview(value)}")
    # 1E+3 -> 1000, and -0 -> 0: the spelling the feed writes.
    return price.quantize(Decimal(1)).copy_abs() if exponent > 0 else price.copy_abs()


def _item(given: object, where: str) -> ItemRequest:
    if not isinstance(given, Mapping):
        raise InvalidFieldError(where, f"must be an object with some of {', '.join(ITEM_FIELDS)}, not {preview(given)}")
    unknown_fields(given, ITEM_FIELDS, where)
    sku, description, quantity, price, catalog_id = (given.get(name) for name in ITEM_FIELDS)
    return ItemRequest(
        sku=None if sku is None else _text(sku, f"{where}.sku", _MAX_ID_LENGTH),
        description=(
            None
            if description is None
            else _text(description, f"{where}.description", _MAX_DESCRIPTION_LENGTH, min_length=0)
        ),
        quantity=1 if quantity is None else integer(quantity, f"{where}.quantity", minimum=1, maximum=INT32_MAX),
        selling_price=None if price is None else _price(price, f"{where}.selling_price"),
        catalog_id=None if catalog_id is None else _text(catalog_id, f"{where}.catalog_id", _MAX_ID_LENGTH),
    )


def _items(value: object) -> tuple[ItemRequest, ...]:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
        raise InvalidFieldError("items", f"must be a list of items, not {preview(value)}")
    if not 1 <= len(value) <= MAX_ITEMS:
        raise InvalidFieldError("items", f"an order has 1 to {MAX_ITEMS} items, not {len(value)}")
    items = tuple(_item(given, f"items[{n}]") for n, given in enumerate(value))
    seen: set[str] = set()
    for n, item in enumerate(items):
        if item.sku is not None:
            if item.sku in seen:
                raise InvalidFieldError(f"items[{n}].sku", f"sku {item.sku!r} appears twice: items are keyed by sku")
            seen.add(item.sku)
    return items


def order_request(
    *,
    order_id: object = None,
    items: object = None,
    ship_to_store: object = None,
    country_code: object = None,
    company_id: object = None,
    location_id: object = None,
    shipping_method: object = None,
    postal_code: object = None,
) -> OrderRequest:
    """The checked fields, or :class:`InvalidFieldError` (a ``ValueError``) naming the first bad one.

    A postal code gives the order its country: with a ``country_code`` too, the two must agree.
    """
    request = OrderRequest(  # keyword arguments are evaluated in order: the fields are checked in order
        order_id=None if order_id is None else _order_id(order_id),
        items=None if items is None else _items(items),
        ship_to_store=None if ship_to_store is None else boolean(ship_to_store, "ship_to_store"),
        country_code=None if country_code is None else _country_code(country_code),
        company_id=None if company_id is None else integer(company_id, "company_id", minimum=1, maximum=INT32_MAX),
        location_id=None if location_id is None else integer(location_id, "location_id", minimum=1, maximum=INT32_MAX),
        shipping_method=None if shipping_method is None else _text(shipping_method, "shipping_method", _MAX_ID_LENGTH),
    )
    if postal_code is None:
        return request
    code, country = _postal_code(postal_code)
    if request.country_code not in (None, country):
        raise InvalidFieldError(
            "postal_code", f"{code!r} is a {country} postal code, but country_code is {request.country_code}"
        )
    return dataclasses.replace(request, postal_code=code, country_code=country)
