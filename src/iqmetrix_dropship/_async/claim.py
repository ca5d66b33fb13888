"""A worker's claim: the orders it holds, and the updates it sends for them, tied to the ledger.

Made by ``ledger.claim(status, limit=...)`` (or ``ledger.unfinished()``); see ``ledger/_claims.py``
for what the database does. ::

    async with ledger.claim(OrderStatus.PENDING_SUPPLIER, limit=10) as orders:
        for order in orders:
            await orders.update_order_status(client, order.order_id, OrderStatus.ORDERED)

Each ``update_*`` validates the update, writes it to the outbox, sends it with ``client``, and
records the server's echo in the claim's transaction; the orders are released when the block ends.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, overload
from uuid import UUID

from .._concurrency import async_blocking
from .._exceptions import APIError, CheckpointError, InvalidRequestError
from .._protocol.updates import item_status_request, order_status_request
from ..ledger._models import LedgerEvent, LedgerOrder
from ..models import ItemStatusUpdate, ItemUpdate, OrderStatus, OrderStatusUpdate

if TYPE_CHECKING:
    from ..ledger._outbox import Intent, Outbox
    from .client import AsyncDropshipClient

__all__ = ["AsyncClaim"]

logger = logging.getLogger("iqmetrix_dropship.claims")

_PER_CALL = ("timeout", "max_retries")
# The answers with which the server refuses an update for what it says: it was not applied, and
# sending it again would be refused again. Any other failure (401, 403, 404, 429, 5xx, no answer)
# may be the credentials, the address or the moment, and may follow an attempt that was applied:
# the update stays in the outbox, to be sent again identically.
_REFUSED = frozenset({400, 409, 413, 422})


class AsyncClaim(Sequence[LedgerOrder]):
    """The orders a worker holds until its block ends: no other worker gets them meanwhile.

    A sequence of ``LedgerOrder`` (as they stood when claimed). ``update_order_status`` and
    ``update_item_status`` take the client to send with and the same arguments as the client's
    methods; a refused update (``InvalidRequestError``) sends nothing and writes nothing.
    """

    def __init__(self, session: Outbox, held: Sequence[tuple[LedgerOrder, list[Intent]]]) -> None:
        self._session = session
        self._orders = [order for order, _ in held]
        self._intents = {str(order.order_id): list(intents) for order, intents in held if intents}

    @overload
    def __getitem__(self, index: int) -> LedgerOrder: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[LedgerOrder]: ...

    def __getitem__(self, index: int | slice) -> LedgerOrder | Sequence[LedgerOrder]:
        return self._orders[index]

    def __len__(self) -> int:
        return len(self._orders)

    def __iter__(self) -> Iterator[LedgerOrder]:
        return iter(self._orders)

    def __repr__(self) -> str:
        return f"<claim of {len(self._orders)} orders by {self._session.worker}>"

    @property
    def worker(self) -> str:
        return self._session.worker

    async def update_order_status(
        self, client: AsyncDropshipClient, order_id: UUID | str, status: OrderStatus | str, **options: Any
    ) -> OrderStatusUpdate:
        """``client.update_order_status(order_id, status, **options)`` for a held order, tied to the
        ledger by the outbox; returns the echo, recorded in the claim."""
        held = self._held(order_id)
        checks = {key: value for key, value in options.items() if key not in _PER_CALL}
        _, sent = order_status_request(client.config, held, status, **checks)
        intent: int = await async_blocking(self._session.write_intent, held, "order", sent.to_json_body())
        try:
            echo = await client.update_order_status(held, status, **options)
        except APIError as error:
            await self._refused(intent, error)
            raise
        await async_blocking(self._session.record, echo, intent)
        return echo

    async def update_item_status(
        self,
        client: AsyncDropshipClient,
        order_id: UUID | str,
        items: Iterable[ItemUpdate | Mapping[str, Any]],
        **options: Any,
    ) -> ItemStatusUpdate:
        """``client.update_item_status(order_id, items, **options)`` for a held order, tied to the
        ledger by the outbox; returns the echo, recorded in the claim."""
        held = self._held(order_id)
        checks = {key: value for key, value in options.items() if key not in _PER_CALL}
        _, sent = item_status_request(client.config, held, list(items), **checks)
        intent: int = await async_blocking(self._session.write_intent, held, "items", sent.to_json_body())
        try:
            echo = await client.update_item_status(held, sent.item_information, **options)
        except APIError as error:
            await self._refused(intent, error)
            raise
        await async_blocking(self._session.record, echo, intent)
        return echo

    async def record_update(self, update: OrderStatusUpdate | ItemStatusUpdate) -> LedgerEvent:
        """Record an update sent some other way, in the claim's transaction (no outbox: a crash
        before the block ends forgets it; the feed's echo brings it back later)."""
        self._held(update.id)
        event: LedgerEvent = await async_blocking(self._session.record, update)
        return event

    @property
    def unfinished(self) -> dict[str, list[OrderStatusUpdate | ItemStatusUpdate]]:
        """For a claim from ``ledger.unfinished()``: the updates a dead worker left in the outbox,
        by order id, oldest first."""
        return {order_id: [intent.update() for intent in intents] for order_id, intents in self._intents.items()}

    async def resend(self, client: AsyncDropshipClient) -> int:
        """Send again, identically and in their order, the updates a dead worker left in the outbox
        for these orders, and record each; how many were recorded. (A PUT sets a status: the same
        one twice is harmless.)

        - One the server now refuses for what it says (``400``, ``409``, ``413``, ``422``) was not
          applied: it is dropped and logged (in ``dropship_resent`` and as a warning), and the
          order's next one goes on.
        - An order the server does not know (``404``), or an outbox row that no longer holds an
          update (edited by hand), is logged as an error and left in the outbox, with the order's
          later updates, for a person; the other orders go on (see ``unfinished``).
        - Anything else (``401``, ``403``, ``429``, ``5xx``, no answer) raises, and leaves what is
          left for the next resend."""
        sent = 0
        for order_id, intents in list(self._intents.items()):
            while intents:
                intent = intents[0]
                try:
                    echo = await self._send_again(client, intent)
                except CheckpointError as error:
                    logger.error("order %s was not resent: %s", order_id, error.reason)
                    break
                except APIError as error:
                    if error.status_code == 404:
                        logger.error(
                            "order %s was not resent: the server does not know it (404); outbox row %d left",
                            order_id,
                            intent.id,
                        )
                        break
                    if error.status_code not in _REFUSED:
                        raise
                    await async_blocking(self._drop_refused, intent, error.status_code)
                    logger.warning(
                        "the resend of an update of order %s was refused (%d); it was not applied: dropped",
                        order_id,
                        error.status_code,
                    )
                else:
                    await async_blocking(self._session.record, echo, intent.id, intent)
                    sent += 1
                intents.pop(0)
            if not intents:
                del self._intents[order_id]
        return sent

    # -- inside ------------------------------------------------------------------------------

    def _held(self, order_id: UUID | str) -> str:
        key = str(order_id).strip().lower()
        if not any(str(order.order_id) == key for order in self._orders):
            raise InvalidRequestError(f"order {str(order_id)[:60]!r} is not held by this claim")
        if key in self._intents:
            raise InvalidRequestError(f"order {key} has unfinished updates: resend() them first")
        return key

    async def _send_again(self, client: AsyncDropshipClient, intent: Intent) -> OrderStatusUpdate | ItemStatusUpdate:
        update = intent.update()
        if isinstance(update, OrderStatusUpdate):
            return await client.update_order_status(
                intent.order_id,
                update.status,
                tracking_info=update.tracking_info,
                shipping_provider=update.shipping_provider,
                message=update.message,
                info=update.info,
                require_tracking=False,
            )
        return await client.update_item_status(intent.order_id, update.item_information, require_tracking=False)

    def _drop_refused(self, intent: Intent, status: int) -> None:
        self._session.drop_intent(intent.id, refused=intent, status=status)

    async def _refused(self, intent: int, error: APIError) -> None:
        # Refused for what it says: not applied, and it never will be. Anything else (see
        # _REFUSED) may have applied it, or may pass later: the outbox keeps it.
        if error.status_code in _REFUSED:
            await async_blocking(self._session.drop_intent, intent)
