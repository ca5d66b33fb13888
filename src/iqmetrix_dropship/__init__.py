"""iqmetrix-dropship: the Python SDK for iQmetrix's Dropship Supplier Orders API.

::

    from iqmetrix_dropship import DropshipClient, OrderStatus

    with DropshipClient.from_env() as client:
        for entry in client.iter_entries():
            ...
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._exceptions import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    ArgumentTypeError,
    AuthenticationError,
    BadRequestError,
    CheckpointError,
    ClientClosedError,
    ConfigurationError,
    CursorLostError,
    DropshipError,
    FeedParseError,
    InvalidRequestError,
    LeaseLostError,
    LedgerSchemaError,
    NotFoundError,
    PushError,
    RateLimitError,
    ServerError,
    StoreUnavailableError,
    TokenError,
    UnexpectedResponseError,
)
from ._version import __version__

if TYPE_CHECKING:
    from ._async.client import AsyncDropshipClient
    from ._protocol.catalog import FailedChunk, PushResult, ServiceStatus
    from ._protocol.config import Environment
    from ._protocol.retry import RetryPolicy
    from ._protocol.updates import ShipmentEcho
    from ._sync.client import DropshipClient
    from .feed import parse_feed
    from .follow import (
        AsyncFeedFollower,
        CheckpointStore,
        Cursor,
        FeedFollower,
        MemoryCheckpoint,
        PostgresCheckpoint,
        SQLiteCheckpoint,
    )
    from .ledger import OrderLedger
    from .models import (
        FeedEntry,
        FeedEvent,
        FeedLinks,
        FeedPage,
        ItemInformation,
        ItemStatus,
        ItemStatusUpdate,
        ItemUpdate,
        OrderCreated,
        OrderItem,
        OrderStatus,
        OrderStatusUpdate,
        OrderStatusUpdated,
        Product,
        ProductAvailability,
        ProductCost,
        ProductFeed,
        Seller,
        ShippingAddress,
        ShippingCustomer,
        SupplierSku,
        UnknownEvent,
    )
    from .shipping_options import ApiKeyAuth, BasicAuth, OutOfStock, ShippingOption, ShippingQuery, create_app

# Everything else loads on first use (PEP 562): `import iqmetrix_dropship` stays cheap, and a
# program that never follows the feed never imports sqlite3 or the ledger.
_LAZY = {
    "AsyncDropshipClient": "._async.client",
    "DropshipClient": "._sync.client",
    "Environment": "._protocol.config",
    "RetryPolicy": "._protocol.retry",
    "parse_feed": ".feed",
    "AsyncFeedFollower": ".follow",
    "CheckpointStore": ".follow",
    "Cursor": ".follow",
    "FeedFollower": ".follow",
    "MemoryCheckpoint": ".follow",
    "PostgresCheckpoint": ".follow",
    "SQLiteCheckpoint": ".follow",
    "OrderLedger": ".ledger",
    "FeedEntry": ".models",
    "FeedEvent": ".models",
    "FeedLinks": ".models",
    "FeedPage": ".models",
    "ItemInformation": ".models",
    "ItemStatus": ".models",
    "ItemStatusUpdate": ".models",
    "ItemUpdate": ".models",
    "OrderCreated": ".models",
    "OrderItem": ".models",
    "OrderStatus": ".models",
    "OrderStatusUpdate": ".models",
    "OrderStatusUpdated": ".models",
    "Seller": ".models",
    "ShippingAddress": ".models",
    "ShippingCustomer": ".models",
    "UnknownEvent": ".models",
    "Product": ".models",
    "ProductAvailability": ".models",
    "ProductCost": ".models",
    "ProductFeed": ".models",
    "SupplierSku": ".models",
    "FailedChunk": "._protocol.catalog",
    "PushResult": "._protocol.catalog",
    "ServiceStatus": "._protocol.catalog",
    "ShipmentEcho": "._protocol.updates",
    # The shipping-options server kit (its home: iqmetrix_dropship.shipping_options).
    "ApiKeyAuth": ".shipping_options",
    "BasicAuth": ".shipping_options",
    "OutOfStock": ".shipping_options",
    "ShippingOption": ".shipping_options",
    "ShippingQuery": ".shipping_options",
    "create_app": ".shipping_options",
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
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "ApiKeyAuth",
    "ArgumentTypeError",
    "AsyncDropshipClient",
    "AsyncFeedFollower",
    "AuthenticationError",
    "BadRequestError",
    "BasicAuth",
    "CheckpointError",
    "CheckpointStore",
    "ClientClosedError",
    "ConfigurationError",
    "Cursor",
    "CursorLostError",
    "DropshipClient",
    "DropshipError",
    "Environment",
    "FailedChunk",
    "FeedEntry",
    "FeedEvent",
    "FeedFollower",
    "FeedLinks",
    "FeedPage",
    "FeedParseError",
    "InvalidRequestError",
    "ItemInformation",
    "ItemStatus",
    "ItemStatusUpdate",
    "ItemUpdate",
    "LeaseLostError",
    "LedgerSchemaError",
    "MemoryCheckpoint",
    "NotFoundError",
    "OrderCreated",
    "OrderItem",
    "OrderLedger",
    "OrderStatus",
    "OrderStatusUpdate",
    "OrderStatusUpdated",
    "OutOfStock",
    "PostgresCheckpoint",
    "Product",
    "ProductAvailability",
    "ProductCost",
    "ProductFeed",
    "PushError",
    "PushResult",
    "RateLimitError",
    "RetryPolicy",
    "SQLiteCheckpoint",
    "Seller",
    "ServerError",
    "ServiceStatus",
    "ShipmentEcho",
    "ShippingAddress",
    "ShippingCustomer",
    "ShippingOption",
    "ShippingQuery",
    "StoreUnavailableError",
    "SupplierSku",
    "TokenError",
    "UnexpectedResponseError",
    "UnknownEvent",
    "__version__",
    "create_app",
    "parse_feed",
]
