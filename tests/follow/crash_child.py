"""The process the crash test kills: follows the emulator's feed into an order ledger.

Usage: python crash_child.py BASE_URL LEDGER_PATH. Prints one line per entry handled, then DONE.
"""

from __future__ import annotations

import sys

from iqmetrix_dropship import DropshipClient, OrderLedger
from iqmetrix_dropship.emulator._config import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_SUPPLIER_ID,
    DEFAULT_USERNAME,
)


def main(base_url: str, ledger_path: str) -> None:
    with (
        DropshipClient(
            supplier_id=DEFAULT_SUPPLIER_ID,
            client_id=DEFAULT_CLIENT_ID,
            client_secret=DEFAULT_CLIENT_SECRET,
            username=DEFAULT_USERNAME,
            password=DEFAULT_PASSWORD,
            base_url=base_url,
            accounts_url=base_url,
        ) as client,
        OrderLedger(ledger_path) as ledger,
    ):
        for n, entry in enumerate(client.follow(checkpoint=ledger).poll()):
            print(n, entry.id, flush=True)
    print("DONE", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
