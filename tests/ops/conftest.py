"""The ops endpoints of ``dropship run`` over real HTTP on 127.0.0.1: a served emulator, a client
of it, a ledger, and a follower running on a thread with a handler that says what it got.

Every secret here is recognisable, so that a test can check none reaches an answer or a log line.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from iqmetrix_dropship import DropshipClient, OrderLedger
from iqmetrix_dropship.emulator import Emulator, EmulatorServer
from iqmetrix_dropship.models import FeedEntry
from iqmetrix_dropship.ops._checks import token_check
from iqmetrix_dropship.ops._endpoints import Follower, Ledger, OpsPlan
from iqmetrix_dropship.ops._webhook import WebhookAuth

from ..support import client_for

CLIENT_SECRET = "ops-SECRET-client-7d21"
PASSWORD = "ops-SECRET-pass-40af"
WEBHOOK_SECRET = "ops-SECRET-webhook-91be"
WEBHOOK_PASSWORD = "ops-SECRET-basic-5c03"
SECRETS = (CLIENT_SECRET, PASSWORD, WEBHOOK_SECRET, WEBHOOK_PASSWORD)
WAIT = 15.0  # seconds: a bound for every wait; a passing test takes a fraction of it
AUTH = WebhookAuth.from_environ(
    {
        "DROPSHIP_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "DROPSHIP_WEBHOOK_USERNAME": "iqmetrix",
        "DROPSHIP_WEBHOOK_PASSWORD": WEBHOOK_PASSWORD,
    }
)


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(orders=3, seed=11, client_secret=CLIENT_SECRET, password=PASSWORD)


@pytest.fixture
def served(emulator: Emulator) -> Iterator[EmulatorServer]:
    with emulator.serve() as server:
        yield server


@pytest.fixture
def client(emulator: Emulator, served: EmulatorServer) -> Iterator[DropshipClient]:
    with client_for(emulator, served.base_url) as client:
        yield client


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[OrderLedger]:
    with OrderLedger(tmp_path / "orders.db") as ledger:
        yield ledger


def tokens_issued(emulator: Emulator) -> list[str]:
    """The access and refresh tokens the emulator handed out: secrets too."""
    store = emulator._tokens
    return [*store._access, *store._refresh]


@contextmanager
def serving(client: DropshipClient, ledger: Ledger, follower: Follower | None = None, **plan: object) -> Iterator[str]:
    """The ops endpoints (health, readiness, metrics-less; the webhook with ``AUTH``) on one free
    port; yields their base URL."""
    options: dict[str, object] = {"metrics_port": 0, "webhook_port": 0, "webhook_auth": AUTH, **plan}
    token = token_check(client.authenticate, lambda: SECRETS)
    with OpsPlan(**options).serve(ledger=ledger, token=token, follower=follower) as servers:  # type: ignore[arg-type]
        yield servers[0].url


class Following:
    """``follower.run(handler)`` on a thread until the block ends; ``on_entry`` (if set) is called
    with each entry before it is recorded."""

    def __init__(self, follower: Follower, *, on_entry: Callable[[FeedEntry], None] | None = None) -> None:
        self.follower = follower
        self.on_entry = on_entry
        self.seen: list[str] = []
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.follower.run(self._handle, interval=3600, stop=self._stop)  # type: ignore[attr-defined]
        except BaseException as error:  # reported by the test, not lost on the thread
            self._failure = error

    def _handle(self, entry: FeedEntry) -> None:
        if self.on_entry is not None:
            self.on_entry(entry)
        with self._changed:
            self.seen.append(entry.id)
            self._changed.notify_all()

    def wait_for(self, entry_ids: list[str], timeout: float = WAIT) -> None:
        with self._changed:
            got = self._changed.wait_for(lambda: set(entry_ids) <= set(self.seen), timeout)
        assert got, f"not delivered within {timeout} s: {set(entry_ids) - set(self.seen)}; failure: {self._failure!r}"

    def __enter__(self) -> Following:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(WAIT)
        assert not self._thread.is_alive(), "the follower did not stop"


def polls(emulator: Emulator) -> int:
    """Polls of the feed so far: each reads the current page once."""
    return sum(1 for method, path, _ in emulator.request_log() if method == "GET" and path.endswith("/Notifications"))


def until(condition: Callable[[], bool], timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.01)


def get(url: str, **options: object) -> httpx.Response:
    return httpx.get(url, timeout=WAIT, **options)  # type: ignore[arg-type]


EVENT = b'{"Event": "OrderCreated", "EntityId": 42}'
SIGNED = {"Content-Type": "application/json", "X-Dropship-Webhook-Secret": WEBHOOK_SECRET}


def webhook(url: str, body: bytes = EVENT, headers: Mapping[str, str] = SIGNED) -> httpx.Response:
    """POST a webhook: by default, a signed one with a small JSON event."""
    return httpx.post(f"{url}/webhook", content=body, headers=dict(headers), timeout=WAIT)
