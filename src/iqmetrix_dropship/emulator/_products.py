"""The product feed: the catalog a supplier onboards through iQmetrix's product library.

The wire contract is supplier-apis.md's "Product feed". The emulator holds one feed, the
supplier's, whose id is ``EmulatorConfig.product_feed_id``; any other feed id is a ``404``.

- ``POST /ProductFeeds({FeedId})/Products`` adds a product: ``Classification`` (``Id``,
  ``TreeId``), ``Fields`` (at least one ``{"Definition": {"Id": int}, "Value": str}``, each
  definition once) and ``ModelName`` are required; ``Assets`` (``[{"AssetUrl"}]``),
  ``Manufacturer``, ``ManufacturerSku``, ``UPC``, ``LastModifiedByVendorUtc`` (an ISO 8601 date
  and time) and ``VendorSkus`` (``[{"Sku", "Description", "VendorName"}]``, ``Sku`` required) are
  optional. The body is one product or an array of at most ``MAX_PRODUCTS_PER_REQUEST``; the
  answer is ``200`` with an array of the stored products: each with a new integer ``Id``, every
  optional key present (``null`` or ``[]`` when not given), and its definitions expanded
  (``{"Id": 1, "Name": "Product Name"}``; the emulator knows only that one name, the others are
  ``null``).
- ``GET /ProductFeeds({FeedId})/Products``: every product, oldest first.
- ``GET /ProductFeeds({FeedId})``: ``{"Id", "ProviderName", "Version",
  "LastReceivedUpdatesFromProviderUtc", "Products"}``; ``Version`` counts the changes.
- ``DELETE /ProductFeeds({FeedId})/Products({ProductId})``: ``204``, or ``404`` for no such product.
  There is no update: a product changes by being removed and added again (ids are never reused).

A refusal is an :class:`InvalidFieldError` naming the field, before anything changes. The feed
holds at most ``MAX_FEED_PRODUCTS`` products and ``MAX_FEED_BYTES`` of them: past either, a
:class:`RequestTooLargeError` (``413``). Unknown fields are ignored, as Json.NET ignores them.

Not thread-safe: the emulator holds its lock around every use.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from ._checks import InvalidFieldError, integer, preview
from ._limits import RequestTooLargeError
from ._xml import format_timestamp

__all__ = [
    "FIELD_NAMES",
    "MAX_FEED_BYTES",
    "MAX_FEED_PRODUCTS",
    "MAX_PRODUCTS_PER_REQUEST",
    "ProductFeed",
    "ProductListener",
    "parse_products",
]

FIELD_NAMES = {1: "Product Name"}
"""Field definition names the emulator expands; "Product Name" is the field every product needs."""

MAX_PRODUCTS_PER_REQUEST = 100
MAX_FEED_PRODUCTS = 10_000
MAX_FEED_BYTES = 64 * 1024 * 1024
"""The products' JSON, summed: what keeps a feed of 10,000 large products in memory bounded."""

_INT32_MAX = 2**31 - 1
_MAX_TEXT = 4_000  # a field value, a description
_MAX_NAME = 400  # a model name, a manufacturer, a sku, a UPC
_MAX_URL = 2_000
_MAX_LIST = 200  # fields, assets or vendor skus of one product
# What .NET's DateTime reads from JSON: a date, a time, up to 7 fractional digits, an optional offset.
_TIMESTAMP = re.compile(
    r"(?P<when>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.[0-9]{1,7})?"
    r"(?:Z|(?P<sign>[+-])(?P<hours>[0-9]{2}):(?P<minutes>[0-9]{2}))?"
)


def _is_timestamp(text: str) -> bool:
    """A date and time .NET would read: the regex's shape, a real calendar date and time, an offset
    of at most 14:00 (what a client then parses back without an error)."""
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return False
    try:
        datetime.strptime(match["when"], "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return False
    if match["sign"] is None:
        return True
    return int(match["minutes"]) < 60 and int(match["hours"]) * 60 + int(match["minutes"]) <= 14 * 60


class ProductListener(Protocol):
    """Told about every change, e.g. to write it through to SQLite."""

    def product_added(self, product: dict[str, Any]) -> None: ...

    def product_removed(self, product_id: int) -> None: ...

    def product_feed_changed(self, next_id: int, version: int, updated: int | None) -> None: ...


def _text(value: object, field: str, max_length: int, *, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise InvalidFieldError(field, f"The {field.rsplit('.', 1)[-1]} field is required.")
        return None
    if not isinstance(value, str):
        raise InvalidFieldError(field, f"must be a string, not {preview(value)}")
    if required and not value.strip():
        raise InvalidFieldError(field, "must not be blank")
    if len(value) > max_length:
        raise InvalidFieldError(field, f"must be at most {max_length} characters long, not {len(value)}")
    return value


def _object(value: object, field: str, *, required: bool = True) -> dict[str, Any] | None:
    if value is None:
        if required:
            raise InvalidFieldError(field, f"The {field.rsplit('.', 1)[-1]} field is required.")
        return None
    if not isinstance(value, dict):
        raise InvalidFieldError(field, f"must be an object, not {preview(value)}")
    return value


def _list(value: object, field: str, *, required: bool = False) -> list[Any]:
    if value is None:
        if required:
            raise InvalidFieldError(field, f"The {field} field is required.")
        return []
    if not isinstance(value, list):
        raise InvalidFieldError(field, f"must be an array, not {preview(value)}")
    if len(value) > _MAX_LIST:
        raise InvalidFieldError(field, f"must have at most {_MAX_LIST} elements, not {len(value)}")
    return value


def _id(value: object, field: str) -> int:
    if value is None:
        raise InvalidFieldError(field, "The Id field is required.")
    return integer(value, field, minimum=1, maximum=_INT32_MAX)


def _fields(value: object, where: str) -> list[dict[str, Any]]:
    given = _list(value, f"{where}Fields", required=True)
    if not given:
        raise InvalidFieldError(f"{where}Fields", 'must hold at least one field (the "Product Name", definition 1)')
    fields: list[dict[str, Any]] = []
    seen: set[int] = set()
    for n, raw in enumerate(given):
        field = f"{where}Fields[{n}]"
        item = _object(raw, field)
        assert item is not None
        definition = _object(item.get("Definition"), f"{field}.Definition")
        assert definition is not None
        definition_id = _id(definition.get("Id"), f"{field}.Definition.Id")
        if definition_id in seen:
            raise InvalidFieldError(f"{field}.Definition.Id", f"definition {definition_id} is given twice")
        seen.add(definition_id)
        fields.append(
            {
                "Definition": {"Id": definition_id, "Name": FIELD_NAMES.get(definition_id)},
                "Value": _text(item.get("Value"), f"{field}.Value", _MAX_TEXT, required=True),
            }
        )
    return fields


def _product(raw: object, where: str) -> dict[str, Any]:
    """The product as stored (without its ``Id``): the answer's shape, every key present."""
    product = _object(raw, where.rstrip(".") or "body")
    assert product is not None
    classification = _object(product.get("Classification"), f"{where}Classification")
    assert classification is not None
    checked_classification = {
        "Id": _id(classification.get("Id"), f"{where}Classification.Id"),
        "TreeId": _id(classification.get("TreeId"), f"{where}Classification.TreeId"),
    }
    fields = _fields(product.get("Fields"), where)
    model_name = _text(product.get("ModelName"), f"{where}ModelName", _MAX_NAME, required=True)
    assets = []
    for n, raw_asset in enumerate(_list(product.get("Assets"), f"{where}Assets")):
        asset = _object(raw_asset, f"{where}Assets[{n}]")
        assert asset is not None
        assets.append(
            {"AssetUrl": _text(asset.get("AssetUrl"), f"{where}Assets[{n}].AssetUrl", _MAX_URL, required=True)}
        )
    modified = _text(product.get("LastModifiedByVendorUtc"), f"{where}LastModifiedByVendorUtc", 40)
    if modified is not None and not _is_timestamp(modified):
        raise InvalidFieldError(
            f"{where}LastModifiedByVendorUtc",
            f"must be an ISO 8601 date and time (such as 2016-01-01T12:00:00Z), not {preview(modified)}",
        )
    vendor_skus = []
    for n, raw_vendor in enumerate(_list(product.get("VendorSkus"), f"{where}VendorSkus")):
        field = f"{where}VendorSkus[{n}]"
        vendor = _object(raw_vendor, field)
        assert vendor is not None
        vendor_skus.append(
            {
                "Sku": _text(vendor.get("Sku"), f"{field}.Sku", _MAX_NAME, required=True),
                "Description": _text(vendor.get("Description"), f"{field}.Description", _MAX_TEXT),
                "VendorName": _text(vendor.get("VendorName"), f"{field}.VendorName", _MAX_NAME),
            }
        )
    return {
        "Classification": checked_classification,
        "Fields": fields,
        "ModelName": model_name,
        "Assets": assets,
        "Manufacturer": _text(product.get("Manufacturer"), f"{where}Manufacturer", _MAX_NAME),
        "ManufacturerSku": _text(product.get("ManufacturerSku"), f"{where}ManufacturerSku", _MAX_NAME),
        "UPC": _text(product.get("UPC"), f"{where}UPC", _MAX_NAME),
        "LastModifiedByVendorUtc": modified,
        "VendorSkus": vendor_skus,
    }


def parse_products(body: object) -> list[dict[str, Any]]:
    """One product (an object) or several (an array), checked; fields named ``[n].Field`` in an array."""
    if isinstance(body, list):
        if not body:
            raise InvalidFieldError("body", "an array of products must hold at least one")
        if len(body) > MAX_PRODUCTS_PER_REQUEST:
            raise RequestTooLargeError(
                f"The request holds {len(body)} products; the emulator takes at most "
                f"{MAX_PRODUCTS_PER_REQUEST} in one request."
            )
        return [_product(raw, f"[{n}].") for n, raw in enumerate(body)]
    return [_product(body, "")]


def _size(product: dict[str, Any]) -> int:
    """What a product counts against ``MAX_FEED_BYTES``: its JSON, the ``Id`` aside."""
    return len(json.dumps({key: value for key, value in product.items() if key != "Id"}, ensure_ascii=True))


class ProductFeed:
    """The supplier's product feed: products by id, a version, when it last changed."""

    def __init__(self, feed_id: int, provider_name: str) -> None:
        self.feed_id = feed_id
        self.provider_name = provider_name
        self.products: dict[int, dict[str, Any]] = {}
        self.next_id = 1
        self.version = 0
        self.updated: int | None = None
        self.listener: ProductListener | None = None
        self._bytes = 0

    def load(self, products: Sequence[dict[str, Any]], next_id: int, version: int, updated: int | None) -> None:
        for product in products:
            self.products[product["Id"]] = product
            self._bytes += _size(product)
        self.next_id, self.version, self.updated = next_id, version, updated

    def add(self, products: Sequence[dict[str, Any]], now: int) -> list[dict[str, Any]]:
        """Store checked products (``parse_products``); the stored ones, with their new ids."""
        sizes = [_size(product) for product in products]
        if len(self.products) + len(products) > MAX_FEED_PRODUCTS:
            raise RequestTooLargeError(f"The product feed is full: it holds at most {MAX_FEED_PRODUCTS} products.")
        if self._bytes + sum(sizes) > MAX_FEED_BYTES:
            raise RequestTooLargeError(
                f"The product feed is full: it holds at most {MAX_FEED_BYTES} bytes of products."
            )
        stored = []
        for given, size in zip(products, sizes, strict=True):
            product = {"Id": self.next_id, **given}
            self.next_id += 1
            self.products[product["Id"]] = product
            self._bytes += size
            stored.append(product)
            if self.listener is not None:
                self.listener.product_added(product)
        self._changed(now)
        return stored

    def remove(self, product_id: int, now: int) -> bool:
        product = self.products.pop(product_id, None)
        if product is None:
            return False
        self._bytes -= _size(product)
        if self.listener is not None:
            self.listener.product_removed(product_id)
        self._changed(now)
        return True

    def _changed(self, now: int) -> None:
        self.version += 1
        self.updated = max(now, self.updated or 0)
        if self.listener is not None:
            self.listener.product_feed_changed(self.next_id, self.version, self.updated)

    def as_json(self) -> dict[str, Any]:
        """The ``GET /ProductFeeds({FeedId})`` answer."""
        return {
            "Id": self.feed_id,
            "ProviderName": self.provider_name,
            "Version": self.version,
            "LastReceivedUpdatesFromProviderUtc": None if self.updated is None else format_timestamp(self.updated),
            "Products": list(self.products.values()),
        }
