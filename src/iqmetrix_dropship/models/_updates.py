"""What we send: order and item status updates, and the echo the server answers with.

Built by a caller, these models are strict (traps.md 6-13): a status must be an enum member or
its exact wire name, ``TrackingInfo`` is always a string, ``Quantity`` an integer, and
``ReferenceName`` / ``ReferenceValue`` are never sent. An unknown field (``mesage`` for
``message``) is refused, not dropped; a string that cannot be encoded (a lone surrogate) is
refused before any request; a tracking number or carrier is stripped of surrounding white space,
and a blank one is no value. The same classes read the server's echo leniently (``from_echo``):
there a status we do not know is kept as its string, the fields the server fills in or nulls are
accepted, and fields we do not know are ignored (traps.md 13, 15).
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_pascal

from .._text import PREVIEW_CHARS, is_blank, preview, unsendable_at
from ._enums import ItemStatus, OrderStatus

__all__ = ["ItemStatusUpdate", "ItemUpdate", "OrderStatusUpdate"]

_ECHO = "echo"  # validation context flag: reading the server's answer, be lenient
_SURROGATE = re.compile("[\ud800-\udfff]")
_RESERVED = frozenset({"ReferenceName", "ReferenceValue", "reference_name", "reference_value"})


def _is_echo(info: ValidationInfo) -> bool:
    return bool(info.context and info.context.get(_ECHO))


def _text(value: Any, info: ValidationInfo) -> Any:
    """Free-text fields: strings; a whole number is accepted and sent as its digits (traps.md 9)."""
    if value is None:
        return value
    if isinstance(value, str):
        at = unsendable_at(value)
        if at is None:
            return value
        if _is_echo(info):
            # Kept readable, and storable (the ledger records the echo): U+FFFD for what cannot be encoded.
            return _SURROGATE.sub("\ufffd", value)
        field = to_pascal(info.field_name or "")
        raise ValueError(f"{field} holds a character that cannot be sent (a lone surrogate, at index {at})")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if _is_echo(info):
        return str(value)
    raise ValueError(f"{to_pascal(info.field_name or '')} must be a string, got {type(value).__name__}")


def _shipping_text(value: Any, info: ValidationInfo) -> Any:
    """Tracking number and carrier: text without the white space around it; blank is no value."""
    text = _text(value, info)
    if isinstance(text, str) and not _is_echo(info):
        return None if is_blank(text) else text.strip()
    return text


def validation_message(error: ValidationError) -> str:
    """One readable line for a pydantic error: ``Status: 'Exception' is not a valid ...``."""
    parts = []
    for item in error.errors(include_url=False, include_input=False):
        where = ".".join(str(p) if len(str(p)) <= PREVIEW_CHARS else preview(p) for p in item["loc"])
        if item["type"] == "extra_forbidden":
            message = "unknown field (misspelt?), refused rather than dropped"
        else:
            message = str(item["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


class _Sent(BaseModel):
    """A request body. Constructing one with bad values raises pydantic's ``ValidationError``
    (a ``ValueError``); the clients turn it into ``InvalidRequestError`` with ``validate_request``."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",  # a misspelt field is refused, not silently dropped from the update
        alias_generator=to_pascal,
        populate_by_name=True,
        defer_build=True,  # the validator is built on first use, not at import
    )

    @model_validator(mode="before")
    @classmethod
    def _unknown_fields(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict):
            return data
        if _is_echo(info):
            # The server's echo may hold fields we never send, or new ones: ignored.
            known = set(cls.model_fields) | {field.alias for field in cls.model_fields.values() if field.alias}
            return {key: value for key, value in data.items() if key in known}
        # traps.md 13: the reserved fields are accepted (an item copied from an echo has them) and
        # never sent. Any other unknown field is refused by extra="forbid".
        return {key: value for key, value in data.items() if key not in _RESERVED}

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
            raise ValueError(f"Quantity must be a whole number, got {preview(value)}")
        if value < 1 and not _is_echo(info):
            raise ValueError(f"Quantity must be at least 1, got {value}")
        return value

    @field_validator("message", "info", "catalog_id", "product_name", mode="plain")
    @classmethod
    def _check_text(cls, value: Any, info: ValidationInfo) -> Any:
        return _text(value, info)

    @field_validator("tracking_info", "shipping_provider", mode="plain")
    @classmethod
    def _check_shipping(cls, value: Any, info: ValidationInfo) -> Any:
        return _shipping_text(value, info)

    @field_validator("sku", mode="plain")
    @classmethod
    def _check_sku(cls, value: Any, info: ValidationInfo) -> Any:
        # traps.md 12: items are keyed by Sku, so an update without one means nothing.
        sku = _text(value, info)
        if not isinstance(sku, str) or is_blank(sku):
            raise ValueError(f"Sku is required, got {preview(value)}")
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

    @field_validator("message", "info", mode="plain")
    @classmethod
    def _check_text(cls, value: Any, info: ValidationInfo) -> Any:
        return _text(value, info)

    @field_validator("tracking_info", "shipping_provider", mode="plain")
    @classmethod
    def _check_shipping(cls, value: Any, info: ValidationInfo) -> Any:
        return _shipping_text(value, info)


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
