"""``dropship orders`` and ``dropship order``: what the local ledger knows. Nothing is sent."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import typer

from ..._text import preview
from ...models import OrderStatus
from .._exit import CliError, ExitCode
from .._options import DbOption, JsonOption, OrderIdArgument
from .._render import (
    echo_json,
    fields_table,
    history_table,
    items_table,
    order_fields,
    orders_table,
    out_console,
    plural,
)
from .._session import Session

__all__ = ["order", "orders"]

_STATUSES = ", ".join(status.value for status in OrderStatus)


def orders(
    ctx: typer.Context,
    *,
    status: Annotated[
        str | None,
        typer.Option("--status", help=f"Only orders with this status: {_STATUSES}.", show_default=False),
    ] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only orders neither Shipped nor Cancelled.")] = False,
    waiting_hours: Annotated[
        float | None,
        typer.Option(
            "--waiting-hours",
            help="Only PendingSupplier orders placed more than this many hours ago.",
            min=0,
            show_default=False,
        ),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", help="At most this many orders.", min=1, show_default=False)
    ] = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """List the orders of the ledger, oldest first.

    Run `dropship sync` first to bring the ledger up to date. Nothing is sent.
    """
    if sum((status is not None, open_only, waiting_hours is not None)) > 1:
        raise CliError("choose one of --status, --open and --waiting-hours")
    try:
        wanted = OrderStatus.parse(status) if status is not None else None
    except ValueError as error:  # its message lists the valid names
        raise CliError(str(error)) from None
    with Session.of(ctx).existing_ledger(db) as book:
        if open_only:
            found, title = book.open_orders(), "Open orders"
        elif waiting_hours is not None:
            found, title = book.waiting_on_supplier(waiting_hours), f"Orders waiting on us for over {waiting_hours:g}h"
        else:
            found, title = book.orders(wanted), f"{wanted} orders" if wanted else "Orders"
    found = found[:limit] if limit is not None else found
    if json_output:
        echo_json([item.model_dump(mode="json", exclude={"history"}) for item in found])
        return
    console = out_console()
    console.print(orders_table(found, title))
    console.print(plural(len(found), "order"))


def order(ctx: typer.Context, order_id: OrderIdArgument, db: DbOption = None, json_output: JsonOption = False) -> None:
    """Show one order of the ledger, with its items and its history.

    Items show their status, units shipped and tracking; the history lists every feed event and
    every update sent from here, oldest first. Nothing is sent.
    """
    try:
        key = UUID(order_id.strip())
    except ValueError:
        raise CliError(f"order id must be a GUID, got {preview(order_id)}") from None
    session = Session.of(ctx)
    with session.existing_ledger(db) as book:
        found = book.order(key)
        path = book.path
    if found is None:
        raise CliError(f"order {key} is not in the ledger {path} (run `dropship sync` to catch up)", ExitCode.NOT_FOUND)
    if json_output:
        echo_json(found.model_dump(mode="json"))
        return
    console = out_console()
    console.print(fields_table(order_fields(found)))
    console.print()
    console.print(items_table(found))
    console.print()
    console.print(history_table(found))
