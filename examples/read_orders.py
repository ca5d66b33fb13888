"""Read the order notification feed: the newest events first, across archive pages."""

from __future__ import annotations

import itertools

from _connect import connect, describe

from iqmetrix_dropship import OrderCreated

with connect() as client:
    page = client.get_notifications()
    print(f"current page {page.page_id}: {len(page.entries)} entries, older page: {page.prev_archive_page_id}")

    print("\nthe ten newest events:")
    for entry in itertools.islice(client.iter_entries(), 10):
        print(" ", describe(entry))

    orders = [e.event for e in client.iter_entries() if isinstance(e.event, OrderCreated)]
    to_store = sum(1 for order in orders if order.ship_to_store)
    print(f"\n{len(orders)} orders in the whole feed: {to_store} to a store, {len(orders) - to_store} to a home")
