"""The ShippingOptions endpoint a supplier hosts: iQmetrix calls it at checkout for the shipping
methods and prices of a cart, and an item out of stock stops the order.

Here the quote function reads a stock table and prices by postal-code prefix; it is served on
127.0.0.1 (a free port) and called twice, as iQmetrix would: a cart in stock, then one that is not.
In production the same app is served with ``uvicorn.run(app, host="0.0.0.0", port=8443, ...)``
behind HTTPS, or with ``dropship shipping-options serve --app shipping_options_server:quote``.
"""

from __future__ import annotations

import os
import secrets
from decimal import Decimal

import httpx

from iqmetrix_dropship.emulator import EmulatorServer  # runs any ASGI app in a background thread
from iqmetrix_dropship.shipping_options import BasicAuth, OutOfStock, ShippingOption, ShippingQuery, create_app

STOCK = {"87932OTS45S6": 40, "CASE-BLK-01": 0, "CHG-USB-C-30W": 3}

# (first characters of the postal code, currency, ground, express): the first match wins.
RATES = [
    ("A", "CAD", Decimal("12.50"), Decimal("24.00")),  # Newfoundland and Labrador
    ("M", "CAD", Decimal("6.95"), Decimal("14.95")),  # Toronto
    ("", "CAD", Decimal("8.95"), Decimal("18.95")),  # the rest of Canada
]
US_RATES = ("USD", Decimal("9.99"), Decimal("21.99"))


def quote(query: ShippingQuery) -> list[ShippingOption]:
    """The shipping options for ``query``'s cart, or ``OutOfStock`` naming what cannot ship."""
    short = [item.sku for item in query.items if STOCK.get(item.sku, 0) < item.quantity]
    if short:
        raise OutOfStock(short)
    if query.country == "US":
        currency, ground, express = US_RATES
    else:
        currency, ground, express = next(rate[1:] for rate in RATES if query.postal_code.upper().startswith(rate[0]))
    return [
        ShippingOption(id="ground", name="Ground", cost=ground, currency=currency, estimated_transit_time="5 days"),
        ShippingOption(id="express", name="Express", cost=express, currency=currency, estimated_transit_time="1 day"),
    ]


def main() -> None:
    # The credentials you give iQmetrix; from the environment in production, never in the code.
    password = os.environ.get("DROPSHIP_SHIPPING_PASSWORD") or secrets.token_urlsafe(16)
    app = create_app(quote, auth=BasicAuth("iqmetrix", password))

    with EmulatorServer(app, host="127.0.0.1", port=0) as server, httpx.Client(base_url=server.url) as iqmetrix:
        print(f"serving POST {server.url}/ShippingOptions")

        in_stock = {"CompanyId": 123, "PostalCode": "M5V 3L9", "Items": [{"Sku": "87932OTS45S6", "Quantity": 2}]}
        answer = iqmetrix.post("/ShippingOptions", json=in_stock, auth=("iqmetrix", password))
        print(f"{answer.status_code} for a cart in stock to M5V 3L9:")
        for option in answer.json()["ShippingOptions"]:
            print(f"  {option['Id']}: {option['Cost']} {option['Currency']}, {option['EstimatedTransitTime']}")

        items = [{"Sku": "87932OTS45S6", "Quantity": 1}, {"Sku": "CASE-BLK-01", "Quantity": 1}]
        not_in_stock = {"CompanyId": 123, "PostalCode": "02139-4301", "Items": items}
        answer = iqmetrix.post("/ShippingOptions", json=not_in_stock, auth=("iqmetrix", password))
        print(f"{answer.status_code} for a cart out of stock: {answer.json()['Message']}")
        print(f"  the order stops; out of stock: {', '.join(answer.json()['OutOfStock'])}")

        answer = iqmetrix.post("/ShippingOptions", json=in_stock, auth=("iqmetrix", "a guess"))
        print(f"{answer.status_code} without the right password")


if __name__ == "__main__":
    main()
