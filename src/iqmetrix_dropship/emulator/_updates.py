"""Validating ``OrderStatusUpdate`` / ``ItemStatusUpdate`` bodies as the service does, and the echo.

What is checked (the Supplier Orders API reference's "Request Parameters", docs/traps.md 6-15):

- ``Id`` is required, a GUID, and the order id of the URL;
- ``Status`` is a wire name of OrderStatus/ItemStatus; ``"Exception"`` is not (traps.md 6).
  Omitted (or null) it defaults to ``PendingSupplier``: the documented, dangerous default (traps.md 7);
- text fields are strings; numbers are turned into strings as Json.NET does (traps.md 9);
- an item's ``Sku`` is required and must be one of the order's; ``Quantity`` is an integer.

The echo has every key, ``null`` for what was not set, ``CatalogId`` and ``Quantity`` filled in
from the order, and no ``ProductName`` (traps.md 15). Key order follows the guide's examples.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from ._checks import preview
from ._records import ItemInfo, Order
from ._xml import xml_safe

__all__ = [
    "STATUSES",
    "InvalidRequestError",
    "ItemUpdateRequest",
    "OrderUpdateRequest",
    "parse_item_update",
    "parse_order_update",
]

STATUSES = (
    "PendingSupplier",
    "Ordered",
    "Shipped",
    "BackOrdered",
    "Error",
    "NotAvailable",
    "PartiallyShipped",
    "Cancelled",
    "Other",
)
"""The wire names of OrderStatus and ItemStatus (both enums have the same nine)."""
_STATUS_SET = frozenset(STATUSES)
_DEFAULT_STATUS = "PendingSupplier"
_INT32_MAX = 2**31 - 1


class InvalidRequestError(Exception):
    """A 400: ``{"Message": "The request is invalid", "ModelState": {field: [reason]}}``."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason

    def body(self) -> dict[str, Any]:
        return {"Message": "The request is invalid", "ModelState": {self.field: [self.reason]}}


@dataclass(frozen=True)
class OrderUpdateRequest:
    status: str
    tracking_info: str | None
    shipping_provider: str | None
    message: str | None
    info: str | None
    echo: dict[str, Any]


@dataclass(frozen=True)
class ItemUpdateRequest:
    items: tuple[ItemInfo, ...]
    echo: dict[str, Any]


def normalize_guid(value: str) -> str | None:
    """``value`` as .NET writes a Guid (lower case, hyphenated), or ``None`` if it is none."""
    try:
        return str(uuid.UUID(value.strip()))
    except (ValueError, AttributeError):
        return None


def _object(body: object, where: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidRequestError(where, "A JSON object is required.")
    return body


def _id(body: dict[str, Any], order_id: str) -> str:
    value = body.get("Id")
    if value is None:
        raise InvalidRequestError("Id", "The Id field is required.")
    guid = normalize_guid(value) if isinstance(value, str) else None
    if guid is None:
        raise InvalidRequestError("Id", f"Error converting value {preview(value)} to type 'System.Guid'.")
    if guid != order_id:
        raise InvalidRequestError("Id", f"Id {guid} does not match the order id in the uri.")
    return guid


def _status(body: dict[str, Any], field: str) -> str:
    value = body.get("Status")
    if value is None:
        return _DEFAULT_STATUS
    if not isinstance(value, str) or value not in _STATUS_SET:
        raise InvalidRequestError(
            field,
            f"Error converting value {preview(value)} to a status; valid values are " + ", ".join(STATUSES) + ".",
        )
    return value


def _text(body: dict[str, Any], key: str, field: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        return xml_safe(value)
    if isinstance(value, bool):  # Json.NET writes booleans this way when it coerces them
        return "True" if value else "False"
    if isinstance(value, int | float):
        return str(value)
    raise InvalidRequestError(field, f"Error converting value to type 'System.String' for {key}.")


def parse_order_update(body: object, order: Order) -> OrderUpdateRequest:
    data = _object(body, "update")
    order_id = _id(data, order.order_id)
    status = _status(data, "Status")
    tracking_info = _text(data, "TrackingInfo", "TrackingInfo")
    shipping_provider = _text(data, "ShippingProvider", "ShippingProvider")
    message = _text(data, "Message", "Message")
    info = _text(data, "Info", "Info")
    echo = {
        "Id": order_id,
        "Status": status,
        "TrackingInfo": tracking_info,
        "ShippingProvider": shipping_provider,
        "Info": info,
        "Message": message,
    }
    return OrderUpdateRequest(status, tracking_info, shipping_provider, message, info, echo)


def parse_item_update(body: object, order: Order) -> ItemUpdateRequest:
    data = _object(body, "update")
    order_id = _id(data, order.order_id)
    given = data.get("ItemInformation")
    if given is None:
        # "Optional" per the spec (traps.md 11): accepted, and it changes nothing.
        return ItemUpdateRequest((), {"Id": order_id, "ItemInformation": None})
    if not isinstance(given, list):
        raise InvalidRequestError("ItemInformation", "An array of ItemInformation is required.")
    items: list[ItemInfo] = []
    echoes: list[dict[str, Any]] = []
    for n, raw in enumerate(given):
        where = f"ItemInformation[{n}]"
        item = _object(raw, where)
        sku = item.get("Sku")
        if sku is None:
            raise InvalidRequestError(f"{where}.Sku", "The Sku field is required.")
        if not isinstance(sku, str):
            raise InvalidRequestError(f"{where}.Sku", "Sku must be a string.")
        line = order.line(sku)
        if line is None:
            raise InvalidRequestError(f"{where}.Sku", f"Sku {preview(sku)} is not an item of this order.")
        catalog_id = _text(item, "CatalogId", f"{where}.CatalogId")
        if catalog_id is not None and catalog_id.lower() != line.catalog_id.lower():
            raise InvalidRequestError(
                f"{where}.CatalogId", f"CatalogId {preview(catalog_id)} is not the catalog id of {preview(sku)}."
            )
        quantity = item.get("Quantity")
        if quantity is None:
            quantity = line.quantity
        elif isinstance(quantity, bool) or not isinstance(quantity, int):
            raise InvalidRequestError(f"{where}.Quantity", "Quantity must be an integer.")
        elif quantity < 0:
            raise InvalidRequestError(f"{where}.Quantity", "Quantity must not be negative.")
        elif quantity > _INT32_MAX:
            # The service's Quantity is an Int32; unchecked, a 30-digit one would reach the
            # feed, where the SDK reads integers of at most 19 digits.
            raise InvalidRequestError(f"{where}.Quantity", "Value was either too large or too small for an Int32.")
        status = _status(item, f"{where}.Status")
        tracking_info = _text(item, "TrackingInfo", f"{where}.TrackingInfo")
        shipping_provider = _text(item, "ShippingProvider", f"{where}.ShippingProvider")
        info = _text(item, "Info", f"{where}.Info")
        message = _text(item, "Message", f"{where}.Message")
        _text(item, "ProductName", f"{where}.ProductName")  # accepted, never echoed
        items.append(
            ItemInfo(
                catalog_id=line.catalog_id,
                info=info,
                message=message,
                quantity=quantity,
                shipping_provider=shipping_provider,
                sku=sku,
                status=status,
                tracking_info=tracking_info,
            )
        )
        echoes.append(
            {
                "Sku": sku,
                "CatalogId": line.catalog_id,
                "Quantity": quantity,
                "Status": status,
                "TrackingInfo": tracking_info,
                "ShippingProvider": shipping_provider,
                "Info": info,
                "Message": message,
            }
        )
    return ItemUpdateRequest(tuple(items), {"Id": order_id, "ItemInformation": echoes})
