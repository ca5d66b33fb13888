"""Request builders for the Supplier Orders API, with the validation that runs before anything is sent.

Each builder returns a fully decided ``Request``; the matching ``read_*`` function turns the
answer into the caller's model. Paths follow traps.md 2 (plural ``Suppliers``, bare keys).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

from pydantic import ValidationError

from .._exceptions import InvalidRequestError
from .._text import is_blank, preview
from ..feed import PageScan, parse_feed, scan_entry_ids
from ..models import (
    FeedPage,
    ItemStatus,
    ItemStatusUpdate,
    ItemUpdate,
    OrderStatus,
    OrderStatusUpdate,
    page_id_from_href,
)
from ..models._updates import validation_message
from .config import ClientConfig
from .http import Request, Response
from .responses import read_json, warn_unreadable_echo

__all__ = [
    "archive_request",
    "item_status_request",
    "notifications_request",
    "order_status_request",
    "read_feed",
    "read_item_echo",
    "read_order_echo",
    "read_scan",
]

_FEED_HEADERS = {"Accept": "application/atom+xml"}
# Content-Type is set by the transport from the body (JSON here, a form for the token).
_JSON_HEADERS = {"Accept": "application/json"}
_BARE_PAGE_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")


def notifications_request(config: ClientConfig) -> Request:
    return Request(
        "GET",
        f"{config.supplier_url}/Notifications",
        purpose="feed",
        headers=_FEED_HEADERS,
        max_body_bytes=config.max_feed_bytes,
    )


def page_id_of(page: str | UUID) -> str:
    """A page's id from its GUID or from a ``prev-archive``/``next-archive`` href.

    traps.md 4: hrefs always name the production host, so only the ``Pages({guid})`` id is
    taken from them and the URL is rebuilt on the configured base: the bearer token never
    goes to a host the caller did not configure. An href without a page id is refused.
    """
    if isinstance(page, UUID):
        return str(page)
    text = str(page).strip()
    if _BARE_PAGE_ID.match(text):
        return text
    page_id = page_id_from_href(text)
    if page_id is None:
        raise InvalidRequestError(f"{preview(page)} is neither a page id nor a link to a Pages(...) page")
    return page_id


def archive_request(config: ClientConfig, page: str | UUID) -> Request:
    return Request(
        "GET",
        f"{config.supplier_url}/Notifications/Pages({page_id_of(page)})",
        purpose="feed",
        headers=_FEED_HEADERS,
        max_body_bytes=config.max_feed_bytes,
    )


def read_feed(response: Response) -> FeedPage:
    # The transport already refused a body over the client's max_feed_bytes.
    return parse_feed(response.content, max_bytes=len(response.content) + 1)


def read_scan(response: Response) -> PageScan:
    """The cheap read of a page (ids only) that a follower uses while walking back."""
    return scan_entry_ids(response.content, max_bytes=len(response.content) + 1)


def order_id_of(order_id: UUID | str) -> UUID:
    """Only the order id is a real GUID (traps.md 18); anything else is refused before sending."""
    if isinstance(order_id, UUID):
        return order_id
    if isinstance(order_id, str) and len(order_id) <= 64:
        try:
            return UUID(order_id.strip())
        except ValueError:
            pass
    raise InvalidRequestError(f"order_id must be a GUID, got {preview(order_id)}")


def _build(model: type[Any], **fields: Any) -> Any:
    try:
        return model(**fields)
    except ValidationError as error:
        raise InvalidRequestError(f"invalid {model.__name__}: {validation_message(error)}") from None


def _check_status(enum: type[OrderStatus] | type[ItemStatus], value: object, where: str) -> Any:
    try:
        return enum.parse(value)
    except ValueError as error:
        raise InvalidRequestError(f"{where}{error}") from None


def _order_url(config: ClientConfig, order_id: UUID, action: str) -> str:
    return f"{config.supplier_url}/Orders({order_id})/{action}"


def _untracked(tracking_info: str | int | None, shipping_provider: str | None) -> bool:
    """No tracking number or no carrier: missing, or blank (``"   "``, ``"\\t\\xa0"``) once stripped."""
    tracking = str(tracking_info) if isinstance(tracking_info, int) else tracking_info
    return is_blank(tracking) or is_blank(shipping_provider)


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
    oid = order_id_of(order_id)
    checked = _check_status(OrderStatus, status, "")
    # traps.md 14: the guide requires tracking and carrier for Shipped so the customer is told.
    if checked is OrderStatus.SHIPPED and require_tracking and _untracked(tracking_info, shipping_provider):
        raise InvalidRequestError(
            "a Shipped order needs tracking_info and shipping_provider (pass require_tracking=False to send it without)"
        )
    update: OrderStatusUpdate = _build(
        OrderStatusUpdate,
        id=oid,
        status=checked,
        tracking_info=tracking_info,
        shipping_provider=shipping_provider,
        message=message,
        info=info,
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
    oid = order_id_of(order_id)
    if isinstance(items, (str, bytes, Mapping)):
        raise InvalidRequestError("items must be a list of ItemUpdate")
    built: list[ItemUpdate] = []
    for n, given in enumerate(items):
        item = _build(ItemUpdate, **given) if isinstance(given, Mapping) else given
        if not isinstance(item, ItemUpdate):
            raise InvalidRequestError(f"items[{n}] must be an ItemUpdate, got {type(item).__name__}")
        _check_status(ItemStatus, item.status, f"items[{n}]: ")
        shipped = item.status is ItemStatus.SHIPPED
        if shipped and require_tracking and _untracked(item.tracking_info, item.shipping_provider):
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
