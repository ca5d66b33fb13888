"""What a claim's worker side needs of its database side (``ledger/_claims.py``): an outbox row,
and the session's interface. A leaf module, so that the worker side (``_async/claim.py``) and the
database side import it, and never each other."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from ..models import ItemStatusUpdate, OrderStatusUpdate
from ._models import LedgerEvent

__all__ = ["Intent", "Outbox"]


@dataclass(frozen=True)
class Intent:
    """An update a worker wrote to the outbox before sending it: ``kind`` is ``order`` or ``items``,
    ``body`` the JSON body as sent; ``id`` its row (an order may have several, in order)."""

    id: int
    order_id: str
    kind: str
    body: dict[str, Any]
    worker: str
    created_at: datetime

    def update(self) -> OrderStatusUpdate | ItemStatusUpdate:
        model = OrderStatusUpdate if self.kind == "order" else ItemStatusUpdate
        return model.model_validate(self.body)


class Outbox(Protocol):
    """A claim's database side, as its worker side uses it."""

    worker: str

    def write_intent(self, order_id: str, kind: str, body: dict[str, Any]) -> int: ...

    def drop_intent(self, intent_id: int, *, refused: Intent | None = None, status: int | None = None) -> None: ...

    def record(
        self, update: OrderStatusUpdate | ItemStatusUpdate, intent_id: int | None = None, resent: Intent | None = None
    ) -> LedgerEvent: ...
