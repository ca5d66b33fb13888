"""The endpoints of ``dropship run``, put together on one app (or two, one per port).

==============  ======  ==============================================================
path            method  answer
==============  ======  ==============================================================
/healthz        GET     200 ``{"status": "ok"}`` while the process is alive
/readyz         GET     200 ``{"status": "ready", "checks": ...}``, or 503
                        ``{"status": "not ready", "failed": {name: why}, "checks": ...}``
/metrics        GET     200, the Prometheus text exposition
/webhook        POST    202 ``{"status": "accepted"}`` and a poll now (``_webhook.py``)
==============  ======  ==============================================================
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Protocol

from .._exceptions import ConfigurationError
from ._checks import Check, PollCheck, Probe, Readiness, database_check
from ._server import Answer, Environ, OpsApp, OpsServer, Route, json_answer, logger
from ._webhook import Webhook, WebhookAuth

__all__ = ["OpsPlan", "ops_app"]


def healthz(environ: Environ) -> Answer:
    return json_answer(200, {"status": "ok"})


def readyz(readiness: Readiness) -> Route:
    def route(environ: Environ) -> Answer:
        ready, report = readiness.report()
        return json_answer(200 if ready else 503, report)

    return route


def metrics(render: Callable[[], bytes], content_type: str) -> Route:
    def route(environ: Environ) -> Answer:
        return Answer(200, render(), content_type)

    return route


def ops_app(
    *,
    readiness: Readiness | None = None,
    scrape: tuple[Callable[[], bytes], str] | None = None,
    webhook: Webhook | None = None,
    webhook_path: str = "/webhook",
) -> OpsApp:
    """An app with the health endpoints (given ``readiness``), ``/metrics`` (given ``scrape``:
    ``(render, content_type)``) and the webhook (given ``webhook``), each only if given."""
    app = OpsApp()
    if readiness is not None:
        app.route("GET", "/healthz", healthz)
        app.route("GET", "/readyz", readyz(readiness))
    if scrape is not None:
        app.route("GET", "/metrics", metrics(*scrape))
    if webhook is not None:
        app.route("POST", webhook_path, webhook)
    return app


class Follower(Protocol):
    """What the endpoints read from a follower, and the one thing they ask of it."""

    leading: bool

    @property
    def last_poll_ok(self) -> float | None: ...

    def wake(self) -> None: ...


class Ledger(Protocol):
    def ping(self) -> None: ...

    @property
    def lease_seconds(self) -> float | None: ...


@dataclass(frozen=True)
class OpsPlan:
    """The endpoints ``dropship run`` was asked for: the health endpoints and ``/metrics`` on
    ``metrics_port``, the webhook on ``webhook_port`` (one server for both when the ports are
    equal, 0 included); each server on ``bind``."""

    metrics_port: int | None = None
    webhook_port: int | None = None
    bind: str = "127.0.0.1"
    max_poll_age: float = 150.0
    scrape: tuple[Callable[[], bytes], str] | None = None
    webhook_auth: WebhookAuth | None = None
    webhook_path: str = "/webhook"

    @contextmanager
    def serve(self, *, ledger: Ledger, token: Probe, follower: Follower | None) -> Iterator[list[OpsServer]]:
        """Start the servers (each logged with its URL), yield them, stop them."""
        apps: dict[int, OpsApp] = {}
        if self.metrics_port is not None:
            checks: dict[str, Check] = {"token": token, "database": database_check(ledger)}
            if follower is not None:
                checks["poll"] = PollCheck(
                    lambda: follower.last_poll_ok,
                    lambda: follower.leading,
                    max_age=self.max_poll_age,
                    shared=ledger.lease_seconds is not None,
                )
            apps[self.metrics_port] = ops_app(readiness=Readiness(checks), scrape=self.scrape)
        if self.webhook_port is not None and self.webhook_auth is not None and follower is not None:
            app = apps.setdefault(self.webhook_port, OpsApp())
            app.route("POST", self.webhook_path, Webhook(self.webhook_auth, follower.wake))
        with ExitStack() as stack:
            servers = [stack.enter_context(_listening(app, self.bind, port)) for port, app in apps.items()]
            for server, app in zip(servers, apps.values(), strict=True):
                logger.info(
                    "ops server listening on %s: %s",
                    server.url,
                    " ".join(app.paths),
                    extra={"ops.url": server.url, "ops.endpoints": " ".join(app.paths)},
                )
            yield servers


def _listening(app: OpsApp, host: str, port: int) -> OpsServer:
    try:
        return OpsServer(app, host, port)
    except OSError as error:  # a port in use, an address not on this machine
        raise ConfigurationError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
