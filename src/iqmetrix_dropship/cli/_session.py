"""What one invocation carries from the global options to its command: settings, the client, the ledger."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import typer

from .._exceptions import CheckpointError
from .._protocol.config import DEFAULT_TIMEOUT
from .._sync.client import DropshipClient
from ..ledger import OrderLedger
from ._exit import CliError
from ._settings import Settings, resolve

__all__ = ["Session", "open_ledger"]


def open_ledger(path: Path) -> OrderLedger:
    """The ledger at ``path`` (created if need be, readable by its owner only), or a ``CliError``
    naming the file."""
    try:
        return OrderLedger(path)
    except CheckpointError as error:
        raise CliError(f"cannot open the ledger {path}: {error.reason}") from None
    except (OSError, sqlite3.Error) as error:
        raise CliError(f"cannot open the ledger {path}: {error}") from None


@dataclass
class Session:
    """Built by the global options (``dropship --profile ... COMMAND``); settings are resolved on first
    use, so that commands that need none (``emulator``, ``--help``) never read a config file."""

    flags: dict[str, str | None] = field(default_factory=dict)
    profile: str | None = None
    config: str | None = None
    debug: bool = False
    _settings: Settings | None = None

    @classmethod
    def of(cls, ctx: typer.Context) -> Session:
        session = ctx.find_object(cls)
        return session if session is not None else cls()

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = resolve(self.flags, os.environ, profile=self.profile, config=self.config)
        return self._settings

    @contextmanager
    def client(self, *, on_response: Callable[[httpx.Response], None] | None = None) -> Iterator[DropshipClient]:
        """A client from the settings. ``on_response`` sees every HTTP answer (sync counts feed pages)."""
        options = self.settings.client_options()
        hooks = {"response": [on_response]} if on_response is not None else {}
        timeout = options.get("timeout", DEFAULT_TIMEOUT)
        # The same httpx settings as the client's own default; ours only to add the hook.
        http = httpx.Client(timeout=timeout, follow_redirects=False, event_hooks=hooks)
        with http, DropshipClient(**options, http_client=http) as client:
            yield client

    def ledger_path(self, flag: Path | None) -> tuple[Path, bool]:
        """The ledger file, and whether it was named by ``--db`` on this command line."""
        if flag is not None:
            return flag.expanduser(), True
        return Path(self.settings.db.value), False

    @contextmanager
    def existing_ledger(self, flag: Path | None) -> Iterator[OrderLedger]:
        """The ledger for reading: a missing file is an error, never silently created empty."""
        path, _ = self.ledger_path(flag)
        if not path.is_file():
            raise CliError(f"no ledger at {path}: run `dropship sync` first, or name one with --db")
        with open_ledger(path) as ledger:
            yield ledger
