"""``create_app``: the handler served as a Starlette (ASGI) app, for uvicorn or any ASGI server.

The body is read in chunks and given up as soon as it passes the size cap: a client cannot make
the server hold more than ``max_body_bytes``. Credentials are checked before any of it is read.
Needs the ``shipping-options`` extra (starlette, uvicorn).
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from .._exceptions import ConfigurationError
from ._answers import Answer, message_answer
from ._core import ShippingOptionsHandler

__all__ = ["HEALTH_PATH", "build_app"]

HEALTH_PATH = "/healthz"

_HEALTHY = Answer(200, {"Content-Type": "application/json", "Cache-Control": "no-store"}, b'{"Status": "ok"}')


def _route_key(path: str) -> str:
    # ASP.NET routes ignore case and a trailing slash; a caller written against one may vary both.
    return path.rstrip("/").casefold()


async def _read_capped(request: Request, cap: int) -> bytes | None:
    """The body, or ``None`` once it passes ``cap`` bytes (the rest is never read)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


class _Endpoint:
    """A raw ASGI endpoint: every method reaches it, so that a GET is answered 405, not 404."""

    def __init__(self, handler: ShippingOptionsHandler, path: str) -> None:
        self.handler = handler
        self.path = _route_key(path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            answer = await self._answer(request)
        except ClientDisconnect:
            return  # nobody left to answer
        response = Response(answer.body, status_code=answer.status, headers=answer.headers)
        await response(scope, receive, send)

    async def _answer(self, request: Request) -> Answer:
        route = _route_key("/" + request.path_params.get("rest", ""))
        if route == _route_key(HEALTH_PATH) and request.method in ("GET", "HEAD"):
            return _HEALTHY
        if route != self.path:
            return message_answer(404, "No resource at this path.")
        refused = self.handler.check_request(request.method, request.headers)
        if refused is not None:
            return refused
        body = await _read_capped(request, self.handler.max_body_bytes)
        query = self.handler.read_query(body) if body is not None else self.handler._too_large()
        if isinstance(query, Answer):
            return query
        return await self.handler._answer_async(query)


def build_app(handler: ShippingOptionsHandler, path: str) -> Starlette:
    if not isinstance(path, str) or not path.startswith("/") or _route_key(path) in ("", _route_key(HEALTH_PATH)):
        raise ConfigurationError(
            f"path must start with '/' and name the endpoint, like '/ShippingOptions', not {path!r}"[:200]
        )
    return Starlette(routes=[Route("/{rest:path}", _Endpoint(handler, path))])
