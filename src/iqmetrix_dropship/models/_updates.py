"""What we send: order and item status updates, and the echo the server answers with.

Built by a caller, these models are strict (traps.md 6-13): a status must be an enum member or
its exact wire name, ``TrackingInfo`` is always a string, ``Quantity`` an integer, and
``ReferenceName`` / ``ReferenceValue`` are never sent. The same classes read the server's echo
leniently (``from_echo``): there a status we do not know is kept as its string, and the fields
the server fills in or nulls are accepted (traps.md 15).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.alias_generators import to_pascal

from ._enums import ItemStatus, OrderStatus

__all__ = ["ItemStatusUpdate", "ItemUpdate", "OrderStatusUpdate"]

_ECHO = "echo"  # validation context flag: reading the server's answer, be lenient


def _is_echo(info: ValidationInfo) -> bool:
    return bool(info.context and info.context.get(_ECHO))


def _text(value: Any, info: ValidationInfo) -> Any:
    """Free-text fields: strings; a whole number is accepted and sent as its digits (traps.md 9)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if _is_echo(info):
        return str(value)
    raise ValueError(f"{to_pascal(info.field_name or '')} must be a string, got {type(value).__name__}")


def validation_message(error: ValidationError) -> str:
    """One readable line for a pydantic error: ``Status: 'Exception' is not a valid ...``."""
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


class _Sent(BaseModel):
    """A request body. Constructing one with bad values raises pydantic's ``ValidationError``
    (a ``ValueError``); the clients turn it into ``InvalidRequestError`` with ``validate_request``."""

    model_config = ConfigDict(
        frozen=True,
        extra="ignore",
        alias_generator=to_pascal,
        populate_by_name=True,
        defer_build=True,  # the validator is built on first use, not at import
    )

    @classmethod
    def from_echo(cls, data: Any) -> Any:
        """Read the server's echo of an update leniently (traps.md 15)."""
        return cls.model_validate(data, context={_ECHO: True})

    def to_json_body(self) -> dict[str, Any]:
        """The JSON body with the spec's PascalCase keys; ``Id`` and ``Status`` always present."""
        body: dict[str, Any] = self.model_dump(by_alias=True, exclude_none=True, mode="json")
        return body


class ItemUpdate(_Sent):
    """The new status of one item of an order, keyed by its ``sku`` (traps.md 12)."""

    sku: str = Field(min_length=1)
    status: ItemStatus | str
    quantity: int | None = None
    """How many units this status applies to (partial shipments)."""
    tracking_info: str | None = None
    shipping_provider: str | None = None
    message: str | None = None
    info: str | None = None
    catalog_id: str | None = None
    product_name: str | None = None

    @field_validator("status", mode="plain")
    @classmethod
    def _check_status(cls, value: Any, info: ValidationInfo) -> Any:
        if _is_echo(info) and isinstance(value, str) and value not in set(ItemStatus):
            return value  # a status the enum does not know, kept as its string
        return ItemStatus.parse(value)

    @field_validator("quantity", mode="plain")
    @classmethod
    def _check_quantity(cls, value: Any, info: ValidationInfo) -> Any:
        # traps.md 10: the spec shows "5"; the API takes an integer.
        if value is None:
            return None
        if _is_echo(info) and isinstance(value, str) and value.strip().isdigit():
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"Quantity must be a whole number, got {value!r}")
        if value < 1 and not _is_echo(info):
            raise ValueError(f"Quantity must be at least 1, got {value}")
        return value

    @field_validator(
        "tracking_info",
        "shipping_provider",
        "message",
        "info",
        "catalog_id",
        "product_name",
        mode="plain",
    )
    @classmethod
    def _check_text(cls, value: Any, info: ValidationInfo) -> Any:
        return _text(value, info)

    @field_validator("sku", mode="plain")
    @classmethod
    def _check_sku(cls, value: Any, info: ValidationInfo) -> Any:
        # traps.md 12: items are keyed by Sku, so an update without one means nothing.
        sku = _text(value, info)
        if not isinstance(sku, str) or not sku.strip():
            raise ValueError(f"Sku is required, got {value!r}")
        return sku


class OrderStatusUpdate(_Sent):
    """The new status of a whole order (``PUT .../OrderStatusUpdate``)."""

    id: UUID
    """The dropship order id; always the order id of the URL (traps.md 8)."""
    status: OrderStatus | str
    tracking_info: str | None = None
    shipping_provider: str | None = None
    message: str | None = None
    info: str | None = None

    @field_validator("status", mode="plain")
    @classmethod
    def _check_status(cls, value: Any, info: ValidationInfo) -> Any:
        if _is_echo(info) and isinstance(value, str) and value not in set(OrderStatus):
            return value
        return OrderStatus.parse(value)

    @field_validator("tracking_info", "shipping_provider", "message", "info", mode="plain")
    @classmethod
    def _check_text(cls, value: Any, info: ValidationInfo) -> Any:
        return _text(value, info)


class ItemStatusUpdate(_Sent):
    """New statuses for some items of an order (``PUT .../ItemStatusUpdate``)."""

    id: UUID
    item_information: list[ItemUpdate]

    @field_validator("item_information")
    @classmethod
    def _not_empty(cls, value: list[ItemUpdate], info: ValidationInfo) -> list[ItemUpdate]:
        # traps.md 11: an item update without items means nothing.
        if not value and not _is_echo(info):
            raise ValueError("at least one item is required")
        return value
