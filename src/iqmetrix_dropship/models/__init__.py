"""Typed models: what the feed tells us (lenient) and what we send (strict)."""

from ._enums import ItemStatus, OrderStatus
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
    page_id_from_href,
)
from ._updates import ItemStatusUpdate, ItemUpdate, OrderStatusUpdate

__all__ = [
    "FeedEntry",
    "FeedEvent",
    "FeedLinks",
    "FeedPage",
    "ItemInformation",
    "ItemStatus",
    "ItemStatusUpdate",
    "ItemUpdate",
    "OrderCreated",
    "OrderItem",
    "OrderStatus",
    "OrderStatusUpdate",
    "OrderStatusUpdated",
    "Seller",
    "ShippingAddress",
    "ShippingCustomer",
    "UnknownEvent",
    "page_id_from_href",
]
