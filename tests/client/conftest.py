"""Fixtures for the client tests: every behaviour runs against both clients.

``client_factory`` builds a ``DropshipClient`` or an ``AsyncDropshipClient``; the async one is
wrapped so that a test calls it like the sync one, its coroutines run on an event loop in a
portal thread (one loop per test). respx intercepts every request: nothing leaves the process.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterator
from typing import Any

import anyio.from_thread
import httpx
import pytest
import respx

from iqmetrix_dropship import AsyncDropshipClient, DropshipClient, RetryPolicy

BASE = "https://dropship.test/v1"
ACCOUNTS = "https://accounts.test/v1"
TOKEN_URL = f"{ACCOUNTS}/oauth2/token"
SUPPLIER = f"{BASE}/Suppliers(60455)"
NOTIFICATIONS = f"{SUPPLIER}/Notifications"
ORDER_ID = "0b05f9fb-1210-4494-b654-d051948716b4"

CREDENTIALS = {
    "client_id": "client-abc",
    "client_secret": "s3cr3t-client-secret",
    "username": "supplier@example.com",
    "password": "hunter2-password",
}
SECRETS = ("s3cr3t-client-secret", "hunter2-password", "access-1", "access-2", "refresh-1", "refresh-2")


def token_json(n: int = 1, expires_in: Any = 43199) -> dict[str, Any]:
    return {"access_token": f"access-{n}", "expires_in": expires_in, "refresh_token": f"refresh-{n}"}


class SyncFacade:
    """An AsyncDropshipClient that a test calls like a DropshipClient."""

    def __init__(self, client: AsyncDropshipClient, portal: anyio.from_thread.BlockingPortal) -> None:
        self.inner = client
        self._portal = portal

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if inspect.iscoroutinefunction(attr):
            return lambda *a, **kw: self._portal.call(lambda: attr(*a, **kw))
        if inspect.isasyncgenfunction(attr):

            async def collect(*a: Any, **kw: Any) -> list[Any]:
                return [item async for item in attr(*a, **kw)]

            return lambda *a, **kw: self._portal.call(lambda: collect(*a, **kw))
        return attr

    def close(self) -> None:
        self._portal.call(self.inner.aclose)


class Sleeps(list[float]):
    """Records the waits the retry loop asked for, instead of sleeping."""


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> Sleeps:
    recorded = Sleeps()

    async def async_sleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(DropshipClient, "_sleep", staticmethod(recorded.append))
    monkeypatch.setattr(AsyncDropshipClient, "_sleep", staticmethod(async_sleep))
    return recorded


@pytest.fixture(autouse=True)
def no_secrets_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every client test runs with DEBUG logging captured; none may log a secret."""
    caplog.set_level(logging.DEBUG)
    yield
    for record in caplog.records:
        text = record.getMessage() + repr(record.args) + (record.exc_text or "")
        leaked = [s for s in SECRETS if s in text]
        assert not leaked, f"log record {record.name}:{record.levelname} leaks {leaked}"


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        yield router


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client_factory(kind: str, sleeps: Sleeps) -> Iterator[Callable[..., Any]]:
    """``client_factory(**overrides)``: a client of this test's kind with test credentials."""
    made: list[Any] = []
    with anyio.from_thread.start_blocking_portal() as portal:

        def make(**overrides: Any) -> Any:
            options: dict[str, Any] = {
                "supplier_id": 60455,
                **CREDENTIALS,
                "base_url": BASE,
                "accounts_url": ACCOUNTS,
                "retry_policy": RetryPolicy(jitter=lambda delay: delay),  # jitter pinned
                **overrides,
            }
            if kind == "sync":
                client: Any = DropshipClient(**options)
            else:
                client = SyncFacade(portal.call(lambda: _make_async(options)), portal)
            made.append(client)
            return client

        yield make
        for client in made:
            client.close()


async def _make_async(options: dict[str, Any]) -> AsyncDropshipClient:
    return AsyncDropshipClient(**options)


@pytest.fixture
def client(client_factory: Callable[..., Any]) -> Any:
    return client_factory()


def form_of(request: httpx.Request) -> dict[str, str]:
    return dict(httpx.QueryParams(request.content.decode()))
