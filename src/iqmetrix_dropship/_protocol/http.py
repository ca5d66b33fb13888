"""The values that cross the boundary between the protocol core and a driver, and request logging.

A driver turns a ``Request`` into bytes on the wire and the answer into a ``Response``; the core
never sees a socket, and the driver never decides anything.
"""

from __future__ import annotations

import http
import logging
import platform
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .._version import __version__

__all__ = ["DEFAULT_MAX_JSON_BYTES", "AsyncSend", "Request", "Response", "Send", "logger", "reason_for", "user_agent"]

logger = logging.getLogger("iqmetrix_dropship")

# An update echo or an error body is a few hundred bytes; anything near this is not one.
DEFAULT_MAX_JSON_BYTES = 1024 * 1024

Purpose = Literal["feed", "update", "token"]


def user_agent(transport: str) -> str:
    """``iqmetrix-dropship/0.1.0 (Python 3.12.1; httpx 0.28.1)``: names the SDK, Python and the transport."""
    return f"iqmetrix-dropship/{__version__} (Python {platform.python_version()}; {transport})"


@dataclass(frozen=True)
class Request:
    """One HTTP request, fully decided. ``authenticated`` requests get the bearer token."""

    method: str
    url: str
    purpose: Purpose
    headers: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    form: Mapping[str, str] | None = None
    authenticated: bool = True
    max_body_bytes: int = DEFAULT_MAX_JSON_BYTES
    """The body is read as a stream and refused past this many (decoded) bytes."""
    idempotent: bool = True
    """Whether sending it twice does what sending it once does. One that is not (adding a product)
    is retried only when the server surely did not act on it (``retry.replay_safe``)."""
    on_sent: Callable[[], None] | None = field(default=None, compare=False)
    """Called (on the sending thread or event loop) each time the request has gone out and its
    answer is awaited: the follower parses a kept page while the network is busy. Must be quick;
    whatever it raises is ignored (a hint lost, nothing else). A transport that cannot tell (an
    ``http_client`` with a transport that does not trace) never calls it; through an HTTP proxy,
    httpcore calls it when the proxy's answer to the tunnel is awaited, a little early."""

    def __repr__(self) -> str:
        # Never the form: it holds the password and client secret.
        return f"Request({self.method} {self.url})"


@dataclass(frozen=True)
class Response:
    """An answer as the driver received it."""

    status_code: int
    headers: Mapping[str, str]
    """Case-insensitive in practice (the driver passes ``httpx.Headers``)."""
    content: bytes
    reason: str = ""
    """The standard reason phrase of ``status_code`` (``reason_for``), never the server's own."""
    readable: Callable[[bytes, Callable[[str], str]], Any] | None = field(default=None, repr=False)
    """For a non-2xx answer: makes a readable copy of the transport's response, for
    ``APIError.response``, over the body it is given and with ``clean`` applied to every header
    value (both redacted of secrets); its request is stripped of headers and body. ``None``
    otherwise."""
    truncated: bool = False
    """The body was longer than the request's ``max_body_bytes``: ``content`` is its start only."""

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300

    def header(self, name: str) -> str | None:
        value = self.headers.get(name)
        if value is None:  # a plain dict: look the name up case-insensitively (traps.md 16)
            lowered = name.lower()
            value = next((v for k, v in self.headers.items() if k.lower() == lowered), None)
        return value


Send = Callable[[Request], Response]
"""A driver's way to carry out a request: retries, tokens and the timeout included."""
AsyncSend = Callable[[Request], Awaitable[Response]]


def reason_for(status_code: int) -> str:
    """``Unauthorized`` for 401: the standard phrase of a status code, ``""`` for one without.

    What a server writes after the code on its status line is its own text, and one that echoes
    what it was sent can put the bearer token or the password there: it would reach a log line,
    an error or a ping's report unredacted. The code says all the phrase can say.
    """
    try:
        return http.HTTPStatus(status_code).phrase
    except ValueError:
        return ""


def log_response(request: Request, response: Response, elapsed: float) -> None:
    # URLs carry no secrets (the token travels in a header, credentials in the form body).
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "%s %s -> %d %s (%.0f ms)",
            request.method,
            request.url,
            response.status_code,
            response.reason,
            elapsed * 1000,
            extra={**log_fields(request), "http.response.status_code": response.status_code},
        )


def log_failure(request: Request, error: BaseException, elapsed: float) -> None:
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "%s %s -> %s (%.0f ms)",
            request.method,
            request.url,
            type(error).__name__,
            elapsed * 1000,
            extra={**log_fields(request), "error.type": type(error).__name__},
        )


def log_fields(request: Request) -> dict[str, str]:
    """A request's structured log fields, named as the span attributes are (``_telemetry.py``)."""
    from .._telemetry import route_of  # noqa: PLC0415 - only when a line is logged

    route, ids = route_of(request.method, request.url)
    return {"http.request.method": request.method, "http.route": route, **ids}
