"""Log lines for machines (``--log-format json``) and for people, both redacted.

One JSON object per line::

    {"time": "2025-03-01T12:00:00.123Z", "level": "INFO", "logger": "iqmetrix_dropship.run",
     "message": "...", "dropship.worker": "host-1/worker-2", "dropship.order_id": "..."}

The extra fields are those given as ``logger.info(..., extra={...})`` whose names hold a dot: the
names of the span attributes (``dropship.order_id``, ``dropship.page_id``, ``dropship.entry_id``,
``dropship.attempt``, ``http.route``, ``http.request.method``, ``http.response.status_code``,
``dropship.request_id``, ``dropship.worker``, ``dropship.lease.term``), so that a log search and a
trace search use one vocabulary. A failure's traceback is the ``exception`` field.

Every string (the message, each field, the traceback) goes through ``redact`` with the secrets
known when the line is written (the credentials, the tokens the client holds, the webhook's
secret): the SDK's own lines never hold one, and this is the net under a line that would.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any

from .._protocol.redact import redact

__all__ = ["JsonFormatter", "Secrets", "TextFormatter"]

Secrets = Callable[[], Iterable[str]]


def _none() -> tuple[str, ...]:
    return ()


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines in a message or a traceback escaped)."""

    def __init__(self, secrets: Secrets = _none) -> None:
        super().__init__()
        self._secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        secrets = tuple(self._secrets())
        line: dict[str, Any] = {
            "time": _utc(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage(), secrets),
        }
        for name, value in record.__dict__.items():
            if "." in name and name not in line:
                line[name] = _plain(value, secrets)
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info), secrets)
        if record.stack_info:
            line["stack"] = redact(self.formatStack(record.stack_info), secrets)
        # ASCII only: U+2028, U+0085 and the like split "lines" for some readers; never NaN.
        return json.dumps(line, ensure_ascii=True, default=str)


class TextFormatter(logging.Formatter):
    """``2025-03-01 12:00:00,123 INFO iqmetrix_dropship.run: message``, redacted."""

    def __init__(self, secrets: Secrets = _none) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self._secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), tuple(self._secrets()))


def _utc(created: float) -> str:
    return datetime.fromtimestamp(created, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _plain(value: object, secrets: tuple[str, ...]) -> object:
    """A JSON scalar as itself (a string redacted); anything else as its redacted ``str``."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)  # JSON has no NaN or Infinity
    return redact(str(value), secrets)
