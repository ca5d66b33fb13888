"""A local twin of iQmetrix's Dropship Supplier Orders API, for tests, demos and benchmarks.

It serves, on one port, the accounts token endpoint (``/v1/oauth2/token``) and the supplier
API (``/v1/Suppliers({id})/...``): the paged Atom notification feed and the two status-update
PUTs, with the documented errors, rate limiting and injectable faults. A seeded retailer fills
it with synthetic orders and places new ones on demand. ::

    from iqmetrix_dropship.emulator import Emulator

    emulator = Emulator(orders=120, seed=7)
    with emulator.serve() as server:
        server.base_url            # "http://127.0.0.1:54321/v1": base_url and accounts_url
        emulator.credentials       # supplier_id, client_id, client_secret, username, password
        emulator.place_order()

From a shell: ``python -m iqmetrix_dropship.emulator --port 8080 --orders 500``.
Admin endpoints (no token): ``GET /_emulator/state``, ``POST /_emulator/orders``,
``GET /_emulator/orders/{id}``, ``GET /_emulator/entries``, ``GET|POST|DELETE /_emulator/faults``,
``POST /_emulator/clock``.

Needs the ``emulator`` extra: ``pip install 'iqmetrix-dropship[emulator]'``.
"""

from ._app import create_app
from ._config import DEFAULT_PUBLIC_HOST, PAGE_SIZE, Credentials, EmulatorConfig
from ._emulator import Emulator
from ._server import EmulatorServer
from ._transport import EmulatorTransport

__all__ = [
    "DEFAULT_PUBLIC_HOST",
    "PAGE_SIZE",
    "Credentials",
    "Emulator",
    "EmulatorConfig",
    "EmulatorServer",
    "EmulatorTransport",
    "create_app",
]
