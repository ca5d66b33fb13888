"""Fault injection and rate limiting: the bad days a client must survive.

Faults (set from Python or ``POST /_emulator/faults``):

==================  ===========================================================================
``latency``         seconds added before every ``/v1`` request is answered
``error_rate``      share of API requests answered ``500`` (seeded RNG: reproducible)
``unavailable``     the next K API requests are answered ``503`` with ``Retry-After``
``retry_after``     the ``Retry-After`` seconds of those 503s
==================  ===========================================================================

Rate limiting: ``limit`` requests per ``window`` seconds, per access token or for everyone;
past it, ``429`` ``rate limit exceeded`` with the ``X-RateLimit-*`` headers (traps.md 16) and
no ``Retry-After``, which the service does not document.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass

from ._checks import integer, number

__all__ = ["FAULT_FIELDS", "MAX_LATENCY", "FaultDecision", "Faults", "RateLimitResult", "RateLimiter"]

FAULT_FIELDS = ("latency", "error_rate", "unavailable", "throttled", "retry_after")
MAX_LATENCY = 60.0
"""Seconds: longer than any client waits for an answer; more would only hang the emulator."""
_MAX_RETRY_AFTER = 86_400  # a day: what a Retry-After of a planned outage could say
_MAX_UNAVAILABLE = 1_000_000_000


@dataclass
class Faults:
    latency: float = 0.0
    error_rate: float = 0.0
    unavailable: int = 0
    throttled: int = 0
    """The next this many API requests are answered 429, as the rate limiter would (its headers,
    ``X-RateLimit-ResetSeconds`` = ``retry_after``): a rate limit on cue, for tests."""
    retry_after: int = 1

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)

    @classmethod
    def checked(
        cls, latency: object, error_rate: object, unavailable: object, retry_after: object, throttled: object = 0
    ) -> Faults:
        """Faults from values given from outside; ``InvalidFieldError`` (a ``ValueError``) names a bad one.

        Latency and error rate are finite floats (a NaN would pass any ``< 0`` check, then fail
        every JSON answer that shows it); the counts are integers, as ``Retry-After`` is
        (RFC 9110 10.2.3: delay-seconds).
        """
        return cls(
            latency=number(latency, "latency", minimum=0.0, maximum=MAX_LATENCY),
            error_rate=number(error_rate, "error_rate", minimum=0.0, maximum=1.0),
            unavailable=integer(unavailable, "unavailable", minimum=0, maximum=_MAX_UNAVAILABLE),
            throttled=integer(throttled, "throttled", minimum=0, maximum=_MAX_UNAVAILABLE),
            retry_after=integer(retry_after, "retry_after", minimum=0, maximum=_MAX_RETRY_AFTER),
        )


@dataclass(frozen=True)
class FaultDecision:
    latency: float
    status: int | None  # 500, 503 or 429, or None to answer normally
    retry_after: int = 0


class FaultInjector:
    def __init__(self, faults: Faults, seed: int) -> None:
        self.faults = faults
        self._rng = random.Random(seed)  # noqa: S311 - reproducible faults, not security

    def decide(self) -> FaultDecision:
        faults = self.faults
        if faults.unavailable > 0:
            faults.unavailable -= 1
            return FaultDecision(faults.latency, 503, faults.retry_after)
        if faults.throttled > 0:
            faults.throttled -= 1
            return FaultDecision(faults.latency, 429, faults.retry_after)
        if faults.error_rate > 0 and self._rng.random() < faults.error_rate:
            return FaultDecision(faults.latency, 500)
        return FaultDecision(faults.latency, None)


@dataclass(frozen=True)
class RateLimitResult:
    allowed: bool
    limit: int
    remaining: int
    reset_at: float
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        """The documented headers; every value is a string (traps.md 16)."""
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(math.ceil(self.reset_at)),
            "X-RateLimit-ResetSeconds": str(self.reset_seconds),
        }


class RateLimiter:
    """Fixed windows, each starting at its first request."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._windows: dict[str, tuple[float, int]] = {}  # key -> (window start, count)

    def hit(self, key: str, now: float) -> RateLimitResult:
        start, count = self._windows.get(key, (now, 0))
        if now >= start + self.window:
            start, count = now, 0
        allowed = count < self.limit
        if allowed:
            count += 1
        self._windows[key] = (start, count)
        if len(self._windows) > 10_000:
            self._windows = {k: v for k, v in self._windows.items() if now < v[0] + self.window}
        reset_at = start + self.window
        return RateLimitResult(
            allowed=allowed,
            limit=self.limit,
            remaining=self.limit - count,
            reset_at=reset_at,
            reset_seconds=max(1, math.ceil(reset_at - now)),
        )
