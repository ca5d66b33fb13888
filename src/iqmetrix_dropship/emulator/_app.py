"""The HTTP face of an :class:`Emulator`: a Starlette app serving both hosts' paths on one port.

=============================================================  ==================================
``POST /v1/oauth2/token``                                      the accounts token endpoint
``GET  /v1/Suppliers({id})/Notifications``                     the current feed page
``GET  /v1/Suppliers({id})/Notifications/Pages({guid})``       any feed page, the current included
``PUT  /v1/Suppliers({id})/Orders({guid})/OrderStatusUpdate``  an order's status
``PUT  /v1/Suppliers({id})/Orders({guid})/ItemStatusUpdate``   some items' statuses
``/_emulator/...``                                             admin endpoints, no token needed
=============================================================  ==================================

Errors are the documented ones (supplier-orders-api.md "Errors", traps.md 16): ``400`` with
``{"Message": ...}`` (the .NET Web API default: there is no documented JSON error schema),
``401`` plain text ``Invalid token``, ``404`` ``{"Message": "Not found"}``, ``429`` plain text
``rate limit exceeded`` with ``X-RateLimit-*`` headers. Paths match case-insensitively, as
ASP.NET routes do. The order of checks: route (404), method (405), injected faults, token (401),
rate limit (429), supplier id (400), then the request itself. Injected 500/503s and the rate
limit concern the supplier API only; added latency applies to every ``/v1`` request.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route

from ._faults import RateLimitResult
from ._tokens import TokenRefusedError
from ._updates import InvalidRequestError, normalize_guid

if TYPE_CHECKING:
    from ._emulator import Emulator

__all__ = ["create_app"]

_TOKEN_PATH = re.compile(r"/v1/oauth2/token/?", re.IGNORECASE)
_API_PATH = re.compile(r"/v1/Suppliers\((?P<supplier>[^)/]*)\)(?P<rest>/.*)?", re.IGNORECASE)
_NOTIFICATIONS = re.compile(r"/Notifications/?", re.IGNORECASE)
_PAGE = re.compile(r"/Notifications/Pages\((?P<page>[^)/]*)\)/?", re.IGNORECASE)
_UPDATE = re.compile(
    r"/Orders\((?P<order>[^)/]*)\)/(?P<kind>OrderStatusUpdate|ItemStatusUpdate)/?",
    re.IGNORECASE,
)
_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
_ATOM = "application/atom+xml"


def _message(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"Message": message, **extra}, status_code=status)


def _not_found() -> JSONResponse:
    return _message(404, "Not found")


def _method_not_allowed(method: str) -> JSONResponse:
    return _message(405, f"The requested resource does not support http method '{method}'.")


def _invalid_request(reason: str | None = None) -> JSONResponse:
    if reason is None:
        return _message(400, "The request is invalid")
    return _message(400, "The request is invalid", ModelState={"": [reason]})


def create_app(emulator: Emulator) -> Starlette:
    """A Starlette app over ``emulator`` (for any ASGI server or ``httpx.ASGITransport``)."""
    api = _SupplierApi(emulator)
    return Starlette(
        routes=[
            Mount("/_emulator", routes=_admin_routes(emulator)),
            Route("/{path:path}", api.dispatch, methods=_ALL_METHODS),
        ]
    )


class _SupplierApi:
    """Everything under ``/v1``: the token endpoint and the supplier API."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    async def dispatch(self, request: Request) -> Response:
        emulator, path = self.emulator, request.url.path
        if emulator._latency > 0 and path[:4].lower() == "/v1/":
            await asyncio.sleep(emulator._latency)
        if _TOKEN_PATH.fullmatch(path):
            kind, response = "token", await self.token(request)
        elif api := _API_PATH.fullmatch(path):
            kind = "api"
            response = await self.supplier(request, api.group("supplier"), api.group("rest") or "")
        else:
            kind, response = "other", _not_found()
        emulator._log(kind, request.method, path, response.status_code)
        return response

    async def token(self, request: Request) -> Response:
        if request.method != "POST":
            return _method_not_allowed(request.method)
        body = await request.body()
        form: dict[str, str] = {}
        # Like the OAuth server it mimics, only a form body counts: a JSON body carries no
        # grant_type at all and so gets unsupported_grant_type.
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/x-www-form-urlencoded"):
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        try:
            answer = self.emulator._grant_token(form)
        except TokenRefusedError as refused:
            return JSONResponse(refused.body(), status_code=400, headers=headers)
        return JSONResponse(answer, headers=headers)

    async def supplier(self, request: Request, supplier: str, rest: str) -> Response:
        page = _PAGE.fullmatch(rest)
        update = _UPDATE.fullmatch(rest)
        if not (update or page or _NOTIFICATIONS.fullmatch(rest)):
            return _not_found()
        if request.method != ("PUT" if update else "GET"):
            return _method_not_allowed(request.method)
        refusal, limit = self.gate(request)
        if refusal is not None:
            return refusal
        if not (supplier.isascii() and supplier.isdigit()) or int(supplier) != self.emulator.supplier_id:
            response: Response = _message(400, "Cannot find supplier identifier in the uri")
        elif update is None:
            response = self.feed(page.group("page") if page else None)
        else:
            response = await self.status_update(request, update)
        if limit is not None:
            response.headers.update(limit.headers())
        return response

    def gate(self, request: Request) -> tuple[Response | None, RateLimitResult | None]:
        """Injected faults, then the token (401), then the rate limit (429)."""
        emulator = self.emulator
        fault = emulator._decide_fault()
        if fault.status == 503:
            headers = {"Retry-After": str(fault.retry_after)}
            return PlainTextResponse("Service Unavailable", 503, headers=headers), None
        if fault.status == 500:
            return _message(500, "An error has occurred."), None
        scheme, _, access_token = request.headers.get("authorization", "").partition(" ")
        access_token = access_token.strip()
        if scheme.lower() != "bearer" or not emulator._token_is_valid(access_token):
            headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            return PlainTextResponse("Invalid token", 401, headers=headers), None
        limit = emulator._rate_limit(access_token)
        if limit is not None and not limit.allowed:
            return PlainTextResponse("rate limit exceeded", 429, headers=limit.headers()), limit
        return None, limit

    def feed(self, page_id: str | None) -> Response:
        page = self.emulator._feed_page(page_id)
        if page is None:  # a malformed page id, or one no page has
            return _invalid_request()
        return Response(page, media_type=_ATOM)

    async def status_update(self, request: Request, update: re.Match[str]) -> Response:
        order_id = normalize_guid(update.group("order"))
        if order_id is None:
            return _invalid_request(f"The value '{update.group('order')}' is not valid.")
        order = self.emulator._find_order(order_id)
        if order is None:
            return _not_found()
        content_type = request.headers.get("content-type", "")
        if "json" not in content_type:
            return _message(
                415,
                f"The request entity's media type '{content_type}' is not supported for this resource.",
            )
        try:
            body = json.loads(await request.body())
            if update.group("kind").lower() == "orderstatusupdate":
                echo = self.emulator._update_order(order, body)
            else:
                echo = self.emulator._update_items(order, body)
        except InvalidRequestError as invalid:
            return JSONResponse(invalid.body(), status_code=400)
        except ValueError:
            return _invalid_request("The request body is not valid JSON.")
        return JSONResponse(echo, status_code=202)


def _admin_routes(emulator: Emulator) -> list[Route]:
    async def state(request: Request) -> Response:
        return JSONResponse(emulator.summary())

    async def orders(request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw.strip() else {}
            if not isinstance(body, dict):
                raise TypeError("a JSON object is required")
            count = body.pop("count", 1)
            if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 10_000:
                raise ValueError("count must be an integer from 0 to 10000")
            if body and count != 1:
                raise ValueError("order fields can only be given for a single order")
            order_ids = [emulator.place_order(**body) for _ in range(count)]
        except (ValueError, TypeError) as error:
            return JSONResponse({"Message": str(error)}, status_code=400)
        return JSONResponse({"order_ids": order_ids}, status_code=201)

    async def order(request: Request) -> Response:
        try:
            return JSONResponse(emulator.order(request.path_params["order_id"]))
        except KeyError:
            return _not_found()

    async def entries(request: Request) -> Response:
        return JSONResponse({"entry_ids": emulator.entry_ids(), "page_ids": emulator.page_ids()})

    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            emulator.reset_faults()
            return JSONResponse(emulator.summary()["faults"])
        if request.method == "GET":
            return JSONResponse(emulator.summary()["faults"])
        try:
            body = json.loads(await request.body() or b"{}")
            if not isinstance(body, dict):
                raise TypeError("a JSON object is required")
            if body.pop("reset", False):
                emulator.reset_faults()
            expired = emulator.expire_tokens() if body.pop("expire_tokens", False) else 0
            current = emulator.set_faults(**body)
        except (ValueError, TypeError) as error:
            return JSONResponse({"Message": str(error)}, status_code=400)
        return JSONResponse({**current, "expired_tokens": expired})

    async def clock(request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"{}")
            emulator.advance_clock(float(body.get("advance", 0)))
        except (ValueError, TypeError, AttributeError) as error:
            return JSONResponse({"Message": str(error)}, status_code=400)
        return JSONResponse({"now": emulator.now()})

    return [
        Route("/state", state, methods=["GET"]),
        Route("/orders", orders, methods=["POST"]),
        Route("/orders/{order_id}", order, methods=["GET"]),
        Route("/entries", entries, methods=["GET"]),
        Route("/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/clock", clock, methods=["POST"]),
    ]
