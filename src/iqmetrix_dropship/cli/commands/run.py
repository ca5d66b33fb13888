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

For the people who run it (``ops/``): ``--metrics-port`` serves ``/metrics``, ``/healthz`` and
``/readyz``; ``--webhook-port`` takes iQmetrix's webhooks as a wake-up call for the follower;
``--log-format json`` writes one JSON object per log line. See docs/guides/operations.md.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Annotated, Any
from urllib.parse import unquote, urlsplit

import typer

from ... import _telemetry as telemetry
from ..._concurrency import stop_on_signals
from ..._exceptions import ConfigurationError, DropshipError, TokenError
from ..._pg.lease import DEFAULT_LEASE_SECONDS, default_holder
from ..._sync.client import DropshipClient
from ...follow._shared import TRANSIENT_ERRORS
from ...ledger import OrderLedger
from ...ledger._models import LedgerOrder
from ...models import OrderStatus
from ...ops._checks import Probe, describe_token_failure, token_check
from ...ops._endpoints import OpsPlan
from ...ops._metrics import MetricsUnavailableError, start_metrics
from ...ops._webhook import DEFAULT_SECRET_HEADER, WebhookAuth
from .._exit import CliError, ExitCode
from .._hosts import is_loopback
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


class LogFormat(str, Enum):
    text = "text"
    json = "json"


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
    token: Probe | None = None
    """The readiness check of the token: told when the accounts server refuses the credentials."""

    @property
    def _extra(self) -> dict[str, object]:
        return {"dropship.worker": self.name}

    def run(self, stop: threading.Event) -> None:
        logger.info("%s started: claims %s orders, %d at a time", self.name, self.status, self.limit, extra=self._extra)
        while not stop.is_set():
            # Apart: an update that cannot be resent now must not stop new orders being worked.
            self._guarded(self._resend_unfinished)
            handled = self._guarded(lambda: self._one_claim(stop))
            if not handled:
                stop.wait(self.interval)
        logger.info("%s stopped", self.name, extra=self._extra)

    def _guarded(self, step: Callable[[], int | None]) -> int | None:
        try:
            return step()
        except TRANSIENT_ERRORS as error:
            logger.warning("%s: %s; trying again in %g s", self.name, error, self.interval, extra=self._extra)
        except DropshipError as error:
            if isinstance(error, TokenError) and self.token is not None:
                self.token.fail(describe_token_failure(error))
            logger.error("%s: %s; trying again in %g s", self.name, error, self.interval, extra=self._extra)
        except Exception:  # a bug must not end the worker's thread silently: logged, and again
            logger.exception(
                "%s: unexpected failure; trying again in %g s", self.name, self.interval, extra=self._extra
            )
        return None

    def _resend_unfinished(self) -> None:
        with self.ledger.unfinished(worker=self.name) as left:
            if len(left):
                logger.info("%s resent %d unfinished updates", self.name, left.resend(self.client), extra=self._extra)

    def _one_claim(self, stop: threading.Event) -> int:
        handled = 0
        with self.ledger.claim(self.status, limit=self.limit, worker=self.name) as orders:
            for order in orders:
                if stop.is_set():
                    break  # the rest are released with the claim, for the next worker
                extra = {**self._extra, "dropship.order_id": order.order_id}
                try:
                    self.handler(orders, order, self.client)
                except DropshipError as error:
                    telemetry.add("dropship.follower.handler.failures", 1, {"dropship.handler": "worker"})
                    logger.warning(
                        "%s: the handler failed on order %s: %s", self.name, order.order_id, error, extra=extra
                    )
                except Exception:
                    telemetry.add("dropship.follower.handler.failures", 1, {"dropship.handler": "worker"})
                    logger.exception("%s: the handler failed on order %s", self.name, order.order_id, extra=extra)
                handled += 1
        return handled


@dataclass
class _KnownSecrets:
    """Every secret the log must never show, asked for when a line is written: the webhook's, and
    the client's (its credentials, and the tokens it holds by then)."""

    sources: list[Callable[[], Iterable[str]]] = field(default_factory=list)

    def __call__(self) -> list[str]:
        return [secret for source in self.sources for secret in source()]


def _ops_plan(
    *,
    follower: bool,
    metrics_port: int | None,
    webhook_port: int | None,
    bind: str,
    webhook_path: str,
    webhook_secret_header: str,
    max_poll_age: float,
) -> OpsPlan:
    """The endpoints asked for, checked before anything runs: a webhook without its secret, or
    ``/metrics`` without its packages, is an error at start."""
    auth = None
    if webhook_port is not None:
        if not follower:
            raise CliError("--webhook-port wakes the follower: it needs --follower")
        if not webhook_path.startswith("/") or (
            webhook_port == metrics_port and webhook_path in ("/healthz", "/readyz", "/metrics")
        ):
            raise CliError(f"--webhook-path must be a path of its own, like /webhook, got {webhook_path[:100]!r}")
        try:
            auth = WebhookAuth.from_environ(os.environ, header=webhook_secret_header)
        except ConfigurationError as error:
            raise CliError(str(error)) from None
    scrape = None
    if metrics_port is not None:
        try:
            scrape = start_metrics()
        except MetricsUnavailableError as error:
            raise CliError(str(error)) from None
    return OpsPlan(metrics_port, webhook_port, bind, max_poll_age, scrape, auth, webhook_path)


def _dsn_password(target: object) -> tuple[str, ...]:
    """A PostgreSQL DSN's password, for the log's redaction (the SDK's messages never show it)."""
    if not isinstance(target, str):
        return ()
    try:
        password = urlsplit(target).password
    except ValueError:
        return ()
    return (unquote(password),) if password else ()


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
    metrics_port: Annotated[
        int | None,
        typer.Option(
            "--metrics-port",
            help="Serve /metrics (Prometheus), /healthz and /readyz on this port (0: a free one, logged).",
            min=0,
            max=65535,
        ),
    ] = None,
    webhook_port: Annotated[
        int | None,
        typer.Option(
            "--webhook-port",
            help="Take iQmetrix's webhooks on this port (may be the metrics port) and poll at once; "
            "needs DROPSHIP_WEBHOOK_SECRET, or DROPSHIP_WEBHOOK_USERNAME and DROPSHIP_WEBHOOK_PASSWORD.",
            min=0,
            max=65535,
        ),
    ] = None,
    bind: Annotated[
        str, typer.Option("--bind", help="The address the metrics and webhook ports listen on.")
    ] = "127.0.0.1",
    webhook_path: Annotated[str, typer.Option("--webhook-path", help="The webhook's path.")] = "/webhook",
    webhook_secret_header: Annotated[
        str, typer.Option("--webhook-secret-header", help="The header that carries the webhook's shared secret.")
    ] = DEFAULT_SECRET_HEADER,
    ready_max_poll_age: Annotated[
        float | None,
        typer.Option(
            "--ready-max-poll-age",
            help="/readyz fails when the last good poll is older than this (seconds; default 3 x --interval + 60).",
            min=1,
        ),
    ] = None,
    log_format: Annotated[
        LogFormat, typer.Option("--log-format", help="The log on stderr: text, or one JSON object per line.")
    ] = LogFormat.text,
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
    plan = _ops_plan(
        follower=follower,
        metrics_port=metrics_port,
        webhook_port=webhook_port,
        bind=bind,
        webhook_path=webhook_path,
        webhook_secret_header=webhook_secret_header,
        max_poll_age=ready_max_poll_age if ready_max_poll_age is not None else 3 * interval + 60,
    )
    session = Session.of(ctx)
    secrets = _KnownSecrets([lambda: plan.webhook_auth.secrets if plan.webhook_auth is not None else ()])
    level = logging.DEBUG if session.debug else logging.INFO
    ctx.call_on_close(log_to_stderr(level, json_lines=log_format is LogFormat.json, secrets=secrets))
    if (metrics_port is not None or webhook_port is not None) and not is_loopback(bind):
        logger.warning("the ops endpoints listen on %s, beyond this machine: put them behind a firewall", bind)
    target, _ = session.ledger_path(db)
    if workers and not isinstance(target, str):
        raise CliError("workers claim orders on a PostgreSQL ledger: give --db postgresql://...")
    secrets.sources.append(lambda: _dsn_password(target))
    stop = threading.Event()
    options: dict[str, Any] = {"lease_seconds": lease} | ({"schema": schema} if isinstance(target, str) else {})
    with open_ledger(target, **options) as ledger, session.client() as client, stop_on_signals(stop):
        secrets.sources.append(client._tokens.secrets)
        token = token_check(client.authenticate, secrets)
        follow = client.follow(checkpoint=ledger) if follower else None
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
                    token,
                ).run,
                args=(stop,),
                name=f"dropship-worker-{n}",
                daemon=True,
            )
            for n in range(1, workers + 1)
            if handle is not None
        ]
        with plan.serve(ledger=ledger, token=token, follower=follow):
            if metrics_port is not None:
                token()  # the token is asked for once now, so that /readyz knows it from the start
            for thread in threads:
                thread.start()
            try:
                if follow is not None:
                    follow.run(lambda entry: None, interval=interval, stop=stop)
                else:
                    while not stop.wait(3600):
                        pass
            finally:
                stop.set()
                for thread in threads:
                    thread.join()
    logger.info("stopped")
    raise typer.Exit(ExitCode.OK)
