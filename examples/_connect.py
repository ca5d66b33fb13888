"""How every example gets a client: the real sandbox when the ``IQMETRIX_*`` variables are set,
otherwise a local emulator started for the example and stopped at its end (no credentials needed).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from iqmetrix_dropship import DropshipClient, FeedEntry, OrderCreated


@contextmanager
def connect(orders: int = 30, seed: int = 7) -> Iterator[DropshipClient]:
    if os.environ.get("IQMETRIX_SUPPLIER_ID"):
        with DropshipClient.from_env() as client:
            print(f"using {client.config.base_url} as supplier {client.supplier_id}")
            yield client
        return
    from iqmetrix_dropship.emulator import Emulator  # noqa: PLC0415 - needs the 'emulator' extra, only here

    emulator = Emulator(orders=orders, seed=seed)
    with emulator.serve() as server:
        print(f"using the local emulator at {server.base_url}")
        with DropshipClient(
            **emulator.credentials.as_dict(), base_url=server.base_url, accounts_url=server.base_url
        ) as client:
            yield client


def newest_orders(client: DropshipClient, *, min_items: int = 1, limit: int = 1) -> list[OrderCreated]:
    """The newest orders in the feed with at least ``min_items`` items (newest first)."""
    found: list[OrderCreated] = []
    for entry in client.iter_entries():
        if isinstance(entry.event, OrderCreated) and len(entry.event.items) >= min_items:
            found.append(entry.event)
            if len(found) == limit:
                break
    return found


def describe(entry: FeedEntry) -> str:
    event = entry.event
    when = entry.updated.strftime("%Y-%m-%d %H:%M:%S") if entry.updated else "?"
    if isinstance(event, OrderCreated):
        where = "store" if event.ship_to_store else "home"
        items = ", ".join(f"{item.quantity} x {item.sku}" for item in event.items)
        return f"{when}  order {event.order_id} created ({where} delivery): {items}"
    if event.event_type == "order-status-updated":
        items = ", ".join(f"{item.sku} {item.status}" for item in event.items)
        return f"{when}  order {event.order_id} updated: {items}"
    return f"{when}  {event.event_type} event"
