"""The HTTP face of an :class:`Emulator`: a Starlette app serving both hosts' paths on one port.

=============================================================  ==================================
``POST /v1/oauth2/token``                                      the accounts token endpoint
``GET  /v1/Suppliers({id})/Notifications``                     the current feed page
``GET  /v1/Suppliers({id})/Notifications/Pages({guid})``       any feed page, the current included
``PUT  /v1/Suppliers({id})/Orders({guid})/OrderStatusUpdate``  an order's status
``PUT  /v1/Suppliers({id})/Orders({guid})/ItemStatusUpdate``   some items' statuses
``/_emulator/...``                                             admin endpoints, no token needed
=============================================================  ==================================

Errors are the documented ones (the Supplier Orders API reference's "Errors", docs/traps.md 16): ``400`` with
``{"Message": ...}`` (the .NET Web API default: there is no documented JSON error schema),
``401`` plain text ``Invalid token``, ``404`` ``{"Message": "Not found"}``, ``429`` plain text
``rate limit exceeded`` with ``X-RateLimit-*`` headers. Paths match case-insensitively, as
ASP.NET routes do. The order of checks: route (404), method (405), injected faults, token (401),
rate limit (429), supplier id (400), then the request itself. Injected 500/503s and the rate
limit concern the supplier API only; added latency applies to every ``/v1`` request.

Every body is read with a cap (``_limits.py``): past it, ``413`` ``{"Message": ...}``. No request,
however malformed, gets a ``500`` other than an injected one: a bad value is a ``400`` that names
it, and changes nothing.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette import responses
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route

from ._checks import InvalidFieldError, boolean, integer, unknown_fields
from ._faults import FAULT_FIELDS, RateLimitResult
from ._limits import (
    MAX_ADMIN_BODY_BYTES,
    MAX_TOKEN_BODY_BYTES,
    MAX_UPDATE_BODY_BYTES,
    BodyTooLargeError,
    EntryTooLargeError,
    InvalidJsonError,
    parse_json,
    read_body,
)
from ._orders import MAX_ORDERS_PER_CALL, ORDER_FIELDS
from ._service import DropshipService, HasService
from ._tokens import TokenRefusedError
from ._updates import InvalidRequestError, normalize_guid

if TYPE_CHECKING:
    from ._records import Order

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


class JSONResponse(responses.JSONResponse):
    """Starlette's, except that a string UTF-8 cannot carry (a lone surrogate some request sent,
    quoted back in a 400) is written as a ``\\u`` escape instead of failing with a 500."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")


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


def _too_large(error: BodyTooLargeError | EntryTooLargeError, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"Message": str(error)}, status_code=413, headers=headers)


def create_app(emulator: DropshipService | HasService) -> Starlette:
    """A Starlette app over an ``Emulator`` (or any ``DropshipService``), for any ASGI server or
    ``httpx.ASGITransport``. The app talks to the service's interface only (``_service.py``)."""
    service = emulator.service if hasattr(emulator, "service") else emulator
    api = _SupplierApi(service)
    return Starlette(
        routes=[
            Mount("/_emulator", routes=_admin_routes(service)),
            Route("/{path:path}", api.dispatch, methods=_ALL_METHODS),
        ]
    )


class _SupplierApi:
    """Everything under ``/v1``: the token endpoint and the supplier API."""

    def __init__(self, service: DropshipService) -> None:
        self.service = service

    async def dispatch(self, request: Request) -> Response:
        service, path = self.service, request.url.path
        if service.latency > 0 and path[:4].lower() == "/v1/":
            await asyncio.sleep(service.latency)
        if _TOKEN_PATH.fullmatch(path):
            kind, response = "token", await self.token(request)
        elif api := _API_PATH.fullmatch(path):
            kind = "api"
            response = await self.supplier(request, api.group("supplier"), api.group("rest") or "")
        else:
            kind, response = "other", _not_found()
        service.record_request(kind, request.method, path, response.status_code)
        return response

    async def token(self, request: Request) -> Response:
        if request.method != "POST":
            return _method_not_allowed(request.method)
        headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        try:
            body = await read_body(request, MAX_TOKEN_BODY_BYTES)
        except BodyTooLargeError as too_large:
            return _too_large(too_large, headers)
        form: dict[str, str] = {}
        # Like the OAuth server it mimics, only a form body counts: a JSON body carries no
        # grant_type at all and so gets unsupported_grant_type.
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/x-www-form-urlencoded"):
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        try:
            answer = self.service.grant_token(form)
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
        # Compared as text, leading zeros aside: int() of a 5,000-digit id raises ValueError.
        if not (supplier.isascii() and supplier.isdigit()) or supplier.lstrip("0") != str(self.service.supplier_id):
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
        service = self.service
        fault = service.decide_fault()
        if fault.status == 503:
            headers = {"Retry-After": str(fault.retry_after)}
            return PlainTextResponse("Service Unavailable", 503, headers=headers), None
        if fault.status == 500:
            return _message(500, "An error has occurred."), None
        scheme, _, access_token = request.headers.get("authorization", "").partition(" ")
        access_token = access_token.strip()
        if scheme.lower() != "bearer" or not service.token_is_valid(access_token):
            headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            return PlainTextResponse("Invalid token", 401, headers=headers), None
        limit = service.rate_limit(access_token)
        if limit is not None and not limit.allowed:
            return PlainTextResponse("rate limit exceeded", 429, headers=limit.headers()), limit
        return None, limit

    def feed(self, page_id: str | None) -> Response:
        page = self.service.feed_page(page_id)
        if page is None:  # a malformed page id, or one no page has
            return _invalid_request()
        return Response(page, media_type=_ATOM)

    async def status_update(self, request: Request, update: re.Match[str]) -> Response:
        order_id = normalize_guid(update.group("order"))
        if order_id is None:
            return _invalid_request(f"The value '{update.group('order')}' is not valid.")
        order = self.service.find_order(order_id)
        if order is None:
            return _not_found()
        content_type = request.headers.get("content-type", "")
        if "json" not in content_type:
            return _message(
                415,
                f"The request entity's media type '{content_type}' is not supported for this resource.",
            )
        return await self.apply_update(request, order, order_level=update.group("kind").lower() == "orderstatusupdate")

    async def apply_update(self, request: Request, order: Order, *, order_level: bool) -> Response:
        """The body, read with its cap, checked, applied: ``202`` with the echo, or why not."""
        try:
            body = parse_json(await read_body(request, MAX_UPDATE_BODY_BYTES))
            apply = self.service.update_order if order_level else self.service.update_items
            echo = apply(order, body)
        except (BodyTooLargeError, EntryTooLargeError) as too_large:
            return _too_large(too_large)
        except InvalidRequestError as invalid:
            return JSONResponse(invalid.body(), status_code=400)
        except InvalidJsonError as invalid:
            return _invalid_request(str(invalid))
        return JSONResponse(echo, status_code=202)


async def _admin_body(request: Request) -> dict[str, Any]:
    """An admin request's JSON object; an empty body is ``{}``."""
    raw = await read_body(request, MAX_ADMIN_BODY_BYTES)
    body = parse_json(raw) if raw.strip() else {}
    if not isinstance(body, dict):
        raise TypeError("a JSON object is required")
    return body


def _admin_refusal(error: Exception) -> JSONResponse:
    if isinstance(error, BodyTooLargeError | EntryTooLargeError):
        return _too_large(error)
    if isinstance(error, InvalidFieldError):
        return _message(400, str(error), Field=error.field)
    return _message(400, str(error))


def _admin_routes(service: DropshipService) -> list[Route]:
    async def state(request: Request) -> Response:
        return JSONResponse(service.summary())

    async def orders(request: Request) -> Response:
        try:
            body = await _admin_body(request)
            unknown_fields(body, ("count", *ORDER_FIELDS))
            count = integer(body.pop("count", 1), "count", minimum=0, maximum=MAX_ORDERS_PER_CALL)
            if body and count != 1:
                raise InvalidFieldError("count", "order fields can only be given for a single order")
            order_ids = [service.place_order(**body) for _ in range(count)]
        except (BodyTooLargeError, ValueError, TypeError) as error:
            return _admin_refusal(error)
        return JSONResponse({"order_ids": order_ids}, status_code=201)

    async def order(request: Request) -> Response:
        try:
            return JSONResponse(service.order(request.path_params["order_id"]))
        except KeyError:
            return _not_found()

    async def entries(request: Request) -> Response:
        return JSONResponse({"entry_ids": service.entry_ids(), "page_ids": service.page_ids()})

    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            service.reset_faults()
            return JSONResponse(service.summary()["faults"])
        if request.method == "GET":
            return JSONResponse(service.summary()["faults"])
        try:
            body = await _admin_body(request)
            unknown_fields(body, ("reset", "expire_tokens", *FAULT_FIELDS))
            reset = boolean(body.pop("reset", False), "reset")
            expire_tokens = boolean(body.pop("expire_tokens", False), "expire_tokens")
            current, expired = service.change_faults(body, reset=reset, expire_tokens=expire_tokens)
        except (BodyTooLargeError, ValueError, TypeError) as error:
            return _admin_refusal(error)
        return JSONResponse({**current, "expired_tokens": expired})

    async def clock(request: Request) -> Response:
        try:
            body = await _admin_body(request)
            unknown_fields(body, ("advance",))
            service.advance_clock(body.get("advance", 0), "advance")
        except (BodyTooLargeError, ValueError, TypeError) as error:
            return _admin_refusal(error)
        return JSONResponse({"now": service.now()})

    return [
        Route("/state", state, methods=["GET"]),
        Route("/orders", orders, methods=["POST"]),
        Route("/orders/{order_id}", order, methods=["GET"]),
        Route("/entries", entries, methods=["GET"]),
        Route("/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/clock", clock, methods=["POST"]),
    ]
