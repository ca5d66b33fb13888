"""Connections to PostgreSQL: made from a DSN, in the store's schema, their failures the SDK's own.

A DSN may hold a password (``postgresql://user:secret@host/db``): it is never shown whole. Messages
and reprs use ``redact_dsn``, and a driver's message is redacted of the password too.
"""

from __future__ import annotations

import os
import re
from contextlib import suppress
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from .._exceptions import CheckpointError, ConfigurationError, StoreUnavailableError

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "check_dsn",
    "check_schema_name",
    "connect",
    "failure",
    "psycopg_module",
    "redact_dsn",
    "store_error",
    "unavailable",
]

_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")

# SQLSTATEs that say "not now" rather than "no": the connection is gone (08), the server is
# shutting down or starting (57), out of connections or memory (53), a transaction that lost a
# race (40: serialization failure, deadlock), a session ended for idling in a transaction (25P03,
# a process that was paused). https://www.postgresql.org/docs/current/errcodes-appendix.html
_TRY_AGAIN_CLASSES = ("08", "57", "53", "40")
_TRY_AGAIN_CODES = frozenset({"25P03"})


def psycopg_module() -> Any:
    """``psycopg``, or ``ConfigurationError`` saying which extra to install."""
    try:
        import psycopg  # noqa: PLC0415 - only a PostgreSQL store needs it
    except ImportError:
        raise ConfigurationError(
            "a PostgreSQL store needs psycopg: pip install 'iqmetrix-dropship[postgres]'"
        ) from None
    return psycopg


_SECRET_PARAMS = frozenset({"password", "sslpassword"})


def check_dsn(dsn: str) -> str:
    """A ``postgresql://`` URL whose password we can find and hide: one ``@`` at most before the
    host (an ``@`` in a password must be written ``%40``, as libpq reads the first one), else
    ``ConfigurationError``, which does not repeat the DSN."""
    try:
        parts = urlsplit(dsn)
    except ValueError:
        raise ConfigurationError("the DSN is not a valid postgresql:// URL") from None
    if parts.netloc.count("@") > 1:
        raise ConfigurationError(
            "the DSN has more than one '@' before its host: write an '@' in the user or the password "
            "as %40 (postgresql://user:pa%40ss@host/db)"
        )
    if _libpq_secrets(dsn) is None:
        raise ConfigurationError("the DSN is not a valid postgresql:// URL")
    if _misread(dsn, parts) or not _read_alike(dsn, parts):
        # libpq reads the password whole where a URL parser stops (at '#', '?', '/'): we could
        # not find it to hide it.
        raise ConfigurationError(
            "the DSN's password holds a character that must be percent-encoded: '#' as %23, '?' as %3F, "
            "'/' as %2F, '@' as %40 (postgresql://user:pa%23ss@host/db)"
        )
    return dsn


def _url_secrets(parts: SplitResult) -> list[str]:
    found = [unquote(parts.password)] if parts.password else []
    return found + [value for key, value in parse_qsl(parts.query) if key.lower() in _SECRET_PARAMS and value]


def _misread(dsn: str, parts: SplitResult) -> bool:
    """A URL whose user part a parser cannot find for certain: an ``@`` after the host (a ``/`` in
    the password ends the host early), several, or a ``#`` (which ends a URL, but not for libpq)."""
    return parts.netloc.count("@") > 1 or "@" in parts.path or "#" in dsn


def _read_alike(dsn: str, parts: SplitResult) -> bool:
    """Whether the passwords libpq reads are those a URL parser finds (and can hide)."""
    try:
        read = _libpq_secrets(dsn)
    except ConfigurationError:  # no psycopg: nothing reads it
        return True
    return read is not None and read <= set(_url_secrets(parts))


def _libpq_secrets(dsn: str) -> set[str] | None:
    """The passwords as libpq reads them from ``dsn`` (``None``: libpq cannot read it)."""
    psycopg = psycopg_module()
    try:
        given = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.Error:
        return None
    return {str(given[key]) for key in _SECRET_PARAMS if given.get(key)}


def redact_dsn(dsn: str) -> str:
    """``dsn`` with its password (in the user part, or a ``password=`` parameter) as ``***``."""
    try:
        parts = urlsplit(dsn)
        query = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:
        return "postgresql://***"
    if _misread(dsn, parts) or not _read_alike(dsn, parts):
        return "postgresql://***"
    netloc = parts.netloc
    if parts.password is not None:
        user, host = netloc.rsplit("@", 1)
        netloc = f"{user.split(':', 1)[0]}:***@{host}"
    if any(key.lower() in _SECRET_PARAMS for key, _ in query):
        hidden = [(key, "***" if key.lower() in _SECRET_PARAMS else value) for key, value in query]
        return urlunsplit(parts._replace(netloc=netloc, query=urlencode(hidden, safe="*")))
    return urlunsplit(parts._replace(netloc=netloc))


def _secrets(dsn: str) -> list[str]:
    """Every form of the DSN's passwords that a driver's message might quote."""
    found: list[str] = []
    try:
        parts = urlsplit(dsn)
        if parts.password:
            found.append(parts.password)
        found += _url_secrets(parts)
    except ValueError:
        pass
    with suppress(ConfigurationError):
        found += _libpq_secrets(dsn) or ()
    return sorted({secret for secret in found if secret}, key=len, reverse=True)


def check_schema_name(schema: str) -> str:
    """A schema name we write into SQL: lower-case letters, digits and ``_`` only (no quoting needed)."""
    if not isinstance(schema, str) or _SCHEMA_NAME.fullmatch(schema) is None:
        raise ConfigurationError(
            f"schema must be a lower-case PostgreSQL identifier (letters, digits, _; up to 63), got {schema!r}"[:200]
        )
    return schema


def failure(dsn: str, error: BaseException, doing: str) -> CheckpointError:
    """The SDK's error for a driver's, its message redacted of the DSN's password."""
    message = " ".join(str(error).split()) or type(error).__name__
    for secret in _secrets(dsn):
        message = message.replace(secret, "***")
    return CheckpointError.of(redact_dsn(dsn), f"{doing}: {message[:300]}")


def unavailable(error: BaseException, connection: Any = None) -> bool:
    """Whether a driver's error means the database is away for now (try again later), not that it
    refused what was asked: no server at the address, a session it ended, a race it lost."""
    psycopg = psycopg_module()
    if connection is not None and getattr(connection, "broken", False):
        return True
    code = getattr(error, "sqlstate", None)
    if isinstance(code, str):
        return code.startswith(_TRY_AGAIN_CLASSES) or code in _TRY_AGAIN_CODES
    return isinstance(error, psycopg.OperationalError)  # no SQLSTATE: no server answered at all


def store_error(
    dsn: str, error: BaseException, doing: str, connection: Any = None
) -> CheckpointError | StoreUnavailableError:
    """``StoreUnavailableError`` when the database is away for now (a follower's ``run`` waits it
    out), else ``CheckpointError``; either without the DSN's password."""
    if unavailable(error, connection):
        return StoreUnavailableError(
            f"{redact_dsn(dsn)}: {doing}: the database did not answer ({type(error).__name__}); nothing was written"
        )
    return failure(dsn, error, doing)


def connect(
    dsn: str,
    *,
    schema: str,
    application_name: str = "iqmetrix-dropship",
    again: bool = False,
    settings: dict[str, int] | None = None,
) -> psycopg.Connection[Any]:
    """An autocommit connection whose ``search_path`` is ``schema`` (``schema.migrate`` creates it).

    Raises ``CheckpointError`` (naming the DSN, without its password) when the server cannot be
    reached or refuses the login; once a store has been opened (``again``), a server that does
    not answer raises ``StoreUnavailableError`` instead, to be waited out. ``settings``: server
    settings of the session (``SET name = value``)."""
    psycopg = psycopg_module()
    try:
        connection = psycopg.connect(dsn, autocommit=True, application_name=application_name, **_options(dsn))
    except psycopg.Error as error:
        problem = store_error(dsn, error, "cannot connect") if again else failure(dsn, error, "cannot connect")
    else:
        try:
            connection.execute(f"SET search_path TO {schema}")  # a checked identifier, see check_schema_name
            for name, value in (settings or {}).items():
                connection.execute(f"SET {name} = {value}")  # the SDK's own names and numbers
        except psycopg.Error as error:
            connection.close()
            problem = failure(dsn, error, f"cannot use schema {schema}")
        else:
            return connection  # type: ignore[no-any-return]
    raise problem


LEDGER_APPLICATION = "iqmetrix-dropship ledger"
"""The ``application_name`` of the sessions that write a ledger or a checkpoint (the only ones a
replica taking over a lease may end, see ``_pg/lease.py``)."""


# A server that vanishes without closing the connection (a host powered off, a network cut) must
# not leave a replica or a worker waiting on a dead socket for the kernel's two hours: TCP
# keepalives find it in about 25 s, and an unacknowledged write gives up after 30 s. A DSN that
# sets one of these itself keeps its own value (as does PGCONNECT_TIMEOUT, and a service file).
_CONNECTION_OPTIONS: dict[str, int] = {
    "connect_timeout": 10,
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,
}


def _options(dsn: str) -> dict[str, int]:
    given = psycopg_module().conninfo.conninfo_to_dict(dsn)
    if "service" in given or os.environ.get("PGSERVICE"):
        return {}  # a service file says how to connect: it is followed as it is
    if os.environ.get("PGCONNECT_TIMEOUT"):
        given["connect_timeout"] = os.environ["PGCONNECT_TIMEOUT"]
    return {name: value for name, value in _CONNECTION_OPTIONS.items() if name not in given}
