"""Ship a whole order with its tracking number: the customer is e-mailed by iQmetrix."""

from __future__ import annotations

from _connect import connect, newest_orders

from iqmetrix_dropship import OrderStatus, OrderStatusUpdated

with connect() as client:
    order = newest_orders(client)[0]
    echo = client.update_order_status(
        order.order_id, OrderStatus.SHIPPED, tracking_info="1Z999AA10123456784", shipping_provider="UPS"
    )
    print(f"order {echo.id}: {echo.status}, tracking {echo.tracking_info} with {echo.shipping_provider}")

    # Our own update comes back as an order-status-updated event (traps.md 23).
    newest = client.get_notifications().entries[0]
    assert isinstance(newest.event, OrderStatusUpdated)
    print("the feed now says:", ", ".join(f"{item.sku} {item.status}" for item in newest.event.items))
