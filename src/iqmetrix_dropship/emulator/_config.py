"""The emulator's settings and the fake credentials it accepts.

The credentials are emulator-only values, not secrets: the CLI prints them at start-up so that
a client can be pointed at it without any real iQmetrix account.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Literal

__all__ = [
    "DEFAULT_PUBLIC_HOST",
    "PAGE_SIZE",
    "Credentials",
    "EmulatorConfig",
]

PAGE_SIZE = 50
"""Events per feed page (supplier-orders-api.md, "Order Notifications Feed"; traps.md 21)."""

DEFAULT_PUBLIC_HOST = "https://dropship.iqmetrix.net"
"""What feed link hrefs name, whatever host the emulator listens on (traps.md 4)."""

DEFAULT_SUPPLIER_ID = 60455
DEFAULT_CLIENT_ID = "emulator-client"
DEFAULT_CLIENT_SECRET = "emulator-secret"  # noqa: S105 - a fake, printed emulator credential
DEFAULT_USERNAME = "supplier@example.com"
DEFAULT_PASSWORD = "emulator-password"  # noqa: S105 - a fake, printed emulator credential
DEFAULT_ORDERS = 100
TOKEN_LIFETIME = 43199  # authentication.md: 12 hours, as the real accounts host answers it
REFRESH_TOKEN_LIFETIME = 7 * 24 * 3600  # authentication.md: refresh tokens expire after 7 days


@dataclass(frozen=True)
class Credentials:
    """What a client needs to talk to an emulator: ``supplier_id`` and the four token fields."""

    supplier_id: int
    client_id: str
    client_secret: str = field(repr=False)
    username: str
    password: str = field(repr=False)

    def as_dict(self) -> dict[str, int | str]:
        return asdict(self)


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything an :class:`~iqmetrix_dropship.emulator.Emulator` is built from.

    Seeding: ``orders`` seeded orders, each with a share (``history_rate``) of historical
    status updates; or ``events`` events in all (orders and status updates interleaved); or
    both, meaning exactly ``orders`` orders and status updates for the rest of ``events``.
    Neither means ``orders=100``. The same ``seed`` gives the same orders, entry ids and page ids.

    With ``db`` set, state lives in that SQLite file: an existing file is loaded as it is
    (its own seed and history win over ``orders``/``events``/``seed``), a new one is seeded.
    """

    orders: int | None = None
    events: int | None = None
    seed: int = 0
    supplier_id: int = DEFAULT_SUPPLIER_ID
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = field(default=DEFAULT_CLIENT_SECRET, repr=False)
    username: str = DEFAULT_USERNAME
    password: str = field(default=DEFAULT_PASSWORD, repr=False)
    public_host: str = DEFAULT_PUBLIC_HOST
    token_lifetime: int = TOKEN_LIFETIME
    refresh_token_lifetime: int = REFRESH_TOKEN_LIFETIME
    rate_limit: int | None = None
    """Requests allowed per ``rate_limit_window`` seconds; ``None`` = no limit."""
    rate_limit_window: float = 60.0
    rate_limit_scope: Literal["token", "global"] = "token"
    latency: float = 0.0
    """Seconds added to every ``/v1`` request."""
    error_rate: float = 0.0
    """Share of API requests answered ``500`` (seeded, so reproducible)."""
    malformed_entry_id_rate: float = 0.05
    """Share of entry ids that are ``urn:uuid:`` but no valid UUID (traps.md 18)."""
    history_rate: float = 0.6
    """With ``orders`` only: share of seeded orders that already have status updates."""
    db: str | os.PathLike[str] | None = None

    def __post_init__(self) -> None:
        for name in ("orders", "events"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must be >= 0, not {value}")
        if self.orders is not None and self.events is not None and self.events < self.orders:
            raise ValueError("events counts the orders' own events: it must be >= orders")
        if self.orders == 0 and self.events:
            raise ValueError("status updates need orders: events > 0 needs orders > 0")
        for name in ("error_rate", "malformed_entry_id_rate", "history_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.latency < 0:
            raise ValueError("latency must be >= 0")
        if self.token_lifetime <= 0 or self.refresh_token_lifetime <= 0:
            raise ValueError("token lifetimes must be positive")
        if self.rate_limit is not None and self.rate_limit < 1:
            raise ValueError("rate_limit must be >= 1 (or None for no limit)")
        if self.rate_limit_window <= 0:
            raise ValueError("rate_limit_window must be positive")
        if self.rate_limit_scope not in ("token", "global"):
            raise ValueError("rate_limit_scope must be 'token' or 'global'")
        if not self.public_host.startswith(("http://", "https://")):
            raise ValueError("public_host must be an absolute http(s) URL")

    @property
    def credentials(self) -> Credentials:
        return Credentials(
            supplier_id=self.supplier_id,
            client_id=self.client_id,
            client_secret=self.client_secret,
            username=self.username,
            password=self.password,
        )
