"""``python -m iqmetrix_dropship.emulator``: run the emulator until Ctrl-C or SIGTERM.

Once listening it prints its base URL (``http://127.0.0.1:8080/v1``) on a line of its own and
flushes, so that another process can read the port from its output.

The supplier's shipping-options server: ``--shipping-options-url URL``, with HTTP Basic
(``--shipping-options-username NAME`` and the password in the environment variable
``DROPSHIP_EMULATOR_SHIPPING_PASSWORD``) or an API key (the environment variable
``DROPSHIP_EMULATOR_SHIPPING_API_KEY``, sent in ``--shipping-options-api-key-header``, default
``Api-Key``). Secrets come from the environment only: a command line is visible to every user
of the machine (``ps``). They are never printed.
"""

from __future__ import annotations

import argparse
import gc
import os
import signal
import sqlite3
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import TypedDict

from ._config import (
    DEFAULT_API_KEY_HEADER,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_ORDERS,
    DEFAULT_PASSWORD,
    DEFAULT_PRODUCT_FEED_ID,
    DEFAULT_PUBLIC_HOST,
    DEFAULT_SHIPPING_TIMEOUT,
    DEFAULT_SUPPLIER_ID,
    DEFAULT_USERNAME,
    TOKEN_LIFETIME,
    EmulatorConfig,
)
from ._emulator import Emulator

SHIPPING_PASSWORD_ENV = "DROPSHIP_EMULATOR_SHIPPING_PASSWORD"  # noqa: S105 - the variable's name, not a secret
SHIPPING_API_KEY_ENV = "DROPSHIP_EMULATOR_SHIPPING_API_KEY"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m iqmetrix_dropship.emulator",
        description="A local twin of iQmetrix's Dropship Supplier Orders API. "
        "Point a client's base_url and accounts_url at the printed base URL.",
    )
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="interface to bind (default: %(default)s)")
    add("--port", type=_port, default=8080, help="port; 0 picks a free one (default: %(default)s)")
    add("--orders", type=int, default=None, help=f"seeded orders (default: {DEFAULT_ORDERS})")
    add("--events", type=int, default=None, help="seeded events in all (orders + updates)")
    add("--seed", type=int, default=0, help="seed of all synthetic data (default: %(default)s)")
    add("--supplier-id", type=int, default=DEFAULT_SUPPLIER_ID)
    add("--client-id", default=DEFAULT_CLIENT_ID)
    add("--client-secret", default=DEFAULT_CLIENT_SECRET)
    add("--username", default=DEFAULT_USERNAME)
    add("--password", default=DEFAULT_PASSWORD)
    add("--public-host", default=DEFAULT_PUBLIC_HOST, help="host named by feed link hrefs")
    add("--db", default=None, help="SQLite file to keep the state in across restarts")
    add("--token-lifetime", type=int, default=TOKEN_LIFETIME, help="access token seconds")
    add("--rate-limit", type=int, default=None, help="requests allowed per window (default: off)")
    add("--rate-limit-window", type=float, default=60.0, help="seconds (default: %(default)s)")
    add("--rate-limit-scope", choices=("token", "global"), default="token")
    add("--latency", type=float, default=0.0, help="seconds added to every /v1 request")
    add("--error-rate", type=float, default=0.0, help="share of API requests answered 500")
    add("--product-feed-id", type=int, default=DEFAULT_PRODUCT_FEED_ID, help="(default: %(default)s)")
    add(
        "--shipping-options-url",
        default=None,
        help="the supplier's shipping-options endpoint, asked before each new order is placed",
    )
    add(
        "--shipping-options-username",
        default=None,
        help=f"HTTP Basic user name; the password is read from ${SHIPPING_PASSWORD_ENV}",
    )
    add(
        "--shipping-options-api-key-header",
        default=DEFAULT_API_KEY_HEADER,
        help=f"the header of the API key read from ${SHIPPING_API_KEY_ENV} (default: %(default)s)",
    )
    add("--shipping-options-timeout", type=float, default=DEFAULT_SHIPPING_TIMEOUT, help="seconds")
    return parser


class _ShippingSettings(TypedDict, total=False):
    shipping_options_url: str
    shipping_options_username: str | None
    shipping_options_password: str | None
    shipping_options_api_key: str | None
    shipping_options_api_key_header: str
    shipping_options_timeout: float


def _shipping_settings(args: argparse.Namespace) -> _ShippingSettings:
    """The shipping-options settings, secrets from the environment (read only with a URL given)."""
    if args.shipping_options_url is None:
        if args.shipping_options_username is not None:
            raise ValueError("--shipping-options-username needs --shipping-options-url")
        return {}
    password = os.environ.get(SHIPPING_PASSWORD_ENV) or None
    api_key = os.environ.get(SHIPPING_API_KEY_ENV) or None
    if args.shipping_options_username is not None and password is None:
        raise ValueError(f"--shipping-options-username needs the password in ${SHIPPING_PASSWORD_ENV}")
    if args.shipping_options_username is None and password is not None:
        raise ValueError(f"${SHIPPING_PASSWORD_ENV} is set: give --shipping-options-username too")
    return _ShippingSettings(
        shipping_options_url=args.shipping_options_url,
        shipping_options_username=args.shipping_options_username,
        shipping_options_password=password,
        shipping_options_api_key=api_key,
        shipping_options_api_key_header=args.shipping_options_api_key_header,
        shipping_options_timeout=args.shipping_options_timeout,
    )


def _shipping_line(config: EmulatorConfig) -> str:
    """How the shipping-options server is called, in words; never a secret."""
    endpoint = config.shipping_endpoint
    if endpoint is None:
        return "none (orders are placed without asking)"
    if endpoint.username is not None:
        auth = f"HTTP Basic as {endpoint.username}"
    elif endpoint.api_key is not None:
        auth = f"API key in {endpoint.api_key_header}"
    else:
        auth = "no credentials"
    return f"{endpoint.shown_url} ({auth})"


def main(argv: Sequence[str] | None = None, *, prog: str | None = None) -> int:
    """Run the emulator until SIGINT or SIGTERM; 2 (said on stderr) when it cannot start."""
    parser = _parser()
    if prog is not None:
        parser.prog = prog
    args = parser.parse_args(argv)
    try:
        config = EmulatorConfig(
            orders=args.orders,
            events=args.events,
            seed=args.seed,
            supplier_id=args.supplier_id,
            client_id=args.client_id,
            client_secret=args.client_secret,
            username=args.username,
            password=args.password,
            public_host=args.public_host,
            db=args.db,
            token_lifetime=args.token_lifetime,
            rate_limit=args.rate_limit,
            rate_limit_window=args.rate_limit_window,
            rate_limit_scope=args.rate_limit_scope,
            latency=args.latency,
            error_rate=args.error_rate,
            product_feed_id=args.product_feed_id,
            **_shipping_settings(args),
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return _run(config, args, stop)
    except (OSError, sqlite3.DatabaseError, ValueError) as error:  # an address, a --db it cannot use
        print(f"error: the emulator cannot start: {error}", file=sys.stderr)
        return 2
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535, not {text!r}"[:80])
    return port


def _run(config: EmulatorConfig, args: argparse.Namespace, stop: threading.Event) -> int:
    with Emulator(config) as emulator:
        # The seeded state lives as long as the process: keep the cyclic GC from rescanning
        # its million objects on every collection (a cold 2,000-page walk gets a third faster).
        gc.freeze()
        with emulator.serve(args.host, args.port) as server:
            summary = emulator.summary()
            credentials = emulator.credentials
            # These are the emulator's own fake credentials, printed on purpose.
            print(
                f"iQmetrix Dropship emulator: {summary['orders']} orders, "
                f"{summary['events']} events, {summary['pages']} pages "
                f"(seed {summary['seed']}{', db ' + str(args.db) if args.db else ''})\n"
                f"  supplier_id   {credentials.supplier_id}\n"
                f"  client_id     {credentials.client_id}\n"
                f"  client_secret {credentials.client_secret}\n"
                f"  username      {credentials.username}\n"
                f"  password      {credentials.password}\n"
                f"  product feed  {config.product_feed_id}\n"
                f"  shipping      {_shipping_line(config)}\n"
                f"  admin         {server.url}/_emulator/state\n"
                "Base URL (use it as base_url and accounts_url); Ctrl-C stops:"
            )
            print(server.base_url, flush=True)
            while not stop.wait(1.0):
                pass
    print("emulator stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
