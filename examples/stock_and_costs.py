"""A supplier's catalogue chores: push availability (then only what changed), costs, a product."""

from __future__ import annotations

import os
import tempfile
from decimal import Decimal
from pathlib import Path

from _connect import connect

from iqmetrix_dropship import InvalidRequestError, OrderLedger, ProductAvailability, ProductCost

FEED_ID = int(os.environ.get("IQMETRIX_PRODUCT_FEED_ID", "1234"))  # the emulator's product feed

stock = [
    ProductAvailability("9101AGAP6", True, 10),
    ProductAvailability("8712OTS45", True, 3),
    ProductAvailability("5550CASE1", False, 0),
]

with connect() as client, tempfile.TemporaryDirectory() as folder:
    with OrderLedger(Path(folder) / "orders.db") as ledger:
        first = ledger.push_availability(client, stock)
        print(f"availability: {len(first.accepted)} products pushed")
        stock[1] = ProductAvailability("8712OTS45", True, 2)  # one sold
        again = ledger.push_availability(client, stock)
        print(f"availability again: {len(again.accepted)} changed product pushed ({again.accepted[0].sku})")

    held = {sku.supplier_sku: sku.quantity for sku in client.get_availability()}
    print(f"iQmetrix holds 8712OTS45 x {held['8712OTS45']}")

    costs = client.push_costs(
        [
            ProductCost("9101AGAP6", Decimal("12.99"), [14146]),
            ProductCost("9101AGAP6", Decimal("11.50"), [14147, 14148]),
        ]
    )
    print(f"costs: {len(costs.accepted)} accepted")
    try:
        client.push_costs([{"sku": "9101AGAP6", "cost": Decimal("12.999"), "company_ids": [14146]}])
    except InvalidRequestError as error:
        print(f"refused before sending: {error}")

    product = client.add_product(
        FEED_ID,
        {
            "Classification": {"Id": 4, "TreeId": 1},
            "Fields": [{"Definition": {"Id": 1}, "Value": "Galaxy S6 Case"}],
            "ModelName": "S6 Case",
        },
    )
    print(f"product {product.id} added to feed {FEED_ID}: {product.model_name}")
