"""``POST /webhook``: iQmetrix's dropship webhooks, taken as a wake-up call for the follower.

A webhook is never the order: iQmetrix retries an unacknowledged one at most 5 times and then
drops it for good (supplier-apis.md, "Dropship webhooks"), so the feed stays the source of truth
and a webhook only makes the next poll come now. Its body is read (to refuse what is not JSON)
and otherwise ignored; it is never logged (it may hold a customer's name and address), only the
event's name when it has a short one.

The checks, in order, each before any work the next one costs: the method (405), the shared
secret or Basic credentials (401, compared in constant time), a ``Content-Length`` of ASCII
digits within the cap (411, 413), a JSON content type (415), a body that parses (400). Then
``202 {"status": "accepted"}`` and ``wake()``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .._exceptions import ConfigurationError
from ._server import Answer, Environ, json_answer

__all__ = ["DEFAULT_SECRET_HEADER", "MAX_BODY_BYTES", "Webhook", "WebhookAuth"]

logger = logging.getLogger("iqmetrix_dropship.ops.webhook")

DEFAULT_SECRET_HEADER = "X-Dropship-Webhook-Secret"  # noqa: S105 - a header's name
MAX_BODY_BYTES = 64 * 1024
_SECRET_VARIABLE = "DROPSHIP_WEBHOOK_SECRET"  # noqa: S105 - a variable's name
_USERNAME_VARIABLE = "DROPSHIP_WEBHOOK_USERNAME"
_PASSWORD_VARIABLE = "DROPSHIP_WEBHOOK_PASSWORD"  # noqa: S105 - the variable's name, not a password
_EVENT_KEYS = ("Event", "EventType", "event")
_EVENT_NAME = re.compile(r"[A-Za-z0-9_.:/-]{1,64}")
_HEADER_NAME = re.compile(r"[A-Za-z0-9-]{1,64}")


MIN_SECRET_LENGTH = 16
"""The shortest webhook secret or Basic password accepted."""


@dataclass(frozen=True)
class WebhookAuth:
    """What a webhook must show: the shared secret in ``header``, or Basic credentials (either
    one, when both are set). From the environment only: a secret on a command line is visible to
    every user of the machine (``ps``). Masks itself in ``repr``."""

    secret: bytes | None = None
    basic: tuple[bytes, bytes] | None = None
    header: str = DEFAULT_SECRET_HEADER

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], *, header: str = DEFAULT_SECRET_HEADER) -> WebhookAuth:
        """``DROPSHIP_WEBHOOK_SECRET``, and/or ``DROPSHIP_WEBHOOK_USERNAME`` with
        ``DROPSHIP_WEBHOOK_PASSWORD``; ``ConfigurationError`` when neither is set (no webhook
        without authentication), or for half a pair, or for a header name that is not one."""
        if not _HEADER_NAME.fullmatch(header):
            raise ConfigurationError(f"the webhook's secret header must be a header name, got {header[:64]!r}")
        # Stripped: a secret read from a file ends in a newline, which no header can carry (HTTP
        # strips the white space around a value), so that secret could never match.
        secret = (environ.get(_SECRET_VARIABLE) or "").strip() or None
        username, password = environ.get(_USERNAME_VARIABLE) or None, environ.get(_PASSWORD_VARIABLE) or None
        if (username is None) != (password is None):
            raise ConfigurationError(f"set both {_USERNAME_VARIABLE} and {_PASSWORD_VARIABLE}, or neither")
        if secret is None and username is None:
            raise ConfigurationError(
                f"the webhook needs a secret: set {_SECRET_VARIABLE} (sent in the {header} header), "
                f"or {_USERNAME_VARIABLE} and {_PASSWORD_VARIABLE} (HTTP Basic)"
            )
        # A short secret is guessed, and redacting it from the logs would garble every line that
        # happens to contain it (which would then show it).
        for variable, value in ((_SECRET_VARIABLE, secret), (_PASSWORD_VARIABLE, password)):
            if value is not None and len(value) < MIN_SECRET_LENGTH:
                raise ConfigurationError(
                    f"{variable} is {len(value)} characters: use a random one of {MIN_SECRET_LENGTH} or more, e.g. "
                    "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
                )
        basic = (username.encode(), password.encode()) if username is not None and password is not None else None
        return cls(secret.encode() if secret is not None else None, basic, header)

    @property
    def secrets(self) -> tuple[str, ...]:
        """For the log's redaction."""
        known = [self.secret] if self.secret is not None else []
        if self.basic is not None:
            known.append(self.basic[1])
        return tuple(value.decode() for value in known)

    def accepts(self, environ: Environ) -> bool:
        given = environ.get("HTTP_" + self.header.upper().replace("-", "_"))
        if (
            self.secret is not None
            and isinstance(given, str)
            and hmac.compare_digest(given.encode("latin-1"), self.secret)
        ):
            return True
        if self.basic is not None:
            credentials = _basic_credentials(environ.get("HTTP_AUTHORIZATION"))
            if credentials is not None:
                # Both compared, whatever the first gives: the time taken does not say which was wrong.
                user_ok = hmac.compare_digest(credentials[0], self.basic[0])
                password_ok = hmac.compare_digest(credentials[1], self.basic[1])
                return user_ok & password_ok
        return False

    def __repr__(self) -> str:
        return f"WebhookAuth(secret={'***' if self.secret else None}, basic={'***' if self.basic else None})"


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # Python's json would take NaN and Infinity


def _basic_credentials(header: object) -> tuple[bytes, bytes] | None:
    """RFC 7617: ``Basic base64(user:password)``; ``None`` for anything else."""
    if not isinstance(header, str):
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or len(encoded) > 1024:
        return None
    try:
        decoded = base64.b64decode(encoded.strip().encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return None
    user, colon, password = decoded.partition(b":")
    return (user, password) if colon else None


def _content_length(value: object) -> int | None:
    """ASCII digits only, and few of them: never ``int()`` on a huge or odd string (``+1``,
    ``1_000``, ``١٢`` all pass ``int``)."""
    if not isinstance(value, str) or not (0 < len(value) <= 12) or not value.isascii() or not value.isdigit():
        return None
    return int(value)


def _is_json(content_type: object) -> bool:
    if not isinstance(content_type, str):
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def event_name(body: Any) -> str | None:
    """The event's name, when the JSON object has a short, plain one (logged: nothing else is)."""
    if isinstance(body, dict):
        for key in _EVENT_KEYS:
            value = body.get(key)
            if isinstance(value, str) and _EVENT_NAME.fullmatch(value):
                return value
    return None


class Webhook:
    """The route: see the module's docstring. ``wake`` must return at once (the follower's
    ``wake()`` sets a flag); many webhooks in a burst make one poll, as ``wake`` promises."""

    def __init__(self, auth: WebhookAuth, wake: Callable[[], None], *, max_body: int = MAX_BODY_BYTES) -> None:
        self.auth = auth
        self._wake = wake
        self.max_body = max_body

    def __call__(self, environ: Environ) -> Answer:
        refused = self._refusal(environ)
        if refused is not None:
            return refused
        length = int(environ["CONTENT_LENGTH"])  # checked by _refusal: digits, within the cap
        raw = _read(environ["wsgi.input"], length)
        if raw is None:
            return json_answer(400, {"status": "the body ended before its Content-Length"})
        try:
            body = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
        except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            # Never the body, nor the parser's message (which may quote it).
            logger.warning("webhook refused: the body (%d bytes) is not JSON", length, extra=_status(400))
            return json_answer(400, {"status": "the body is not JSON"})
        self._wake()
        name = event_name(body)
        logger.info(
            "webhook accepted (%s): polling the feed now",
            name or "no event name",
            extra={**_status(202), "dropship.webhook.event": name},
        )
        return json_answer(202, {"status": "accepted"})

    def _refusal(self, environ: Environ) -> Answer | None:
        """The answer to a webhook refused on its headers alone, before its body is read."""
        if not self.auth.accepts(environ):
            logger.warning("webhook refused: no valid secret or credentials", extra=_status(401))
            challenge = (("WWW-Authenticate", 'Basic realm="dropship webhook"'),) if self.auth.basic else ()
            return json_answer(401, {"status": "unauthorized"}, *challenge)
        length = _content_length(environ.get("CONTENT_LENGTH"))
        if length is None or environ.get("HTTP_TRANSFER_ENCODING"):
            # wsgiref reads no chunked body: a webhook's JSON is small, its length known.
            return json_answer(411, {"status": "send the body with a Content-Length"})
        if length > self.max_body:
            logger.warning("webhook refused: %d bytes, over the cap of %d", length, self.max_body, extra=_status(413))
            return json_answer(413, {"status": f"the body is over {self.max_body} bytes"})
        if not _is_json(environ.get("CONTENT_TYPE")):
            return json_answer(415, {"status": "the body must be application/json"})
        return None


def _status(code: int) -> dict[str, object]:
    return {"http.request.method": "POST", "http.response.status_code": code}


def _read(stream: Any, length: int) -> bytes | None:
    """Exactly ``length`` bytes, or ``None`` if the client stopped before (or stalled: the
    server's socket timeout)."""
    chunks, left = [], length
    try:
        while left > 0:
            chunk = stream.read(left)
            if not chunk:
                return None
            chunks.append(chunk)
            left -= len(chunk)
    except OSError:
        return None
    return b"".join(chunks)
