"""How iQmetrix proves it is iQmetrix: HTTP Basic, or an API key in a header (the spec's two ways).

The supplier gives iQmetrix a user name and password, or a key and the header's name. Checking is
constant-time (``hmac.compare_digest`` over bytes) and, for Basic, compares the user name AND the
password every time, so that the time taken does not tell which one was wrong. A malformed header
is a refusal (401), never an error (500). The secrets are never in a ``repr``, a message or a log
line: ``BasicAuth(username='iqmetrix', password='***')``.

Header values arrive as ``str`` decoded as Latin-1 by ASGI and WSGI servers alike (PEP 3333), so a
value is turned back into its bytes that way before it is compared with the UTF-8 of the secret.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from collections.abc import Mapping

from .._exceptions import ConfigurationError

__all__ = ["ApiKeyAuth", "Auth", "BasicAuth"]

REALM = "ShippingOptions"
_MAX_CREDENTIALS = 4096  # characters of an Authorization header worth decoding
# RFC 9110 section 5.1: a field name is a token.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+", re.ASCII)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _raw(value: str) -> bytes:
    """The bytes a header value was sent as (servers decode them as Latin-1)."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:  # a framework that decoded UTF-8 instead
        return value.encode("utf-8", "surrogatepass")


def _secret(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"{what} must be a non-empty string")
    if _CONTROL.search(value):
        raise ConfigurationError(f"{what} must not contain control characters")
    return value


class BasicAuth:
    """HTTP Basic (RFC 7617): iQmetrix sends ``Authorization: Basic base64(username:password)``.

    ::

        auth = BasicAuth("iqmetrix", os.environ["DROPSHIP_SHIPPING_PASSWORD"])

    A refused request is answered ``401`` with ``WWW-Authenticate: Basic realm="ShippingOptions"``.
    The user name must not contain ``:`` (the separator); neither may be empty. Immutable: safe to
    share between threads.
    """

    __slots__ = ("_name", "_password", "_username")

    def __init__(self, username: str, password: str) -> None:
        self._name = _secret(username, "the user name")
        if ":" in username:
            raise ConfigurationError(
                "the user name must not contain ':' (Basic separates it from the password with one)"
            )
        _secret(password, "the password")
        self._username = username.encode("utf-8")
        self._password = password.encode("utf-8")

    @property
    def username(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"BasicAuth(username={self.username!r}, password='***')"

    @property
    def challenge(self) -> dict[str, str]:
        """The header of a ``401`` answer."""
        return {"WWW-Authenticate": f'Basic realm="{REALM}"'}

    def accepts(self, headers: Mapping[str, str]) -> bool:
        """Whether ``headers`` (names in lower case) carry this user name and password."""
        scheme, _, token = headers.get("authorization", "").strip().partition(" ")
        if scheme.lower() != "basic" or len(token) > _MAX_CREDENTIALS:
            return False
        try:
            decoded = base64.b64decode(token.strip(), validate=True)
        except (binascii.Error, ValueError):  # not base64, or not ASCII
            return False
        username, colon, password = decoded.partition(b":")
        if not colon:
            return False
        # Both compared, always: `and` would skip the password when the user name is wrong.
        username_ok = hmac.compare_digest(username, self._username)
        password_ok = hmac.compare_digest(password, self._password)
        return username_ok & password_ok


class ApiKeyAuth:
    """An API key in a header, ``Api-Key`` unless named otherwise: ``Api-Key: 9c269e40-...``.

    ::

        auth = ApiKeyAuth(os.environ["DROPSHIP_SHIPPING_API_KEY"])
        auth = ApiKeyAuth(key, header="X-Api-Key")

    The header's name is matched whatever its case, its value exactly. A key with spaces at either
    end could never arrive (HTTP strips them) and is refused, as is an empty key or a header name
    that is not an HTTP token. Immutable: safe to share between threads.
    """

    __slots__ = ("_header", "_key")

    def __init__(self, key: str, header: str = "Api-Key") -> None:
        _secret(key, "the API key")
        if key != key.strip():
            raise ConfigurationError("the API key must not start or end with white space")
        if not isinstance(header, str) or not _TOKEN.fullmatch(header):
            raise ConfigurationError("the header must be an HTTP header name (letters, digits, '-', ...)")
        self._header = header
        self._key = key.encode("utf-8")

    @property
    def header(self) -> str:
        return self._header

    def __repr__(self) -> str:
        return f"ApiKeyAuth(key='***', header={self.header!r})"

    @property
    def challenge(self) -> dict[str, str]:
        """The header of a ``401`` answer (RFC 9110 section 11.6.1 wants one; no scheme is standard)."""
        return {"WWW-Authenticate": f'ApiKey realm="{REALM}", header="{self.header}"'}

    def accepts(self, headers: Mapping[str, str]) -> bool:
        """Whether ``headers`` (names in lower case) carry this key."""
        given = headers.get(self.header.lower())
        if given is None:
            return False
        return hmac.compare_digest(_raw(given.strip()), self._key)


Auth = BasicAuth | ApiKeyAuth
