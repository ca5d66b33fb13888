"""Order and item statuses, as the Supplier Orders API names and numbers them."""

from __future__ import annotations

from enum import Enum
from typing import Any

from .._text import preview

__all__ = ["ItemStatus", "OrderStatus"]


class _Status(str, Enum):
    """A status whose value is its wire name; ``id`` is the spec's numeric id."""

    @property
    def id(self) -> int:
        # The spec numbers both enums 0..8 in the order they are declared below.
        return list(type(self)).index(self)

    @classmethod
    def from_id(cls, status_id: int) -> Any:
        members = list(cls)
        if not 0 <= status_id < len(members):
            raise ValueError(f"no {cls.__name__} has id {status_id}")
        return members[status_id]

    @classmethod
    def valid_names(cls) -> str:
        return ", ".join(member.value for member in cls)

    @classmethod
    def parse(cls, value: object) -> Any:
        """The member for an enum member or its exact wire name; ``ValueError`` otherwise.

        Strict on purpose (traps.md 6): ``"Exception"``, ``"shipped "``, ``42`` are refused.
        """
        if isinstance(value, cls):
            return value
        if isinstance(value, str) and not isinstance(value, Enum):
            try:
                return cls(value)
            except ValueError:
                pass
        raise ValueError(f"{preview(value)} is not a valid {cls.__name__}; valid names are: {cls.valid_names()}")

    def __str__(self) -> str:
        return str(self.value)


class OrderStatus(_Status):
    """The status of a whole dropship order (``OrderStatusUpdate``)."""

    PENDING_SUPPLIER = "PendingSupplier"
    ORDERED = "Ordered"
    SHIPPED = "Shipped"
    BACK_ORDERED = "BackOrdered"
    ERROR = "Error"
    NOT_AVAILABLE = "NotAvailable"
    PARTIALLY_SHIPPED = "PartiallyShipped"
    CANCELLED = "Cancelled"
    OTHER = "Other"


class ItemStatus(_Status):
    """The status of one item of an order (``ItemStatusUpdate``, ``item-information``)."""

    PENDING_SUPPLIER = "PendingSupplier"
    ORDERED = "Ordered"
    SHIPPED = "Shipped"
    BACK_ORDERED = "BackOrdered"
    ERROR = "Error"
    NOT_AVAILABLE = "NotAvailable"
    PARTIALLY_SHIPPED = "PartiallyShipped"
    CANCELLED = "Cancelled"
    OTHER = "Other"
