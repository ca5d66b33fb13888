"""Environments, hosts and the one frozen configuration object a client carries."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

from .._exceptions import ConfigurationError
from .._text import preview
from ..feed._xml import DEFAULT_MAX_FEED_BYTES
from .retry import RetryPolicy

__all__ = ["ClientConfig", "Environment", "settings_from_env"]

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 3


class Environment(str, Enum):
    """The iQmetrix environments (traps.md 5: ``demo`` is the sandbox, ``""`` production)."""

    SANDBOX = "sandbox"
    PRODUCTION = "production"

    @property
    def base_url(self) -> str:
        # traps.md 1: keep /v1 in the base; the spec's curl lines lack it by mistake.
        return _HOSTS[self][0]

    @property
    def accounts_url(self) -> str:
        return _HOSTS[self][1]

    @property
    def availability_url(self) -> str:
        """The host of the ``SupplierSkus`` read (the availability POST goes to ``base_url``)."""
        return _HOSTS[self][2]

    @property
    def product_library_url(self) -> str:
        """The host of the product feed."""
        return _HOSTS[self][3]

    @classmethod
    def parse(cls, value: Environment | str) -> Environment:
        if isinstance(value, cls):
            return value
        text = str(value).strip().lower()
        aliases = {"demo": cls.SANDBOX, "prod": cls.PRODUCTION, "": cls.PRODUCTION}
        if text in aliases:
            return aliases[text]
        try:
            return cls(text)
        except ValueError:
            raise ConfigurationError(f"unknown environment {preview(value)}; use 'sandbox' or 'production'") from None


# supplier-apis.md, "Hosts": each service has its own host, and their names changed over the
# years (demo, then rc), so each is configurable on its own.
_HOSTS = {
    Environment.SANDBOX: (
        "https://dropshipdemo.iqmetrix.net/v1",
        "https://accountsdemo.iqmetrix.net/v1",
        "https://availabilitydemo.iqmetrix.net/v1",
        "https://productlibrarydemo.iqmetrix.net/v1",
    ),
    Environment.PRODUCTION: (
        "https://dropship.iqmetrix.net/v1",
        "https://accounts.iqmetrix.net/v1",
        "https://availability.iqmetrix.net/v1",
        "https://productlibrary.iqmetrix.net/v1",
    ),
}
_IQMETRIX_DOMAIN = ".iqmetrix.net"


@dataclass(frozen=True)
class ClientConfig:
    """Everything a client decides with, fixed at construction. Safe to share between threads."""

    supplier_id: int
    base_url: str
    accounts_url: str
    timeout: Any = DEFAULT_TIMEOUT
    """Seconds (float) or an ``httpx.Timeout``; the transport interprets it."""
    max_retries: int = DEFAULT_MAX_RETRIES
    retry_policy: RetryPolicy = field(default_factory=RetryPolicy)
    max_feed_bytes: int = DEFAULT_MAX_FEED_BYTES
    """A feed body larger than this (after decompression) is refused unread."""
    availability_url: str = ""
    """The ``SupplierSkus`` host; ``base_url`` serves the availability and cost POSTs."""
    product_library_url: str = ""
    """The product feed's host."""

    @classmethod
    def build(
        cls,
        *,
        supplier_id: int | str,
        environment: Environment | str = Environment.SANDBOX,
        base_url: str | None = None,
        accounts_url: str | None = None,
        timeout: Any = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        retry_policy: RetryPolicy | None = None,
        max_feed_bytes: int = DEFAULT_MAX_FEED_BYTES,
        availability_url: str | None = None,
        product_library_url: str | None = None,
    ) -> ClientConfig:
        env = Environment.parse(environment)
        supplier = str(supplier_id).strip() if isinstance(supplier_id, (int, str)) else ""
        positive = supplier.isascii() and supplier.isdigit() and len(supplier) <= 18 and int(supplier) > 0
        if isinstance(supplier_id, bool) or not positive:
            raise ConfigurationError(f"supplier_id must be a positive integer, got {preview(supplier_id)}")
        check_max_retries(max_retries)
        base = _clean_base(base_url or env.base_url, "base_url")
        return cls(
            supplier_id=int(supplier),
            base_url=base,
            accounts_url=_clean_base(accounts_url or env.accounts_url, "accounts_url"),
            availability_url=_clean_base(availability_url or _beside(base, env.availability_url), "availability_url"),
            product_library_url=_clean_base(
                product_library_url or _beside(base, env.product_library_url), "product_library_url"
            ),
            timeout=check_timeout(timeout),
            max_retries=max_retries,
            retry_policy=retry_policy or RetryPolicy(),
            max_feed_bytes=max_feed_bytes,
        )

    @property
    def supplier_url(self) -> str:
        # traps.md 2: plural Suppliers, bare integer key.
        return f"{self.base_url}/Suppliers({self.supplier_id})"

    @property
    def token_url(self) -> str:
        return f"{self.accounts_url}/oauth2/token"


def _beside(base_url: str, default: str) -> str:
    """Another service's host when none is given: the environment's, while ``base_url`` is an
    iQmetrix host; else ``base_url`` itself (a local emulator or a proxy serves every path, and the
    token is then never sent to a real iQmetrix host the caller did not name)."""
    host = urlsplit(base_url).hostname or ""
    return default if host.endswith(_IQMETRIX_DOMAIN) else base_url


def _clean_base(url: str, name: str) -> str:
    if not isinstance(url, str):
        raise ConfigurationError(f"{name} must be an http(s) URL, got {preview(url)}")
    url = url.strip().rstrip("/")
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    printable = url.isascii() and url.isprintable() and " " not in url
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or not printable:
        raise ConfigurationError(f"{name} must be an http(s) URL with a host, got {preview(_without_userinfo(url))}")
    if "@" in parts.netloc:
        # The API takes a bearer token; a password in a URL would be shown wherever the URL is.
        raise ConfigurationError(f"{name} must not carry a user name or password, got {_without_userinfo(url)}")
    return url


def _without_userinfo(url: str) -> str:
    """``https://***@host/v1`` for ``https://user:secret@host/v1``: a URL as it may be shown."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = "***@" + authority.rpartition("@")[2]
    return f"{scheme}{sep}{authority}{slash}{path}"


_PHASES = ("connect", "read", "write", "pool")


def check_max_retries(max_retries: object) -> int:
    """A number of retries: an integer >= 0, refused at construction or at the call that gives it."""
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ConfigurationError(f"max_retries must be an integer >= 0, got {preview(max_retries)}")
    return max_retries


def check_timeout(timeout: Any) -> Any:
    """A timeout httpx takes: seconds >= 0, ``None`` (no limit), or an ``httpx.Timeout``.
    Refused here, at construction (or at the call that gives it), not inside httpx later."""
    if timeout is None:
        return None
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        if math.isnan(timeout) or timeout < 0:
            raise ConfigurationError(f"timeout must be a number of seconds >= 0, got {preview(timeout)}")
        return None if math.isinf(timeout) else timeout  # no limit, in the words httpx understands
    if all(hasattr(timeout, name) for name in _PHASES):  # an httpx.Timeout (httpx is not imported here)
        return timeout
    raise ConfigurationError(f"timeout must be seconds, None or an httpx.Timeout, got {preview(timeout)}")


_ENV_KEYS = {
    "IQMETRIX_SUPPLIER_ID": "supplier_id",
    "IQMETRIX_CLIENT_ID": "client_id",
    "IQMETRIX_CLIENT_SECRET": "client_secret",
    "IQMETRIX_USERNAME": "username",
    "IQMETRIX_PASSWORD": "password",
    "IQMETRIX_ACCESS_TOKEN": "access_token",
    "IQMETRIX_ENVIRONMENT": "environment",
    "IQMETRIX_BASE_URL": "base_url",
    "IQMETRIX_ACCOUNTS_URL": "accounts_url",
    "IQMETRIX_AVAILABILITY_URL": "availability_url",
    "IQMETRIX_PRODUCT_LIBRARY_URL": "product_library_url",
}


def settings_from_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The client keyword arguments named by the ``IQMETRIX_*`` variables that are set."""
    environ = os.environ if environ is None else environ
    settings = {kw: environ[var] for var, kw in _ENV_KEYS.items() if environ.get(var, "").strip()}
    if "supplier_id" not in settings:
        raise ConfigurationError("IQMETRIX_SUPPLIER_ID is not set")
    if "access_token" not in settings:
        missing = [
            var
            for var, kw in _ENV_KEYS.items()
            if kw in ("client_id", "client_secret", "username", "password") and kw not in settings
        ]
        if missing:
            raise ConfigurationError(
                "set " + ", ".join(missing) + " (or IQMETRIX_ACCESS_TOKEN for a token you already hold)"
            )
    return settings
