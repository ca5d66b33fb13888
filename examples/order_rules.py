"""The dropship guides' order rules, one call each: acknowledge, ship in parcels, several tracking numbers."""

from __future__ import annotations

from _connect import connect, newest_orders

from iqmetrix_dropship import InvalidRequestError

with connect() as client:
    order, other = newest_orders(client, min_items=2, limit=2)
    skus = [item.sku or "" for item in order.items]

    print("acknowledged:", client.acknowledge_order(order.order_id).status)

    # A split shipment: each parcel's items Shipped, the order PartiallyShipped until the last one.
    part = client.ship_items(
        order.order_id, skus[:1], tracking_numbers="1Z999AA10000000001", shipping_provider="UPS", complete=False
    )
    print("first parcel:", part.order.status)
    last = client.ship_items(
        order.order_id,
        skus[1:],
        tracking_numbers=["1Z999AA10000000002", "1Z999AA10000000003"],  # two boxes, one parcel
        shipping_provider="UPS",
        complete=True,
    )
    print("last parcel:", last.order.status, "tracking", last.order.tracking_info)

    try:
        client.ship_order(other.order_id, ["1Z1,1Z2"], "UPS")
    except InvalidRequestError as error:
        print("refused before sending:", error)
