"""What a claim's worker side needs of its database side (``ledger/_claims.py``): an outbox row,
and the session's interface. A leaf module, so that the worker side (``_async/claim.py``) and the
database side import it, and never each other."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from .._exceptions import CheckpointError
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
        """The update as it was sent. ``CheckpointError`` (naming the outbox row, not the body)
        when the row no longer holds one (edited by hand): it is then left for an operator."""
        try:
            if self.kind == "order":
                return OrderStatusUpdate.model_validate(self.body)
            if self.kind == "items":
                return ItemStatusUpdate.model_validate(self.body)
            raise ValueError(self.kind)
        except ValueError:  # pydantic's ValidationError is a ValueError
            raise CheckpointError.of(
                "dropship_outbox",
                f"row {self.id} (order {self.order_id}) does not hold an update of this SDK; "
                "it was not sent: correct or delete it",
            ) from None


class Outbox(Protocol):
    """A claim's database side, as its worker side uses it."""

    worker: str

    def write_intent(self, order_id: str, kind: str, body: dict[str, Any]) -> int: ...

    def drop_intent(self, intent_id: int, *, refused: Intent | None = None, status: int | None = None) -> None: ...

    def record(
        self, update: OrderStatusUpdate | ItemStatusUpdate, intent_id: int | None = None, resent: Intent | None = None
    ) -> LedgerEvent: ...
