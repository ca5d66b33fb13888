"""Which failures are worth another attempt, and how long to wait before it.

The decision is a pure function of the error (its status and the wait the server asked for)
and the attempt number, so it is tested as a table. The drivers hand the pieces to tenacity
(``tenacity_options``), which runs the loop.

Server contract relied on, status by status:

- no answer (connection refused/reset, timeout): the request may not have arrived; GETs and
  PUTs here are idempotent (a PUT sets a status, it does not add one), so another try is safe.
- 408, 500, 502, 503, 504: transient by definition (RFC 9110 15.5.9, 15.6); retried.
- 429: the Dropship API's rate limit (traps.md 16); it says when to come back in
  ``X-RateLimit-ResetSeconds``. We wait that long, up to ``max_wait``.
- any other 4xx: our request is wrong, and will be wrong again. Never retried.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from tenacity import RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.stop import stop_base

from .. import _telemetry as telemetry
from .._exceptions import APIConnectionError, APIError, _RetriedError
from .deadline import Deadline
from .http import logger

__all__ = [
    "RETRYABLE_STATUSES",
    "RetryDecision",
    "RetryPolicy",
    "calculate_retry_timeout",
    "default_jitter",
    "parse_retry_after",
    "retry_decision",
    "stop_at_deadline",
    "tenacity_options",
]

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def default_jitter(delay: float) -> float:
    """Up to 25% less than ``delay``, so that many clients do not retry in lockstep."""
    return delay * (1.0 - 0.25 * random.random())  # noqa: S311 - not for security


@dataclass(frozen=True)
class RetryPolicy:
    """How retries back off. Immutable; share it freely.

    ``max_wait`` caps a wait the server asks for (``Retry-After``, ``X-RateLimit-ResetSeconds``):
    asked to wait longer, the client raises at once rather than block for minutes.
    """

    initial_backoff: float = 0.5
    max_backoff: float = 8.0
    max_wait: float = 60.0
    jitter: Callable[[float], float] = field(default=default_jitter, compare=False)


@dataclass(frozen=True)
class RetryDecision:
    retry: bool
    wait: float
    reason: str
    server_asked: bool = False
    """The wait is the server's (``Retry-After``, ``X-RateLimit-ResetSeconds``), not our backoff."""


def parse_retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """The wait the server asks for, in seconds, or ``None``.

    ``Retry-After`` is delta-seconds or an HTTP-date (RFC 9110 10.2.3). The Dropship API's
    rate limiter sends ``X-RateLimit-ResetSeconds`` instead (traps.md 16; values are strings).
    Header names are matched case-insensitively.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    for name in ("retry-after", "x-ratelimit-resetseconds"):
        value = lowered.get(name)
        if value is None:
            continue
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            continue
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        now = now or datetime.now(timezone.utc)
        return max(0.0, (when - now).total_seconds())
    return None


def calculate_retry_timeout(retries_taken: int, policy: RetryPolicy) -> float:
    """Exponential backoff: 0.5 s, 1 s, 2 s, ... up to ``max_backoff``, then jittered."""
    delay = min(policy.initial_backoff * (2.0**retries_taken), policy.max_backoff)
    return policy.jitter(delay)


def retry_decision(
    status_code: int | None, server_wait: float | None, retries_taken: int, policy: RetryPolicy
) -> RetryDecision:
    """Retry or not, and after how long. ``status_code`` is ``None`` when no answer came."""
    if status_code is not None and status_code not in RETRYABLE_STATUSES:
        return RetryDecision(False, 0.0, f"HTTP {status_code} is not transient")
    what = "no answer" if status_code is None else f"HTTP {status_code}"
    if server_wait is not None:
        if server_wait > policy.max_wait:
            return RetryDecision(
                False,
                server_wait,
                f"{what}: server asks to wait {server_wait:g} s, over {policy.max_wait:g} s",
            )
        return RetryDecision(True, server_wait, f"{what}: server asks to wait {server_wait:g} s", server_asked=True)
    return RetryDecision(True, calculate_retry_timeout(retries_taken, policy), what)


def decide_for(error: BaseException | None, retries_taken: int, policy: RetryPolicy) -> RetryDecision:
    """``retry_decision`` for an error raised by one attempt."""
    if isinstance(error, APIError):
        return retry_decision(error.status_code, error.retry_after, retries_taken, policy)
    if isinstance(error, APIConnectionError):
        return retry_decision(None, None, retries_taken, policy)
    return RetryDecision(False, 0.0, "not a transport or API error")


def replay_safe(error: BaseException) -> bool:
    """For a request that is not idempotent: retry only when the server surely did not act on it,
    a 429 (the rate limiter refuses before the request is handled, traps.md 16) or a connection
    that was never made. A 5xx or a lost answer may come after the work was done."""
    if isinstance(error, APIError):
        return error.status_code == 429
    return isinstance(error, APIConnectionError) and not error.request_sent


def tenacity_options(max_retries: int, policy: RetryPolicy, log: logging.Logger = logger) -> dict[str, Any]:
    """Keyword arguments for ``tenacity.Retrying`` / ``AsyncRetrying`` that apply this policy.

    They hold no per-request state, so a client builds them once per ``max_retries``."""

    def retries_taken(state: RetryCallState) -> int:
        return state.attempt_number - 1

    def error_of(state: RetryCallState) -> BaseException | None:
        return state.outcome.exception() if state.outcome is not None else None

    def wait(state: RetryCallState) -> float:
        return decide_for(error_of(state), retries_taken(state), policy).wait

    def before_sleep(state: RetryCallState) -> None:
        error = error_of(state)
        decision = decide_for(error, retries_taken(state), policy)
        if isinstance(error, APIError) and error.status_code == 429:
            telemetry.add("dropship.client.rate_limit.waits")
            telemetry.record("dropship.client.rate_limit.wait", decision.wait)
        # The error names the request that failed: the call itself, or the token fetch it needed.
        method, url = getattr(error, "method", ""), getattr(error, "url", "")
        route, ids = telemetry.route_of(method, url) if url else ("", {})
        log.info(
            "%s %s failed (%s); retry %d of %d in %.2f s",
            method,
            url,
            decision.reason,
            state.attempt_number,
            max_retries,
            decision.wait,
            extra={
                "http.request.method": method,
                "http.route": route,
                "http.response.status_code": getattr(error, "status_code", None),
                "dropship.attempt": state.attempt_number,
                **ids,
            },
        )

    return {
        "stop": stop_after_attempt(max_retries + 1),
        "retry": retry_if_exception(lambda e: decide_for(e, 0, policy).retry),
        "wait": wait,
        "before_sleep": before_sleep,
        "reraise": True,
    }


class stop_at_deadline(stop_base):  # noqa: N801 - named like tenacity's own stop conditions
    """Stop retrying when our backoff before the next attempt would reach the call's deadline: the
    attempt could not finish in time, so the last error is raised now rather than after a sleep.

    A wait the *server* asks for (429 with ``X-RateLimit-ResetSeconds``, 503 with ``Retry-After``)
    is its schedule, not a stall: it is bounded by ``RetryPolicy.max_wait`` and ``max_retries``,
    and the deadline moves back by it, so that a rate-limited backfill is paced, not failed.
    """

    def __init__(self, deadline: Deadline, policy: RetryPolicy) -> None:
        self.deadline = deadline
        self.policy = policy

    def __call__(self, retry_state: RetryCallState) -> bool:
        remaining = self.deadline.remaining()
        if remaining is None:
            return False
        error = retry_state.outcome.exception() if retry_state.outcome is not None else None
        wait = retry_state.upcoming_sleep or 0.0
        if decide_for(error, retry_state.attempt_number - 1, self.policy).server_asked:
            self.deadline.extend(wait)
            return False
        return wait >= remaining


def note_retries(error: BaseException, attempt_number: int) -> None:
    """Record on the raised error how many retries were taken before it (shown in its message)."""
    if isinstance(error, _RetriedError):
        error.retries = max(0, attempt_number - 1)
