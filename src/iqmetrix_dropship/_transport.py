"""The only module that speaks httpx: it carries a decided ``Request`` over the wire and brings back
a ``Response``. Nothing here decides anything; swapping the HTTP library means rewriting this file.

Bodies are read as a stream and decoded with a hard cap, so a compressed bomb (a few KB of gzip
that inflates to gigabytes) is refused after at most ``cap`` bytes of output, never inflated whole.
``SyncTransport`` and ``AsyncTransport`` may be shared between threads / tasks, as httpx clients may.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Mapping
from typing import Any

import httpx

from ._exceptions import APIConnectionError, APIError, APITimeoutError, FeedParseError
from ._protocol.http import Request, Response, log_failure, log_response, user_agent

__all__ = ["AsyncTransport", "SyncTransport"]

USER_AGENT = user_agent(f"httpx {httpx.__version__}")
# Only encodings we can inflate with a bound; we never ask for others (br, zstd).
_ACCEPT_ENCODING = "gzip, deflate"


class _BoundedBody:
    """Collects a body chunk by chunk, inflating gzip/deflate itself with ``max_length``."""

    def __init__(self, request: Request, status_code: int, encoding: str) -> None:
        self._request = request
        self._status = status_code
        self._cap = request.max_body_bytes
        self._parts: list[bytes] = []
        self._size = 0
        encoding = encoding.strip().lower()
        self._inflater: Any = None
        self._deflate = encoding == "deflate"
        if encoding in ("gzip", "x-gzip"):
            self._inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif self._deflate:
            self._inflater = zlib.decompressobj()  # zlib-wrapped; raw deflate handled below
        elif encoding not in ("", "identity"):
            raise self._error(f"unsupported Content-Encoding {encoding!r}")

    def _error(self, message: str) -> Exception:
        if self._request.purpose == "feed":
            return FeedParseError(message)
        return APIError(message, status_code=self._status, method=self._request.method, url=self._request.url)

    def _append(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self._cap:
            raise self._error(f"response body exceeds the {self._cap:,}-byte limit")
        if data:
            self._parts.append(data)

    def feed(self, chunk: bytes) -> None:
        if self._inflater is None:
            self._append(chunk)
            return
        try:
            data = self._inflater.decompress(chunk, self._cap - self._size + 1)
            self._append(data)
            while self._inflater.unconsumed_tail:
                data = self._inflater.decompress(self._inflater.unconsumed_tail, self._cap - self._size + 1)
                self._append(data)
        except zlib.error:
            if self._deflate and self._size == 0 and not self._parts:
                # Some servers send raw deflate for "deflate" (RFC 9110 8.4.1.2 says zlib).
                self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                self._deflate = False
                self.feed(chunk)
                return
            raise self._error("response body is not valid compressed data") from None

    def body(self) -> bytes:
        if self._inflater is not None:
            try:
                self._append(self._inflater.flush())
            except zlib.error:
                raise self._error("response body is not valid compressed data") from None
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


def _build(
    client: httpx.Client | httpx.AsyncClient, request: Request, token: str | None, timeout: Any, own_client: bool
) -> httpx.Request:
    return client.build_request(
        request.method,
        request.url,
        headers=_headers(request, token, own_client),
        json=request.json,
        data=dict(request.form) if request.form is not None else None,
        timeout=timeout,
    )


def _connection_error(request: Request, error: httpx.TransportError) -> APIConnectionError:
    cls = APITimeoutError if isinstance(error, httpx.TimeoutException) else APIConnectionError
    what = "timed out" if cls is APITimeoutError else f"failed: {type(error).__name__}"
    return cls(f"{request.method} {request.url} {what}", method=request.method, url=request.url)


def _response(http_request: httpx.Request, raw: httpx.Response, content: bytes) -> Response:
    detached: httpx.Response | None = None
    if not 200 <= raw.status_code < 300:
        # A readable copy for APIError.response (.text, .json()), the body already decoded.
        kept: Mapping[str, str] = {
            k: v for k, v in raw.headers.items() if k.lower() not in ("content-encoding", "content-length")
        }
        # Its request is a bare copy (method and URL): the real one carries the bearer token, or
        # for the token endpoint the password and client secret in its body.
        bare = httpx.Request(http_request.method, http_request.url)
        detached = httpx.Response(raw.status_code, headers=kept, content=content, request=bare)
    return Response(raw.status_code, raw.headers, content, raw.reason_phrase, detached)


class SyncTransport:
    def __init__(self, http_client: httpx.Client | None, timeout: Any) -> None:
        self._owns_client = http_client is None
        self._client = http_client or httpx.Client(timeout=timeout, follow_redirects=False, headers=_SDK_HEADERS)

    def send(self, request: Request, token: str | None, timeout: Any) -> Response:
        http_request = _build(self._client, request, token, timeout, self._owns_client)
        started = time.perf_counter()
        try:
            raw = self._client.send(http_request, stream=True)
            try:
                body = _body_for(request, raw)
                if not raw.is_stream_consumed:
                    for chunk in raw.iter_raw():
                        body.feed(chunk)
                content = body.body()
            finally:
                raw.close()
        except httpx.TransportError as error:
            log_failure(request, error, time.perf_counter() - started)
            raise _connection_error(request, error) from None
        response = _response(http_request, raw, content)
        log_response(request, response, time.perf_counter() - started)
        return response

    def close(self) -> None:
        if self._owns_client:  # never close a client the caller gave us
            self._client.close()


class AsyncTransport:
    def __init__(self, http_client: httpx.AsyncClient | None, timeout: Any) -> None:
        self._owns_client = http_client is None
        self._client = http_client or httpx.AsyncClient(timeout=timeout, follow_redirects=False, headers=_SDK_HEADERS)

    async def send(self, request: Request, token: str | None, timeout: Any) -> Response:
        http_request = _build(self._client, request, token, timeout, self._owns_client)
        started = time.perf_counter()
        try:
            raw = await self._client.send(http_request, stream=True)
            try:
                body = _body_for(request, raw)
                if not raw.is_stream_consumed:
                    async for chunk in raw.aiter_raw():
                        body.feed(chunk)
                content = body.body()
            finally:
                await raw.aclose()
        except httpx.TransportError as error:
            log_failure(request, error, time.perf_counter() - started)
            raise _connection_error(request, error) from None
        response = _response(http_request, raw, content)
        log_response(request, response, time.perf_counter() - started)
        return response

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()
