"""``dropship run``: the long-running process of a production set-up on one PostgreSQL database.

One process is a follower replica (``--follower``, the default), N fulfilment workers
(``--workers N --handler module:function``), or both. Start as many as you like against one DSN:
one replica leads at a time (the others stand by, and one takes over within two leases of the
leader's death); no order is ever held by two workers. SIGTERM or Ctrl-C stops it cleanly: the
follower finishes the entry in hand, each worker the order in hand, the leader steps down.

A worker's handler is called for each order it claims, as ``handler(orders, order, client)``: send
the order's updates through the claim (``orders.update_order_status(client, order.order_id, ...)``)
so that a crash between the PUT and the ledger's record is sent again, identically, by whichever
worker comes next (see docs/guides/production.md).
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import typer

from ..._concurrency import stop_on_signals
from ..._exceptions import DropshipError
from ..._pg.lease import DEFAULT_LEASE_SECONDS, default_holder
from ..._sync.client import DropshipClient
from ...follow._shared import TRANSIENT_ERRORS
from ...ledger import OrderLedger
from ...ledger._models import LedgerOrder
from ...models import OrderStatus
from .._exit import CliError, ExitCode
from .._logging import log_to_stderr
from .._options import DbOption
from .._session import Session, open_ledger

__all__ = ["run"]

logger = logging.getLogger("iqmetrix_dropship.run")

Handler = Callable[[Any, LedgerOrder, DropshipClient], object]


def _handler(spec: str) -> Handler:
    """``module:function``, imported now: a typo is an error at start, not in the first claim."""
    module_name, _, function = spec.partition(":")
    if not module_name or not function:
        raise CliError(f"--handler must be module:function, got {spec!r}"[:200])
    try:
        found = getattr(importlib.import_module(module_name), function)
    except (ImportError, AttributeError) as error:
        raise CliError(f"--handler {spec}: {error}") from None
    if not callable(found):
        raise CliError(f"--handler {spec} is not callable")
    handler: Handler = found
    return handler


@dataclass
class _Worker:
    """One worker: resend what a dead worker left unfinished, then claim, handle, release; again."""

    name: str
    ledger: OrderLedger
    client: DropshipClient
    handler: Handler
    status: str
    limit: int
    interval: float

    def run(self, stop: threading.Event) -> None:
        logger.info("%s started: claims %s orders, %d at a time", self.name, self.status, self.limit)
        while not stop.is_set():
            # Apart: an update that cannot be resent now must not stop new orders being worked.
            self._guarded(self._resend_unfinished)
            handled = self._guarded(lambda: self._one_claim(stop))
            if not handled:
                stop.wait(self.interval)
        logger.info("%s stopped", self.name)

    def _guarded(self, step: Callable[[], int | None]) -> int | None:
        try:
            return step()
        except TRANSIENT_ERRORS as error:
            logger.warning("%s: %s; trying again in %g s", self.name, error, self.interval)
        except DropshipError as error:
            logger.error("%s: %s; trying again in %g s", self.name, error, self.interval)
        except Exception:  # a bug must not end the worker's thread silently: logged, and again
            logger.exception("%s: unexpected failure; trying again in %g s", self.name, self.interval)
        return None

    def _resend_unfinished(self) -> None:
        with self.ledger.unfinished(worker=self.name) as left:
            if len(left):
                logger.info("%s resent %d unfinished updates", self.name, left.resend(self.client))

    def _one_claim(self, stop: threading.Event) -> int:
        handled = 0
        with self.ledger.claim(self.status, limit=self.limit, worker=self.name) as orders:
            for order in orders:
                if stop.is_set():
                    break  # the rest are released with the claim, for the next worker
                try:
                    self.handler(orders, order, self.client)
                except DropshipError as error:
                    logger.warning("%s: the handler failed on order %s: %s", self.name, order.order_id, error)
                except Exception:
                    logger.exception("%s: the handler failed on order %s", self.name, order.order_id)
                handled += 1
        return handled


def run(
    ctx: typer.Context,
    *,
    db: DbOption = None,
    follower: Annotated[
        bool, typer.Option("--follower/--no-follower", help="Be a follower replica (one leads at a time).")
    ] = True,
    workers: Annotated[int, typer.Option("--workers", help="Fulfilment workers in this process.", min=0)] = 0,
    handler: Annotated[
        str | None,
        typer.Option(
            "--handler", help="module:function called as handler(orders, order, client) for each claimed order."
        ),
    ] = None,
    status: Annotated[str, typer.Option("--status", help="The status of the orders workers claim.")] = (
        OrderStatus.PENDING_SUPPLIER.value
    ),
    claim_limit: Annotated[int, typer.Option("--claim-limit", help="Orders a worker claims at once.", min=1)] = 10,
    interval: Annotated[
        float, typer.Option("--interval", help="Seconds between two polls of the feed.", min=0.05)
    ] = 30.0,
    worker_interval: Annotated[
        float,
        typer.Option("--worker-interval", help="Seconds a worker waits when it found nothing to claim.", min=0.05),
    ] = 5.0,
    lease: Annotated[
        float, typer.Option("--lease", help="Seconds of the leader's lease; a standby takes over within two.", min=0.5)
    ] = DEFAULT_LEASE_SECONDS,
    schema: Annotated[str, typer.Option("--schema", help="PostgreSQL schema of the ledger's tables.")] = "dropship",
) -> None:
    """Run a follower replica and/or fulfilment workers until SIGTERM or Ctrl-C.

    Against a PostgreSQL DSN (--db postgresql://...), any number of these processes share one
    ledger: one replica follows the feed at a time, and workers claim orders no other worker holds.
    Leadership changes, claims and failures are logged on stderr.
    """
    if not follower and workers == 0:
        raise CliError("nothing to run: give --workers N, or leave --follower on")
    if workers and handler is None:
        raise CliError("--workers needs --handler module:function: what a worker does with each order")
    checked = OrderStatus.parse(status) if status in {s.value for s in OrderStatus} else None
    if checked is None:
        raise CliError(f"--status must be one of {', '.join(s.value for s in OrderStatus)}")
    handle = _handler(handler) if handler is not None else None
    session = Session.of(ctx)
    if not session.debug:  # with --debug, the app shows the log already
        ctx.call_on_close(log_to_stderr(logging.INFO))
    target, _ = session.ledger_path(db)
    if workers and not isinstance(target, str):
        raise CliError("workers claim orders on a PostgreSQL ledger: give --db postgresql://...")
    stop = threading.Event()
    options: dict[str, Any] = {"lease_seconds": lease} | ({"schema": schema} if isinstance(target, str) else {})
    with open_ledger(target, **options) as ledger, session.client() as client, stop_on_signals(stop):
        threads = [
            threading.Thread(
                target=_Worker(
                    f"{default_holder()}/worker-{n}",
                    ledger,
                    client,
                    handle,
                    checked.value,
                    claim_limit,
                    worker_interval,
                ).run,
                args=(stop,),
                name=f"dropship-worker-{n}",
                daemon=True,
            )
            for n in range(1, workers + 1)
            if handle is not None
        ]
        for thread in threads:
            thread.start()
        try:
            if follower:
                client.follow(checkpoint=ledger).run(lambda entry: None, interval=interval, stop=stop)
            else:
                while not stop.wait(3600):
                    pass
        finally:
            stop.set()
            for thread in threads:
                thread.join()
    logger.info("stopped")
    raise typer.Exit(ExitCode.OK)
