"""Ship an order in parts: what is in stock now, the rest when it arrives, each with its own tracking.

Item updates are keyed by SKU (traps.md 12) and go to /ItemStatusUpdate (traps.md 3).
"""

from __future__ import annotations

from _connect import connect, newest_orders

from iqmetrix_dropship import ItemStatus, ItemUpdate

with connect() as client:
    order = newest_orders(client, min_items=2)[0]
    first, *rest = order.items

    echo = client.update_item_status(
        order.order_id,
        [
            ItemUpdate(
                sku=first.sku or "",
                status=ItemStatus.SHIPPED,
                quantity=first.quantity,
                tracking_info="1Z999AA10000000001",
                shipping_provider="UPS",
            ),
            *(
                ItemUpdate(sku=item.sku or "", status=ItemStatus.BACK_ORDERED, message="Awaiting stock")
                for item in rest
            ),
        ],
    )
    print("first parcel:", ", ".join(f"{i.sku} {i.status}" for i in echo.item_information))

    echo = client.update_item_status(
        order.order_id,
        [
            ItemUpdate(
                sku=item.sku or "",
                status=ItemStatus.SHIPPED,
                quantity=item.quantity,
                tracking_info="1Z999AA10000000002",
                shipping_provider="UPS",
            )
            for item in rest
        ],
    )
    print("second parcel:", ", ".join(f"{i.sku} {i.status} ({i.tracking_info})" for i in echo.item_information))
