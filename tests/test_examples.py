"""Every script in examples/ runs as written against the local emulator, and says what it did."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
EXPECTED = {
    "read_orders.py": "orders in the whole feed",
    "ship_order.py": "Shipped, tracking 1Z999AA10123456784 with UPS",
    "backorder_then_ship.py": "BackOrdered (Restock expected Friday)",
    "partial_shipment.py": "second parcel:",
    "cancel_order.py": "refused before sending",
    "supplier_day.py": "0 missed, 0 repeated",
    "health_check.py": "all services healthy",
    "order_rules.py": "last parcel: Shipped tracking 1Z999AA10000000002,1Z999AA10000000003",
    "shipping_options_server.py": "the order stops; out of stock: CASE-BLK-01",
    "stock_and_costs.py": "availability again: 1 changed product pushed (8712OTS45)",
}

# These start what they need themselves: the demo its own emulator, the shipping-options example its server.
OWN_SERVERS = {"supplier_day.py", "shipping_options_server.py"}


def test_every_example_is_covered() -> None:
    scripts = {path.name for path in EXAMPLES.glob("*.py") if not path.name.startswith("_")}
    assert scripts == set(EXPECTED)


@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_example_runs_against_the_emulator(script: str) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("IQMETRIX_")}
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script)], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert EXPECTED[script] in result.stdout
    assert "using the local emulator" in result.stdout or script in OWN_SERVERS
