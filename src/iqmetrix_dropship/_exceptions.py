"""Every error the SDK raises.

The tree (all importable from ``iqmetrix_dropship``)::

    DropshipError
    ├── InvalidRequestError (also a ValueError)   bad input caught before any request is sent
    ├── ConfigurationError (also a ValueError)    a client built with missing or malformed settings
    ├── TokenError                                 the accounts server refused the credentials
    ├── APIConnectionError                         the request never got an answer
    │   └── APITimeoutError
    ├── APIError                                   any non-2xx answer from the Dropship API
    │   ├── BadRequestError       400
    │   ├── AuthenticationError   401
    │   ├── NotFoundError         404
    │   ├── RateLimitError        429
    │   └── ServerError           5xx
    ├── UnexpectedResponseError                    a 2xx answer whose body is not what the API documents
    ├── PushError                                  some chunks of an availability or cost push failed
    ├── FeedParseError                             a feed page that is not well-formed Atom, or hostile
    ├── CursorLostError                            the follower's cursor names an entry the feed lost
    ├── CheckpointError                            a checkpoint or ledger store that cannot be used as one
    │   └── LedgerSchemaError                      an order ledger from a newer version, or not a ledger
    ├── LeaseLostError                             another replica took over the lease this one held
    └── StoreUnavailableError                      the checkpoint store's database did not answer

No message built here ever contains a password, client secret or token: errors are made from
status codes, URLs (which carry no secrets) and the server's own message, from which the secrets
the client knows are redacted (``_protocol/redact.py``). Quoted input is cut to a short preview.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "ArgumentTypeError",
    "AuthenticationError",
    "BadRequestError",
    "CheckpointError",
    "ClientClosedError",
    "ConfigurationError",
    "CursorLostError",
    "DropshipError",
    "FeedParseError",
    "InvalidRequestError",
    "LeaseLostError",
    "LedgerSchemaError",
    "NotFoundError",
    "PushError",
    "RateLimitError",
    "ServerError",
    "StoreUnavailableError",
    "TokenError",
    "UnexpectedResponseError",
]


class DropshipError(Exception):
    """Base class of every error raised by this SDK."""


class InvalidRequestError(DropshipError, ValueError):
    """A status update (or other request) was refused before anything was sent.

    A ``ValueError`` too, so that ``except ValueError`` around input handling keeps working.
    """


class ConfigurationError(DropshipError, ValueError):
    """A client was configured with missing or malformed settings (e.g. ``from_env``)."""


class ArgumentTypeError(ConfigurationError, TypeError):
    """An argument of the wrong type (a number where a path or a store is taken, ...): a
    ``ConfigurationError``, and a ``TypeError`` too, as Python raises for one."""


class ClientClosedError(DropshipError, RuntimeError):
    """The client was closed (``close()``, ``aclose()``, or the ``http_client`` it was given): no
    request is sent. A call waiting to retry when its client is closed ends with this."""


class _RetriedError(DropshipError):
    """An error that may have been retried before it was raised; ``retries`` says how often."""

    retries: int = 0

    def _with_retries(self, message: str) -> str:
        if self.retries:
            noun = "retry" if self.retries == 1 else "retries"
            return f"{message} (after {self.retries} {noun})"
        return message

    def __str__(self) -> str:
        return self._with_retries(super().__str__())


class TokenError(DropshipError):
    """The accounts server refused to issue a token.

    ``error`` is the OAuth2 error code (``invalid_client``, ``invalid_grant``,
    ``unsupported_grant_type``, ...) or ``None`` when the server gave none.
    """

    def __init__(
        self,
        message: str,
        *,
        error: str | None = None,
        status_code: int | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(message)
        self.error = error
        self.status_code = status_code
        self.description = description


class APIConnectionError(_RetriedError):
    """The request never got an answer (DNS, refused connection, reset, TLS, ...).

    ``request_sent`` is ``False`` when the connection was never made (the server cannot have
    acted on the request), ``True`` when it may have been.
    """

    def __init__(self, message: str, *, method: str = "", url: str = "", request_sent: bool = True) -> None:
        super().__init__(message)
        self.method = method
        self.url = url
        self.request_sent = request_sent


class APITimeoutError(APIConnectionError):
    """The request timed out before an answer arrived."""


class APIError(_RetriedError):
    """The Dropship API answered with a non-2xx status.

    ``message`` is the server's own message (read leniently from JSON ``Message``/``message``,
    plain text or HTML), ``request_id`` the server's request id when it sent one, and
    ``response`` the HTTP response itself (``None`` when the error was built without one),
    ``retry_after`` the wait in seconds the server asked for (``Retry-After`` or
    ``X-RateLimit-ResetSeconds``), when it said.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        method: str = "",
        url: str = "",
        request_id: str | None = None,
        body: Any = None,
        response: httpx.Response | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.message = message
        self.status_code = status_code
        self.method = method
        self.url = url
        self.request_id = request_id
        self.body = body
        self.response = response
        self.retry_after = retry_after
        where = f" from {method} {url}" if method else ""
        super().__init__(f"HTTP {status_code}{where}: {message}")


class BadRequestError(APIError):
    """400: e.g. ``Cannot find supplier identifier in the uri`` or ``The request is invalid``."""


class AuthenticationError(APIError):
    """401 ``Invalid token``, raised after one refresh-and-replay did not help."""


class NotFoundError(APIError):
    """404 ``Not found``: a wrong path, or an order or page the server does not know."""


class RateLimitError(APIError):
    """429: the rate limit held after the retries, or asked for a longer wait than allowed."""


class ServerError(APIError):
    """5xx: the server failed, and kept failing through the retries."""


class UnexpectedResponseError(DropshipError):
    """A 2xx answer to a read whose body is not what the API documents (not JSON, the wrong shape,
    cut at the size limit). Nothing is guessed from it."""

    def __init__(self, message: str, *, status_code: int, method: str = "", url: str = "") -> None:
        super().__init__(message)
        self.status_code = status_code
        self.method = method
        self.url = url


class PushError(DropshipError):
    """Some chunks of an availability or cost push were not accepted (``PushResult.raise_for_failures``).

    ``result`` says what was accepted and what failed, with each failed chunk's error: push the
    failed products again, nothing else.
    """

    def __init__(self, message: str, *, result: Any) -> None:
        super().__init__(message)
        self.result = result


class FeedParseError(DropshipError):
    """A feed page is not well-formed Atom, not the Dropship feed, oversized or hostile.

    ``entry_id`` and ``element`` say where, when known.
    """

    def __init__(self, message: str, *, entry_id: str | None = None, element: str | None = None) -> None:
        self.reason = message
        self.entry_id = entry_id
        self.element = element
        where = []
        if entry_id is not None:
            where.append(f"entry {entry_id!r}")
        if element is not None:
            where.append(f"element <{element}>")
        super().__init__(f"{message} (at {', '.join(where)})" if where else message)


class CursorLostError(DropshipError):
    """The follower's stored cursor names an entry that the feed no longer holds.

    Rather than replaying everything or silently skipping, the follower stops: an operator
    decides (restart from ``"latest"``, or replay).
    """

    def __init__(self, message: str, *, entry_id: str | None = None, page_id: str | None = None):
        super().__init__(message)
        self.entry_id = entry_id
        self.page_id = page_id


class CheckpointError(DropshipError):
    """A checkpoint store (or order ledger) cannot be used: the file is not a SQLite database, is
    truncated, holds a table of another layout, or is an ``OrderLedger`` file opened as a plain
    checkpoint (whose cursor would then move without the ledger applying the events).

    Raised when the store is opened, before anything is delivered; the file is left as it was.
    ``path`` is the file, ``reason`` what is wrong with it (the message without the path).
    """

    def __init__(self, message: str, *, path: object = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.path = None if path is None else str(path)
        self.reason = message if reason is None else reason

    @classmethod
    def of(cls, path: object, reason: str) -> CheckpointError:
        """``path: reason``, both kept as attributes."""
        return cls(f"{path}: {reason}", path=path, reason=reason)


class LedgerSchemaError(CheckpointError):
    """The ledger file was written by a newer version of this SDK, or is not a ledger (not a
    SQLite database, truncated, or tables of the ledger's names with another layout)."""


class LeaseLostError(DropshipError):
    """This replica lost its lease to another one while it led (paused past the lease, cut off from
    the database): it has stepped down, and the write that found out was not made. The entry in
    hand is delivered again by the new leader. ``FeedFollower.run`` handles it by standing by."""


class StoreUnavailableError(DropshipError):
    """The checkpoint store's database did not answer (a PostgreSQL server restarting, a network cut).
    Nothing was written: the transaction was rolled back whole. ``FeedFollower.run`` waits it out
    and resumes where the cursor is; the connection is made again at the next use."""
