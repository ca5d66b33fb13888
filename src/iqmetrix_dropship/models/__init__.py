"""Typed models: what the feed tells us (lenient) and what we send (strict).

The modules of pydantic models load on first use (PEP 562): creating a model class costs even
with ``defer_build``, and a program that only sends status updates never needs the feed's.
The enums and ``page_id_from_href`` are plain Python, loaded at once.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._enums import ItemStatus, OrderStatus
from ._links import page_id_from_href

if TYPE_CHECKING:
    from ._catalog import (
        Asset,
        Classification,
        FieldValue,
        Product,
        ProductAvailability,
        ProductCost,
        ProductFeed,
        SupplierSku,
        VendorSku,
    )
    from ._feed import (
        FeedEntry,
        FeedEvent,
        FeedLinks,
        FeedPage,
        ItemInformation,
        OrderCreated,
        OrderItem,
        OrderStatusUpdated,
        Seller,
        ShippingAddress,
        ShippingCustomer,
        UnknownEvent,
    )
    from ._updates import ItemStatusUpdate, ItemUpdate, OrderStatusUpdate

_LAZY = {
    "Asset": "._catalog",
    "Classification": "._catalog",
    "FieldValue": "._catalog",
    "Product": "._catalog",
    "ProductAvailability": "._catalog",
    "ProductCost": "._catalog",
    "ProductFeed": "._catalog",
    "SupplierSku": "._catalog",
    "VendorSku": "._catalog",
    "FeedEntry": "._feed",
    "FeedEvent": "._feed",
    "FeedLinks": "._feed",
    "FeedPage": "._feed",
    "ItemInformation": "._feed",
    "OrderCreated": "._feed",
    "OrderItem": "._feed",
    "OrderStatusUpdated": "._feed",
    "Seller": "._feed",
    "ShippingAddress": "._feed",
    "ShippingCustomer": "._feed",
    "UnknownEvent": "._feed",
    "ItemStatusUpdate": "._updates",
    "ItemUpdate": "._updates",
    "OrderStatusUpdate": "._updates",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "Asset",
    "Classification",
    "FeedEntry",
    "FeedEvent",
    "FeedLinks",
    "FeedPage",
    "FieldValue",
    "ItemInformation",
    "ItemStatus",
    "ItemStatusUpdate",
    "ItemUpdate",
    "OrderCreated",
    "OrderItem",
    "OrderStatus",
    "OrderStatusUpdate",
    "OrderStatusUpdated",
    "Product",
    "ProductAvailability",
    "ProductCost",
    "ProductFeed",
    "Seller",
    "ShippingAddress",
    "ShippingCustomer",
    "SupplierSku",
    "UnknownEvent",
    "VendorSku",
    "page_id_from_href",
]
