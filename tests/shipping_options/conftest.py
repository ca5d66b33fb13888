"""The shipping-options kit's tests: recognisable secrets (so that any test can check they never
leak), the spec's own query and option, and a server that runs an app over real HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from iqmetrix_dropship.emulator import EmulatorServer
from iqmetrix_dropship.shipping_options import (
    ApiKeyAuth,
    BasicAuth,
    OutOfStock,
    Quote,
    ShippingOption,
    ShippingQuery,
    create_app,
)

USERNAME = "iqmetrix"
PASSWORD = "so-SECRET-pass-7c1d"
API_KEY = "so-SECRET-key-4a2f"
TOKEN = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
SECRETS = (PASSWORD, API_KEY, TOKEN)

BASIC = BasicAuth(USERNAME, PASSWORD)
KEYED = ApiKeyAuth(API_KEY)

# The spec's example query, verbatim.
QUERY = {
    "CompanyId": 123,
    "PostalCode": "A1A1A1",
    "Items": [{"ProductName": "...", "Quantity": 11, "Sku": "87932OTS45S6"}],
}
BODY = json.dumps(QUERY).encode()
# The spec's example option.
PUROLATOR = ShippingOption(
    id="350", name="PurolatorExpress", cost=Decimal("7.94"), currency="CAD", estimated_transit_time="1 week"
)
OUT_OF_STOCK_SKU = "GONE-1"


def basic(username: str = USERNAME, password: str = PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}", "Content-Type": "application/json"}


def quote(query: ShippingQuery) -> list[ShippingOption]:
    """The test supplier: one option, and OUT_OF_STOCK_SKU is never in stock."""
    gone = [item.sku for item in query.items if item.sku.startswith(OUT_OF_STOCK_SKU)]
    if gone:
        raise OutOfStock(gone)
    return [PUROLATOR]


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        leaked = [secret for secret in SECRETS if secret in text]
        assert not leaked, f"leaked {leaked} in {text!r}"


def log_text(caplog: pytest.LogCaptureFixture) -> str:
    """Every captured log line as it would be written, tracebacks included."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records)


class Switchboard:
    """One server for the whole session, answering with the app of the current test: every test
    gets its own app without paying for a server start and stop."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


Serve = Callable[..., httpx.Client]


@pytest.fixture(scope="session")
def switchboard() -> Iterator[tuple[Switchboard, httpx.Client]]:
    board = Switchboard()
    # EmulatorServer runs any ASGI app: uvicorn in a thread, on a port known before it starts.
    with EmulatorServer(board) as server, httpx.Client(base_url=server.url) as client:
        yield board, client


@pytest.fixture
def serve(switchboard: tuple[Switchboard, httpx.Client]) -> Iterator[Serve]:
    """``serve(quote, **options)``: ``create_app(quote, **options)`` (Basic auth unless told)
    answering on 127.0.0.1 at a free port, and an httpx client whose base URL is that server."""
    board, client = switchboard

    def serving(quote: Quote = quote, **options: Any) -> httpx.Client:
        options.setdefault("auth", BASIC)
        board.app = create_app(quote, **options)
        return client

    yield serving
    board.app = None


@pytest.fixture
def http(serve: Serve) -> httpx.Client:
    """The test supplier's ``quote`` served with Basic auth."""
    return serve()


@pytest.fixture(autouse=True)
def _log_everything(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="iqmetrix_dropship")
