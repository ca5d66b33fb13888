"""What a supplier tells iQmetrix about its catalogue: availability, wholesale cost, the product feed.

Built by a caller, the request models are strict, like the status updates (``_updates.py``): a
field is checked when the model is built, an unknown field is refused rather than dropped, and the
error names the field. Read back from the server (``SupplierSku``, a stored ``Product``, a
``ProductFeed``), the same shapes are read leniently: fields we do not know are ignored.

- ``ProductAvailability``: ``IsAvailable`` and ``Quantity`` are required here and always sent,
  because the service takes a product sent without them as unavailable, quantity 0
  (``supplier-apis.md``, "Supplier availability").
- ``ProductCost``: money is a ``Decimal`` of at most 2 decimals, never negative; a ``float`` is
  taken through its shortest text (``12.99`` is ``Decimal("12.99")``), so that ``0.1 + 0.2`` is
  refused rather than rounded.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic.alias_generators import to_pascal

from .._money import amount
from .._text import is_blank, preview, unsendable_at

__all__ = [
    "Asset",
    "Classification",
    "FieldValue",
    "Product",
    "ProductAvailability",
    "ProductCost",
    "ProductFeed",
    "SupplierSku",
    "VendorSku",
]

MAX_SKU_CHARS = 255
MAX_COST = Decimal("1000000000.01")  # a billion: far above any wholesale cost, and exact as a JSON number


def check_sku(value: Any, field: str = "Sku") -> str:
    if not isinstance(value, str):
        if isinstance(value, int) and not isinstance(value, bool):
            return check_sku(str(value), field)  # a numeric SKU from a spreadsheet: its digits
        else:
            raise ValueError(f"{field} must be a string, got {preview(value)}")
    if is_blank(value):
        raise ValueError(f"{field} is required, got {preview(value)}")
    if value != value.strip():
        raise ValueError(f"{field} has white space around it: {preview(value)}")
    if len(value) > MAX_SKU_CHARS:
        raise ValueError(f"{field} is longer than {MAX_SKU_CHARS} characters: {preview(value)}")
    if unsendable_at(value) is not None:
        raise ValueError(f"{field} holds a character that cannot be sent (a lone surrogate)")
    return value


def check_count(value: Any, field: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{field} must be a whole number, got {preview(value)}")
    if value < minimum:
        raise ValueError(f"{field} must be at least {minimum}, got {value}")
    if value > 2**31 - 1:
        raise ValueError(f"{field} is too large: {value}")
    return value


def check_money(value: Any, field: str = "Cost") -> Decimal:
    """A non-negative amount of at most 2 decimals, as a ``Decimal`` (``_money.py``)."""
    try:
        return amount(value, maximum=MAX_COST, text=True)
    except ValueError as error:
        raise ValueError(f"{field} {error}, got {preview(value)}") from None


def check_company_id(value: Any, field: str = "CompanyIds") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 2**63 - 1:
        raise ValueError(f"{field} must hold positive whole numbers, got {preview(value)}")
    return value


_ECHO = "echo"  # validation context flag: reading the server's answer, be lenient


class _Sent(BaseModel):
    """Strict when a caller builds it; read leniently from the server with ``from_echo``."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",  # a misspelt field is refused, not silently dropped
        alias_generator=to_pascal,
        populate_by_name=True,
        defer_build=True,
    )

    @model_validator(mode="before")
    @classmethod
    def _unknown_fields(cls, data: Any, info: ValidationInfo) -> Any:
        if isinstance(data, dict) and info.context and info.context.get(_ECHO):
            # The server's answer may hold fields we never send (expanded definitions, new ones).
            known = set(cls.model_fields) | {field.alias for field in cls.model_fields.values() if field.alias}
            return {key: value for key, value in data.items() if key in known}
        return data

    @classmethod
    def from_echo(cls, data: Any) -> Any:
        return cls.model_validate(data, context={_ECHO: True})


class _Read(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="ignore", alias_generator=to_pascal, populate_by_name=True, defer_build=True
    )


class ProductAvailability(_Sent):
    """Whether a product is in stock, and how many: ``ProductAvailability("9101AGAP6", True, 10)``.

    Both ``is_available`` and ``quantity`` are required and always sent: the service reads a
    product sent without them as unavailable, quantity 0.
    """

    sku: str
    is_available: bool
    quantity: int

    def __init__(self, sku: Any = None, is_available: Any = None, quantity: Any = None, /, **data: Any) -> None:
        positional = {"sku": sku, "is_available": is_available, "quantity": quantity}
        super().__init__(**{name: value for name, value in positional.items() if value is not None}, **data)

    @field_validator("sku", mode="plain")
    @classmethod
    def _sku(cls, value: Any) -> str:
        return check_sku(value)

    @field_validator("is_available", mode="plain")
    @classmethod
    def _available(cls, value: Any) -> bool:
        if not isinstance(value, bool):
            raise ValueError(f"IsAvailable must be True or False, got {preview(value)}")
        return value

    @field_validator("quantity", mode="plain")
    @classmethod
    def _quantity(cls, value: Any) -> int:
        return check_count(value, "Quantity")

    def to_json_body(self) -> dict[str, Any]:
        return {"Sku": self.sku, "IsAvailable": self.is_available, "Quantity": self.quantity}


class ProductCost(_Sent):
    """The wholesale cost of a product for some companies: ``ProductCost("1115884", Decimal("12.99"), [14146])``.

    A product may have several costs, each for other companies; a company has one cost per
    product (a second one is refused before anything is sent).
    """

    sku: str
    cost: Decimal
    company_ids: tuple[int, ...] = Field(min_length=1)

    def __init__(self, sku: Any = None, cost: Any = None, company_ids: Any = None, /, **data: Any) -> None:
        positional = {"sku": sku, "cost": cost, "company_ids": company_ids}
        super().__init__(**{name: value for name, value in positional.items() if value is not None}, **data)

    @field_validator("sku", mode="plain")
    @classmethod
    def _sku(cls, value: Any) -> str:
        return check_sku(value)

    @field_validator("cost", mode="plain")
    @classmethod
    def _cost(cls, value: Any) -> Decimal:
        return check_money(value)

    @field_validator("company_ids", mode="plain")
    @classmethod
    def _companies(cls, value: Any) -> tuple[int, ...]:
        if isinstance(value, int) and not isinstance(value, bool):
            value = (value,)
        if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
            raise ValueError(f"CompanyIds must be a list of company ids, got {preview(value)}")
        ids = tuple(check_company_id(item) for item in value)
        if not ids:
            raise ValueError("CompanyIds needs at least one company id")
        if len(set(ids)) != len(ids):
            raise ValueError(f"CompanyIds names a company twice: {list(ids)}")
        return ids

    def to_json_body(self) -> dict[str, Any]:
        # Money as a JSON number: float(cost) prints as exactly its 2 decimals below MAX_COST.
        return {"Sku": self.sku, "Cost": float(self.cost), "CompanyIds": list(self.company_ids)}


class SupplierSku(_Read):
    """What iQmetrix holds of a product's availability now (``GET .../SupplierSkus``)."""

    id: UUID | str | None = None
    supplier_sku: str
    is_available: bool = False
    quantity: int = 0
    supplier_entity_id: int | None = None


# -- the product feed ------------------------------------------------------------------------


class Classification(_Sent):
    """Where the product sits in a classification tree."""

    id: int
    tree_id: int


class FieldValue(_Sent):
    """A value of a product field, by the id of its definition (the product name is one)."""

    definition_id: int = Field(alias="Definition")
    value: str

    @field_validator("definition_id", mode="before")
    @classmethod
    def _definition(cls, value: Any) -> Any:
        # On the wire {"Definition": {"Id": 1, ...}}; in Python just the id.
        if isinstance(value, dict):
            return value.get("Id", value.get("id"))
        return value

    def to_json_body(self) -> dict[str, Any]:
        return {"Definition": {"Id": self.definition_id}, "Value": self.value}


class Asset(_Sent):
    asset_url: str


class VendorSku(_Sent):
    sku: str
    description: str | None = None
    vendor_name: str | None = None


class Product(_Sent):
    """A product of a supplier's product feed (catalogue onboarding).

    ``classification``, ``fields`` (at least the product name) and ``model_name`` are required.
    ``id`` is the product library's, set on a product read back; it is never sent.
    """

    id: int | None = None
    classification: Classification
    fields: tuple[FieldValue, ...] = Field(min_length=1)
    model_name: str
    assets: tuple[Asset, ...] = ()
    manufacturer: str | None = None
    manufacturer_sku: str | None = None
    upc: str | None = Field(default=None, alias="UPC")
    last_modified_by_vendor_utc: datetime | None = None
    vendor_skus: tuple[VendorSku, ...] = ()

    @field_validator("model_name", mode="plain")
    @classmethod
    def _model_name(cls, value: Any) -> str:
        if not isinstance(value, str) or is_blank(value):
            raise ValueError(f"ModelName is required, got {preview(value)}")
        return value

    def to_json_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "Classification": {"Id": self.classification.id, "TreeId": self.classification.tree_id},
            "Fields": [field.to_json_body() for field in self.fields],
            "ModelName": self.model_name,
        }
        if self.assets:
            body["Assets"] = [{"AssetUrl": asset.asset_url} for asset in self.assets]
        optional = {"Manufacturer": self.manufacturer, "ManufacturerSku": self.manufacturer_sku, "UPC": self.upc}
        body.update({key: value for key, value in optional.items() if value is not None})
        if self.last_modified_by_vendor_utc is not None:
            body["LastModifiedByVendorUtc"] = self.last_modified_by_vendor_utc.isoformat()
        if self.vendor_skus:
            body["VendorSkus"] = [sku.model_dump(by_alias=True, exclude_none=True) for sku in self.vendor_skus]
        return body


class ProductFeed(_Read):
    """A product feed: its provider, version, and the products it holds."""

    id: int
    provider_name: str | None = None
    version: int | str | None = None
    last_received_updates_from_provider_utc: datetime | None = None
    products: tuple[Product, ...] = ()

    @field_validator("products", mode="before")
    @classmethod
    def _products(cls, value: Any) -> Any:
        if isinstance(value, list):
            return tuple(Product.from_echo(item) for item in value)
        return value
