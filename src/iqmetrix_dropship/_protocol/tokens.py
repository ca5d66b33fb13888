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
it (iQmetrix's Authentication page; docs/traps.md 17), so two concurrent refreshes would leave one caller holding a
revoked token and the other with a refresh token the server no longer honours. For the same reason
no caller starts a request with the old token while a refresh is in flight: it would be revoked
under it. (A request already on the wire may still meet the revocation: its 401 is replayed once
with the new token.) While a *password* grant is in flight, which revokes nothing, callers keep
using a token that is still valid. No lock is held across the network call: waiting callers wait
on the driver's condition, which the fetching caller notifies. A refused refresh (expired after
7 days, or revoked) falls back to the password grant.

A fetch is shared, success or failure: the callers that waited for it get its token, or a copy of
its error (an accounts server that refuses the credentials, or does not answer, is asked once, not
once per waiting caller in turn). A caller waits at most until its own deadline (``deadline.py``).

Tokens are checked once, where they enter (``check_access_token``): an access token goes into an
HTTP header, so white space, control and non-ASCII characters are refused with an error that
names no secret, rather than failing later inside the HTTP library with the token in its message.
"""

from __future__ import annotations

import json
import math
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from .._exceptions import ConfigurationError, DropshipError, TokenError
from .config import ClientConfig
from .http import Request, Response

__all__ = [
    "Credentials",
    "FetchFailed",
    "FetchToken",
    "SecretStr",
    "Token",
    "TokenCache",
    "UseToken",
    "Wait",
    "check_access_token",
    "check_credential",
    "parse_token_response",
    "refused",
]


class SecretStr:
    """A secret (a password, a client secret, a token) that masks itself in ``repr`` and ``str``:
    pydantic's ``SecretStr`` without pydantic's type machinery, which costs a new interpreter some
    30 ms to import for the one class."""

    __slots__ = ("_secret_value",)

    def __init__(self, secret_value: str) -> None:
        self._secret_value = secret_value

    def get_secret_value(self) -> str:
        return self._secret_value

    def __repr__(self) -> str:
        return "SecretStr('**********')" if self._secret_value else "SecretStr('')"

    def __str__(self) -> str:
        return "**********" if self._secret_value else ""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretStr) and other._secret_value == self._secret_value

    def __hash__(self) -> int:
        return hash(self._secret_value)

    def __len__(self) -> int:
        return len(self._secret_value)


_FORM_HEADERS = {"Accept": "application/json"}  # the form body sets its own Content-Type

Grant = Literal["password", "refresh_token"]
DEFAULT_EXPIRES_IN = 43199.0  # iQmetrix's Authentication page: 12 hours
# A lifetime past this is not believed (2**63-1 s, 1e12 s have been seen from broken servers): the
# token is refreshed after a week at the latest, and a 401 before then refreshes it anyway.
MAX_EXPIRES_IN = 7 * 24 * 3600.0

# RFC 6750 2.1 allows b64token characters in a bearer token; any visible ASCII is accepted here, so
# as not to refuse a real token over a character the RFC forgot, but nothing a header cannot carry.
_HEADER_SAFE = re.compile(r"[\x21-\x7e]+")
_RECENT_TOKENS = 8  # past tokens still redacted from error messages (a 401's body may quote one)


def check_access_token(token: object) -> str | None:
    """Why ``token`` cannot be sent as a bearer token, or ``None`` if it can. Names no secret."""
    if not isinstance(token, str):
        return f"it must be a string, not {type(token).__name__}"
    if not token:
        return "it is empty"
    if _HEADER_SAFE.fullmatch(token) is None:
        return (
            "it holds white space, a control character or a non-ASCII character (a stray newline or "
            "space from a copy, a non-breaking or zero-width space?), which an HTTP header cannot carry"
        )
    return None


def check_credential(name: str, value: object) -> str:
    """A credential as a string that can be sent in a form, or ``ConfigurationError`` naming it."""
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"{name} must be a non-empty string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigurationError(f"{name} holds a character that cannot be encoded (a lone surrogate)") from None
    return value


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
        # iQmetrix's Authentication page: the client credentials must be those that got the refresh token.
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


def _token_json(content: bytes) -> Any:
    # Outside of any except block: a JSONDecodeError carries the body it failed on (maybe half a
    # token), and must not become the __context__ of the TokenError raised for it.
    try:
        return json.loads(content)
    except (ValueError, RecursionError):
        return None


def _lifetime(value: object, status_code: int) -> float:
    """``expires_in`` in seconds: missing means the documented 12 hours; absurd is clamped."""
    if value is None or value == "":
        # iQmetrix's Authentication page: 12 hours. If the token dies sooner, the API's 401 makes the client
        # refresh and replay.
        return DEFAULT_EXPIRES_IN
    seconds: float | None = None
    # iQmetrix's Authentication page: some sample code models expires_in as a string; accept both.
    if isinstance(value, int) and not isinstance(value, bool):
        seconds = float(min(value, int(MAX_EXPIRES_IN))) if value >= 0 else -1.0
    elif isinstance(value, (float, str)):
        try:
            seconds = float(value)
        except ValueError:
            seconds = None
    if seconds is None or math.isnan(seconds) or seconds < 0:
        raise TokenError(
            "the accounts server answered with an expires_in that is not a number of seconds >= 0",
            status_code=status_code,
        )
    if seconds == 0:
        return DEFAULT_EXPIRES_IN  # as if missing: some servers send 0 for "the default"
    return min(seconds, MAX_EXPIRES_IN)


def parse_token_response(response: Response, now: float) -> Token:
    """A ``200`` from the token endpoint as a ``Token``; ``TokenError`` if it is not one."""
    data = _token_json(response.content)
    if not isinstance(data, dict) or data.get("access_token") is None:
        raise TokenError("the accounts server answered without a usable token", status_code=response.status_code)
    access = data["access_token"]
    problem = check_access_token(access)
    if problem is not None or not isinstance(access, str):
        raise TokenError(
            f"the accounts server answered with an access token that cannot be used: {problem}",
            status_code=response.status_code,
        )
    expires_in = _lifetime(data.get("expires_in"), response.status_code)
    refresh = data.get("refresh_token")
    return Token(
        access_token=SecretStr(access),
        refresh_token=SecretStr(refresh) if isinstance(refresh, str) and refresh else None,
        expires_at=now + expires_in,
        lifetime=expires_in,
    )


def refused(status_code: int, token: str | None) -> bool:
    """The 401 rule: an answer ``401 Invalid token`` to a request sent with ``token`` means the
    token was revoked or expired early (a refresh elsewhere revokes it, traps.md 17). The driver
    then asks the cache to drop it (``TokenCache.invalidate``, under its lock) and, if another
    token can be had, sends the request once more with a fresh one; a second 401 is raised."""
    return status_code == 401 and token is not None


@dataclass(frozen=True)
class UseToken:
    token: str = field(repr=False)


@dataclass(frozen=True)
class FetchToken:
    """The caller that receives this fetches a token, then *must* call ``TokenCache.finish``."""

    request: Request
    grant: Grant
    fetch: int
    """Which fetch this is (they are numbered), so that its waiters can learn how it ended."""


@dataclass(frozen=True)
class Wait:
    """Another caller is fetching the token this caller needs: wait on the driver's condition
    (until the caller's deadline at most), then ``acquire(now, waited=this)`` again."""

    fetch: int


@dataclass(frozen=True)
class FetchFailed:
    """The fetch this caller waited for failed: raise ``error`` (a copy of the fetcher's own)."""

    error: BaseException


_E = TypeVar("_E", bound=BaseException)


def _twin(error: _E) -> _E:
    """A copy of ``error`` to raise in another caller: same class, message and attributes, but its
    own traceback (one exception object raised in several threads would mix their tracebacks)."""
    twin = type(error).__new__(type(error))
    twin.args = error.args
    twin.__dict__.update(error.__dict__)
    return twin


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
    _fetches: int = 0
    _failed: tuple[int, BaseException] | None = field(default=None, repr=False)
    _recent: deque[str] = field(default_factory=lambda: deque(maxlen=_RECENT_TOKENS), repr=False)

    def __post_init__(self) -> None:
        if self.static_token is not None:
            problem = check_access_token(self.static_token.get_secret_value())
            if problem is not None:
                raise ConfigurationError(f"access_token cannot be used: {problem}")

    def secrets(self) -> tuple[str, ...]:
        """Every secret this cache knows: the credentials' and the tokens', recent ones included.
        Error messages built from a server's body are redacted of them (``redact.py``)."""
        known = list(self._recent)
        if self.static_token is not None:
            known.append(self.static_token.get_secret_value())
        if self.credentials is not None:
            known += [self.credentials.password.get_secret_value(), self.credentials.client_secret.get_secret_value()]
        return tuple(known)

    @property
    def current(self) -> Token | None:
        """The token in hand, if any (``None`` for a static token)."""
        return self._token

    @property
    def can_refresh(self) -> bool:
        return self.credentials is not None

    def acquire(self, now: float, waited: Wait | None = None) -> UseToken | FetchToken | Wait | FetchFailed:
        """What the caller does next. ``waited``: the ``Wait`` it was told before, if it waited."""
        if self.static_token is not None:
            return UseToken(self.static_token.get_secret_value())
        token = self._token
        if token is not None and now < token.expires_at - token.refresh_early:
            return UseToken(token.access_token.get_secret_value())
        if waited is not None and self._failed is not None and self._failed[0] == waited.fetch:
            return FetchFailed(_twin(self._failed[1]))
        if self._fetching is not None:
            return self._while_fetching(token, now)
        if self.credentials is None:  # pragma: no cover - static_token or credentials is required
            raise TokenError("no credentials to obtain a token with")
        self._fetches += 1
        if self._refresh_token is not None:
            self._fetching = "refresh_token"
            request = self.credentials.refresh_grant(self.config, self._refresh_token)
            return FetchToken(request, "refresh_token", self._fetches)
        self._fetching = "password"
        return FetchToken(self.credentials.password_grant(self.config), "password", self._fetches)

    def _while_fetching(self, token: Token | None, now: float) -> UseToken | Wait:
        # A refresh revokes the current token: wait for its successor. A password grant revokes
        # nothing: a still-valid token may go on being used meanwhile.
        usable = token is not None and now < token.expires_at - token.margin
        if usable and token is not None and self._fetching == "password":
            return UseToken(token.access_token.get_secret_value())
        return Wait(self._fetches)

    def finish(self, fetch: FetchToken, now: float, outcome: Response | BaseException) -> str | None:
        """Record the outcome of a fetch and return the new access token, for the fetching caller
        to use at once (however short its life). Raises the error, except a refused refresh: then
        the refresh token is dropped, ``None`` is returned, and the next ``acquire`` asks for a
        password grant. The callers that waited for this fetch get a copy of its error (an SDK
        error only: a cancellation or an interrupt of the fetching caller is its own)."""
        self._fetching = None
        if isinstance(outcome, BaseException):
            if fetch.grant == "refresh_token" and isinstance(outcome, TokenError):
                self._refresh_token = None
                return None
            if isinstance(outcome, DropshipError):
                self._failed = (fetch.fetch, outcome)
            raise outcome
        try:
            token = parse_token_response(outcome, now)
        except TokenError as error:
            self._failed = (fetch.fetch, error)
            raise
        self._token = token
        self._refresh_token = token.refresh_token
        self._recent.append(token.access_token.get_secret_value())
        if token.refresh_token is not None:
            self._recent.append(token.refresh_token.get_secret_value())
        return token.access_token.get_secret_value()

    def invalidate(self, access_token: str | None) -> bool:
        """The API refused ``access_token`` (401). Drop it if it is still the current token.

        Returns whether another token can be had (``False`` for a static token)."""
        if self.static_token is not None or access_token is None:
            return False
        token = self._token
        if token is not None and token.access_token.get_secret_value() == access_token:
            self._token = None  # the refresh token stays: the next acquire refreshes with it
        return True
