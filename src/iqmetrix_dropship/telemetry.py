"""OpenTelemetry for this SDK: install the ``otel`` extra (``opentelemetry-api``) and an SDK of your
choice, and every API call, retry, token fetch and follower poll is a span, with the metrics of
docs/guides/operations.md. Without the extra, nothing is recorded and nothing is paid.

::

    from opentelemetry.sdk.trace import TracerProvider
    from iqmetrix_dropship import telemetry

    telemetry.configure(tracer_provider=TracerProvider())   # else OpenTelemetry's global providers

Span names are route templates (``GET /Suppliers({id})/Notifications/Pages({page})``); attributes
are ``http.request.method``, ``http.route``, ``http.response.status_code``, ``server.address``,
``dropship.order_id``, ``dropship.page_id``, ``dropship.attempt``, ``dropship.request_id``, and for
a poll ``dropship.poll.pages``, ``dropship.poll.entries``, ``dropship.poll.outcome``. No secret is
ever one of them.
"""

from __future__ import annotations

from ._telemetry import ENABLED, configure, route_of

__all__ = ["ENABLED", "configure", "route_of"]
