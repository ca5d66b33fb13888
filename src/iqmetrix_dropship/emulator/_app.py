"""The HTTP face of an :class:`Emulator`: a Starlette app serving every host's paths on one port.

A client points its dropship, availability, product-library and accounts base URLs all at
``http://127.0.0.1:PORT/v1``.

=================================================================  ======================================
``POST   /v1/oauth2/token``                                        the accounts token endpoint
``GET    /v1/Suppliers({id})/Notifications``                       the current feed page
``GET    /v1/Suppliers({id})/Notifications/Pages({guid})``         any feed page, the current included
``PUT    /v1/Suppliers({id})/Orders({guid})/OrderStatusUpdate``    an order's status
``PUT    /v1/Suppliers({id})/Orders({guid})/ItemStatusUpdate``     some items' statuses
``POST   /v1/Suppliers({id})/Availability``                        availability per SKU: ``202``, echo + ``Id``
``GET    /v1/Suppliers({id})/SupplierSkus``                        the availability held, one row per SKU
``POST   /v1/Suppliers({id})/Cost``                                costs per SKU and company: ``202``, echo + ``Id``
``GET    /v1/ProductFeeds({feed})``                                the product feed and its products
``GET    /v1/ProductFeeds({feed})/Products``                       the feed's products
``POST   /v1/ProductFeeds({feed})/Products``                       add a product: ``200``, ``[product]``
``DELETE /v1/ProductFeeds({feed})/Products({product})``            remove a product: ``204``
``GET    /v1/ping``, ``GET /ping``                                 the health check, no token needed
``/_emulator/...``                                                 admin endpoints, no token needed
=================================================================  ======================================

Errors are the documented ones (the Supplier Orders API reference's "Errors", docs/traps.md 16): ``400`` with
``{"Message": ...}`` (the .NET Web API default: there is no documented JSON error schema),
``401`` plain text ``Invalid token``, ``404`` ``{"Message": "Not found"}`` (the product feed's:
``{"Message": "NotFound"}`` for a wrong feed or product id, supplier-apis.md), ``429`` plain text
``rate limit exceeded`` with ``X-RateLimit-*`` headers. Paths match case-insensitively, as
ASP.NET routes do. The order of checks: route (404), method (405), injected faults, token (401),
rate limit (429), supplier id (400 ``Cannot find supplier identifier in the uri``) or feed id
(404), then the request itself. Injected 500/503s and the rate limit concern the supplier API
and the product feed; added latency applies to every ``/v1`` request. The health check needs
no token, and meets neither the rate limit nor an injected 500/503.

Every body is read with a cap (``_limits.py``): past it, ``413`` ``{"Message": ...}``, and so are
more than 10,000 products in one ``Availability`` or ``Cost`` request (``_catalog.py``) or a full
product feed (``_products.py``). A body's media type must be JSON (``415``). No request, however
malformed, gets a ``500`` other than an injected one: a bad value is a ``400`` whose ``Message``
names it (``Products[0].Quantity: ...``, with .NET's ``ModelState`` beside it), and changes nothing.

Admin endpoints (``_admin_routes``): ``GET /_emulator/state``, ``POST /_emulator/orders``
(``201 {"order_ids"}``; with a shipping-options server, ``409`` when it refuses the order as out
of stock, with the ``Skus`` its answer names, and ``502`` when the call fails, e.g. "the
shipping-options server refused the credentials (401)"), ``GET /_emulator/orders/{id}``,
``GET /_emulator/entries``, ``GET|POST|DELETE /_emulator/faults``, ``POST /_emulator/clock``,
``GET /_emulator/availability``, ``GET /_emulator/costs``, ``GET /_emulator/products``,
``GET /_emulator/shipping`` (the shipping-options calls).
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette import responses
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route

from ._checks import InvalidFieldError, boolean, integer, unknown_fields
from ._faults import FAULT_FIELDS, RateLimitResult
from ._limits import (
    MAX_ADMIN_BODY_BYTES,
    MAX_CATALOG_BODY_BYTES,
    MAX_PRODUCT_BODY_BYTES,
    MAX_TOKEN_BODY_BYTES,
    MAX_UPDATE_BODY_BYTES,
    BodyTooLargeError,
    EntryTooLargeError,
    InvalidJsonError,
    RequestTooLargeError,
    parse_json,
    read_body,
)
from ._orders import MAX_ORDERS_PER_CALL, ORDER_FIELDS
from ._service import DropshipService, HasService
from ._shipping import OrderNotPlaced, OrderRefused
from ._tokens import TokenRefusedError
from ._updates import InvalidRequestError, normalize_guid

if TYPE_CHECKING:
    from collections.abc import Callable

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
_PING_PATH = re.compile(r"(?:/v1)?/ping/?", re.IGNORECASE)
_FEED_PATH = re.compile(r"/v1/ProductFeeds\((?P<feed>[^)/]*)\)(?P<rest>/.*)?", re.IGNORECASE)
_Routes = tuple[tuple[str, re.Pattern[str], tuple[str, ...]], ...]
_SUPPLIER_ROUTES: _Routes = (
    ("feed", _NOTIFICATIONS, ("GET",)),
    ("page", _PAGE, ("GET",)),
    ("update", _UPDATE, ("PUT",)),
    ("availability", re.compile(r"/Availability/?", re.IGNORECASE), ("POST",)),
    ("supplier_skus", re.compile(r"/SupplierSkus/?", re.IGNORECASE), ("GET",)),
    ("cost", re.compile(r"/Cost/?", re.IGNORECASE), ("POST",)),
)
_FEED_ROUTES: _Routes = (
    ("feed", re.compile(r"/?"), ("GET",)),
    ("products", re.compile(r"/Products/?", re.IGNORECASE), ("GET", "POST")),
    # No PUT: a product is changed by removing it and adding it again (supplier-apis.md).
    ("product", re.compile(r"/Products\((?P<product>[^)/]*)\)/?", re.IGNORECASE), ("DELETE",)),
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


def _too_large(
    error: BodyTooLargeError | EntryTooLargeError | RequestTooLargeError, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"Message": str(error)}, status_code=413, headers=headers)


def _invalid_field(error: InvalidFieldError) -> JSONResponse:
    """A ``400`` whose ``Message`` names the field, with .NET's ``ModelState`` beside it."""
    return _message(400, str(error), ModelState={error.field: [error.reason]})


def _route(routes: _Routes, rest: str) -> tuple[str, re.Match[str], tuple[str, ...]] | None:
    for name, pattern, methods in routes:
        if match := pattern.fullmatch(rest):
            return name, match, methods
    return None


def _names_id(text: str, expected: int) -> bool:
    """Whether a path's key is ``expected``; compared as text, leading zeros aside: int() of a
    5,000-digit id raises ValueError."""
    return text.isascii() and text.isdigit() and text.lstrip("0") == str(expected)


def _wants_json(request: Request) -> Response | None:
    content_type = request.headers.get("content-type", "")
    if "json" in content_type:
        return None
    return _message(415, f"The request entity's media type '{content_type}' is not supported for this resource.")


def create_app(emulator: DropshipService | HasService) -> Starlette:
    """A Starlette app over an ``Emulator`` (or any ``DropshipService``), for any ASGI server or
    ``httpx.ASGITransport``. The app talks to the service's interface only (``_service.py``)."""
    service = emulator.service if hasattr(emulator, "service") else emulator
    api = _SupplierApi(service)
    return Starlette(
        routes=[
            Mount("/_emulator", routes=_admin_routes(service)),
            Route("/{path:path}", api.dispatch, methods=_ALL_METHODS),
        ],
        # A client gone while its body was read (a cancelled call) is nobody's error to log.
        exception_handlers={ClientDisconnect: _client_gone},
    )


async def _client_gone(request: Request, error: Exception) -> Response:
    return Response(status_code=499)  # never delivered: the client is gone


class _SupplierApi:
    """Everything under ``/v1`` (and ``/ping``): the token endpoint, the supplier API, the product
    feed and the health check."""

    def __init__(self, service: DropshipService) -> None:
        self.service = service

    async def dispatch(self, request: Request) -> Response:
        service, path = self.service, request.url.path
        if service.latency > 0 and path[:4].lower() == "/v1/":
            await asyncio.sleep(service.latency)
        if _TOKEN_PATH.fullmatch(path):
            kind, response = "token", await self.token(request)
        elif _PING_PATH.fullmatch(path):
            kind, response = "ping", self.ping(request)
        elif api := _API_PATH.fullmatch(path):
            kind = "api"
            response = await self.supplier(request, api.group("supplier"), api.group("rest") or "")
        elif feed := _FEED_PATH.fullmatch(path):
            kind = "api"
            response = await self.product_feed(request, feed.group("feed"), feed.group("rest") or "")
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

    def ping(self, request: Request) -> Response:
        """The health check (supplier-apis.md, "Hosts"): no token, no rate limit, no injected fault."""
        if request.method != "GET":
            return _method_not_allowed(request.method)
        return JSONResponse(self.service.ping())

    async def supplier(self, request: Request, supplier: str, rest: str) -> Response:
        route = _route(_SUPPLIER_ROUTES, rest)
        if route is None:
            return _not_found()
        name, match, methods = route
        if request.method not in methods:
            return _method_not_allowed(request.method)
        refusal, limit = self.gate(request)
        if refusal is not None:
            return refusal
        response: Response
        if not _names_id(supplier, self.service.supplier_id):
            response = _message(400, "Cannot find supplier identifier in the uri")
        elif name in ("feed", "page"):
            response = self.feed(match.group("page") if name == "page" else None)
        elif name == "update":
            response = await self.status_update(request, match)
        elif name == "supplier_skus":
            response = JSONResponse(self.service.supplier_skus())
        else:
            push = self.service.push_availability if name == "availability" else self.service.push_costs
            response = await self.push(request, push)
        if limit is not None:
            response.headers.update(limit.headers())
        return response

    async def push(self, request: Request, push: Callable[[object], dict[str, Any]]) -> Response:
        """An ``Availability`` or ``Cost`` body, its numbers read as ``Decimal``: ``202`` with the echo."""
        if (wrong_type := _wants_json(request)) is not None:
            return wrong_type
        try:
            echo = push(parse_json(await read_body(request, MAX_CATALOG_BODY_BYTES), decimals=True))
        except (BodyTooLargeError, RequestTooLargeError) as too_large:
            return _too_large(too_large)
        except InvalidJsonError as invalid:
            return _invalid_request(str(invalid))
        except InvalidFieldError as invalid:
            return _invalid_field(invalid)
        return JSONResponse(echo, status_code=202)

    async def product_feed(self, request: Request, feed_id: str, rest: str) -> Response:
        route = _route(_FEED_ROUTES, rest)
        if route is None:
            return _not_found()
        name, match, methods = route
        if request.method not in methods:
            return _method_not_allowed(request.method)
        refusal, limit = self.gate(request)
        if refusal is not None:
            return refusal
        service = self.service
        response: Response
        if not _names_id(feed_id, service.product_feed_id):
            response = _message(404, "NotFound")
        elif name == "feed":
            response = JSONResponse(service.product_feed())
        elif name == "products" and request.method == "GET":
            response = JSONResponse(service.products())
        elif name == "products":
            response = await self.add_products(request)
        else:
            product_id = match.group("product")
            found = product_id.isascii() and product_id.isdigit() and len(product_id) <= 10
            if found and service.remove_product(int(product_id)):
                response = Response(status_code=204)
            else:
                response = _message(404, "NotFound")
        if limit is not None:
            response.headers.update(limit.headers())
        return response

    async def add_products(self, request: Request) -> Response:
        if (wrong_type := _wants_json(request)) is not None:
            return wrong_type
        try:
            stored = self.service.add_products(parse_json(await read_body(request, MAX_PRODUCT_BODY_BYTES)))
        except (BodyTooLargeError, RequestTooLargeError) as too_large:
            return _too_large(too_large)
        except InvalidJsonError as invalid:
            return _invalid_request(str(invalid))
        except InvalidFieldError as invalid:
            return _invalid_field(invalid)
        return JSONResponse(stored)

    def gate(self, request: Request) -> tuple[Response | None, RateLimitResult | None]:
        """Injected faults, then the token (401), then the rate limit (429)."""
        service = self.service
        fault = service.decide_fault()
        if fault.status == 503:
            headers = {"Retry-After": str(fault.retry_after)}
            return PlainTextResponse("Service Unavailable", 503, headers=headers), None
        if fault.status == 500:
            return _message(500, "An error has occurred."), None
        if fault.status == 429:  # the rate limiter on cue (faults' "throttled")
            throttled = RateLimitResult(False, 0, 0, service.now() + fault.retry_after, fault.retry_after)
            return PlainTextResponse("rate limit exceeded", 429, headers=throttled.headers()), None
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
        if (wrong_type := _wants_json(request)) is not None:
            return wrong_type
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


def _not_placed(error: OrderNotPlaced) -> JSONResponse:
    """``409`` for an order the supplier refused as out of stock (a fact about its stock, not a bad
    request); ``502`` when the call to its shipping-options server failed (a bad gateway)."""
    extra: dict[str, Any] = {
        "OrderId": error.order_id,
        "Status": error.status,
        "Body": error.body,
        "PlacedOrderIds": error.placed_order_ids,
    }
    if isinstance(error, OrderRefused):
        return _message(409, error.message, Skus=list(error.skus), **extra)
    return _message(502, error.message, **extra)


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
            # In a worker thread: with a shipping-options server, placing an order waits on its answer.
            order_ids = await run_in_threadpool(service.place_orders, count, body)
        except OrderNotPlaced as not_placed:
            return _not_placed(not_placed)
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

    async def availability(request: Request) -> Response:
        return JSONResponse(service.stored_availability())

    async def costs(request: Request) -> Response:
        return JSONResponse(service.stored_costs())

    async def products(request: Request) -> Response:
        return JSONResponse(service.product_feed())

    async def shipping(request: Request) -> Response:
        return JSONResponse(service.shipping_log())

    return [
        Route("/state", state, methods=["GET"]),
        Route("/availability", availability, methods=["GET"]),
        Route("/costs", costs, methods=["GET"]),
        Route("/products", products, methods=["GET"]),
        Route("/shipping", shipping, methods=["GET"]),
        Route("/orders", orders, methods=["POST"]),
        Route("/orders/{order_id}", order, methods=["GET"]),
        Route("/entries", entries, methods=["GET"]),
        Route("/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/clock", clock, methods=["POST"]),
    ]
