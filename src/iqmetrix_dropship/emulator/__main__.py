"""``python -m iqmetrix_dropship.emulator``: run the emulator until Ctrl-C or SIGTERM.

Once listening it prints its base URL (``http://127.0.0.1:8080/v1``) on a line of its own and
flushes, so that another process can read the port from its output.
"""

from __future__ import annotations

import argparse
import gc
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from ._config import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_ORDERS,
    DEFAULT_PASSWORD,
    DEFAULT_PUBLIC_HOST,
    DEFAULT_SUPPLIER_ID,
    DEFAULT_USERNAME,
    TOKEN_LIFETIME,
    EmulatorConfig,
)
from ._emulator import Emulator


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m iqmetrix_dropship.emulator",
        description="A local twin of iQmetrix's Dropship Supplier Orders API. "
        "Point a client's base_url and accounts_url at the printed base URL.",
    )
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="interface to bind (default: %(default)s)")
    add("--port", type=int, default=8080, help="port; 0 picks a free one (default: %(default)s)")
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
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
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
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
                    f"  admin         {server.url}/_emulator/state\n"
                    "Base URL (use it as base_url and accounts_url); Ctrl-C stops:"
                )
                print(server.base_url, flush=True)
                while not stop.wait(1.0):
                    pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("emulator stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
