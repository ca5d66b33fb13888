"""The emulator's settings and the fake credentials it accepts.

The credentials are emulator-only values, not secrets: the CLI prints them at start-up so that
a client can be pointed at it without any real iQmetrix account.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Literal

from ._checks import InvalidFieldError, integer, number
from ._faults import MAX_LATENCY

__all__ = [
    "DEFAULT_PUBLIC_HOST",
    "PAGE_SIZE",
    "Credentials",
    "EmulatorConfig",
]

PAGE_SIZE = 50
"""Events per feed page (the Supplier Orders API reference, "Order Notifications Feed"; docs/traps.md 21)."""

DEFAULT_PUBLIC_HOST = "https://dropship.iqmetrix.net"
"""What feed link hrefs name, whatever host the emulator listens on (traps.md 4)."""

DEFAULT_SUPPLIER_ID = 60455
DEFAULT_CLIENT_ID = "emulator-client"
DEFAULT_CLIENT_SECRET = "emulator-secret"  # noqa: S105 - a fake, printed emulator credential
DEFAULT_USERNAME = "supplier@example.com"
DEFAULT_PASSWORD = "emulator-password"  # noqa: S105 - a fake, printed emulator credential
DEFAULT_ORDERS = 100
TOKEN_LIFETIME = 43199  # iQmetrix's Authentication page: 12 hours, as the real accounts host answers it
REFRESH_TOKEN_LIFETIME = 7 * 24 * 3600  # iQmetrix's Authentication page: refresh tokens expire after 7 days
_MAX_LIFETIME = 10 * 365 * 24 * 3600  # seconds: ten years is forever for a test run
_MAX_SEEDED = 1_000_000_000  # events or orders: far more than fits in memory


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
        # Every number is checked for type and range, NaN and infinities included (a NaN passes
        # any "< 0" check); InvalidFieldError is a ValueError that names the setting.
        for name in ("orders", "events"):
            value = getattr(self, name)
            if value is not None:
                integer(value, name, minimum=0, maximum=_MAX_SEEDED)
        if self.orders is not None and self.events is not None and self.events < self.orders:
            raise ValueError("events counts the orders' own events: it must be >= orders")
        if self.orders == 0 and self.events:
            raise ValueError("status updates need orders: events > 0 needs orders > 0")
        integer(self.seed, "seed", minimum=-(2**63), maximum=2**63 - 1)
        integer(self.supplier_id, "supplier_id", minimum=1, maximum=2**31 - 1)
        for name in ("error_rate", "malformed_entry_id_rate", "history_rate"):
            number(getattr(self, name), name, minimum=0.0, maximum=1.0)
        number(self.latency, "latency", minimum=0.0, maximum=MAX_LATENCY)
        for name in ("token_lifetime", "refresh_token_lifetime"):
            integer(getattr(self, name), name, minimum=1, maximum=_MAX_LIFETIME)
        if self.rate_limit is not None:
            integer(self.rate_limit, "rate_limit", minimum=1, maximum=2**31 - 1)
        if number(self.rate_limit_window, "rate_limit_window", minimum=0.0, maximum=_MAX_LIFETIME) == 0:
            raise InvalidFieldError("rate_limit_window", "must be positive")
        if self.rate_limit_scope not in ("token", "global"):
            raise ValueError("rate_limit_scope must be 'token' or 'global'")
        if not isinstance(self.public_host, str) or not self.public_host.startswith(("http://", "https://")):
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
