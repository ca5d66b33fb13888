"""What the two transports share of httpx: building a request from a decided ``Request``, and
turning an httpx answer or error into the core's ``Response`` or the SDK's error.

Nothing here waits on the network, so one copy serves the async transport (``_async/transport.py``)
and its generated sync twin. Swapping the HTTP library means rewriting this module and the
transport; nothing else imports httpx.

Three rules keep secrets and time in check here:

- a token request never follows a redirect, whatever the ``http_client`` was built with: a 307
  would re-POST the password and client secret to wherever it points;
- an httpx error is turned into the SDK's own by the transport *outside* the ``except`` block
  that caught it, so that it is not the ``__context__`` of what the caller sees (it carries the
  request: the bearer token, or the token form);
- the call's deadline (``_protocol/deadline.py``) bounds the whole exchange: the timeout of
  each phase is cut to what is left, what is left is checked between the chunks of a body, and
  the transport stops waiting at the deadline (``_concurrency.within``: cancelled when async, on
  a worker thread when sync), however slowly a server trickles its headers or its body.
"""

from __future__ import annotations

import contextlib
import math
import socket
from collections.abc import Callable
from typing import Any

import httpx

from ._exceptions import APIConnectionError, APITimeoutError
from ._protocol.body import ACCEPT_ENCODING, BoundedBody
from ._protocol.deadline import Deadline
from ._protocol.http import Request, Response, reason_for, user_agent
from ._protocol.redact import guard_http_logs

__all__ = [
    "SDK_HEADERS",
    "USER_AGENT",
    "Exchange",
    "body_for",
    "build",
    "connection_error",
    "follow_redirects",
    "response_of",
    "time_left",
]

USER_AGENT = user_agent(f"httpx {httpx.__version__}")

# httpx logs every answer's status line (INFO), httpcore its headers (DEBUG), as the server sent
# them: a server that echoes the bearer token or the token form would put a secret in the logs.
guard_http_logs()

SDK_HEADERS = {"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING}
"""Set once on a client we create; on a client the caller brought, sent with every request."""

_PHASES = ("connect", "read", "write", "pool")


def _headers(request: Request, token: str | None, own_client: bool) -> dict[str, str]:
    # httpx merges per-request headers into the client's one by one: fewer is measurably faster.
    headers = dict(request.headers) if own_client else {**SDK_HEADERS, **request.headers}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _least(value: float | None, remaining: float) -> float:
    return remaining if value is None or not math.isfinite(value) else min(float(value), remaining)


def _clip(timeout: Any, remaining: float | None) -> Any:
    """The request's httpx timeout, each phase cut to what is left of the call."""
    if remaining is None:
        return timeout
    if isinstance(timeout, httpx.Timeout):
        return httpx.Timeout(**{name: _least(getattr(timeout, name), remaining) for name in _PHASES})
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        return _least(timeout, remaining)
    return remaining


def build(
    client: httpx.Client | httpx.AsyncClient,
    request: Request,
    token: str | None,
    timeout: Any,
    *,
    own_client: bool,
    deadline: Deadline,
) -> httpx.Request:
    return client.build_request(
        request.method,
        request.url,
        headers=_headers(request, token, own_client),
        json=request.json,
        data=dict(request.form) if request.form is not None else None,
        timeout=_clip(timeout, deadline.remaining()),
        extensions=None if request.on_sent is None else {"trace": _tracer(client, request.on_sent)},
    )


# httpcore's trace event once a request is written and its answer's head awaited (HTTP/1.1 and /2).
_AWAITING = "receive_response_headers.started"


def _tracer(client: httpx.Client | httpx.AsyncClient, on_sent: Callable[[], None]) -> Callable[..., Any]:
    """httpcore's ``trace`` extension (a coroutine function for an async client), calling
    ``on_sent`` when the request is on the wire."""

    def trace(event: str, info: object) -> None:
        if event.endswith(_AWAITING):
            with contextlib.suppress(Exception):  # a hint: never the exchange's failure
                on_sent()

    if isinstance(client, httpx.AsyncClient):

        async def trace_async(event: str, info: object) -> None:
            trace(event, info)

        return trace_async
    return trace


def follow_redirects(client: httpx.Client | httpx.AsyncClient, request: Request) -> bool:
    # A token request never follows a redirect: a 307/308 would re-POST the form (password, client
    # secret) to the redirect's target. Other requests do as the caller's client was built to
    # (httpx drops the Authorization header on a redirect to another origin).
    return False if request.purpose == "token" else client.follow_redirects


def time_left(request: Request, deadline: Deadline) -> None:
    """Between two chunks of a body: stop reading once the call's time is up."""
    if deadline.expired:
        raise deadline.error(request.method, request.url, "while the body was still arriving")


class Exchange:
    """One request on the wire, and how to cut it short: once the response has arrived, its
    socket can be shut down from another thread, which ends a read blocked on it at once."""

    def __init__(self, http_request: httpx.Request) -> None:
        self.http_request = http_request
        self._stream: Any = None

    def opened(self, raw: httpx.Response) -> None:
        self._stream = raw.extensions.get("network_stream")

    def abort(self) -> None:
        get_extra_info = getattr(self._stream, "get_extra_info", None)
        sock = get_extra_info("socket") if callable(get_extra_info) else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def connection_error(request: Request, error: httpx.HTTPError, deadline: Deadline) -> APIConnectionError:
    """The SDK's error for an httpx one: no answer (a transport error, a timeout), or none that
    counts (``TooManyRedirects`` on a client built to follow them, a body that cannot be decoded)."""
    if isinstance(error, httpx.TimeoutException):
        if deadline.expired:
            return deadline.error(request.method, request.url)
        return APITimeoutError(f"{request.method} {request.url} timed out", method=request.method, url=request.url)
    return APIConnectionError(
        f"{request.method} {request.url} failed: {type(error).__name__}",
        method=request.method,
        url=request.url,
        request_sent=not isinstance(error, httpx.ConnectError),
    )


def body_for(request: Request, raw: httpx.Response) -> BoundedBody:
    if raw.is_stream_consumed:
        # An in-process transport (a test double, an ASGI app) may hand over a response already
        # read and decoded: take its content as it is, under the same cap.
        body = BoundedBody(request, raw.status_code, "")
        body.feed(raw.content)
        return body
    return BoundedBody(request, raw.status_code, raw.headers.get("content-encoding", ""))


def response_of(http_request: httpx.Request, raw: httpx.Response, body: BoundedBody) -> Response:
    content = body.body()
    readable = None
    if not 200 <= raw.status_code < 300:
        # A readable copy for APIError.response (.text, .json()), the body already decoded.
        kept = [(k, v) for k, v in raw.headers.items() if k.lower() not in ("content-encoding", "content-length")]
        # Its request is a bare copy (method and URL): the real one carries the bearer token, or
        # for the token endpoint the password and client secret in its body.
        bare = httpx.Request(http_request.method, http_request.url)

        def readable(content: bytes, clean: Callable[[str], str]) -> httpx.Response:
            headers = [(name, clean(value)) for name, value in kept]
            return httpx.Response(raw.status_code, headers=headers, content=content, request=bare)

    return Response(raw.status_code, raw.headers, content, reason_for(raw.status_code), readable, body.truncated)
