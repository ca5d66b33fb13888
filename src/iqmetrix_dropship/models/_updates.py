"""What we send: order and item status updates, and the echo the server answers with.

Built by a caller, these models are strict: each field is checked by the rule of
``_protocol/rules.py`` that the table there names (a status is an enum member or its exact wire
name, ``TrackingInfo`` a string, ``Quantity`` a whole number, ``Sku`` present; no lone surrogate;
a blank tracking number is no value). An unknown field (``mesage`` for ``message``) is refused,
not dropped, and ``ReferenceName`` / ``ReferenceValue`` are never sent. The same classes read the
server's echo leniently (``from_echo``): there a status we do not know is kept as its string, the
fields the server fills in or nulls are accepted, and fields we do not know are ignored
(traps.md 13, 15).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_pascal

from .._protocol import rules
from ._enums import ItemStatus, OrderStatus

__all__ = ["ItemStatusUpdate", "ItemUpdate", "OrderStatusUpdate"]

_ECHO = "echo"  # validation context flag: reading the server's answer, be lenient


def _is_echo(info: ValidationInfo) -> bool:
    return bool(info.context and info.context.get(_ECHO))


def _field(info: ValidationInfo) -> str:
    return to_pascal(info.field_name or "")


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
        # The reserved fields are accepted and never sent (rules.RESERVED_FIELDS); any other unknown
        # field is refused by extra="forbid".
        return {key: value for key, value in data.items() if key not in rules.RESERVED_FIELDS}

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
        return rules.status(ItemStatus, value, echo=_is_echo(info))

    @field_validator("quantity", mode="plain")
    @classmethod
    def _check_quantity(cls, value: Any, info: ValidationInfo) -> Any:
        return rules.quantity(value, echo=_is_echo(info))

    @field_validator("message", "info", "catalog_id", "product_name", mode="plain")
    @classmethod
    def _check_text(cls, value: Any, info: ValidationInfo) -> Any:
        return rules.text(value, _field(info), echo=_is_echo(info))

    @field_validator("tracking_info", "shipping_provider", mode="plain")
    @classmethod
    def _check_shipping(cls, value: Any, info: ValidationInfo) -> Any:
        return rules.shipping_text(value, _field(info), echo=_is_echo(info))

    @field_validator("sku", mode="plain")
    @classmethod
    def _check_sku(cls, value: Any, info: ValidationInfo) -> Any:
        return rules.sku(value, echo=_is_echo(info))


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
        return rules.status(OrderStatus, value, echo=_is_echo(info))

    @field_validator("message", "info", mode="plain")
    @classmethod
    def _check_text(cls, value: Any, info: ValidationInfo) -> Any:
        return rules.text(value, _field(info), echo=_is_echo(info))

    @field_validator("tracking_info", "shipping_provider", mode="plain")
    @classmethod
    def _check_shipping(cls, value: Any, info: ValidationInfo) -> Any:
        return rules.shipping_text(value, _field(info), echo=_is_echo(info))


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
