"""What iQmetrix asks (``ShippingQuery``), what the supplier answers (``ShippingOption``), and the
one way the supplier says no (``OutOfStock``).

The wire contract (docs/guides/shipping-options.md): PascalCase keys, ``CompanyId`` and
``PostalCode`` required, ``Items`` optional; in an item ``Sku`` and ``Quantity`` required. The
query is read tolerantly of its spelling (keys match whatever their case: ``companyId``, as an
ASP.NET serializer may write it, is ``CompanyId``; fields we do not know are ignored) and strictly
of its types (``CompanyId`` is an integer, never ``true`` or ``"123"``). An answer option is built
by the supplier's own code, so it is strict: an unknown field is a typo, refused.

Money is a ``Decimal`` and is written on the wire as a JSON number with exactly two decimals, from
the decimal's own digits (``Decimal("7.94")`` is ``7.94``, never ``7.9399999``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_pascal

from .._money import CENT, amount
from .._text import PREVIEW_CHARS, is_blank

__all__ = [
    "OutOfStock",
    "ShippingItem",
    "ShippingOption",
    "ShippingQuery",
    "error_message",
]

Currency = Literal["USD", "CAD"]

# The shape of a postal code, not each country's letter rules: a checkout must not fail because a
# made-up test address uses a letter Canada Post skips. ASCII digits only (\d would take "٠١٢").
_CANADIAN = re.compile(r"[A-Z][0-9][A-Z] ?[0-9][A-Z][0-9]", re.IGNORECASE | re.ASCII)
_US = re.compile(r"[0-9]{5}(?:-[0-9]{4})?", re.ASCII)

_CENT = CENT
# A JSON reader that takes numbers as doubles (as JavaScript does) keeps two decimals exactly only
# below 2**53 cents: a larger cost is a bug in the supplier's function, not a price.
_MAX_COST = Decimal(10) ** 13


def _by_key(model: type[BaseModel], data: Any) -> Any:
    """``data`` with each key matched to its field whatever its case or underscores
    (``companyId``, ``company_id``, ``COMPANYID`` are ``CompanyId``); other keys kept as they are."""
    if not isinstance(data, dict):
        return data
    fields = {name.replace("_", ""): to_pascal(name) for name in model.model_fields}
    matched: dict[str, Any] = {}
    for key, value in data.items():
        canonical = fields.get(key.replace("_", "").lower(), key) if isinstance(key, str) else key
        matched[canonical] = value
    return matched


def _integer(value: Any, *, minimum: int) -> int:
    # bool is an int in Python, and JSON's true must not pass for CompanyId 1.
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("must be an integer")
    if value < minimum:
        raise ValueError(f"must be {minimum} or more")
    return value


def _text(value: Any, *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise ValueError("must be a string")
    if required and is_blank(value):
        raise ValueError("must not be blank")
    return value


class _Wire(BaseModel):
    model_config = ConfigDict(
        frozen=True,
        alias_generator=to_pascal,
        populate_by_name=True,
        defer_build=True,  # the validator is built on first use, not at import
    )

    @model_validator(mode="before")
    @classmethod
    def _match_keys(cls, data: Any) -> Any:
        return _by_key(cls, data)


class _Query(_Wire):
    model_config = ConfigDict(extra="ignore")  # iQmetrix may add fields: ignored, never refused


class ShippingItem(_Query):
    """One line of the cart: a ``sku`` of the supplier's, how many, and maybe the product's name."""

    sku: str
    quantity: int
    """A whole number, 1 or more."""
    product_name: str | None = None

    @field_validator("sku", mode="plain")
    @classmethod
    def _check_sku(cls, value: Any) -> str | None:
        return _text(value, required=True)

    @field_validator("quantity", mode="plain")
    @classmethod
    def _check_quantity(cls, value: Any) -> int:
        return _integer(value, minimum=1)

    @field_validator("product_name", mode="plain")
    @classmethod
    def _check_product_name(cls, value: Any) -> str | None:
        return _text(value, required=False)


class ShippingQuery(_Query):
    """What iQmetrix asks at checkout: the retailer (``company_id``), where to, and the items.

    ``postal_code`` is a Canadian (``A1A1A1``, ``A1A 1A1``) or US (``08540``, ``02139-4301``) code,
    as sent (without surrounding spaces); any other format is refused with a 400, since iQmetrix
    sells in those two countries only. ``country`` says which. ``items`` may be empty: the spec
    makes ``Items`` optional.
    """

    company_id: int
    postal_code: str
    items: list[ShippingItem] = []

    @field_validator("company_id", mode="plain")
    @classmethod
    def _check_company_id(cls, value: Any) -> int:
        return _integer(value, minimum=1)

    @field_validator("postal_code", mode="plain")
    @classmethod
    def _check_postal_code(cls, value: Any) -> str:
        code = (_text(value, required=True) or "").strip()
        if not (_CANADIAN.fullmatch(code) or _US.fullmatch(code)):
            raise ValueError("must be a Canadian (A1A 1A1) or US (12345 or 12345-6789) postal code")
        return code

    @field_validator("items", mode="before")
    @classmethod
    def _no_items(cls, value: Any) -> Any:
        return [] if value is None else value  # "Items": null is no items

    @property
    def country(self) -> Literal["CA", "US"]:
        """``"CA"`` or ``"US"``, from the postal code's format."""
        return "US" if self.postal_code[0].isdigit() else "CA"


class ShippingOption(_Wire):
    """One way to ship the cart, as the supplier offers it.

    ``id`` always means the same method and charge (the chosen ``id`` comes back in the order).
    ``cost`` is a ``Decimal`` (an ``int`` or a ``float`` is taken by its shortest spelling: ``7.94``
    is ``Decimal("7.94")``), 0 or more, with at most two decimals. Unknown fields are refused (a
    ``Price`` for ``Cost`` is a typo). Immutable: safe to share between threads.
    """

    model_config = ConfigDict(extra="forbid")

    id: str
    cost: Decimal
    currency: Currency
    name: str | None = None
    estimated_transit_time: str | None = None

    @field_validator("id", mode="plain")
    @classmethod
    def _check_id(cls, value: Any) -> str | None:
        return _text(value, required=True)

    @field_validator("cost", mode="plain")
    @classmethod
    def _check_cost(cls, value: Any) -> Decimal:
        return _cost(value)

    @field_validator("currency", mode="plain")
    @classmethod
    def _check_currency(cls, value: Any) -> str:
        if not isinstance(value, str) or value not in ("USD", "CAD"):
            raise ValueError("must be 'USD' or 'CAD'")
        return value

    @field_validator("name", "estimated_transit_time", mode="plain")
    @classmethod
    def _check_text(cls, value: Any) -> str | None:
        return _text(value, required=False)

    def wire_cost(self) -> str:
        """The cost as the JSON number sent: two decimals, from the decimal's own digits."""
        cents = self.cost.quantize(_CENT)
        return "0.00" if cents.is_zero() else format(cents, "f")  # never "-0.00"


def _cost(value: Any) -> Decimal:
    return amount(value, maximum=_MAX_COST)  # the SDK's one rule for money (``_money.py``)


class OutOfStock(Exception):  # noqa: N818 - the contract's name: `raise OutOfStock(["SKU1"])`
    """Raised by the supplier's quote function: these items cannot be shipped, stop the order.

    ``raise OutOfStock("SKU1")`` or ``raise OutOfStock(["SKU1", "SKU2"])``. iQmetrix is answered
    ``400`` with ``{"Message": "Out of stock: SKU1, SKU2", "OutOfStock": ["SKU1", "SKU2"]}``.
    ``skus`` keeps their order, each once.
    """

    def __init__(self, skus: str | Iterable[str]) -> None:
        found = (skus,) if isinstance(skus, str) else tuple(skus)
        if not found or any(not isinstance(sku, str) or is_blank(sku) for sku in found):
            raise ValueError("OutOfStock needs at least one sku, each a non-blank string")
        self.skus: tuple[str, ...] = tuple(dict.fromkeys(found))
        super().__init__("Out of stock: " + ", ".join(self.skus))


def error_message(error: ValidationError, *, prefix: str = "", limit: int = 3) -> str:
    """One line naming the fields that were wrong, by their wire names, never quoting the input:
    ``CompanyId: must be an integer; Items[0].Sku: is required``. ``prefix`` goes before each
    field's name (``ShippingOptions[2]``)."""
    parts = []
    for item in error.errors(include_url=False, include_input=False, include_context=False)[:limit]:
        path = "".join(f"[{part}]" if isinstance(part, int) else f".{part:.{PREVIEW_CHARS}}" for part in item["loc"])
        where = prefix + path if prefix else path.lstrip(".")
        kind = item["type"]
        if kind == "missing":
            message = "is required"
        elif kind == "extra_forbidden":
            message = "unknown field (misspelt?)"
        elif kind in ("list_type", "tuple_type"):
            message = "must be a list"
        elif kind in ("model_type", "model_attributes_type", "dict_type"):
            message = "must be an object"
        else:
            message = str(item["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    more = len(error.errors()) - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
