"""OpenTelemetry, read back through the SDK's in-memory exporters: the span of each kind of call,
retry and token fetch, the metrics after a scripted scenario against the emulator, and no secret
in any attribute. The SDK's providers are given to ``telemetry.configure``, never set globally."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from iqmetrix_dropship import (
    DropshipClient,
    FeedEntry,
    OrderLedger,
    ProductAvailability,
    ProductCost,
    TokenError,
    telemetry,
)
from iqmetrix_dropship import _telemetry as internals
from iqmetrix_dropship.emulator import Emulator

from ..support import client_for


class Telemetry:
    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        tracing = TracerProvider()
        tracing.add_span_processor(SimpleSpanProcessor(self.spans))
        self.reader = InMemoryMetricReader()
        telemetry.configure(tracer_provider=tracing, meter_provider=MeterProvider(metric_readers=[self.reader]))

    def finished(self) -> list[ReadableSpan]:
        return list(self.spans.get_finished_spans())

    def named(self, name: str) -> list[ReadableSpan]:
        return [span for span in self.finished() if span.name == name]

    def metrics(self) -> dict[tuple[str, frozenset[tuple[str, Any]]], float]:
        """Every data point: (metric, attributes) -> value (sum, gauge value, or histogram count)."""
        points: dict[tuple[str, frozenset[tuple[str, Any]]], float] = {}
        data = self.reader.get_metrics_data()
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    for point in metric.data.data_points:
                        value = getattr(point, "value", None)
                        if value is None:
                            value = point.count  # a histogram: how many were recorded
                        points[(metric.name, frozenset(point.attributes.items()))] = value
        return points

    def total(self, name: str, **attributes: Any) -> float:
        wanted = set(attributes.items())
        return sum(value for (metric, attrs), value in self.metrics().items() if metric == name and wanted <= attrs)


@pytest.fixture
def otel() -> Iterator[Telemetry]:
    recorded = Telemetry()
    yield recorded
    telemetry.configure()  # back to the global (no-op) providers


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(orders=12, seed=5)


@pytest.fixture
def client(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[DropshipClient]:
    # The retry loop's waits move the emulator's clock instead of sleeping.
    monkeypatch.setattr(DropshipClient, "_sleep", staticmethod(emulator.advance_clock))
    with client_for(emulator) as sdk:
        yield sdk


def test_a_call_is_a_span_named_by_its_route_template_with_its_ids(
    otel: Telemetry, emulator: Emulator, client: DropshipClient
) -> None:
    page_id = emulator.page_ids()[0]
    order_id = emulator.order_ids()[0]

    client.get_archive(page_id)
    client.acknowledge_order(order_id)

    [page] = otel.named("GET /Suppliers({id})/Notifications/Pages({page})")
    assert page.attributes is not None
    assert page.attributes["dropship.page_id"] == page_id
    assert page.attributes["http.response.status_code"] == 200
    assert page.attributes["http.request.method"] == "GET"
    assert page.attributes["server.address"] == "emulator.invalid"
    [update] = otel.named("PUT /Suppliers({id})/Orders({order})/OrderStatusUpdate")
    assert update.attributes is not None
    assert update.attributes["dropship.order_id"] == order_id
    assert update.attributes["http.response.status_code"] == 202
    names = {span.name for span in otel.finished()}
    assert not any(page_id in name or order_id in name for name in names)  # ids are attributes, never names


def test_each_attempt_is_a_span_of_its_own_under_the_call(
    otel: Telemetry, emulator: Emulator, client: DropshipClient
) -> None:
    client.get_notifications()  # a token first
    otel.spans.clear()
    emulator.set_faults(unavailable=1, retry_after=0)

    client.get_notifications()

    [call] = otel.named("GET /Suppliers({id})/Notifications")
    attempts = otel.named("GET /Suppliers({id})/Notifications attempt")
    assert [a.attributes["dropship.attempt"] for a in attempts if a.attributes] == [1, 2]
    assert [a.attributes.get("http.response.status_code") for a in attempts if a.attributes] == [503, 200]
    assert all(a.parent is not None and call.context and a.parent.span_id == call.context.span_id for a in attempts)
    assert call.attributes is not None
    assert call.attributes["dropship.attempts"] == 2
    assert otel.total("dropship.client.retries") == 1


def test_a_token_fetch_is_a_span_and_a_refresh_counts(
    otel: Telemetry, emulator: Emulator, client: DropshipClient
) -> None:
    client.get_notifications()
    emulator.expire_tokens()
    client.get_notifications()

    fetches = otel.named("POST /oauth2/token")
    assert [span.attributes["dropship.grant"] for span in fetches if span.attributes] == ["password", "refresh_token"]
    assert otel.total("dropship.client.token.fetches", **{"dropship.grant": "refresh_token", "outcome": "ok"}) == 1


def test_a_failed_call_records_its_error_type(otel: Telemetry, client: DropshipClient) -> None:
    with pytest.raises(Exception, match="404"):
        client.acknowledge_order("00000000-0000-4000-8000-000000000001")

    [span] = otel.named("PUT /Suppliers({id})/Orders({order})/OrderStatusUpdate")
    assert span.attributes is not None
    assert span.attributes["error.type"] == "NotFoundError"
    assert span.attributes["http.response.status_code"] == 404
    assert otel.total("dropship.client.requests", **{"http.response.status_code": 404}) == 1


def test_the_scripted_scenario_is_counted_as_it_happened(
    otel: Telemetry, emulator: Emulator, client: DropshipClient, tmp_path: Path
) -> None:
    """Three polls, one 429, one 503 retried, one token refresh, one handler failure."""
    follower = client.follow(checkpoint=OrderLedger(tmp_path / "orders.db"))
    entries = emulator.entry_ids()  # oldest first
    failing, last = entries[1], entries[-1]
    delivered: list[str] = []
    stop = threading.Event()

    def handler(entry: FeedEntry) -> None:
        if entry.id == failing and failing not in delivered:
            delivered.append(failing)
            raise RuntimeError("the warehouse system is down")
        delivered.append(entry.id)
        if entry.id == last:
            stop.set()

    # Polls 1 and 2, by run(): the first two feed requests answered 503, then 429, both waited out;
    # the handler fails on the second entry (poll 1 ends there), which poll 2 delivers again.
    emulator.set_faults(unavailable=1, throttled=1, retry_after=2)
    follower.run(handler, interval=0.01, stop=stop)
    # Poll 3: the token was revoked (one refresh); a new order.
    emulator.expire_tokens()
    emulator.place_order()
    for entry in follower.poll():
        handler(entry)

    assert len(delivered) == len(entries) + 2  # every entry, the failed one twice, the new order
    assert otel.total("dropship.client.rate_limit.waits") == 1
    assert otel.total("dropship.client.rate_limit.wait") == 1  # one wait in the histogram
    assert otel.total("dropship.client.retries") == 2  # after the 503 and after the 429
    assert otel.total("dropship.client.token.fetches", **{"dropship.grant": "password"}) == 1
    assert otel.total("dropship.client.token.fetches", **{"dropship.grant": "refresh_token"}) == 1
    assert otel.total("dropship.follower.handler.failures") == 1
    assert otel.total("dropship.follower.entries.delivered") == len(entries) + 2
    polls = otel.named("dropship.poll")
    assert [span.attributes["dropship.poll.outcome"] for span in polls if span.attributes] == [
        "stopped",  # the handler failed
        "stopped",  # run() was asked to stop after the last entry
        "ok",
    ]
    assert polls[-1].attributes is not None
    assert polls[-1].attributes["dropship.poll.entries"] == 1
    assert otel.total("dropship.follower.polls", outcome="ok") == 1
    assert otel.total("dropship.follower.leader") == 1
    assert otel.total("dropship.feed.lag.unprocessed") == 0  # caught up
    assert otel.total("dropship.checkpoint.age") >= 0
    # Calls, not attempts: each call counted once, with the status it ended on.
    finals = [status for _, path, status in emulator.request_log() if "/Suppliers(" in path]
    assert otel.total("dropship.client.requests") == len([s for s in finals if s not in (401, 429, 503)])
    assert otel.total("dropship.client.requests", **{"http.response.status_code": 429}) == 0


def test_pushed_rows_are_counted_by_kind_and_outcome(otel: Telemetry, client: DropshipClient) -> None:
    client.push_availability([ProductAvailability(f"S{n}", True, n) for n in range(5)], chunk_size=2)
    client.push_costs([ProductCost("S1", Decimal("1.50"), [1])])

    assert otel.total("dropship.catalog.rows.pushed", **{"dropship.kind": "availability", "outcome": "accepted"}) == 5
    assert otel.total("dropship.catalog.rows.pushed", **{"dropship.kind": "cost", "outcome": "accepted"}) == 1


def test_no_attribute_or_log_line_holds_a_secret(
    otel: Telemetry, emulator: Emulator, client: DropshipClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    emulator.set_faults(unavailable=1, throttled=1, retry_after=0)
    client.get_notifications()
    emulator.expire_tokens()
    client.get_notifications()
    credentials = emulator.credentials
    secrets = [credentials.password, credentials.client_secret, *emulator_tokens(client)]

    shown = [
        f"{span.name} {dict(span.attributes or {})} {[dict(e.attributes or {}) for e in span.events]}"
        for span in otel.finished()
    ]
    shown += [repr(key) for key in otel.metrics()]
    shown += [record.getMessage() + repr(getattr(record, "__dict__", {})) for record in caplog.records]
    assert secrets
    assert not [text for text in shown if any(secret in text for secret in secrets)]


def emulator_tokens(client: DropshipClient) -> list[str]:
    current = client._tokens.current
    return [current.access_token.get_secret_value()] if current is not None else []


def test_without_opentelemetry_nothing_is_recorded(
    otel: Telemetry, client: DropshipClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(internals, "ENABLED", False)

    client.get_notifications()

    assert otel.finished() == []
    assert otel.total("dropship.client.requests") == 0


def test_route_templates_hide_every_id() -> None:
    assert telemetry.route_of("GET", "https://dropshipdemo.iqmetrix.net/v1/Suppliers(60455)/Notifications") == (
        "GET /Suppliers({id})/Notifications",
        {"server.address": "dropshipdemo.iqmetrix.net"},
    )
    route, ids = telemetry.route_of("DELETE", "http://127.0.0.1:8080/v1/ProductFeeds(12)/Products(9001)")
    assert route == "DELETE /ProductFeeds({feed})/Products({product})"
    assert ids["dropship.product_feed_id"] == "12"


def test_durations_are_bucketed_in_seconds(otel: Telemetry, client: DropshipClient) -> None:
    client.get_notifications()

    data = otel.reader.get_metrics_data()
    assert data is not None
    [duration] = [
        metric
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == "dropship.client.request.duration"
    ]
    bounds = duration.data.data_points[0].explicit_bounds  # type: ignore[union-attr]
    assert bounds[0] <= 0.01
    assert bounds[-1] == 60.0


def test_route_templates_read_ipv6_and_user_info_hosts() -> None:
    assert telemetry.route_of("GET", "http://[::1]:8080/v1/Suppliers(1)/Notifications") == (
        "GET /Suppliers({id})/Notifications",
        {"server.address": "::1"},
    )
    assert telemetry.route_of("GET", "http://user:pw@host.example/v1/Suppliers(1)/Notifications")[1] == {
        "server.address": "host.example"
    }


def test_a_refused_token_and_a_failed_call_are_spans_in_error(otel: Telemetry, emulator: Emulator) -> None:
    with client_for(emulator, password="not-the-password", max_retries=0) as client, pytest.raises(TokenError):
        client.get_notifications()

    [token] = otel.named("POST /oauth2/token")
    assert token.status.status_code is StatusCode.ERROR
    assert token.attributes is not None
    assert token.attributes["error.type"] == "TokenError"
    [call] = otel.named("GET /Suppliers({id})/Notifications")
    assert call.status.status_code is StatusCode.ERROR
    assert "not-the-password" not in str(token.status.description)
