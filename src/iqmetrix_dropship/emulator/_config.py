"""The emulator's settings and the fake credentials it accepts.

The credentials are emulator-only values, not secrets: the CLI prints them at start-up so that
a client can be pointed at it without any real iQmetrix account.
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import asdict, dataclass, field
from typing import Literal

import httpx

from ._checks import InvalidFieldError, integer, number, preview
from ._faults import MAX_LATENCY

__all__ = [
    "DEFAULT_PUBLIC_HOST",
    "PAGE_SIZE",
    "Credentials",
    "EmulatorConfig",
    "ShippingEndpoint",
    "check_endpoint",
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
DEFAULT_PRODUCT_FEED_ID = 1234
TOKEN_LIFETIME = 43199  # iQmetrix's Authentication page: 12 hours, as the real accounts host answers it
REFRESH_TOKEN_LIFETIME = 7 * 24 * 3600  # iQmetrix's Authentication page: refresh tokens expire after 7 days
_MAX_LIFETIME = 10 * 365 * 24 * 3600  # seconds: ten years is forever for a test run
_MAX_SEEDED = 1_000_000_000  # events or orders: far more than fits in memory
DEFAULT_API_KEY_HEADER = "Api-Key"
"""The header of the spec's example (``Api-Key: 9c269e40-...``; supplier-apis.md, "Shipping options")."""
DEFAULT_SHIPPING_TIMEOUT = 10.0
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 5.1: a header name is a token


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


def _shown_url(url: httpx.URL) -> str:
    """The URL without user info, query or fragment: what an error may show."""
    return str(url.copy_with(query=None, fragment=None, username=None, password=None))


def check_endpoint(
    *,
    url: object,
    username: object,
    password: object,
    api_key: object,
    api_key_header: object,
    timeout: object,
) -> None:
    """Refuse a shipping-options configuration that cannot work (``ValueError`` naming the setting);
    never quotes a secret."""
    if url is None:
        for name, value in (("username", username), ("password", password), ("api_key", api_key)):
            if value is not None:
                raise InvalidFieldError(f"shipping_options_{name}", "is set, but shipping_options_url is not")
        return
    _check_url(url)
    _check_credentials(username, password, api_key)
    if not isinstance(api_key_header, str) or not _HEADER_NAME.fullmatch(api_key_header):
        raise InvalidFieldError(
            "shipping_options_api_key_header", f"must be an HTTP header name, not {preview(api_key_header)}"
        )
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 600:
        raise InvalidFieldError(
            "shipping_options_timeout", f"must be a number of seconds from 0 to 600, not {preview(timeout)}"
        )


def _check_url(url: object) -> None:
    if not isinstance(url, str):
        raise InvalidFieldError("shipping_options_url", f"must be a string, not {type(url).__name__}")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        raise InvalidFieldError("shipping_options_url", "is no valid URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InvalidFieldError("shipping_options_url", "must be an absolute http(s) URL")
    if parsed.userinfo:
        # A password in the URL would be shown wherever the URL is: it goes in its own setting.
        raise InvalidFieldError(
            "shipping_options_url",
            "must not carry credentials: set shipping_options_username and shipping_options_password",
        )


def _check_credentials(username: object, password: object, api_key: object) -> None:
    """Types and combinations only: a message here never quotes a value."""
    for name, value in (("username", username), ("password", password), ("api_key", api_key)):
        if value is not None and not isinstance(value, str):
            raise InvalidFieldError(f"shipping_options_{name}", f"must be a string, not {type(value).__name__}")
    if (username is None) != (password is None):
        raise InvalidFieldError("shipping_options_password", "HTTP Basic needs both a user name and a password")
    if username is not None and api_key is not None:
        raise InvalidFieldError("shipping_options_api_key", "give HTTP Basic credentials or an API key, not both")
    if isinstance(username, str) and ":" in username:
        raise InvalidFieldError("shipping_options_username", "must not contain ':' (RFC 7617 2)")
    if isinstance(api_key, str) and not (api_key and api_key.isascii() and api_key.isprintable()):
        raise InvalidFieldError("shipping_options_api_key", "must be printable ASCII, not empty")


@dataclass(frozen=True)
class ShippingEndpoint:
    """Where and how to call a supplier's shipping-options server (checked by :func:`check_endpoint`)."""

    url: str = field(repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)
    api_key_header: str = DEFAULT_API_KEY_HEADER
    timeout: float = DEFAULT_SHIPPING_TIMEOUT

    @property
    def shown_url(self) -> str:
        return _shown_url(httpx.URL(self.url))

    def secrets(self) -> list[str]:
        """Every text that must never be shown: the password, the API key, the Basic token."""
        found = [secret for secret in (self.password, self.api_key) if secret]
        if self.username is not None and self.password is not None:
            found.append(base64.b64encode(f"{self.username}:{self.password}".encode()).decode("ascii"))
        return found

    def __repr__(self) -> str:
        auth = "basic" if self.username is not None else f"header {self.api_key_header}" if self.api_key else "none"
        return f"ShippingEndpoint(url={self.shown_url!r}, auth={auth}, timeout={self.timeout:g})"


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything an :class:`~iqmetrix_dropship.emulator.Emulator` is built from.

    Seeding: ``orders`` seeded orders, each with a share (``history_rate``) of historical
    status updates; or ``events`` events in all (orders and status updates interleaved); or
    both, meaning exactly ``orders`` orders and status updates for the rest of ``events``.
    Neither means ``orders=100``. The same ``seed`` gives the same orders, entry ids and page ids.

    With ``db`` set, state lives in that SQLite file: an existing file is loaded as it is
    (its own seed and history win over ``orders``/``events``/``seed``), a new one is seeded.

    With ``shipping_options_url`` set, every order placed after start-up (``place_order``,
    ``place_orders``, ``POST /_emulator/orders``; never the seeded history) first asks the
    supplier's shipping-options server for options, as iQmetrix does (``_shipping.py``), with HTTP
    Basic (``shipping_options_username`` and ``_password``) or an API key in a header
    (``shipping_options_api_key``, ``shipping_options_api_key_header``), or no credentials. The
    secrets are never shown: not in ``repr``, errors or logs.
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
    product_feed_id: int = DEFAULT_PRODUCT_FEED_ID
    """The supplier's product feed (``/v1/ProductFeeds({id})``); any other feed id is a ``404``."""
    shipping_options_url: str | None = None
    """The supplier's ``POST /ShippingOptions`` endpoint; ``None``: orders are placed without asking."""
    shipping_options_username: str | None = None
    shipping_options_password: str | None = field(default=None, repr=False)
    shipping_options_api_key: str | None = field(default=None, repr=False)
    shipping_options_api_key_header: str = DEFAULT_API_KEY_HEADER
    shipping_options_timeout: float = DEFAULT_SHIPPING_TIMEOUT
    """Seconds to connect, and then between bytes of the answer."""

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
        integer(self.product_feed_id, "product_feed_id", minimum=1, maximum=2**31 - 1)
        check_endpoint(
            url=self.shipping_options_url,
            username=self.shipping_options_username,
            password=self.shipping_options_password,
            api_key=self.shipping_options_api_key,
            api_key_header=self.shipping_options_api_key_header,
            timeout=self.shipping_options_timeout,
        )

    @property
    def shipping_endpoint(self) -> ShippingEndpoint | None:
        """The supplier's shipping-options server, or ``None`` when none is configured."""
        if self.shipping_options_url is None:
            return None
        return ShippingEndpoint(
            url=self.shipping_options_url,
            username=self.shipping_options_username,
            password=self.shipping_options_password,
            api_key=self.shipping_options_api_key,
            api_key_header=self.shipping_options_api_key_header,
            timeout=float(self.shipping_options_timeout),
        )

    @property
    def credentials(self) -> Credentials:
        return Credentials(
            supplier_id=self.supplier_id,
            client_id=self.client_id,
            client_secret=self.client_secret,
            username=self.username,
            password=self.password,
        )
