"""Update requests and replies: an order's status, some items' statuses, and the server's echo.

Each builder returns a fully decided ``Request`` and the model that was sent; the matching
``read_*`` function turns the answer into the caller's model. The rules an update follows are
``rules.py``'s: the models apply them to their fields, the builders apply those that span a call
(the URL's order id, the ``Shipped`` rule and its opt-out, an item list that is not empty). A
broken rule is an ``InvalidRequestError`` (a ``ValueError``), and nothing is sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar
from uuid import UUID

from pydantic import ValidationError

from .._exceptions import InvalidRequestError
from .._text import preview
from .._validation import validation_message
from ..models import ItemStatus, OrderStatus
from . import rules
from .config import ClientConfig
from .http import Request, Response
from .responses import read_json, warn_unreadable_echo

if TYPE_CHECKING:
    from ..models import ItemStatusUpdate, ItemUpdate, OrderStatusUpdate

__all__ = [
    "ShipmentEcho",
    "checked",
    "item_status_request",
    "order_status_request",
    "read_item_echo",
    "read_order_echo",
    "shipped_items",
]

T = TypeVar("T")
# Content-Type is set by the transport from the body (JSON here, a form for the token).
_JSON_HEADERS = {"Accept": "application/json"}


def _build(model: type[Any], **fields: Any) -> Any:
    try:
        return model(**fields)
    except ValidationError as error:
        raise InvalidRequestError(f"invalid {model.__name__}: {validation_message(error)}") from None


def checked(check: Callable[[], T], where: str = "") -> T:
    """A rule's verdict: its value, or its ValueError as an ``InvalidRequestError``."""
    try:
        return check()
    except ValueError as error:
        raise InvalidRequestError(f"{where}{error}") from None


def _order_url(config: ClientConfig, order_id: UUID, action: str) -> str:
    return f"{config.supplier_url}/Orders({order_id})/{action}"


def order_status_request(
    config: ClientConfig,
    order_id: UUID | str,
    status: OrderStatus | str,
    *,
    tracking_info: str | int | None = None,
    shipping_provider: str | None = None,
    message: str | None = None,
    info: str | None = None,
    require_tracking: bool = True,
) -> tuple[Request, OrderStatusUpdate]:
    """``PUT .../Orders({id})/OrderStatusUpdate``. The body ``Id`` is the URL's order id (traps.md 8)."""
    from ..models import OrderStatusUpdate  # noqa: PLC0415 - the models load with the first update

    oid = checked(partial(rules.order_id, order_id))
    wanted = checked(partial(rules.status, OrderStatus, status))
    # Built first: a value of the wrong type is refused as such, before the rules read it.
    update: OrderStatusUpdate = _build(
        OrderStatusUpdate,
        id=oid,
        status=wanted,
        tracking_info=tracking_info,
        shipping_provider=shipping_provider,
        message=message,
        info=info,
    )
    # traps.md 14: the guide requires tracking and carrier for Shipped so the customer is told.
    if (
        wanted is OrderStatus.SHIPPED
        and require_tracking
        and rules.untracked(update.tracking_info, update.shipping_provider)
    ):
        raise InvalidRequestError(
            "a Shipped order needs tracking_info and shipping_provider (pass require_tracking=False to send it without)"
        )
    request = Request(
        "PUT",
        _order_url(config, oid, "OrderStatusUpdate"),
        purpose="update",
        headers=_JSON_HEADERS,
        json=update.to_json_body(),
    )
    return request, update


def item_status_request(
    config: ClientConfig,
    order_id: UUID | str,
    items: Iterable[ItemUpdate | Mapping[str, Any]],
    *,
    require_tracking: bool = True,
) -> tuple[Request, ItemStatusUpdate]:
    """``PUT .../Orders({id})/ItemStatusUpdate`` (traps.md 3: not ``/OrderStatusUpdate``)."""
    from ..models import ItemStatusUpdate, ItemUpdate  # noqa: PLC0415 - the models load with the first update

    oid = checked(partial(rules.order_id, order_id))
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Iterable):
        raise InvalidRequestError(f"items must be a list of ItemUpdate, got {type(items).__name__}")
    built: list[ItemUpdate] = []
    for n, given in enumerate(items):
        item = _build(ItemUpdate, **given) if isinstance(given, Mapping) else given
        if not isinstance(item, ItemUpdate):
            raise InvalidRequestError(f"items[{n}] must be an ItemUpdate, got {type(item).__name__}")
        checked(partial(rules.status, ItemStatus, item.status), f"items[{n}]: ")
        shipped = item.status is ItemStatus.SHIPPED
        if shipped and require_tracking and rules.untracked(item.tracking_info, item.shipping_provider):
            raise InvalidRequestError(
                f"items[{n}] (sku {preview(item.sku)}) is Shipped without tracking_info and "
                "shipping_provider (pass require_tracking=False to send it without)"
            )
        built.append(item)
    if not built:  # traps.md 11: an item update without items means nothing
        raise InvalidRequestError("an item status update needs at least one item")
    update: ItemStatusUpdate = _build(ItemStatusUpdate, id=oid, item_information=built)
    request = Request(
        "PUT",
        _order_url(config, oid, "ItemStatusUpdate"),
        purpose="update",
        headers=_JSON_HEADERS,
        json=update.to_json_body(),
    )
    return request, update


class ShipmentEcho(NamedTuple):
    """One parcel of a split shipment, as the server echoed it: the items, then the order."""

    items: ItemStatusUpdate
    order: OrderStatusUpdate


def shipped_items(
    items: Iterable[str] | Mapping[str, int], tracking: str, shipping_provider: str, message: str | None
) -> list[ItemUpdate]:
    """The item updates of one parcel: each SKU (or SKU to quantity) ``Shipped`` with its tracking."""
    from ..models import ItemUpdate  # noqa: PLC0415 - the models load with the first update

    if isinstance(items, (str, bytes)):
        raise InvalidRequestError("items must be a list of SKUs, or a mapping of SKU to quantity")
    quantities: Mapping[Any, Any] = items if isinstance(items, Mapping) else dict.fromkeys(items)
    if rules.untracked(tracking, shipping_provider):
        raise InvalidRequestError("a shipped parcel needs tracking_numbers and a shipping_provider")
    updates = [
        _build(
            ItemUpdate,
            sku=sku,
            status=ItemStatus.SHIPPED,
            quantity=quantity,
            tracking_info=tracking,
            shipping_provider=shipping_provider,
            message=message,
        )
        for sku, quantity in quantities.items()
    ]
    if not updates:
        raise InvalidRequestError("a shipped parcel needs at least one item")
    return updates


def _read_echo(request: Request, response: Response, sent: Any) -> Any:
    if response.truncated:
        # traps.md 15: the update was accepted (2xx); an echo too large (or too broken) to read
        # whole does not make it a failure. What was sent is returned, and the cut is said.
        warn_unreadable_echo(request, response, "was cut at the size limit, or could not be decoded")
        return sent
    data = read_json(response.content)
    if isinstance(data, dict):
        try:
            return type(sent).from_echo(data)
        except ValidationError:
            pass
    if response.content.strip():
        warn_unreadable_echo(request, response)
    return sent


def read_order_echo(request: Request, response: Response, sent: OrderStatusUpdate) -> OrderStatusUpdate:
    """The server's echo (traps.md 15: it may differ from what was sent); what was sent if it has none."""
    echo: OrderStatusUpdate = _read_echo(request, response, sent)
    return echo


def read_item_echo(request: Request, response: Response, sent: ItemStatusUpdate) -> ItemStatusUpdate:
    echo: ItemStatusUpdate = _read_echo(request, response, sent)
    return echo
