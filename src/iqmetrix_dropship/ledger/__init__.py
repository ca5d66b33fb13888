"""The local order ledger: every dropship order, its items and their statuses, in one SQLite file.

::

    from iqmetrix_dropship.ledger import OrderLedger

    with OrderLedger("orders.db") as ledger:
        for entry in client.follow(checkpoint=ledger).poll():
            ...
        ledger.open_orders()

The schema and the status rules are documented in docs/ledger.md.
"""

from ._ledger import OrderLedger
from ._models import LedgerEvent, LedgerItem, LedgerOrder, LedgerShipment
from ._schema import CURRENT_VERSION, LedgerSchemaError

__all__ = [
    "CURRENT_VERSION",
    "LedgerEvent",
    "LedgerItem",
    "LedgerOrder",
    "LedgerSchemaError",
    "LedgerShipment",
    "OrderLedger",
]
