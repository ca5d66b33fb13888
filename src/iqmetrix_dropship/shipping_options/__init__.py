"""The shipping-options server kit: the ``POST /ShippingOptions`` endpoint a supplier hosts and
iQmetrix calls at checkout, around one function of the supplier's. ::

    from decimal import Decimal
    from iqmetrix_dropship.shipping_options import BasicAuth, OutOfStock, ShippingOption, create_app

    def quote(query):                       # a ShippingQuery: company_id, postal_code, items
        if any(item.sku == "GONE-1" for item in query.items):
            raise OutOfStock("GONE-1")      # 400 naming the sku: the order is stopped
        return [ShippingOption(id="350", name="PurolatorExpress", cost=Decimal("7.94"), currency="CAD")]

    app = create_app(quote, auth=BasicAuth("iqmetrix", password))   # then: uvicorn module:app

Or from a shell: ``dropship shipping-options serve --app module:quote``. Under FastAPI, Flask or
Django, ``ShippingOptionsHandler(quote, auth=...).handle(method, headers, body)`` gives the answer
to send. See docs/guides/shipping-options.md.

Everything here works without starlette except ``create_app`` (the ``shipping-options`` extra).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._answers import Answer
from ._auth import ApiKeyAuth, BasicAuth
from ._core import MAX_BODY_BYTES, Quote, ShippingOptionsHandler
from ._models import OutOfStock, ShippingItem, ShippingOption, ShippingQuery

if TYPE_CHECKING:
    from starlette.applications import Starlette

__all__ = [
    "MAX_BODY_BYTES",
    "Answer",
    "ApiKeyAuth",
    "BasicAuth",
    "OutOfStock",
    "Quote",
    "ShippingItem",
    "ShippingOption",
    "ShippingOptionsHandler",
    "ShippingQuery",
    "create_app",
]


def create_app(
    quote: Quote,
    *,
    auth: BasicAuth | ApiKeyAuth | None,
    path: str = "/ShippingOptions",
    max_body_bytes: int = MAX_BODY_BYTES,
) -> Starlette:
    """A Starlette (ASGI) app answering ``POST {path}`` with ``quote``; serve it with uvicorn.

    ``auth`` is required: ``BasicAuth(username, password)``, ``ApiKeyAuth(key, header="Api-Key")``,
    or ``None`` to check no credentials at all (iQmetrix always sends them: ``None`` is for a server
    behind a gateway that checks them). ``path`` is matched whatever its case and a trailing slash.
    ``GET /healthz`` answers ``200 {"Status": "ok"}`` without credentials, for a load balancer;
    any other path is ``404``. ``quote`` may be a function (run in a worker thread, so that it
    never blocks the event loop) or an ``async def``. The app may serve any number of concurrent
    requests; it holds no state between them.
    """
    handler = ShippingOptionsHandler(quote, auth=auth, max_body_bytes=max_body_bytes)
    try:
        from ._asgi import build_app  # noqa: PLC0415 - starlette is an optional extra
    except ImportError as error:
        raise ImportError(
            f"create_app needs its extra ({error.name} is missing): pip install 'iqmetrix-dropship[shipping-options]'"
        ) from error
    return build_app(handler, path)
