"""iqmetrix-dropship: the Python SDK for iQmetrix's Dropship Supplier Orders API.

::

    from iqmetrix_dropship import DropshipClient, OrderStatus

    with DropshipClient.from_env() as client:
        for entry in client.iter_entries():
            ...
"""

from ._async_client import AsyncDropshipClient
from ._client import DropshipClient
from ._exceptions import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    CursorLostError,
    DropshipError,
    FeedParseError,
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TokenError,
)
from ._protocol.config import Environment
from ._protocol.retry import RetryPolicy
from ._version import __version__
from .feed import parse_feed
from .follow import AsyncFeedFollower, CheckpointStore, Cursor, FeedFollower, MemoryCheckpoint, SQLiteCheckpoint
from .ledger import LedgerSchemaError, OrderLedger
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
    Seller,
    ShippingAddress,
    ShippingCustomer,
    UnknownEvent,
)

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AsyncDropshipClient",
    "AsyncFeedFollower",
    "AuthenticationError",
    "BadRequestError",
    "CheckpointStore",
    "ConfigurationError",
    "Cursor",
    "CursorLostError",
    "DropshipClient",
    "DropshipError",
    "Environment",
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
    "LedgerSchemaError",
    "MemoryCheckpoint",
    "NotFoundError",
    "OrderCreated",
    "OrderItem",
    "OrderLedger",
    "OrderStatus",
    "OrderStatusUpdate",
    "OrderStatusUpdated",
    "RateLimitError",
    "RetryPolicy",
    "SQLiteCheckpoint",
    "Seller",
    "ServerError",
    "ShippingAddress",
    "ShippingCustomer",
    "TokenError",
    "UnknownEvent",
    "__version__",
    "parse_feed",
]
