"""OAuth2 tokens for the Dropship API: how to ask for one, and when to ask again.

``TokenCache`` owns the refresh policy. It is plain state; a driver wraps it in its own lock
(``threading.Condition`` or ``anyio.Condition``) and does the network call *outside* that lock.
Its windows, measured back from the token's expiry (``expires_in`` from the accounts server):

=================  ==========================================  ==========================================
window             when                                        what ``acquire`` answers
=================  ==========================================  ==========================================
fresh              more than ``refresh_early`` before expiry   use the token
refresh early      within ``refresh_early`` of expiry          one caller refreshes before the token
                                                               lapses; the others wait for the new one
must refresh       within ``margin`` of expiry, expired,       one caller fetches; the others wait
                   refused by the API (401), or none yet       for it (they have nothing to send)
=================  ==========================================  ==========================================

Why only one fetch at a time: exchanging a refresh token *revokes* the access token issued with
it (authentication.md; traps.md 17), so two concurrent refreshes would leave one caller holding a
revoked token and the other with a refresh token the server no longer honours. For the same reason
no caller starts a request with the old token while a refresh is in flight: it would be revoked
under it. (A request already on the wire may still meet the revocation: its 401 is replayed once
with the new token.) While a *password* grant is in flight, which revokes nothing, callers keep
using a token that is still valid. No lock is held across the network call: waiting callers wait
on the driver's condition, which the fetching caller notifies. A refused refresh (expired after
7 days, or revoked) falls back to the password grant.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Literal

from pydantic import SecretStr

from .._exceptions import TokenError
from .config import ClientConfig
from .http import Request, Response

__all__ = [
    "WAIT",
    "Credentials",
    "FetchToken",
    "Token",
    "TokenCache",
    "UseToken",
    "parse_token_response",
]

_FORM_HEADERS = {"Accept": "application/json"}  # the form body sets its own Content-Type

Grant = Literal["password", "refresh_token"]
DEFAULT_EXPIRES_IN = 43199.0  # authentication.md: 12 hours


@dataclass(frozen=True)
class Credentials:
    """What the password grant needs. Secrets are ``SecretStr``: they mask themselves in ``repr``."""

    client_id: str
    client_secret: SecretStr
    username: str
    password: SecretStr

    def password_grant(self, config: ClientConfig) -> Request:
        return _token_request(
            config,
            grant_type="password",
            username=self.username,
            password=self.password.get_secret_value(),
            client_id=self.client_id,
            client_secret=self.client_secret.get_secret_value(),
        )

    def refresh_grant(self, config: ClientConfig, refresh_token: SecretStr) -> Request:
        # authentication.md: the client credentials must be those that got the refresh token.
        return _token_request(
            config,
            grant_type="refresh_token",
            client_id=self.client_id,
            client_secret=self.client_secret.get_secret_value(),
            refresh_token=refresh_token.get_secret_value(),
        )


def _token_request(config: ClientConfig, **form: str) -> Request:
    """``POST {accounts}/oauth2/token``, form-encoded, without a bearer token."""
    return Request("POST", config.token_url, purpose="token", headers=_FORM_HEADERS, form=form, authenticated=False)


@dataclass(frozen=True)
class Token:
    access_token: SecretStr
    refresh_token: SecretStr | None
    expires_at: float
    """On the cache's clock (``time.monotonic`` by default), not wall time."""
    lifetime: float

    @property
    def refresh_early(self) -> float:
        return min(300.0, self.lifetime / 2)

    @property
    def margin(self) -> float:
        return min(30.0, self.lifetime / 10)


def parse_token_response(response: Response, now: float) -> Token:
    """A ``200`` from the token endpoint as a ``Token``; ``TokenError`` if it is not one."""
    try:
        data = json.loads(response.content)
        access = data["access_token"]
        # authentication.md: some sample code models expires_in as a string; accept both.
        expires_in = float(data.get("expires_in") or 0)
        refresh = data.get("refresh_token")
    except (ValueError, TypeError, KeyError, AttributeError):
        raise TokenError(
            "the accounts server answered without a usable token", status_code=response.status_code
        ) from None
    if not isinstance(access, str) or not access or not math.isfinite(expires_in):
        raise TokenError("the accounts server answered without a usable token", status_code=response.status_code)
    if expires_in <= 0:
        # Missing or nonsensical: assume the documented 12 hours (authentication.md). If the token
        # dies sooner, the API's 401 makes the client refresh and replay.
        expires_in = DEFAULT_EXPIRES_IN
    return Token(
        access_token=SecretStr(access),
        refresh_token=SecretStr(refresh) if isinstance(refresh, str) and refresh else None,
        expires_at=now + expires_in,
        lifetime=expires_in,
    )


@dataclass(frozen=True)
class UseToken:
    token: str = field(repr=False)


@dataclass(frozen=True)
class FetchToken:
    """The caller that receives this fetches a token, then *must* call ``TokenCache.finish``."""

    request: Request
    grant: Grant


@dataclass(frozen=True)
class _Wait:
    pass


WAIT = _Wait()
"""Another caller is fetching the token this caller needs: wait on the driver's condition."""


@dataclass
class TokenCache:
    """The current token and whether someone is fetching the next one. Not thread-safe by itself:
    every call is made under the driver's lock, and no call does I/O."""

    config: ClientConfig
    credentials: Credentials | None = None
    static_token: SecretStr | None = None
    _token: Token | None = field(default=None, repr=False)
    _refresh_token: SecretStr | None = field(default=None, repr=False)
    _fetching: Grant | None = None

    @property
    def current(self) -> Token | None:
        """The token in hand, if any (``None`` for a static token)."""
        return self._token

    @property
    def can_refresh(self) -> bool:
        return self.credentials is not None

    def acquire(self, now: float) -> UseToken | FetchToken | _Wait:
        if self.static_token is not None:
            return UseToken(self.static_token.get_secret_value())
        token = self._token
        if token is not None and now < token.expires_at - token.refresh_early:
            return UseToken(token.access_token.get_secret_value())
        if self._fetching is not None:
            # A refresh revokes the current token: wait for its successor. A password grant
            # revokes nothing: a still-valid token may go on being used meanwhile.
            usable = token is not None and now < token.expires_at - token.margin
            if usable and token is not None and self._fetching == "password":
                return UseToken(token.access_token.get_secret_value())
            return WAIT
        if self.credentials is None:  # pragma: no cover - static_token or credentials is required
            raise TokenError("no credentials to obtain a token with")
        if self._refresh_token is not None:
            self._fetching = "refresh_token"
            return FetchToken(self.credentials.refresh_grant(self.config, self._refresh_token), "refresh_token")
        self._fetching = "password"
        return FetchToken(self.credentials.password_grant(self.config), "password")

    def finish(self, fetch: FetchToken, now: float, outcome: Response | BaseException) -> str | None:
        """Record the outcome of a fetch and return the new access token, for the fetching caller
        to use at once (however short its life). Raises the error, except a refused refresh: then
        the refresh token is dropped, ``None`` is returned, and the next ``acquire`` asks for a
        password grant."""
        self._fetching = None
        if isinstance(outcome, BaseException):
            if fetch.grant == "refresh_token" and isinstance(outcome, TokenError):
                self._refresh_token = None
                return None
            raise outcome
        token = parse_token_response(outcome, now)
        self._token = token
        self._refresh_token = token.refresh_token
        return token.access_token.get_secret_value()

    def invalidate(self, access_token: str) -> bool:
        """The API refused ``access_token`` (401). Drop it if it is still the current token.

        Returns whether another token can be had (``False`` for a static token)."""
        if self.static_token is not None:
            return False
        token = self._token
        if token is not None and token.access_token.get_secret_value() == access_token:
            self._token = None  # the refresh token stays: the next acquire refreshes with it
        return True
