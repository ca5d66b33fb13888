"""The cost of the OpenTelemetry instrumentation on the backfill and the update benchmarks.

Three ways, interleaved round by round (each round in another order, so that drift hits them
alike), against one emulator process:

- ``absent``: as without ``opentelemetry-api`` installed (``_telemetry.ENABLED = False``);
- ``off``: the API installed, no SDK configured (what a user gets from the ``otel`` extra alone);
- ``on``: the SDK recording every span (a batch processor into a discarding exporter) and every
  metric (an in-memory reader, collected at the end).

Measured: a backfill of the feed into a memory checkpoint (``--events``), and status updates
one after another (``--updates``), each the best of ``--rounds``. Prints a table, then as its last
line one JSON object of ratios (``*_off_vs_absent``, ``*_on_vs_absent``: 1.0 is no cost).
Usage: ``python bench/telemetry.py [--events 20000] [--updates 1000] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from backfill import CREDENTIALS, start_emulator

from iqmetrix_dropship import DropshipClient, MemoryCheckpoint, OrderStatus, telemetry
from iqmetrix_dropship import _telemetry as internals

MODES = ("absent", "off", "on")


class _Discard:
    """A span exporter that keeps nothing: the cost measured is the SDK's, not an exporter's I/O."""

    def export(self, spans: Sequence[Any]) -> Any:
        from opentelemetry.sdk.trace.export import SpanExportResult

        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


def use(mode: str) -> Callable[[], None]:
    """Set the mode up; returns what to call once the measurement is over."""
    internals.ENABLED = mode != "absent"
    if mode != "on":
        telemetry.configure()
        return lambda: None
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    tracing = TracerProvider()
    tracing.add_span_processor(BatchSpanProcessor(_Discard()))  # type: ignore[arg-type]
    reader = InMemoryMetricReader()
    telemetry.configure(tracer_provider=tracing, meter_provider=MeterProvider(metric_readers=[reader]))

    def finish() -> None:
        reader.get_metrics_data()
        tracing.shutdown()

    return finish


def backfill(base_url: str) -> float:
    with DropshipClient(**CREDENTIALS, base_url=base_url, accounts_url=base_url) as client:  # type: ignore[arg-type]
        client.get_notifications()  # the token, outside the measurement
        started = time.perf_counter()
        count = sum(1 for _ in client.follow(checkpoint=MemoryCheckpoint()).poll())
        assert count > 0
        return time.perf_counter() - started


def new_orders(base_url: str, count: int) -> list[str]:
    admin = base_url.removesuffix("/v1") + "/_emulator/orders"
    order_ids: list[str] = []
    while len(order_ids) < count:  # the emulator places at most 10,000 a call
        batch = min(5_000, count - len(order_ids))
        order_ids += httpx.post(admin, json={"count": batch}, timeout=120).json()["order_ids"]
    return order_ids


def updates(base_url: str, order_ids: list[str]) -> float:
    with DropshipClient(**CREDENTIALS, base_url=base_url, accounts_url=base_url) as client:  # type: ignore[arg-type]
        client.authenticate()
        started = time.perf_counter()
        for order_id in order_ids:
            client.update_order_status(order_id, OrderStatus.SHIPPED, tracking_info="1Z999", shipping_provider="UPS")
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--updates", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    emulator, base_url = start_emulator(args.events - args.updates * args.rounds * len(MODES))
    times: dict[str, dict[str, list[float]]] = {"backfill": {m: [] for m in MODES}, "updates": {m: [] for m in MODES}}
    try:
        # Every order the updates need is placed first: the feed the backfills read is then the
        # same length in every round and mode (orders placed between would lengthen the later ones).
        batches = iter(new_orders(base_url, args.updates * args.rounds * len(MODES)))
        for round_ in range(args.rounds):
            for mode in MODES[round_ % 3 :] + MODES[: round_ % 3]:  # no mode always first
                finish = use(mode)
                times["backfill"][mode].append(backfill(base_url))
                times["updates"][mode].append(updates(base_url, [next(batches) for _ in range(args.updates)]))
                finish()
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)

    best = {bench: {mode: min(values) for mode, values in by_mode.items()} for bench, by_mode in times.items()}
    print(f"backfill of {args.events:,} events; {args.updates:,} updates one by one; best of {args.rounds}")
    print(f"{'':<10}{'absent s':>10}{'off s':>10}{'on s':>10}{'off/abs':>9}{'on/abs':>9}")
    figures: dict[str, Any] = {"events": args.events, "updates": args.updates}
    for bench, by_mode in best.items():
        off, on = by_mode["off"] / by_mode["absent"], by_mode["on"] / by_mode["absent"]
        print(
            f"{bench:<10}{by_mode['absent']:>10.2f}{by_mode['off']:>10.2f}{by_mode['on']:>10.2f}{off:>9.3f}{on:>9.3f}"
        )
        figures[f"{bench}_off_vs_absent"] = round(off, 3)
        figures[f"{bench}_on_vs_absent"] = round(on, 3)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
