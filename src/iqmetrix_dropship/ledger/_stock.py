"""The availability iQmetrix last accepted, per SKU, kept beside the orders: "push only what changed".

The supplier hands over its whole stock (or part of it) as often as it likes; only the products
whose availability or quantity differ from what was last *accepted* are sent. A push that fails
for some products records nothing for them, so the next comparison sends them again: the ledger
never believes iQmetrix holds a state it refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from .._protocol.catalog import checked_availability
from ..models import ProductAvailability
from ._backend import Session

__all__ = ["changes", "pushed", "record"]

_SELECT = "SELECT sku, is_available, quantity FROM dropship_availability"
_UPSERT = (
    "INSERT INTO dropship_availability (sku, is_available, quantity, pushed_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (sku) DO UPDATE SET is_available = excluded.is_available, quantity = excluded.quantity, "
    "pushed_at = excluded.pushed_at"
)


def pushed(db: Session) -> dict[str, ProductAvailability]:
    """Every SKU's last accepted availability."""
    return {
        sku: ProductAvailability(sku, bool(available), int(quantity))
        for sku, available, quantity in db.execute(_SELECT).fetchall()
    }


def changes(
    db: Session, products: Iterable[ProductAvailability | Mapping[str, Any]], *, complete: bool
) -> list[ProductAvailability]:
    """The products whose availability differs from the last accepted one (new SKUs included).

    ``complete``: ``products`` is the whole catalogue, so a SKU accepted before and missing now is
    sent as unavailable, quantity 0 (it was dropped from the catalogue, not left in stock).
    """
    wanted = checked_availability(products)
    before = pushed(db)
    changed = [product for product in wanted if before.get(product.sku) != product]
    if complete:
        given = {product.sku for product in wanted}
        changed.extend(
            ProductAvailability(sku, False, 0)
            for sku, last in sorted(before.items())
            if sku not in given and (last.is_available or last.quantity)
        )
    return changed


def record(db: Session, products: Iterable[ProductAvailability], at: datetime | None = None) -> int:
    """Remember ``products`` as accepted (``PushResult.accepted``); returns how many."""
    when = (at or datetime.now(timezone.utc)).isoformat()
    rows = [(p.sku, int(p.is_available), p.quantity, when) for p in products]
    if rows:
        db.executemany(_UPSERT, rows)
    return len(rows)
