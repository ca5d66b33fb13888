"""The handler of ``dropship run``'s workers in tests/cli/test_run.py: ship each claimed order."""

from __future__ import annotations

from typing import Any


def ship(orders: Any, order: Any, client: Any) -> None:
    orders.update_order_status(client, order.order_id, "Shipped", tracking_info="1Z999", shipping_provider="UPS")
