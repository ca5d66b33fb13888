"""Cancel an order. The guide: talk to the retailer's support contact too; this only updates iQmetrix."""

from __future__ import annotations

from _connect import connect, newest_orders

from iqmetrix_dropship import InvalidRequestError, OrderStatus

with connect() as client:
    order = newest_orders(client)[0]
    echo = client.update_order_status(order.order_id, OrderStatus.CANCELLED, message="Discontinued by the maker")
    print(f"order {echo.id}: {echo.status} ({echo.message})")

    # A status that is in no enum (the spec's own "Exception", traps.md 6) never leaves the machine:
    try:
        client.update_order_status(order.order_id, "Exception")
    except InvalidRequestError as error:
        print("refused before sending:", error)
