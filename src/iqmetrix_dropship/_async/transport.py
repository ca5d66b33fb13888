"""The transport: carries a decided ``Request`` over httpx and brings back a ``Response``.

Nothing here decides anything. The body is read as a stream into a ``BoundedBody`` (the cap, the
decompression bomb, the cut of an oversized answer: ``_protocol/body.py``), under the call's
deadline; building the request and reading the answer are ``_httpx.py``'s, shared with the twin.
A transport may be shared between threads or tasks, as the httpx client under it may.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from .._concurrency import AsyncClosing, Closed, async_shield, async_within
from .._exceptions import APIConnectionError, ArgumentTypeError, ClientClosedError
from .._httpx import (
    SDK_HEADERS,
    Exchange,
    body_for,
    build,
    connection_error,
    follow_redirects,
    response_of,
    time_left,
)
from .._protocol.body import BoundedBody
from .._protocol.deadline import Deadline
from .._protocol.http import Request, Response, log_failure, log_response

__all__ = ["AsyncTransport"]


class AsyncTransport:
    def __init__(self, http_client: httpx.AsyncClient | None, timeout: Any) -> None:
        if http_client is not None and not isinstance(http_client, httpx.AsyncClient):
            # Refused here, not at the first request (an httpx.Client has no awaitable send, and the
            # other way round): the sync client takes an httpx.Client, the async one an AsyncClient.
            raise ArgumentTypeError(f"http_client must be an httpx.AsyncClient, got {type(http_client).__name__}")
        self._owns_client = http_client is None
        self._closing = AsyncClosing()  # set by aclose(): calls in flight stop waiting
        self._closed = False
        self._client = http_client or httpx.AsyncClient(timeout=timeout, follow_redirects=False, headers=SDK_HEADERS)

    async def send(self, request: Request, token: str | None, timeout: Any, deadline: Deadline) -> Response:
        if self._closed or self._client.is_closed:
            raise _closed(request)
        exchange = Exchange(
            build(self._client, request, token, timeout, own_client=self._owns_client, deadline=deadline)
        )
        started = time.perf_counter()
        failure: APIConnectionError | ClientClosedError | None = None
        try:
            raw, body = await async_within(
                deadline.remaining(), exchange.abort, lambda: self._exchange(exchange, request, deadline), self._closing
            )
        except Closed:  # closed while this call waited for its answer
            failure = _closed(request, sent=True)
        except TimeoutError:
            failure = deadline.error(request.method, request.url)
        except httpx.HTTPError as error:  # no answer, or none that counts (TooManyRedirects, ...)
            # Closing an async client ends its calls in flight with httpx's error: said as closed.
            failure = _closed(request, sent=True) if self._closed else connection_error(request, error, deadline)
        except RuntimeError:  # httpx's "the client has been closed", if it was closed meanwhile
            if not self._client.is_closed:
                raise
            failure = _closed(request)
        if failure is not None:
            log_failure(request, failure, time.perf_counter() - started)
            raise failure  # here, not in an except block: see _httpx.py's docstring
        response = response_of(exchange.http_request, raw, body)
        log_response(request, response, time.perf_counter() - started)
        return response

    async def _exchange(
        self, exchange: Exchange, request: Request, deadline: Deadline
    ) -> tuple[httpx.Response, BoundedBody]:
        raw = await self._client.send(
            exchange.http_request, stream=True, follow_redirects=follow_redirects(self._client, request)
        )
        exchange.opened(raw)
        try:
            body = body_for(request, raw)
            if not raw.is_stream_consumed:
                async for chunk in raw.aiter_raw():
                    body.feed(chunk)
                    if body.truncated:
                        break
                    time_left(request, deadline)
        finally:
            with async_shield():
                await raw.aclose()
        return raw, body

    async def aclose(self) -> None:
        self._closed = True
        self._closing.set()
        if self._owns_client:  # never close a client the caller gave us
            await self._client.aclose()


def _closed(request: Request, *, sent: bool = False) -> ClientClosedError:
    what = "closed while waiting for the answer, which was not read" if sent else "closed; nothing was sent"
    return ClientClosedError(f"{request.method} {request.url}: the client is {what}")
