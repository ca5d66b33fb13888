"""A local twin of the supplier side of iQmetrix's Dropship program, for tests, demos and benchmarks.

It serves, on one port, the accounts token endpoint (``/v1/oauth2/token``), the supplier
API (``/v1/Suppliers({id})/...``: the paged Atom notification feed, the two status-update PUTs,
availability, ``SupplierSkus`` and the cost feed), the product feed (``/v1/ProductFeeds({id})``)
and the health check (``/v1/ping``), with the documented errors, rate limiting and injectable
faults. A seeded retailer fills it with synthetic orders and places new ones on demand; given
the URL of the supplier's shipping-options server, it asks that server for options before
placing each new order, as iQmetrix does. ::

    from iqmetrix_dropship.emulator import Emulator

    emulator = Emulator(orders=120, seed=7)
    with emulator.serve() as server:
        server.base_url            # "http://127.0.0.1:54321/v1": base_url and accounts_url
        emulator.credentials       # supplier_id, client_id, client_secret, username, password
        emulator.place_order()

From a shell: ``python -m iqmetrix_dropship.emulator --port 8080 --orders 500``.
Admin endpoints (no token): ``GET /_emulator/state``, ``POST /_emulator/orders``,
``GET /_emulator/orders/{id}``, ``GET /_emulator/entries``, ``GET|POST|DELETE /_emulator/faults``,
``POST /_emulator/clock``, ``GET /_emulator/availability``, ``GET /_emulator/costs``,
``GET /_emulator/products``, ``GET /_emulator/shipping``.

Needs the ``emulator`` extra: ``pip install 'iqmetrix-dropship[emulator]'``.
"""

from ._app import create_app
from ._catalog import SkuAvailability
from ._config import DEFAULT_PUBLIC_HOST, PAGE_SIZE, Credentials, EmulatorConfig, ShippingEndpoint
from ._emulator import Emulator
from ._server import EmulatorServer
from ._shipping import (
    OrderNotPlaced,
    OrderRefused,
    ShippingCall,
    ShippingOption,
    ShippingOptionsError,
    cheapest,
)
from ._transport import EmulatorTransport

__all__ = [
    "DEFAULT_PUBLIC_HOST",
    "PAGE_SIZE",
    "Credentials",
    "Emulator",
    "EmulatorConfig",
    "EmulatorServer",
    "EmulatorTransport",
    "OrderNotPlaced",
    "OrderRefused",
    "ShippingCall",
    "ShippingEndpoint",
    "ShippingOption",
    "ShippingOptionsError",
    "SkuAvailability",
    "cheapest",
    "create_app",
]
