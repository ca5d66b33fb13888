"""One call's time budget: the per-call ``timeout`` bounds the whole call.

httpx's timeouts are per phase and per read: a server that sends one byte every 100 ms never trips
a 0.5 s read timeout, and a call that waits for a token, retries and backs off adds those phases up.
So a call's ``timeout`` is also a deadline over all of it (connect, token, send, read, the waits
between retries): every phase is given at most what is left, a retry whose wait would pass the
deadline is not made (the last error is raised), and the driver checks what is left between the
chunks of a body.

=========================  ==========================================================
the ``timeout`` given       the deadline of the call
=========================  ==========================================================
a number of seconds        that many seconds from the start of the call
an ``httpx.Timeout``       its longest finite phase; each phase keeps its own bound too
``None``                   none: no phase times out (httpx's meaning of ``None``)
=========================  ==========================================================

A wait the server asks for (a 429's ``X-RateLimit-ResetSeconds``, a 503's ``Retry-After``) moves
the deadline back by that wait (``retry.stop_at_deadline``): it is the server's schedule, bounded
by ``RetryPolicy.max_wait`` and ``max_retries``, and a rate-limited backfill should be paced by it,
not failed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._exceptions import APITimeoutError

__all__ = ["Deadline", "total_seconds"]

_PHASES = ("connect", "read", "write", "pool")


def total_seconds(timeout: Any) -> float | None:
    """The whole-call budget a ``timeout`` value gives (see the table above)."""
    if timeout is None:
        return None
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        return float(timeout) if math.isfinite(timeout) else None
    phases = [getattr(timeout, name, None) for name in _PHASES]
    finite = [float(value) for value in phases if isinstance(value, (int, float)) and math.isfinite(value)]
    return max(finite) if finite else None


@dataclass
class Deadline:
    """When a call must be over, on a monotonic clock. ``at`` is ``None`` for no limit."""

    at: float | None
    total: float | None
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    @classmethod
    def after(cls, seconds: float | None, clock: Callable[[], float] = time.monotonic) -> Deadline:
        return cls(None if seconds is None else clock() + max(0.0, seconds), seconds, clock)

    def remaining(self) -> float | None:
        """Seconds left (never below 0), or ``None`` when there is no limit."""
        if self.at is None:
            return None
        return max(0.0, self.at - self.clock())

    def extend(self, seconds: float) -> None:
        """Move the deadline back by ``seconds`` (a wait the server asked for)."""
        if self.at is not None:
            self.at += max(0.0, seconds)

    @property
    def expired(self) -> bool:
        return self.at is not None and self.clock() >= self.at

    def error(self, method: str = "", url: str = "", what: str = "") -> APITimeoutError:
        """The error of a call that ran out of time (``what`` says where it was)."""
        where = f"{method} {url} " if method else ""
        doing = f" {what}" if what else ""
        total = self.total or 0.0
        return APITimeoutError(
            f"{where}timed out: the call's {total:g} s timeout passed{doing}", method=method, url=url
        )
