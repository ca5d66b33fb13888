"""The readiness checks behind ``/readyz``: a token was obtained, the database answers, the last
successful poll is recent enough.

A check that needs the network (the token, the database) runs on a thread of its own, one
attempt at a time, and the caller waits for it ``timeout`` seconds at most: a probe with a short
timeout (Kubernetes' is one second by default) gets an answer, ``no answer within ... s``, rather
than a connection that hangs; and a thousand probes against a hung database start one attempt,
not a thousand.

=========  ==========================================  =======================================
check      passes when                                 checked again
=========  ==========================================  =======================================
token      ``client.authenticate()`` succeeded once    when it failed, at most every 5 s
           (a static access token: always)
database   ``ledger.ping()`` answered                  every probe
poll       the leader's last good poll is recent;      every probe (no I/O)
           a standby is ready
=========  ==========================================  =======================================
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from .._exceptions import DropshipError, TokenError
from .._protocol.redact import redact

__all__ = ["Outcome", "PollCheck", "Probe", "Readiness", "database_check", "token_check"]


@dataclass(frozen=True)
class Outcome:
    ok: bool
    detail: str


Check = Callable[[], Outcome]


class Probe:
    """A check that calls ``attempt`` (which returns what to say when it passed, or raises) on a
    daemon thread, one attempt at a time; its outcome is kept ``passed_for`` seconds when it
    passed and ``failed_for`` seconds when it failed."""

    def __init__(
        self,
        attempt: Callable[[], str],
        describe_failure: Callable[[Exception], str],
        *,
        passed_for: float,
        failed_for: float,
        timeout: float,
        silent: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._attempt = attempt
        self._describe_failure = describe_failure
        self._passed_for = passed_for
        self._failed_for = failed_for
        self.timeout = timeout
        self._silent = silent
        self._clock = clock
        self._lock = threading.Lock()
        self._outcome: Outcome | None = None
        self._at = 0.0
        self._running: threading.Event | None = None

    def __call__(self) -> Outcome:
        with self._lock:
            if self._outcome is not None:
                keep = self._passed_for if self._outcome.ok else self._failed_for
                if self._clock() - self._at < keep:
                    return self._outcome
            done = self._running
            if done is None:
                done = self._running = threading.Event()
                threading.Thread(target=self._run, args=(done,), name="dropship-ready-check", daemon=True).start()
        if done.wait(self.timeout):
            with self._lock:
                if self._outcome is not None:
                    return self._outcome
        return Outcome(False, self._silent)

    def fail(self, detail: str) -> None:
        """Record a failure seen elsewhere (a worker's refused token): checked again after ``failed_for``."""
        with self._lock:
            self._outcome, self._at = Outcome(False, detail), self._clock()

    def _run(self, done: threading.Event) -> None:
        try:
            outcome = Outcome(True, self._attempt())
        except Exception as error:  # every failure is the check's answer, never the server's crash
            outcome = Outcome(False, self._describe_failure(error))
        with self._lock:
            self._outcome, self._at, self._running = outcome, self._clock(), None
        done.set()


def token_check(
    authenticate: Callable[[], datetime | None],
    secrets: Callable[[], Iterable[str]],
    *,
    recheck_after: float = 5.0,
    timeout: float = 2.0,
) -> Probe:
    """Passes once ``authenticate()`` (the client's) returned; never asked again after that: the
    client refreshes its token itself, and a refusal later on is reported with ``Probe.fail``."""

    def attempt() -> str:
        return "a static access token" if authenticate() is None else "a token was obtained"

    def failure(error: Exception) -> str:
        return redact(describe_token_failure(error), secrets())

    return Probe(
        attempt,
        failure,
        passed_for=float("inf"),
        failed_for=recheck_after,
        timeout=timeout,
        silent=f"the accounts server did not answer within {timeout:g} s",
    )


def describe_token_failure(error: Exception) -> str:
    if isinstance(error, TokenError):
        reason = error.error or (f"HTTP {error.status_code}" if error.status_code else "no reason given")
        return f"the accounts server refused the credentials ({reason})"
    if isinstance(error, DropshipError):
        return f"no token: {error}"
    return f"no token: {type(error).__name__}"


class _Pingable(Protocol):
    def ping(self) -> None: ...


def database_check(ledger: _Pingable, *, timeout: float = 2.0) -> Probe:
    """Passes when ``ledger.ping()`` (a trivial query) answers within ``timeout`` seconds."""

    def attempt() -> str:
        ledger.ping()
        return "the ledger answered"

    def failure(error: Exception) -> str:
        # The SDK's errors name a DSN without its password; a driver's own error is not shown.
        return str(error) if isinstance(error, DropshipError) else f"the ledger failed: {type(error).__name__}"

    return Probe(
        attempt,
        failure,
        passed_for=0.0,
        failed_for=0.0,
        timeout=timeout,
        silent=f"the ledger did not answer within {timeout:g} s",
    )


class PollCheck:
    """Passes while the last poll that read the feed without error is younger than ``max_age``
    seconds (not before the first one). A replica that stands by (another one leads a shared
    ledger) passes: whether it can ask for the lease is the database check's."""

    def __init__(
        self,
        last_poll_ok: Callable[[], float | None],
        leading: Callable[[], bool],
        *,
        max_age: float,
        shared: bool,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._last_poll_ok = last_poll_ok
        self._leading = leading
        self.max_age = max_age
        self._shared = shared
        self._clock = clock
        self._started = clock()

    def __call__(self) -> Outcome:
        last, now = self._last_poll_ok(), self._clock()
        if self._shared and not self._leading():
            return Outcome(True, "standby: another replica leads; this one asks for the lease")
        if last is None:
            return Outcome(False, f"no poll has succeeded yet (started {now - self._started:.0f} s ago)")
        age = max(0.0, now - last)
        if age > self.max_age:
            return Outcome(False, f"the last successful poll was {age:.0f} s ago (limit {self.max_age:g} s)")
        return Outcome(True, f"the last successful poll was {age:.0f} s ago")


class Readiness:
    """The named checks of ``/readyz``, run one after the other."""

    def __init__(self, checks: Mapping[str, Check]) -> None:
        self.checks = dict(checks)

    def report(self) -> tuple[bool, dict[str, object]]:
        outcomes = {name: check() for name, check in self.checks.items()}
        failed = {name: outcome.detail for name, outcome in outcomes.items() if not outcome.ok}
        checks = {name: {"ok": outcome.ok, "detail": outcome.detail} for name, outcome in outcomes.items()}
        if failed:
            return False, {"status": "not ready", "failed": failed, "checks": checks}
        return True, {"status": "ready", "checks": checks}
