"""Supplier availability and the cost feed: what a supplier tells iQmetrix about its SKUs.

The wire contracts are those of supplier-apis.md ("Supplier availability", "Cost feed") and
traps.md ("Neighbouring supplier APIs"):

- ``POST /Suppliers({id})/Availability`` ``{"Products": [{"Sku", "IsAvailable", "Quantity"}]}``:
  ``Products`` and each ``Sku`` are required; ``IsAvailable`` defaults to ``false`` and
  ``Quantity`` to ``0`` when left out, as the service does. So leaving them out marks the SKU
  unavailable: the trap the SDK guards against by always sending both. Stored per SKU, the last
  write winning (within one request too).
- ``GET /Suppliers({id})/SupplierSkus``: every SKU held, first seen first, as
  ``{"Id", "IsAvailable", "SupplierSku", "SupplierEntityId", "Quantity"}``. The ``Id`` is a
  UUID 5 of the supplier and the SKU: stable, across restarts too.
- ``POST /Suppliers({id})/Cost`` ``{"Products": [{"Sku", "Cost", "CompanyIds"}]}``: all three
  required; ``Cost`` a JSON number (read as a ``Decimal``, never a float: it is money), at least 0,
  with at most 2 decimal places (``12.990`` is ``12.99``); ``CompanyIds`` one or more company ids.
  A company given two different costs for one SKU in one request is refused (the spec: "exactly
  one cost per product per company"); the same cost twice is no conflict. Stored per
  (SKU, company), the last write winning.

Values are checked as strictly as .NET's model binder checks these types: a bool is no
integer, ``1.5`` is no ``Quantity``, ``null`` is no ``bool``. Unknown fields are ignored, as
Json.NET ignores them. A refusal is an :class:`InvalidFieldError` naming the field
(``Products[3].Quantity``), raised before anything changes; more than
``MAX_CATALOG_PRODUCTS`` products in one request (or ``MAX_COST_PAIRS`` SKU-company pairs) is a
:class:`RequestTooLargeError` (``413``).

Not thread-safe: the emulator holds its lock around every use.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from ._checks import InvalidFieldError, boolean, integer, preview
from ._limits import RequestTooLargeError

__all__ = [
    "MAX_CATALOG_PRODUCTS",
    "MAX_COST",
    "MAX_COST_PAIRS",
    "MAX_SKU_LENGTH",
    "CatalogListener",
    "CostLine",
    "SkuAvailability",
    "SupplierCatalog",
    "availability_echo",
    "check_sku",
    "cost_echo",
    "parse_availability",
    "parse_costs",
]

MAX_CATALOG_PRODUCTS = 10_000
"""Products in one ``Availability`` or ``Cost`` request. The service documents no batch size;
past this the emulator answers ``413``, so that one request cannot hold it for long."""

MAX_COST_PAIRS = 100_000
"""SKU-company pairs in one ``Cost`` request (ten companies for each of 10,000 products)."""

MAX_SKU_LENGTH = 100
"""As an order's sku (``_orders.py``)."""

MAX_COST = Decimal(10) ** 13
"""Costs are below this: 13 integer digits and 2 decimals are 15 significant digits, which a
float's shortest ``repr`` writes back exactly, so the JSON echo shows the digits received."""

_INT32_MAX = 2**31 - 1
_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class SkuAvailability:
    """What iQmetrix holds about one SKU: the last availability pushed for it."""

    id: str
    """Stable per SKU: the ``Id`` of its ``SupplierSkus`` row."""
    sku: str
    is_available: bool
    quantity: int


@dataclass(frozen=True, slots=True)
class CostLine:
    """One ``Cost`` product as received: ``cost`` for each of ``company_ids``."""

    sku: str
    cost: Decimal
    company_ids: tuple[int, ...]


class CatalogListener(Protocol):
    """Told about every change, e.g. to write it through to SQLite."""

    def availability_changed(self, records: Sequence[SkuAvailability]) -> None: ...

    def costs_changed(self, costs: Sequence[tuple[str, int, Decimal]]) -> None: ...


def check_sku(value: object, field: str) -> str:
    """A non-blank, printable string of at most ``MAX_SKU_LENGTH`` characters."""
    if value is None:
        raise InvalidFieldError(field, "The Sku field is required.")
    if not isinstance(value, str):
        raise InvalidFieldError(field, f"must be a string, not {preview(value)}")
    if not value.strip():
        raise InvalidFieldError(field, "must not be blank")
    if len(value) > MAX_SKU_LENGTH:
        raise InvalidFieldError(field, f"must be at most {MAX_SKU_LENGTH} characters long, not {len(value)}")
    # isprintable() refuses control characters and lone surrogates alike: neither is part of a SKU.
    if not value.isprintable():
        raise InvalidFieldError(field, f"must hold printable characters only, not {preview(value)}")
    return value


def _products(body: object) -> list[Any]:
    if not isinstance(body, dict):
        raise InvalidFieldError("body", f'must be a JSON object {{"Products": [...]}}, not {preview(body)}')
    products = body.get("Products")
    if products is None:
        raise InvalidFieldError("Products", "The Products field is required.")
    if not isinstance(products, list):
        raise InvalidFieldError("Products", f"must be an array, not {preview(products)}")
    if len(products) > MAX_CATALOG_PRODUCTS:
        raise RequestTooLargeError(
            f"The request holds {len(products)} products; the emulator takes at most "
            f"{MAX_CATALOG_PRODUCTS} in one request."
        )
    return products


def _product(raw: object, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InvalidFieldError(where, f"must be an object, not {preview(raw)}")
    return raw


def parse_availability(body: object) -> list[tuple[str, bool, int]]:
    """``(sku, is_available, quantity)`` of each product, with the service's defaults filled in."""
    parsed: list[tuple[str, bool, int]] = []
    for n, raw in enumerate(_products(body)):
        where = f"Products[{n}]"
        product = _product(raw, where)
        sku = check_sku(product.get("Sku"), f"{where}.Sku")
        # The documented defaults (supplier-apis.md): a key left out reads as false / 0. A key
        # given as null is refused: Json.NET cannot put null in a bool or an int.
        is_available = boolean(product["IsAvailable"], f"{where}.IsAvailable") if "IsAvailable" in product else False
        quantity = (
            integer(product["Quantity"], f"{where}.Quantity", minimum=0, maximum=_INT32_MAX)
            if "Quantity" in product
            else 0
        )
        parsed.append((sku, is_available, quantity))
    return parsed


def _cost(value: object, field: str) -> Decimal:
    if value is None:
        raise InvalidFieldError(field, "The Cost field is required.")
    # A JSON number only: the body is read with decimals (``parse_json``), so a fraction is a
    # Decimal and a float never appears; a string "12.99" is refused, as the contract says number.
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise InvalidFieldError(field, f"must be a JSON number (such as 12.99), not {preview(value)}")
    cost = Decimal(value)
    if not cost.is_finite():
        raise InvalidFieldError(field, f"must be a finite number, not {value}")
    if not 0 <= cost < MAX_COST:
        raise InvalidFieldError(field, f"must be from 0 to less than {MAX_COST}, not {preview(value)}")
    if cost != cost.quantize(_CENT):
        raise InvalidFieldError(field, f"must have at most 2 decimal places, not {preview(value)}")
    return cost.quantize(_CENT).copy_abs()  # stored to the cent: 12.990 is 12.99; -0 is 0


def _company_ids(value: object, field: str) -> tuple[int, ...]:
    if value is None:
        raise InvalidFieldError(field, "The CompanyIds field is required.")
    if not isinstance(value, list):
        raise InvalidFieldError(field, f"must be an array of company ids, not {preview(value)}")
    if not value:
        raise InvalidFieldError(field, "must name at least one company")
    return tuple(integer(company, f"{field}[{n}]", minimum=1, maximum=_INT32_MAX) for n, company in enumerate(value))


def parse_costs(body: object) -> list[CostLine]:
    """Each product's cost for its companies; refuses two different costs for one (sku, company)."""
    lines: list[CostLine] = []
    given: dict[tuple[str, int], Decimal] = {}
    pairs = 0
    for n, raw in enumerate(_products(body)):
        where = f"Products[{n}]"
        product = _product(raw, where)
        sku = check_sku(product.get("Sku"), f"{where}.Sku")
        cost = _cost(product.get("Cost"), f"{where}.Cost")
        company_ids = _company_ids(product.get("CompanyIds"), f"{where}.CompanyIds")
        pairs += len(company_ids)
        if pairs > MAX_COST_PAIRS:
            raise RequestTooLargeError(
                f"The request gives more than {MAX_COST_PAIRS} costs (sku and company pairs); "
                "the emulator takes at most that many in one request."
            )
        for company in company_ids:
            earlier = given.setdefault((sku, company), cost)
            if earlier != cost:
                raise InvalidFieldError(
                    f"{where}.CompanyIds",
                    f"company {company} is given two costs for sku {sku!r} ({earlier} and {cost}): "
                    "each company has exactly one cost per product",
                )
        lines.append(CostLine(sku, cost, company_ids))
    return lines


class SupplierCatalog:
    """One supplier's availability per SKU and costs per (SKU, company)."""

    def __init__(self, supplier_id: int) -> None:
        self.supplier_id = supplier_id
        self.availability: dict[str, SkuAvailability] = {}
        self.costs: dict[tuple[str, int], Decimal] = {}
        self.listener: CatalogListener | None = None
        self._namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"urn:iqmetrix-dropship-emulator:supplier-skus:{supplier_id}")

    def sku_id(self, sku: str) -> str:
        return str(uuid.uuid5(self._namespace, sku))

    def record_availability(self, products: Sequence[tuple[str, bool, int]]) -> None:
        changed: dict[str, SkuAvailability] = {}
        for sku, is_available, quantity in products:
            changed[sku] = SkuAvailability(self.sku_id(sku), sku, is_available, quantity)
        self.availability.update(changed)
        if self.listener is not None and changed:
            self.listener.availability_changed(list(changed.values()))

    def record_costs(self, lines: Sequence[CostLine]) -> None:
        changed = {(line.sku, company): line.cost for line in lines for company in line.company_ids}
        self.costs.update(changed)
        if self.listener is not None and changed:
            self.listener.costs_changed([(sku, company, cost) for (sku, company), cost in changed.items()])

    def supplier_skus(self) -> list[dict[str, Any]]:
        """The ``SupplierSkus`` answer (note ``SupplierSku``, not ``Sku``: supplier-apis.md)."""
        return [
            {
                "Id": record.id,
                "IsAvailable": record.is_available,
                "SupplierSku": record.sku,
                "SupplierEntityId": self.supplier_id,
                "Quantity": record.quantity,
            }
            for record in self.availability.values()
        ]


def availability_echo(request_id: str, products: Sequence[tuple[str, bool, int]]) -> dict[str, Any]:
    """The ``202`` body: the products as stored (defaults filled in) and the request's ``Id``."""
    return {
        "Id": request_id,
        "Products": [
            {"Sku": sku, "IsAvailable": is_available, "Quantity": quantity} for sku, is_available, quantity in products
        ],
    }


def cost_echo(request_id: str, lines: Sequence[CostLine]) -> dict[str, Any]:
    """The ``202`` body. ``Cost`` goes back as a JSON number: ``float`` of a ``Decimal`` of at most 15
    significant digits (``MAX_COST``) writes exactly those digits."""
    return {
        "Id": request_id,
        "Products": [
            {"Sku": line.sku, "Cost": float(line.cost), "CompanyIds": list(line.company_ids)} for line in lines
        ],
    }
