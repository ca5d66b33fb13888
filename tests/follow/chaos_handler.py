"""The fulfilment work of the chaos test's workers (``dropship run --handler
tests.follow.chaos_handler:ship``): ship each claimed order with a tracking number derived from its
id, so that an update sent again is the same update. Each order handled is logged, with this
process's pid and the system's monotonic clock (one clock for every process of the machine), to
``$DROPSHIP_CHAOS_LOG``: what shows that no two workers ever worked one order at once."""

from __future__ import annotations

import os
import time
from typing import Any


def _log(line: str) -> None:
    path = os.environ.get("DROPSHIP_CHAOS_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as log:  # one short append per line: atomic on Linux
            log.write(line + "\n")


def tracking(order_id: str) -> str:
    """The tracking number the workers ship an order with: its own, so that a PUT sent twice is
    seen twice in the feed (and the emulator's own shipments, with other numbers, are not)."""
    return "1Z" + order_id.replace("-", "")[:16].upper()


def ship(orders: Any, order: Any, client: Any) -> None:
    order_id = str(order.order_id)
    _log(f"start {order_id} {os.getpid()} {time.monotonic():.6f}")
    orders.update_order_status(
        client,
        order_id,
        "Shipped",
        tracking_info=tracking(order_id),
        shipping_provider="UPS",
    )
    _log(f"end {order_id} {os.getpid()} {time.monotonic():.6f}")
