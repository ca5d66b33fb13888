"""Hold an order while stock is out (BackOrdered), then ship it complete once it arrives.

The guide recommends this over partial shipments: one parcel, one notification.
"""

from __future__ import annotations

from _connect import connect, newest_orders

from iqmetrix_dropship import OrderStatus

with connect() as client:
    order = newest_orders(client)[0]

    held = client.update_order_status(order.order_id, OrderStatus.BACK_ORDERED, message="Restock expected Friday")
    print(f"order {held.id}: {held.status} ({held.message})")

    shipped = client.update_order_status(
        order.order_id, OrderStatus.SHIPPED, tracking_info="7702 4411 9032", shipping_provider="FedEx"
    )
    print(f"order {shipped.id}: {shipped.status}, tracking {shipped.tracking_info}")
