"""A child process for the ``/metrics`` tests: OpenTelemetry allows one meter provider per process,
so the one ``/metrics`` installs is installed here, never in the test runner's own process.

It counts with two counters made through the OpenTelemetry API, as the SDK's instrumentation does:
one before the provider is installed (the API forwards it), one after; serves ``/metrics``;
prints the URL; and stops when its stdin is closed.
"""

from __future__ import annotations

import sys

from opentelemetry import metrics

from iqmetrix_dropship.ops._endpoints import ops_app
from iqmetrix_dropship.ops._metrics import start_metrics
from iqmetrix_dropship.ops._server import OpsServer


def main() -> None:
    early = metrics.get_meter("iqmetrix_dropship").create_counter("dropship.test.early", unit="{request}")
    scrape = start_metrics()
    late = metrics.get_meter("iqmetrix_dropship").create_counter("dropship.test.webhooks", unit="{webhook}")
    early.add(2, {"http.route": "GET /Suppliers({id})/Notifications"})
    late.add(3, {"http.response.status_code": 202})
    assert start_metrics() == scrape  # once per process
    with OpsServer(ops_app(scrape=scrape)) as server:
        print(server.url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
