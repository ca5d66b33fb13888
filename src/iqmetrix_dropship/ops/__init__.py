"""The operator's side of ``dropship run``: HTTP endpoints and log lines for the people who run it.

- ``_server.py``: a WSGI app routed by method and path, served by the stdlib on a daemon thread;
- ``_checks.py``: the readiness checks of ``/readyz`` (token, database, poll);
- ``_webhook.py``: ``POST /webhook``, iQmetrix's webhooks as a wake-up call for the follower;
- ``_metrics.py``: ``/metrics``, the OpenTelemetry SDK read by its Prometheus exporter;
- ``_logs.py``: log lines as JSON or text, redacted of every secret known;
- ``_endpoints.py``: the four endpoints put together, as ``dropship run`` serves them.

Nothing is imported here: ``cli/_logging.py`` takes the formatters alone, and only ``dropship run``
loads the server.
"""
