"""OpenTelemetry traces and metrics, when ``opentelemetry-api`` is installed (the ``otel`` extra).

Without it, every function here returns at once (``ENABLED`` is ``False``): the SDK costs nothing
more than a flag test per call. With it, spans and metrics go through the OpenTelemetry API, which
does nothing either until the application installs an SDK (``opentelemetry-sdk``, or
``dropship run --metrics-port``). Names follow OpenTelemetry's semantic conventions where one
exists (``http.request.method``, ``http.response.status_code``, ``http.route``, ``server.address``),
``dropship.*`` otherwise; the structured log lines use the same names (docs/guides/operations.md).

Spans are named by route template, never by the raw URL (``GET /Suppliers({id})/Notifications``):
a name per order id or page id would make every span its own series (the cardinality problem of
stripe-go #2177). Nothing secret is ever an attribute: URLs carry no secrets (the token travels in
a header, credentials in a form body), and no header or body is recorded.

========================================  =========  ==========================================
metric                                    kind       what
========================================  =========  ==========================================
dropship.client.requests                  counter    requests, by route, method, status (or error)
dropship.client.request.duration          histogram  seconds per call, retries included
dropship.client.retries                   counter    attempts after the first, by route and reason
dropship.client.rate_limit.waits          counter    429 answers waited out
dropship.client.rate_limit.wait           histogram  seconds waited for the rate limiter
dropship.client.token.fetches             counter    token requests, by grant and outcome
dropship.follower.polls                   counter    polls, by outcome (ok, standby, failed)
dropship.follower.entries.delivered       counter    entries handed to the handler
dropship.follower.handler.failures        counter    entries whose handler raised
dropship.feed.lag.unprocessed             gauge      seconds: age of the oldest entry not yet handled
dropship.feed.lag.processed               gauge      seconds: age of the newest entry handled
dropship.checkpoint.age                   gauge      seconds since the cursor was last committed
dropship.follower.leader                  gauge      1 if this replica leads, else 0
dropship.worker.claims.held               updown     orders claimed by this process's workers
dropship.catalog.rows.pushed              counter    availability/cost rows, by kind and outcome
========================================  =========  ==========================================
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import re
import time
import weakref
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from ._version import __version__

__all__ = [
    "ENABLED",
    "FollowerGauges",
    "add",
    "call_span",
    "configure",
    "poll_span",
    "record",
    "route_of",
    "span",
    "token_fetch",
    "token_fetched",
]


def _api_installed() -> bool:
    # The API's own modules, not the ``opentelemetry`` namespace: other distributions
    # (``opentelemetry-proto``, say) install that folder without the API.
    try:
        return all(
            importlib.util.find_spec(name) is not None for name in ("opentelemetry.trace", "opentelemetry.metrics")
        )
    except (ImportError, ValueError):
        return False


ENABLED = _api_installed()
"""Whether ``opentelemetry-api`` is installed. Tests and benchmarks may set it to ``False``."""

_SCOPE = "iqmetrix_dropship"

# The ids in a path, each replaced by its placeholder: the route template of a URL.
_IDS = re.compile(r"\b(Suppliers|Pages|Orders|ProductFeeds|Products)\(([^)/]*)\)")
_PLACEHOLDERS = {"Suppliers": "id", "Pages": "page", "Orders": "order", "ProductFeeds": "feed", "Products": "product"}
_VERSION_PREFIX = re.compile(r"^/v\d+(?=/)")


@functools.lru_cache(maxsize=1024)
def _route(method: str, url: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    route, ids = _route_of(method, url)
    return route, tuple(ids.items())


def route_of(method: str, url: str) -> tuple[str, dict[str, str]]:
    """``("GET /Suppliers({id})/Notifications/Pages({page})", {"dropship.page_id": ...})``: the
    span name of a request and the ids its URL holds (the page and order ids, as attributes)."""
    route, ids = _route(method, url)
    return route, dict(ids)


def _route_of(method: str, url: str) -> tuple[str, dict[str, str]]:
    """``("GET /Suppliers({id})/Notifications/Pages({page})", {"dropship.page_id": ...})``: the
    span name of a request and the ids its URL holds (the page and order ids, as attributes)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        parts, host = None, None
    path = _VERSION_PREFIX.sub("", (parts.path if parts is not None else "") or "/")
    ids: dict[str, str] = {}

    def placeholder(found: re.Match[str]) -> str:
        kind, value = found.group(1), found.group(2)
        if kind == "Pages":
            ids["dropship.page_id"] = value
        elif kind == "Orders":
            ids["dropship.order_id"] = value
        elif kind == "ProductFeeds":
            ids["dropship.product_feed_id"] = value
        return f"{kind}({{{_PLACEHOLDERS[kind]}}})"

    template = _IDS.sub(placeholder, path)
    if host:
        ids["server.address"] = host
    return f"{method} {template}", ids


# -- the OpenTelemetry API, bound on first use ------------------------------------------------------

_tracer: Any = None
_instruments: dict[str, Any] = {}
_providers: dict[str, Any] = {}


def configure(*, tracer_provider: Any = None, meter_provider: Any = None) -> None:
    """Send this SDK's spans and metrics to these providers rather than OpenTelemetry's global
    ones (``trace.set_tracer_provider``, which a process may set once): for a test, or for an
    application that keeps its providers apart. ``None`` goes back to the global one."""
    global _tracer, _gauges_registered  # noqa: PLW0603 - the process's one binding
    _providers.update(tracer=tracer_provider, meter=meter_provider)
    _tracer = None
    _instruments.clear()
    _gauges_registered = False
    if meter_provider is not None or _followers:
        for follower in list(_followers):
            follower.register()


def _meter() -> Any:
    from opentelemetry import metrics  # noqa: PLC0415 - optional, and only when used

    provider = _providers.get("meter")
    return (provider or metrics.get_meter_provider()).get_meter(_SCOPE, __version__)


def _get_tracer() -> Any:
    global _tracer  # noqa: PLW0603 - one tracer per process, made on first use
    if _tracer is None:
        from opentelemetry import trace  # noqa: PLC0415 - optional, and only when used

        provider = _providers.get("tracer")
        _tracer = (provider or trace.get_tracer_provider()).get_tracer(_SCOPE, __version__)
    return _tracer


def _tracing() -> Any:
    """The tracer, or ``None`` while no SDK is installed: OpenTelemetry's proxy tracer would make
    and drop every span (about 12 µs each), for nothing."""
    if _providers.get("tracer") is None:
        from opentelemetry import trace  # noqa: PLC0415 - optional, and only when used

        if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
            return None
    return _get_tracer()


def _instrument(name: str) -> Any:
    instrument = _instruments.get(name)
    if instrument is None:
        kind, unit, description = _METRICS[name]
        meter = _meter()
        if kind == "histogram":
            # Seconds, not OpenTelemetry's default buckets (0 to 10,000: made for milliseconds).
            instrument = meter.create_histogram(
                name, unit=unit, description=description, explicit_bucket_boundaries_advisory=_SECONDS
            )
        else:
            make = meter.create_counter if kind == "counter" else meter.create_up_down_counter
            instrument = make(name, unit=unit, description=description)
        _instruments[name] = instrument
    return instrument


_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0]

_METRICS: dict[str, tuple[str, str, str]] = {
    "dropship.client.requests": ("counter", "{request}", "Requests to the iQmetrix APIs"),
    "dropship.client.request.duration": ("histogram", "s", "Duration of a call, retries included"),
    "dropship.client.retries": ("counter", "{retry}", "Attempts after the first"),
    "dropship.client.rate_limit.waits": ("counter", "{wait}", "429 answers waited out"),
    "dropship.client.rate_limit.wait": ("histogram", "s", "Seconds waited for the rate limiter"),
    "dropship.client.token.fetches": ("counter", "{fetch}", "Token requests to the accounts server"),
    "dropship.follower.polls": ("counter", "{poll}", "Polls of the feed"),
    "dropship.follower.entries.delivered": ("counter", "{entry}", "Feed entries handed to the handler"),
    "dropship.follower.handler.failures": ("counter", "{entry}", "Entries whose handler raised"),
    "dropship.worker.claims.held": ("updown", "{order}", "Orders held by this process's workers"),
    "dropship.catalog.rows.pushed": ("counter", "{row}", "Availability and cost rows pushed"),
}


def add(name: str, value: float = 1, attributes: Mapping[str, Any] | None = None) -> None:
    """Add to a counter (or an up-down counter) of ``_METRICS``."""
    if ENABLED:
        _instrument(name).add(value, attributes)


def record(name: str, value: float, attributes: Mapping[str, Any] | None = None) -> None:
    """Record a histogram value of ``_METRICS``."""
    if ENABLED:
        _instrument(name).record(value, attributes)


@contextlib.contextmanager
def span(name: str, attributes: Mapping[str, Any] | None = None) -> Iterator[Any]:
    """A span (``None`` without OpenTelemetry); an exception escaping it is recorded on it."""
    tracer = _tracing() if ENABLED else None
    if tracer is None:
        yield None
        return
    with tracer.start_as_current_span(name, attributes=attributes) as current:
        yield current


def failed(current: Any, error: BaseException) -> None:
    """Mark a span as failed (its status ERROR, described by the error's class only: an error's
    message may quote a server's answer, which is not ours to export)."""
    if current is None:
        return
    from opentelemetry.trace import Status, StatusCode  # noqa: PLC0415 - optional, and only when used

    current.set_status(Status(StatusCode.ERROR, type(error).__name__))
    current.set_attribute("error.type", type(error).__name__)


def set_attributes(current: Any, attributes: Mapping[str, Any]) -> None:
    if current is not None:
        current.set_attributes({key: value for key, value in attributes.items() if value is not None})


class CallSpan:
    """One API call, its attempts and what came of them: the span per call and per attempt, and
    the request metrics. Made by ``call_span``; a no-op object without OpenTelemetry."""

    def __init__(self, method: str, url: str) -> None:
        self.route, self.ids = route_of(method, url)
        self.method = method
        self.started = time.perf_counter()
        self.attempts = 0
        self._stack = contextlib.ExitStack()
        self.current = self._stack.enter_context(
            span(self.route, {"http.request.method": method, "http.route": self.route, **self.ids})
        )

    @contextlib.contextmanager
    def attempt(self, number: int) -> Iterator[Any]:
        """A span for one attempt (the first, or a retry), as a child of the call's."""
        self.attempts = number
        if number > 1:
            add("dropship.client.retries", 1, {"http.route": self.route})
        attributes = {"http.request.method": self.method, "http.route": self.route, "dropship.attempt": number}
        with span(f"{self.route} attempt", {**attributes, **self.ids}) as current:
            yield current

    def answered(self, current: Any, response: Any) -> None:
        """The attempt's answer: its status and the server's request id (``Response``)."""
        request_id = next((value for name in _REQUEST_ID_HEADERS if (value := response.header(name))), None)
        set_attributes(current, {"http.response.status_code": response.status_code, "dropship.request_id": request_id})

    def end(self, status: int | None, error: BaseException | None) -> None:
        attributes: dict[str, Any] = {"http.request.method": self.method, "http.route": self.route}
        if status is not None:
            attributes["http.response.status_code"] = status
        if error is not None:
            attributes["error.type"] = type(error).__name__
        add("dropship.client.requests", 1, attributes)
        record("dropship.client.request.duration", time.perf_counter() - self.started, attributes)
        set_attributes(self.current, {**attributes, "dropship.attempts": self.attempts})
        if error is not None:
            failed(self.current, error)
        self._stack.close()


class _NoCall:
    """``CallSpan`` without OpenTelemetry: every method does nothing, at the cost of a call."""

    route = ""

    def attempt(self, number: int) -> contextlib.nullcontext[None]:
        return _NULL

    def answered(self, current: Any, response: Any) -> None:
        pass

    def end(self, status: int | None, error: BaseException | None) -> None:
        pass


_NO_CALL = _NoCall()
_NULL: contextlib.nullcontext[None] = contextlib.nullcontext()
_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-correlation-id", "x-ms-request-id")


def call_span(method: str, url: str) -> CallSpan | _NoCall:
    return CallSpan(method, url) if ENABLED else _NO_CALL


def token_fetch(grant: str) -> contextlib.AbstractContextManager[Any]:
    """The span of a token request (``POST /oauth2/token``); its outcome is ``token_fetched``'s."""
    if not ENABLED:
        return _NULL
    return span("POST /oauth2/token", {"http.request.method": "POST", "dropship.grant": grant})


def token_fetched(grant: str, error: BaseException | None, current: Any = None) -> None:
    if error is not None:
        failed(current, error)
    add("dropship.client.token.fetches", 1, {"dropship.grant": grant, "outcome": "ok" if error is None else "failed"})


class PollSpan:
    """One poll of the follower: a span (not made current: a generator's yields would carry it
    into the caller's code) with the pages read and entries delivered, and the poll's outcome."""

    def __init__(self, follower: str) -> None:
        self.pages = 0
        self.entries = 0
        self.follower = follower
        tracer = _tracing()
        self._span = (
            None if tracer is None else tracer.start_span("dropship.poll", attributes={"dropship.follower": follower})
        )

    def end(self, outcome: str, error: BaseException | None = None) -> None:
        if self._span is not None:
            self._span.set_attributes(
                {
                    "dropship.poll.pages": self.pages,
                    "dropship.poll.entries": self.entries,
                    "dropship.poll.outcome": outcome,
                }
            )
            if error is not None:
                failed(self._span, error)
            self._span.end()
        add("dropship.follower.polls", 1, {"dropship.follower": self.follower, "outcome": outcome})


class _NoPoll:
    pages = 0
    entries = 0

    def end(self, outcome: str, error: BaseException | None = None) -> None:
        pass


NO_POLL = _NoPoll()


def poll_span(follower: str) -> PollSpan | _NoPoll:
    return PollSpan(follower) if ENABLED else NO_POLL


# -- gauges read when the metrics are collected --------------------------------------------------


class FollowerGauges:
    """What a follower reports as gauges (lag, checkpoint age, leadership), read when collected.

    A follower keeps one and updates its fields; the observable gauges, registered once per
    process, read every live follower's (weakly held: a follower gone is no longer reported).
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.leading = False
        self.oldest_pending: datetime | None = None
        self.newest_handled: datetime | None = None
        self.committed_at: float | None = None
        if ENABLED:
            _followers.add(self)
            self.register()

    def register(self) -> None:
        """Make sure the observable gauges exist on the current meter (once per meter)."""
        _register_gauges()

    def attributes(self) -> dict[str, str]:
        return {"dropship.follower": self.name}


_followers: weakref.WeakSet[FollowerGauges] = weakref.WeakSet()
_gauges_registered = False


def _age(when: datetime | None) -> float | None:
    if when is None:
        return None
    aware = when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)
    return max(0.0, (datetime.now(timezone.utc) - aware).total_seconds())


def _register_gauges() -> None:
    global _gauges_registered  # noqa: PLW0603 - once per process
    if _gauges_registered:
        return
    _gauges_registered = True
    from opentelemetry import metrics  # noqa: PLC0415 - optional, and only when used

    meter = _meter()

    def observe(read: Any) -> Any:
        def callback(options: Any) -> Iterable[Any]:
            for follower in list(_followers):
                value = read(follower)
                if value is not None:
                    yield metrics.Observation(value, follower.attributes())

        return [callback]

    meter.create_observable_gauge(
        "dropship.feed.lag.unprocessed",
        callbacks=observe(lambda f: _age(f.oldest_pending) if f.oldest_pending else 0.0),
        unit="s",
        description="Age of the oldest feed entry seen and not yet handled (0 when caught up)",
    )
    meter.create_observable_gauge(
        "dropship.feed.lag.processed",
        callbacks=observe(lambda f: _age(f.newest_handled)),
        unit="s",
        description="Age of the newest feed entry handled",
    )
    meter.create_observable_gauge(
        "dropship.checkpoint.age",
        callbacks=observe(lambda f: None if f.committed_at is None else max(0.0, time.time() - f.committed_at)),
        unit="s",
        description="Seconds since the follower last committed its cursor",
    )
    meter.create_observable_gauge(
        "dropship.follower.leader",
        callbacks=observe(lambda f: 1 if f.leading else 0),
        unit="1",
        description="1 if this replica leads, else 0",
    )
