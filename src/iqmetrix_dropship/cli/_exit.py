"""Exit codes, and the one place where an error becomes an exit code and a one-line message.

Documented in docs/cli.md and in ``dropship --help``; scripts rely on them, so a code never changes
meaning. The order of the checks matters: the subclasses of ``APIError`` that have their own code
(401, 404) come before ``APIError`` itself.
"""

from __future__ import annotations

import sqlite3
from enum import IntEnum

from .._exceptions import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    CheckpointError,
    ConfigurationError,
    CursorLostError,
    DropshipError,
    FeedParseError,
    InvalidRequestError,
    NotFoundError,
    TokenError,
)
from ..ledger import LedgerSchemaError

__all__ = ["EXIT_CODES_HELP", "CliError", "ExitCode", "exit_code_for", "message_for"]


class ExitCode(IntEnum):
    OK = 0
    API_ERROR = 1
    """The server answered with an error (or the command failed in a way no other code names)."""
    USAGE = 2
    """A bad option, argument, status, order id, config file or profile; click's own usage errors too."""
    AUTH = 3
    """The accounts server refused the credentials, or the API refused the token."""
    NOT_FOUND = 4
    """The server (404) or the ledger does not know that order."""
    NETWORK = 5
    """No answer: nothing listening, DNS, TLS, timeout."""
    FEED = 6
    """A feed page that cannot be parsed, or a follower cursor the feed no longer has."""
    INTERRUPTED = 130
    """Ctrl-C (128 + SIGINT, as shells report it)."""


EXIT_CODES_HELP = (
    "Exit codes:\n"
    "0    success\n"
    "1    API error: the server refused the request or failed\n"
    "2    usage or configuration error (bad option, status, order id, profile, config file)\n"
    "3    authentication: credentials or token refused\n"
    "4    not found: unknown order (server or ledger)\n"
    "5    network: no answer from the server\n"
    "6    feed cannot be parsed, or the ledger's cursor is lost\n"
    "130  interrupted (Ctrl-C)"
)


class CliError(Exception):
    """A failure the command line detects itself: a missing setting, a bad config file, an order the
    ledger does not know. Its message is shown as it is; it never contains a secret."""

    def __init__(self, message: str, code: ExitCode = ExitCode.USAGE) -> None:
        super().__init__(message)
        self.code = code


# First match wins: the subclasses of APIError with a code of their own come before APIError.
_CODES: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], ExitCode], ...] = (
    (KeyboardInterrupt, ExitCode.INTERRUPTED),
    ((TokenError, AuthenticationError), ExitCode.AUTH),
    (NotFoundError, ExitCode.NOT_FOUND),
    (APIConnectionError, ExitCode.NETWORK),  # APITimeoutError included
    ((FeedParseError, CursorLostError), ExitCode.FEED),
    (APIError, ExitCode.API_ERROR),
    ((InvalidRequestError, ConfigurationError, CheckpointError, LedgerSchemaError), ExitCode.USAGE),
    # A file we were pointed at (a ledger, a config file) cannot be used.
    ((OSError, sqlite3.DatabaseError), ExitCode.USAGE),
)

# What a bare SDK message needs in front of it to read well on its own.
_PREFIXES: tuple[tuple[type[BaseException], str], ...] = (
    (TokenError, "credentials refused: "),
    (AuthenticationError, "the API refused the token: "),
    (NotFoundError, "not found: "),
    (APIConnectionError, "no answer from the server: "),
    (FeedParseError, "the feed could not be read: "),
)
_CURSOR_LOST_ADVICE = (
    ". The ledger's place in the feed is gone and events may have been missed: "
    "sync into a new ledger (--db NEW.db) to replay the whole feed"
)


def exit_code_for(error: BaseException) -> ExitCode:
    """The exit code for an error raised while a command ran."""
    if isinstance(error, CliError):
        return error.code
    for kinds, code in _CODES:
        if isinstance(error, kinds):
            return code
    return ExitCode.API_ERROR


def message_for(error: BaseException) -> str:
    """One line for ``error: ...``. The SDK's messages never hold a secret (API.md, Errors)."""
    if isinstance(error, KeyboardInterrupt):
        return "interrupted"
    text = " ".join(str(error).split()) or type(error).__name__
    if isinstance(error, (OSError, sqlite3.DatabaseError)):
        return f"{type(error).__name__}: {text}"
    if not isinstance(error, (CliError, DropshipError, ValueError)):
        return f"unexpected {type(error).__name__}: {text} (run with --debug for the traceback)"
    # The SDK's own messages are written for people already; some read better with a lead-in.
    prefix = next((prefix for kind, prefix in _PREFIXES if isinstance(error, kind)), "")
    advice = _CURSOR_LOST_ADVICE if isinstance(error, CursorLostError) else ""
    return prefix + text + advice
