"""What one invocation carries from the global options to its command: settings, the client, the ledger."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import typer

from .._exceptions import CheckpointError
from .._pg import is_dsn, refuse_other_dsn
from .._protocol.config import DEFAULT_TIMEOUT
from .._sync.client import DropshipClient
from ..ledger import OrderLedger
from ._exit import CliError
from ._settings import Settings, resolve

__all__ = ["Session", "open_ledger"]


def open_ledger(path: Path | str, **options: Any) -> OrderLedger:
    """The ledger at ``path`` (a file, created if need be and readable by its owner only; or a
    PostgreSQL DSN), or a ``CliError`` naming it (without a DSN's password)."""
    try:
        return OrderLedger(path, **options)
    except CheckpointError as error:
        raise CliError(f"cannot open the ledger {error.path or path}: {error.reason}") from None
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
    def client(
        self,
        *,
        on_response: Callable[[httpx.Response], None] | None = None,
        hosts_only: bool = False,
        **overrides: Any,
    ) -> Iterator[DropshipClient]:
        """A client from the settings. ``on_response`` sees every HTTP answer (sync counts feed pages,
        doctor reads the server's clock). ``hosts_only``: no credentials needed, for ``ping`` alone.
        ``overrides`` replace settings (doctor asks once: ``max_retries=0``)."""
        options = self.settings.host_options() if hosts_only else self.settings.client_options()
        options.update(overrides)
        hooks = {"response": [on_response]} if on_response is not None else {}
        timeout = options.get("timeout", DEFAULT_TIMEOUT)
        # The same httpx settings as the client's own default; ours only to add the hook.
        http = httpx.Client(timeout=timeout, follow_redirects=False, event_hooks=hooks)
        with http, DropshipClient(**options, http_client=http) as client:
            yield client

    def ledger_path(self, flag: str | None) -> tuple[Path | str, bool]:
        """The ledger (a file, or a PostgreSQL DSN), and whether ``--db`` named it on this command line."""
        value = flag if flag is not None else self.settings.db.value
        refuse_other_dsn(value)
        target: Path | str = value if is_dsn(value) else Path(value).expanduser()
        return target, flag is not None

    @contextmanager
    def existing_ledger(self, flag: str | None) -> Iterator[OrderLedger]:
        """The ledger for reading: a missing file is an error, never silently created empty."""
        path, _ = self.ledger_path(flag)
        if isinstance(path, Path) and not path.is_file():
            raise CliError(f"no ledger at {path}: run `dropship sync` first, or name one with --db")
        with open_ledger(path) as ledger:
            yield ledger
