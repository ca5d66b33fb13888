"""In-process httpx transports: a client talks to the emulator's app with no socket at all.

``httpx.ASGITransport`` only serves ``httpx.AsyncClient``; :class:`EmulatorTransport` gives a
plain ``httpx.Client`` the same, by running each request on a fresh event loop.
"""

from __future__ import annotations

import asyncio

import httpx
from starlette.types import ASGIApp

__all__ = ["EmulatorTransport"]


class EmulatorTransport(httpx.BaseTransport):
    """A sync transport over an ASGI app. Not for use inside a running event loop.

    ::

        client = httpx.Client(transport=EmulatorTransport(create_app(emulator)),
                              base_url="http://emulator/v1")
    """

    def __init__(self, app: ASGIApp) -> None:
        self._asgi = httpx.ASGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()

        async def call() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            forwarded = httpx.Request(request.method, request.url, headers=request.headers, content=body)
            response = await self._asgi.handle_async_request(forwarded)
            return response.status_code, response.headers.raw, await response.aread()

        status_code, headers, content = asyncio.run(call())
        return httpx.Response(status_code, headers=headers, content=content, request=request)
