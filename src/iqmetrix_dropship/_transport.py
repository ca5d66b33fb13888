"""The only module that speaks httpx: it carries a decided ``Request`` over the wire and brings back
a ``Response``. Nothing here decides anything; swapping the HTTP library means rewriting this file.

Bodies are read as a stream and decoded with a hard cap, so a compressed bomb (a few KB of gzip
that inflates to gigabytes) is stopped after at most ``cap`` bytes of output, never inflated whole.
A feed page over the cap is refused (``FeedParseError``: it is hostile or broken); any other body
is cut at the cap and read as far as it goes (an update the server accepted stays accepted).
``SyncTransport`` and ``AsyncTransport`` may be shared between threads / tasks, as httpx clients may.

Three rules keep secrets and time in check here:

- a token request never follows a redirect, whatever the ``http_client`` was built with: a 307
  would re-POST the password and client secret to wherever it points;
- an httpx error is turned into the SDK's own *outside* the ``except`` block that caught it, so
  that it is not the ``__context__`` of what the caller sees (it carries the request: the bearer
  token, or the token form);
- the call's deadline (``_protocol/deadline.py``) bounds every phase: the timeout of each
  request is cut to what is left, and what is left is checked, and the read timeout lowered to
  it, between the chunks of a body (a server may trickle one byte at a time, each read in time).
"""

from __future__ import annotations

import math
import time
import zlib
from collections.abc import Mapping
from typing import Any

import anyio
import httpx

from ._exceptions import APIConnectionError, APITimeoutError, FeedParseError
from ._protocol.deadline import Deadline
from ._protocol.http import Request, Response, log_failure, log_response, logger, user_agent
from ._text import preview

__all__ = ["AsyncTransport", "SyncTransport"]

USER_AGENT = user_agent(f"httpx {httpx.__version__}")
# Only encodings we can inflate with a bound; we never ask for others (br, zstd).
_ACCEPT_ENCODING = "gzip, deflate"


class _BoundedBody:
    """Collects a body chunk by chunk, inflating gzip/deflate itself with ``max_length``.

    A feed page that is over the cap or badly encoded raises ``FeedParseError``. Any other body
    is kept as far as it could be read, with ``truncated`` set: the status decides what the
    answer means (a 202 stays an accepted update, a 500 stays a server error).
    """

    def __init__(self, request: Request, status_code: int, encoding: str) -> None:
        self._request = request
        self._status = status_code
        self._cap = request.max_body_bytes
        self._parts: list[bytes] = []
        self._size = 0
        self.truncated = False
        """Only the start of the body was kept: it went past the cap, or could not be decoded."""
        encoding = encoding.strip().lower()
        self._inflater: Any = None
        self._deflate = encoding == "deflate"
        if encoding in ("gzip", "x-gzip"):
            self._inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif self._deflate:
            self._inflater = zlib.decompressobj()  # zlib-wrapped; raw deflate handled below
        elif encoding not in ("", "identity"):
            self._unreadable(f"unsupported Content-Encoding {preview(encoding)}")

    def _unreadable(self, problem: str) -> None:
        if self._request.purpose == "feed":
            raise FeedParseError(problem)
        logger.debug(
            "%s %s: HTTP %d with %s; kept its start", self._request.method, self._request.url, self._status, problem
        )
        self.truncated = True

    def _append(self, data: bytes) -> None:
        if self._size + len(data) > self._cap:
            self._unreadable(f"a response body over the {self._cap:,}-byte limit")
            data = data[: self._cap - self._size]
        self._size += len(data)
        if data:
            self._parts.append(data)

    def feed(self, chunk: bytes) -> None:
        if self.truncated:
            return
        if self._inflater is None:
            self._append(chunk)
            return
        try:
            data = self._inflater.decompress(chunk, self._cap - self._size + 1)
            self._append(data)
            while self._inflater.unconsumed_tail and not self.truncated:
                data = self._inflater.decompress(self._inflater.unconsumed_tail, self._cap - self._size + 1)
                self._append(data)
        except zlib.error:
            if self._deflate and self._size == 0 and not self._parts:
                # Some servers send raw deflate for "deflate" (RFC 9110 8.4.1.2 says zlib).
                self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                self._deflate = False
                self.feed(chunk)
                return
            self._unreadable("a body that is not valid compressed data")

    def body(self) -> bytes:
        if self._inflater is not None and not self.truncated:
            try:
                self._append(self._inflater.flush())
            except zlib.error:
                self._unreadable("a body that is not valid compressed data")
        return b"".join(self._parts)


def _body_for(request: Request, raw: httpx.Response) -> _BoundedBody:
    if raw.is_stream_consumed:
        # An in-process transport (a test double, an ASGI app) may hand over a response already
        # read and decoded: take its content as it is, under the same cap.
        body = _BoundedBody(request, raw.status_code, "")
        body.feed(raw.content)
        return body
    return _BoundedBody(request, raw.status_code, raw.headers.get("content-encoding", ""))


# Set once on a client we create; on a client the caller brought, sent with every request.
_SDK_HEADERS = {"User-Agent": USER_AGENT, "Accept-Encoding": _ACCEPT_ENCODING}


def _headers(request: Request, token: str | None, own_client: bool) -> dict[str, str]:
    # httpx merges per-request headers into the client's one by one: fewer is measurably faster.
    headers = dict(request.headers) if own_client else {**_SDK_HEADERS, **request.headers}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _clip(timeout: Any, remaining: float | None) -> Any:
    """The request's httpx timeout, each phase cut to what is left of the call."""
    if remaining is None:
        return timeout
    if isinstance(timeout, httpx.Timeout):
        phases = {name: _least(getattr(timeout, name), remaining) for name in ("connect", "read", "write", "pool")}
        return httpx.Timeout(**phases)
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        return _least(timeout, remaining)
    return remaining


def _least(value: float | None, remaining: float) -> float:
    return remaining if value is None or not math.isfinite(value) else min(float(value), remaining)


def _build(
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
    )


def _follow_redirects(client: httpx.Client | httpx.AsyncClient, request: Request) -> bool:
    # A token request never follows a redirect: a 307/308 would re-POST the form (password, client
    # secret) to the redirect's target. Other requests do as the caller's client was built to
    # (httpx drops the Authorization header on a redirect to another origin).
    return False if request.purpose == "token" else client.follow_redirects


def _time_left(http_request: httpx.Request, request: Request, deadline: Deadline) -> None:
    """Between two chunks: fail if the call's time is up, else let the next read wait no longer
    than what is left (httpx's documented ``timeout`` request extension, read at each read)."""
    remaining = deadline.remaining()
    if remaining is None:
        return
    if remaining <= 0:
        raise deadline.error(request.method, request.url, "while the body was still arriving")
    timeouts = http_request.extensions.get("timeout")
    if isinstance(timeouts, dict):
        timeouts["read"] = _least(timeouts.get("read"), remaining)


def _connection_error(request: Request, error: httpx.TransportError, deadline: Deadline) -> APIConnectionError:
    if isinstance(error, httpx.TimeoutException):
        if deadline.expired:
            return deadline.error(request.method, request.url)
        return APITimeoutError(f"{request.method} {request.url} timed out", method=request.method, url=request.url)
    return APIConnectionError(
        f"{request.method} {request.url} failed: {type(error).__name__}", method=request.method, url=request.url
    )


def _response(http_request: httpx.Request, raw: httpx.Response, body: _BoundedBody) -> Response:
    content = body.body()
    readable = None
    if not 200 <= raw.status_code < 300:
        # A readable copy for APIError.response (.text, .json()), the body already decoded.
        kept: Mapping[str, str] = {
            k: v for k, v in raw.headers.items() if k.lower() not in ("content-encoding", "content-length")
        }
        # Its request is a bare copy (method and URL): the real one carries the bearer token, or
        # for the token endpoint the password and client secret in its body.
        bare = httpx.Request(http_request.method, http_request.url)

        def readable(content: bytes) -> httpx.Response:
            return httpx.Response(raw.status_code, headers=kept, content=content, request=bare)

    return Response(raw.status_code, raw.headers, content, raw.reason_phrase, readable, body.truncated)


class SyncTransport:
    def __init__(self, http_client: httpx.Client | None, timeout: Any) -> None:
        self._owns_client = http_client is None
        self._client = http_client or httpx.Client(timeout=timeout, follow_redirects=False, headers=_SDK_HEADERS)

    def send(self, request: Request, token: str | None, timeout: Any, deadline: Deadline) -> Response:
        http_request = _build(self._client, request, token, timeout, own_client=self._owns_client, deadline=deadline)
        started = time.perf_counter()
        failure: APIConnectionError | None = None
        try:
            raw = self._client.send(
                http_request, stream=True, follow_redirects=_follow_redirects(self._client, request)
            )
            try:
                body = _body_for(request, raw)
                if not raw.is_stream_consumed:
                    for chunk in raw.iter_raw():
                        body.feed(chunk)
                        if body.truncated:
                            break
                        _time_left(http_request, request, deadline)
            finally:
                raw.close()
        except httpx.TransportError as error:
            log_failure(request, error, time.perf_counter() - started)
            failure = _connection_error(request, error, deadline)
        if failure is not None:
            raise failure  # here, not in the except block: see the module's docstring
        response = _response(http_request, raw, body)
        log_response(request, response, time.perf_counter() - started)
        return response

    def close(self) -> None:
        if self._owns_client:  # never close a client the caller gave us
            self._client.close()


class AsyncTransport:
    def __init__(self, http_client: httpx.AsyncClient | None, timeout: Any) -> None:
        self._owns_client = http_client is None
        self._client = http_client or httpx.AsyncClient(timeout=timeout, follow_redirects=False, headers=_SDK_HEADERS)

    async def send(self, request: Request, token: str | None, timeout: Any, deadline: Deadline) -> Response:
        http_request = _build(self._client, request, token, timeout, own_client=self._owns_client, deadline=deadline)
        started = time.perf_counter()
        failure: APIConnectionError | None = None
        remaining = deadline.remaining()
        # Here the deadline is exact: the whole exchange is cancelled when it passes.
        with anyio.move_on_after(math.inf if remaining is None else remaining) as scope:
            try:
                raw = await self._client.send(
                    http_request, stream=True, follow_redirects=_follow_redirects(self._client, request)
                )
                try:
                    body = _body_for(request, raw)
                    if not raw.is_stream_consumed:
                        async for chunk in raw.aiter_raw():
                            body.feed(chunk)
                            if body.truncated:
                                break
                finally:
                    with anyio.CancelScope(shield=True):
                        await raw.aclose()
            except httpx.TransportError as error:
                log_failure(request, error, time.perf_counter() - started)
                failure = _connection_error(request, error, deadline)
        if scope.cancelled_caught:
            log_failure(request, TimeoutError(), time.perf_counter() - started)
            failure = deadline.error(request.method, request.url)
        if failure is not None:
            raise failure  # here, not in the except block: see the module's docstring
        response = _response(http_request, raw, body)
        log_response(request, response, time.perf_counter() - started)
        return response

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()
