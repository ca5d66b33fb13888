"""Keeping secrets out of errors.

Three ways a secret could reach an error or a log line, and the rule for each:

- A server that echoes what it was sent (a proxy's error page quoting the request, an accounts
  server repeating the form) puts the bearer token, the password or the client secret into a body
  from which a message is built. ``redact`` replaces every secret the client knows, in the forms a
  body may carry it (as sent, URL-encoded, JSON-escaped), before the text goes into a message, a
  parsed body or the readable copy of the response an ``APIError`` keeps.
- An exception chain: httpx's exceptions carry the request (its ``Authorization`` header, or for
  the token endpoint the form with the password and client secret), and ``json``'s carry the body
  they failed on (which may be a half-read token). ``scrub_chain`` cuts every link that is not one
  of the SDK's own errors out of the ``__cause__`` / ``__context__`` chain of an error about to be
  raised to the caller; the SDK's errors themselves are built from URLs and redacted messages.
- The HTTP library's own log lines: httpx logs each answer's status line at INFO, httpcore its
  headers at DEBUG, as the server sent them (an echoing server's included). ``guard_http_logs``
  puts a filter on those loggers that redacts, in every record, the secrets of every client alive
  (``watch_secrets``). It costs nothing while those loggers are off: a disabled level makes no
  record to filter.
"""

from __future__ import annotations

import html
import json
import logging
import re
import threading
import weakref
from collections.abc import Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus

from .._exceptions import DropshipError

__all__ = ["HTTP_LOGGERS", "REDACTED", "guard_http_logs", "redact", "redact_value", "scrub_chain", "watch_secrets"]

REDACTED = "***"


@lru_cache(maxsize=64)
def _forms(secret: str) -> tuple[str, ...]:
    """The spellings of ``secret`` a body may hold as such, longest first (so that a longer one is
    replaced whole): as sent, URL-encoded, JSON-escaped, HTML-escaped."""
    forms = {secret, quote_plus(secret), quote(secret, safe=""), json.dumps(secret)[1:-1], html.escape(secret)}
    # As the repr of bytes shows it (httpcore logs headers as bytes): b'p\xc3\xa9' for 'pé'.
    forms.add(repr(secret.encode("utf-8", "surrogatepass"))[2:-1])
    return tuple(sorted((form for form in forms if form), key=len, reverse=True))


_JSON_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|[\\/\"bfnrt])")
_SIMPLE = {"/": "/", "\\": "\\", '"': '"', "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _unescaped(text: str) -> str:
    # JSON string escapes (\u0026, \/, ... in any mix, as .NET and PHP write them), then HTML
    # entities (&amp;, &#47;, ...).
    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        return chr(int(code[1:], 16)) if code[0] == "u" else _SIMPLE[code]

    return html.unescape(_JSON_ESCAPE.sub(one, text))


def _replace(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if not secret:
            continue
        for form in _forms(secret):
            if form in text:
                text = text.replace(form, REDACTED)
    return text


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every known secret replaced by ``***``.

    A secret may hide behind an escape a server chose (``p\\u0040ss``, ``a&amp;b``, ``%2F``): if the
    text decoded (JSON escapes and HTML entities, or percent-encoding) still shows a secret, the
    decoded text is returned, redacted. So no spelling of a secret survives, at the price of
    returning a decoded message in that rare case."""
    secrets = tuple(secrets)
    text = _replace(text, secrets)
    for view in (_unescaped(text), unquote_plus(text)):
        if view != text and any(secret and secret in view for secret in secrets):
            return _replace(view, secrets)
    return text


def redact_value(value: Any, secrets: tuple[str, ...]) -> Any:
    """A parsed JSON value with ``redact`` applied to every string in it, keys included."""
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, list):
        return [redact_value(item, secrets) for item in value]
    if isinstance(value, dict):
        return {redact_value(key, secrets): redact_value(item, secrets) for key, item in value.items()}
    return value


def scrub_chain(error: BaseException) -> BaseException:
    """Cut from ``error``'s chain every exception that is not the SDK's own; returns ``error``.

    Only an SDK error is scrubbed: a ``KeyboardInterrupt`` or a cancellation passing through is
    left as Python made it.
    """
    if not isinstance(error, DropshipError):
        return error
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if current.__cause__ is not None:
            if isinstance(current.__cause__, DropshipError):
                pending.append(current.__cause__)
            else:
                current.__cause__ = None
        if current.__context__ is not None:
            if isinstance(current.__context__, DropshipError):
                pending.append(current.__context__)
            else:
                current.__context__ = None
                current.__suppress_context__ = True
    return error


# -- the HTTP library's log records ---------------------------------------------------------------

HTTP_LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)
"""The loggers whose records may quote a server's answer: a filter acts only on the records made
by its own logger (not on those its children pass up), so each is named. The SDK's own lines are
built from URLs, status codes and standard reason phrases, never from what a server wrote."""

_sources: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()  # by id: unhashable ones too
_sources_lock = threading.Lock()


def watch_secrets(source: Any) -> None:
    """Redact ``source.secrets()`` (a client's token cache) from the HTTP library's log records for
    as long as ``source`` lives."""
    with _sources_lock:
        _sources[id(source)] = source


def _known_secrets() -> tuple[str, ...]:
    with _sources_lock:
        sources = list(_sources.values())
    return tuple(secret for source in sources for secret in source.secrets() if secret)


class _Redacting(logging.Filter):
    """Rewrites a record whose message holds a known secret: the message redacted, its arguments
    merged into it. Never drops a record, never raises into the library that logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            secrets = _known_secrets()
            if not secrets:
                return True
            message = record.getMessage()
        except Exception:  # a record that cannot be formatted is its handler's problem
            return True
        clean = redact(message, secrets)
        if clean != message:
            record.msg, record.args = clean, None
        return True


_FILTER = _Redacting()


def guard_http_logs() -> None:
    """Put the redacting filter on ``HTTP_LOGGERS`` (once: a filter is not added twice)."""
    for name in HTTP_LOGGERS:
        logging.getLogger(name).addFilter(_FILTER)
