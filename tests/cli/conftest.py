"""The `dropship` command line against a served emulator: each test gets its own emulator, a fresh
working directory (so ``./orders.db`` is the test's own) and an environment that names it.

The emulator is built with recognisable secrets, so that any test can check they never leak.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from iqmetrix_dropship.cli._app import app
from iqmetrix_dropship.emulator import Emulator, EmulatorServer, create_app

CLIENT_SECRET = "cli-SECRET-client-5e1f"
PASSWORD = "cli-SECRET-pass-9b7c"
SECRETS = (CLIENT_SECRET, PASSWORD)

# Everything the command line reads from the environment, cleared so that the developer's own
# settings (or a CI's FORCE_COLOR) never change what a test sees.
_CLEARED = (
    "IQMETRIX_SUPPLIER_ID",
    "IQMETRIX_CLIENT_ID",
    "IQMETRIX_CLIENT_SECRET",
    "IQMETRIX_USERNAME",
    "IQMETRIX_PASSWORD",
    "IQMETRIX_ACCESS_TOKEN",
    "IQMETRIX_ENVIRONMENT",
    "IQMETRIX_BASE_URL",
    "IQMETRIX_ACCOUNTS_URL",
    "IQMETRIX_AVAILABILITY_URL",
    "IQMETRIX_PRODUCT_LIBRARY_URL",
    "IQMETRIX_TIMEOUT",
    "IQMETRIX_MAX_RETRIES",
    "IQMETRIX_DB",
    "IQMETRIX_PROFILE",
    "IQMETRIX_CONFIG",
    "FORCE_COLOR",
    "TTY_COMPATIBLE",
    "TTY_INTERACTIVE",
)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def make_emulator(**options: Any) -> Emulator:
    settings: dict[str, Any] = {"orders": 12, "seed": 7, "client_secret": CLIENT_SECRET, "password": PASSWORD}
    settings.update(options)
    return Emulator(**settings)


def environment_for(emulator: Emulator, base_url: str, home: Path) -> dict[str, str | None]:
    """The IQMETRIX_* variables that point the command line at ``emulator``."""
    credentials = emulator.credentials
    env: dict[str, str | None] = dict.fromkeys(_CLEARED)
    env.update(
        {
            "IQMETRIX_SUPPLIER_ID": str(credentials.supplier_id),
            "IQMETRIX_CLIENT_ID": credentials.client_id,
            "IQMETRIX_CLIENT_SECRET": credentials.client_secret,
            "IQMETRIX_USERNAME": credentials.username,
            "IQMETRIX_PASSWORD": credentials.password,
            "IQMETRIX_BASE_URL": base_url,
            "IQMETRIX_ACCOUNTS_URL": base_url,
            "XDG_CONFIG_HOME": str(home / "xdg"),  # no config file unless a test writes one
            "COLUMNS": "200",
            "NO_COLOR": "1",
        }
    )
    return env


@dataclass
class Cli:
    """Runs ``dropship ARGS`` in process and checks the exit code."""

    env: dict[str, str | None]
    emulator: Emulator
    server: EmulatorServer
    cwd: Path

    def __call__(self, *args: str, code: int = 0, env: Mapping[str, str | None] | None = None) -> Result:
        result = CliRunner().invoke(app, list(args), env={**self.env, **(env or {})})
        assert result.exit_code == code, (
            f"dropship {' '.join(args)} exited {result.exit_code}, expected {code}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}\nexception: {result.exception!r}"
        )
        return result

    def json(self, *args: str, env: Mapping[str, str | None] | None = None) -> Any:
        return json.loads(self(*args, "--json", env=env).stdout)

    def updates_sent(self) -> list[tuple[str, str, int]]:
        return [entry for entry in self.emulator.request_log() if entry[0] == "PUT"]

    def pending_order(self) -> str:
        """An order the ledger shows as PendingSupplier (runs ``sync`` if need be)."""
        if not (self.cwd / "orders.db").exists():
            self("sync")
        orders: Sequence[dict[str, Any]] = self.json("orders", "--status", "PendingSupplier")
        return str(orders[0]["order_id"])


class Switchboard:
    """One server for the whole session, answering with the app of the current test's emulator:
    every test gets a fresh emulator without paying for a server start and stop."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


@pytest.fixture(scope="session")
def switchboard() -> Iterator[tuple[Switchboard, EmulatorServer]]:
    board = Switchboard()
    with EmulatorServer(board) as server:
        yield board, server


@pytest.fixture
def emulator() -> Emulator:
    return make_emulator()


@pytest.fixture
def served(emulator: Emulator, switchboard: tuple[Switchboard, EmulatorServer]) -> EmulatorServer:
    board, server = switchboard
    board.app = create_app(emulator)
    return server


@pytest.fixture
def cli(emulator: Emulator, served: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.chdir(tmp_path)
    return Cli(environment_for(emulator, served.base_url, tmp_path), emulator, served, tmp_path)


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        leaked = [secret for secret in SECRETS if secret in text]
        assert not leaked, f"leaked {leaked} in {text!r}"
