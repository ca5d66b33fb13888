"""``/metrics``: the OpenTelemetry SDK's meter provider, read by its Prometheus exporter.

The SDK records its metrics through the OpenTelemetry API (``_telemetry.py``), which does nothing
until an application installs a meter provider. ``dropship run --metrics-port`` installs one
whose reader is ``PrometheusMetricReader``: it registers with prometheus_client's default
registry (beside the process collectors: CPU, memory, open files), and a scrape renders that
registry in the text exposition format, collecting the metrics as it goes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["METRICS_EXTRA", "MetricsUnavailableError", "start_metrics"]

METRICS_EXTRA = "pip install 'iqmetrix-dropship[prometheus]'"

_lock = threading.Lock()
_render: tuple[Callable[[], bytes], str] | None = None


class MetricsUnavailableError(RuntimeError):
    """The packages that serve ``/metrics`` are not installed."""


def start_metrics() -> tuple[Callable[[], bytes], str]:
    """Install the meter provider (once per process: OpenTelemetry allows one global provider)
    and return ``(render, content_type)``; ``render()`` is a scrape's body.

    Raises ``MetricsUnavailableError`` naming the extra to install when ``opentelemetry-sdk``,
    ``opentelemetry-exporter-prometheus`` or ``prometheus-client`` is missing.
    """
    global _render  # noqa: PLW0603 - one provider per process, as OpenTelemetry's own global is
    with _lock:
        if _render is not None:
            return _render
        try:
            from opentelemetry import metrics  # noqa: PLC0415 - optional: the prometheus extra
            from opentelemetry.exporter.prometheus import PrometheusMetricReader  # noqa: PLC0415
            from opentelemetry.sdk.metrics import MeterProvider  # noqa: PLC0415
            from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest  # noqa: PLC0415
        except ImportError as error:
            raise MetricsUnavailableError(
                f"--metrics-port needs OpenTelemetry's SDK and Prometheus exporter ({error.name} is missing): "
                f"{METRICS_EXTRA}"
            ) from None
        provider = MeterProvider(metric_readers=[PrometheusMetricReader()])
        metrics.set_meter_provider(provider)
        if metrics.get_meter_provider() is not provider:
            # Another provider was installed first (the application's own): its readers are its own.
            provider.shutdown()
            raise MetricsUnavailableError("a meter provider was installed already: --metrics-port cannot serve it")

        def render() -> bytes:
            return generate_latest(REGISTRY)

        _render = (render, CONTENT_TYPE_LATEST)
        return _render
