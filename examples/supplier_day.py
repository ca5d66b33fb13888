"""A supplier's day against the local emulator: what ``./run demo`` runs.

It starts the emulator (no credentials needed), follows the order feed into a local order ledger,
ships most new orders with tracking, back-orders a few until stock arrives, ships one in two
parcels and cancels one, while the retailer keeps placing orders; then it prints a summary and
stops the emulator. Run it with ``python examples/supplier_day.py``.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from pathlib import Path

from iqmetrix_dropship import DropshipClient, ItemStatus, ItemUpdate, OrderCreated, OrderStatus
from iqmetrix_dropship.emulator import Emulator
from iqmetrix_dropship.ledger import LedgerOrder, OrderLedger

CARRIERS = ("UPS", "FedEx", "Purolator", "Canada Post")


class Supplier:
    """The supplier's side: decides what happens to each order, and tells iQmetrix."""

    def __init__(self, client: DropshipClient, ledger: OrderLedger) -> None:
        self.client = client
        self.ledger = ledger
        self.done: Counter[str] = Counter()
        self.waiting_for_stock: list[LedgerOrder] = []
        self.second_parcel: list[tuple[LedgerOrder, list[str]]] = []
        self._parcels = 0

    def tracking(self) -> tuple[str, str]:
        self._parcels += 1
        return f"1Z{self._parcels:06d}DS{self._parcels * 7919 % 100000:05d}", CARRIERS[self._parcels % len(CARRIERS)]

    def read_feed(self) -> int:
        """Every new feed event, oldest first, into the ledger (the cursor lives in the same file)."""
        count = 0
        for entry in self.client.follow(checkpoint=self.ledger).poll():
            count += 1
            if isinstance(entry.event, OrderCreated):
                self.done["orders received"] += 1
        return count

    def work_through_pending(self) -> None:
        for n, order in enumerate(self.ledger.orders(OrderStatus.PENDING_SUPPLIER)):
            if n % 9 == 4:
                self.back_order(order)
            elif n % 13 == 6 and len(order.items) >= 2 and not self.done["shipped in parts"]:
                self.ship_in_parts(order)
            elif n == 11 and not self.done["cancelled"]:
                echo = self.client.update_order_status(
                    order.order_id, OrderStatus.CANCELLED, message="Discontinued by the manufacturer"
                )
                self.ledger.record_update(echo)
                self.done["cancelled"] += 1
            else:
                self.ship(order)

    def ship(self, order: LedgerOrder) -> None:
        number, carrier = self.tracking()
        echo = self.client.update_order_status(
            order.order_id, OrderStatus.SHIPPED, tracking_info=number, shipping_provider=carrier
        )
        self.ledger.record_update(echo)
        self.done["shipped with tracking"] += 1

    def back_order(self, order: LedgerOrder) -> None:
        echo = self.client.update_order_status(
            order.order_id, OrderStatus.BACK_ORDERED, message="Out of stock; restock expected this afternoon"
        )
        self.ledger.record_update(echo)
        self.waiting_for_stock.append(order)
        self.done["back-ordered"] += 1

    def ship_in_parts(self, order: LedgerOrder) -> None:
        first, *rest = order.items
        number, carrier = self.tracking()
        echo = self.client.update_item_status(
            order.order_id,
            [
                ItemUpdate(
                    sku=first.sku,
                    status=ItemStatus.SHIPPED,
                    quantity=first.quantity,
                    tracking_info=number,
                    shipping_provider=carrier,
                ),
                *(ItemUpdate(sku=item.sku, status=ItemStatus.BACK_ORDERED, message="Second parcel") for item in rest),
            ],
        )
        self.ledger.record_update(echo)
        self.second_parcel.append((order, [item.sku for item in rest]))
        self.done["shipped in parts"] += 1

    def restock(self) -> None:
        """Stock arrived: ship what waited, complete orders in one parcel (the guide's advice)."""
        for order in self.waiting_for_stock:
            self.ship(order)
            self.done["back-ordered, then shipped"] += 1
        for order, skus in self.second_parcel:
            number, carrier = self.tracking()
            quantities = {item.sku: item.quantity for item in order.items}
            echo = self.client.update_item_status(
                order.order_id,
                [
                    ItemUpdate(
                        sku=sku,
                        status=ItemStatus.SHIPPED,
                        quantity=quantities[sku],
                        tracking_info=number,
                        shipping_provider=carrier,
                    )
                    for sku in skus
                ],
            )
            self.ledger.record_update(echo)
        self.waiting_for_stock.clear()
        self.second_parcel.clear()


def main() -> None:
    started = time.perf_counter()
    emulator = Emulator(orders=60, seed=2026)
    with tempfile.TemporaryDirectory() as workdir, emulator.serve() as server:
        credentials = emulator.credentials.as_dict()
        ledger_path = Path(workdir) / "orders.db"
        with (
            DropshipClient(**credentials, base_url=server.base_url, accounts_url=server.base_url) as client,
            OrderLedger(ledger_path) as ledger,
        ):
            supplier = Supplier(client, ledger)
            print(f"emulator at {server.base_url}, ledger at {ledger_path}")

            morning = supplier.read_feed()
            print(
                f"morning:   read {morning} feed events, {len(ledger.orders(OrderStatus.PENDING_SUPPLIER))} orders wait"
            )
            supplier.work_through_pending()

            emulator.place_orders(15)  # the retailer keeps selling during the day
            midday = supplier.read_feed()
            print(f"midday:    read {midday} new events, {len(ledger.orders(OrderStatus.PENDING_SUPPLIER))} new orders")
            supplier.work_through_pending()

            supplier.restock()
            evening = supplier.read_feed()  # our own updates come back through the feed (traps.md 23)
            print(f"evening:   read {evening} new events, our own updates among them")

            feed_ids, ledger_ids = emulator.entry_ids(), ledger.entry_ids()
            missed = len(set(feed_ids) - set(ledger_ids))
            repeated = len(ledger_ids) - len(set(ledger_ids))
            elapsed = time.perf_counter() - started
            print_summary(supplier, ledger, emulator, (len(feed_ids), missed, repeated), elapsed)
            if missed or repeated or ledger_ids != feed_ids:
                raise SystemExit("the ledger does not hold every feed event exactly once")
    print("emulator stopped.")


def print_summary(
    supplier: Supplier,
    ledger: OrderLedger,
    emulator: Emulator,
    counts: tuple[int, int, int],
    seconds: float,
) -> None:
    events, missed, repeated = counts
    state = emulator.summary()
    requests = Counter({key: value for key, value in state["requests"].items() if value})
    rows = [
        ("feed events handled", f"{events} ({state['pages']} pages; {missed} missed, {repeated} repeated)"),
        *((what, str(count)) for what, count in supplier.done.items()),
        ("orders by status", ", ".join(f"{status} {n}" for status, n in sorted(ledger.counts().items()))),
        ("orders still open", str(len(ledger.open_orders()))),
        ("requests to the API", ", ".join(f"{name} {n}" for name, n in sorted(requests.items()))),
        ("wall time", f"{seconds:.1f} s"),
    ]
    width = max(len(name) for name, _ in rows)
    print("\nA supplier's day, summed up")
    print("-" * (width + 40))
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")


if __name__ == "__main__":
    main()
