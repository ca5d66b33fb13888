"""``dropship ship``, ``dropship status`` and ``dropship item-status``: our own status updates.

The SDK validates before anything is sent (a status it does not know, a malformed order id,
``Shipped`` without tracking: exit 2, nothing sent). The server's echo is printed and recorded in
the ledger when ``--db`` is given or the default ledger exists, so that ``dropship order`` shows it
before the feed echoes it back (traps.md 23).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..._text import is_blank
from ...models import ItemStatus, ItemStatusUpdate, OrderStatus, OrderStatusUpdate
from .._exit import CliError
from .._options import DbOption, JsonOption, OrderIdArgument
from .._render import echo_json, fields_table, out_console, update_fields, update_items_table
from .._session import Session, open_ledger

__all__ = ["item_status", "ship", "status"]

_ORDER_STATUSES = ", ".join(member.value for member in OrderStatus)
_ITEM_STATUSES = ", ".join(member.value for member in ItemStatus)


def _text_option(flag: str, help: str) -> Any:
    return typer.Option(flag, help=help, show_default=False)


MessageOption = Annotated[str | None, _text_option("--message", "A note for the retailer.")]
InfoOption = Annotated[str | None, _text_option("--info", "Extra information (free text).")]


def _require_tracking(new_status: str, tracking: str | None, carrier: str | None) -> None:
    # traps.md 14: a Shipped order must carry a tracking number and a carrier, so that the end
    # customer is told. The SDK refuses it too, but its message names a Python argument.
    if new_status == OrderStatus.SHIPPED.value and (is_blank(tracking) or is_blank(carrier)):
        raise CliError("Shipped needs --tracking and --carrier: the customer is sent them")


def _record(session: Session, db: str | None, echo: OrderStatusUpdate | ItemStatusUpdate) -> Path | str | None:
    path, named = session.ledger_path(db)
    if not named and isinstance(path, Path) and not path.is_file():
        return None  # no ledger here, and none asked for
    with open_ledger(path) as book:
        book.record_update(echo)
        return book.path  # a DSN without its password


def _report(echo: OrderStatusUpdate | ItemStatusUpdate, recorded: Path | str | None, json_output: bool) -> None:
    if json_output:
        echo_json({"echo": echo.model_dump(mode="json"), "recorded_in": None if recorded is None else str(recorded)})
        return
    console = out_console()
    if isinstance(echo, OrderStatusUpdate):
        console.print(f"Order {echo.id} is now {echo.status} (the server's echo):")
        console.print(fields_table(update_fields(echo)))
    else:
        console.print(f"Order {echo.id}: items updated (the server's echo):")
        console.print(update_items_table(echo))
    console.print(f"Recorded in {recorded}." if recorded else "Not recorded: no ledger (pass --db to keep one).")


def ship(
    ctx: typer.Context,
    order_id: OrderIdArgument,
    *,
    tracking: Annotated[
        list[str],
        _text_option(
            "--tracking", "A tracking number; repeat it for several boxes of one shipment (sent comma-joined)."
        ),
    ],
    carrier: Annotated[str, _text_option("--carrier", "The shipping provider, e.g. UPS.")],
    skus: Annotated[
        list[str] | None,
        _text_option("--sku", "Ship only this item (repeat it): one parcel of a split shipment."),
    ] = None,
    partial: Annotated[
        bool,
        typer.Option("--partial", help="With --sku: more parcels follow, the order becomes PartiallyShipped."),
    ] = False,
    message: MessageOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Mark an order Shipped, with its tracking numbers and carrier; or one parcel of it (--sku).

    With --sku, those items are set Shipped, then the order PartiallyShipped (--partial: more parcels
    to come) or Shipped (the last parcel). The server's echoes are shown, and recorded in the ledger
    if there is one. A tracking number holding a comma is refused: commas separate them.
    """
    _require_tracking(OrderStatus.SHIPPED.value, ",".join(tracking), carrier)  # a blank one is no tracking number
    if partial and not skus:
        raise CliError("--partial ships some items: name them with --sku")
    session = Session.of(ctx)
    with session.client() as client:
        if skus:
            shipment = client.ship_items(
                order_id,
                skus,
                tracking_numbers=tracking,
                shipping_provider=carrier,
                complete=not partial,
                message=message,
            )
            _record(session, db, shipment.items)
            echo = shipment.order
        else:
            echo = client.ship_order(order_id, tracking, carrier, message=message)
    _report(echo, _record(session, db, echo), json_output)


def status(
    ctx: typer.Context,
    order_id: OrderIdArgument,
    new_status: Annotated[
        str, typer.Argument(metavar="STATUS", help=f"The new order status: {_ORDER_STATUSES}.", show_default=False)
    ],
    *,
    message: MessageOption = None,
    info: InfoOption = None,
    tracking: Annotated[str | None, _text_option("--tracking", "Tracking number (needed for Shipped).")] = None,
    carrier: Annotated[str | None, _text_option("--carrier", "Shipping provider (needed for Shipped).")] = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Set the status of a whole order, e.g. BackOrdered or Ordered.

    An unknown status is refused before anything is sent (exit 2). Shipped needs --tracking and
    --carrier; `dropship ship` is the short way.
    """
    _require_tracking(new_status, tracking, carrier)
    session = Session.of(ctx)
    with session.client() as client:
        echo = client.update_order_status(
            order_id, new_status, tracking_info=tracking, shipping_provider=carrier, message=message, info=info
        )
    _report(echo, _record(session, db, echo), json_output)


def item_status(
    ctx: typer.Context,
    order_id: OrderIdArgument,
    *,
    sku: Annotated[str, _text_option("--sku", "The item's SKU.")],
    new_status: Annotated[str, _text_option("--status", f"The item's new status: {_ITEM_STATUSES}.")],
    quantity: Annotated[
        int | None, typer.Option("--quantity", help="Units this status applies to.", min=1, show_default=False)
    ] = None,
    tracking: Annotated[str | None, _text_option("--tracking", "Tracking number (needed for Shipped).")] = None,
    carrier: Annotated[str | None, _text_option("--carrier", "Shipping provider (needed for Shipped).")] = None,
    catalog_id: Annotated[str | None, _text_option("--catalog-id", "The item's catalog id.")] = None,
    message: MessageOption = None,
    info: InfoOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Set the status of one item of an order: a partial shipment, a back-ordered line.

    The item is named by its SKU. Shipped needs --tracking and --carrier.
    """
    _require_tracking(new_status, tracking, carrier)
    session = Session.of(ctx)
    item = {
        "sku": sku,
        "status": new_status,
        "quantity": quantity,
        "tracking_info": tracking,
        "shipping_provider": carrier,
        "catalog_id": catalog_id,
        "message": message,
        "info": info,
    }
    with session.client() as client:
        # A mapping, not an ItemUpdate: the SDK validates it and raises InvalidRequestError (exit 2).
        echo = client.update_item_status(order_id, [item])
    _report(echo, _record(session, db, echo), json_output)
