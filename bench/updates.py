"""Status-update throughput: 2,000 PUTs through the SDK against the same PUTs with bare httpx.

The emulator runs in its own process on 127.0.0.1. Measured, each on fresh orders:

- ``bare async``: ``httpx.AsyncClient``, 32 in flight, the JSON body built by hand, status checked;
- ``sdk async``: ``AsyncDropshipClient.update_order_status`` (validation, token, retries, the echo
  read into a model), 32 in flight;
- ``sdk sync``: ``DropshipClient.update_order_status`` one after another, for reference.

Prints a table, then as its last line one JSON object of named figures.
Usage: ``python bench/updates.py [--updates 2000] [--concurrency 32]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from backfill import CREDENTIALS, start_emulator

from iqmetrix_dropship import AsyncDropshipClient, DropshipClient, OrderStatus

SECRET_FIELDS = ("client_id", "client_secret", "username", "password")


def new_orders(base_url: str, count: int) -> list[str]:
    admin = base_url.removesuffix("/v1") + "/_emulator/orders"
    order_ids: list[str] = httpx.post(admin, json={"count": count}, timeout=60).json()["order_ids"]
    return order_ids


async def bare_async(base_url: str, order_ids: list[str], concurrency: int) -> float:
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=concurrency)) as http:
        token = (
            await http.post(
                f"{base_url}/oauth2/token",
                data={"grant_type": "password", **{k: str(CREDENTIALS[k]) for k in SECRET_FIELDS}},
            )
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        supplier = f"{base_url}/Suppliers({CREDENTIALS['supplier_id']})/Orders"
        gate = asyncio.Semaphore(concurrency)

        async def put(order_id: str) -> None:
            async with gate:
                response = await http.put(
                    f"{supplier}({order_id})/OrderStatusUpdate",
                    headers=headers,
                    json={"Id": order_id, "Status": "Shipped", "TrackingInfo": "1Z999", "ShippingProvider": "UPS"},
                )
                response.raise_for_status()
                response.json()

        started = time.perf_counter()
        await asyncio.gather(*(put(order_id) for order_id in order_ids))
        return time.perf_counter() - started


async def sdk_async(base_url: str, order_ids: list[str], concurrency: int) -> float:
    async with AsyncDropshipClient(**CREDENTIALS, base_url=base_url, accounts_url=base_url) as client:  # type: ignore[arg-type]
        await client.authenticate()
        gate = asyncio.Semaphore(concurrency)

        async def put(order_id: str) -> None:
            async with gate:
                await client.update_order_status(
                    order_id, OrderStatus.SHIPPED, tracking_info="1Z999", shipping_provider="UPS"
                )

        started = time.perf_counter()
        await asyncio.gather(*(put(order_id) for order_id in order_ids))
        return time.perf_counter() - started


def sdk_sync(base_url: str, order_ids: list[str]) -> float:
    with DropshipClient(**CREDENTIALS, base_url=base_url, accounts_url=base_url) as client:  # type: ignore[arg-type]
        client.authenticate()
        started = time.perf_counter()
        for order_id in order_ids:
            client.update_order_status(order_id, OrderStatus.SHIPPED, tracking_info="1Z999", shipping_provider="UPS")
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=2_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="best of this many rounds for the async pair")
    args = parser.parse_args()

    emulator, base_url = start_emulator(10)
    try:
        results: dict[str, list[float]] = {"bare async": [], "sdk async": []}
        for _ in range(args.rounds):  # interleaved, so that drift hits both alike
            results["bare async"].append(
                asyncio.run(bare_async(base_url, new_orders(base_url, args.updates), args.concurrency))
            )
            results["sdk async"].append(
                asyncio.run(sdk_async(base_url, new_orders(base_url, args.updates), args.concurrency))
            )
        results["sdk sync"] = [sdk_sync(base_url, new_orders(base_url, args.updates))]
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)

    best = {name: min(times) for name, times in results.items()}
    rate = {name: args.updates / seconds for name, seconds in best.items()}
    print(f"{args.updates:,} order status updates, {args.concurrency} in flight (async), best of {args.rounds}")
    print(f"{'client':<12}{'seconds':>10}{'updates/s':>12}{'x bare':>9}")
    for name, seconds in best.items():
        print(f"{name:<12}{seconds:>10.2f}{rate[name]:>12.0f}{rate[name] / rate['bare async']:>9.2f}")
    figures: dict[str, Any] = {
        "updates": args.updates,
        "concurrency": args.concurrency,
        "async_vs_bare": round(rate["sdk async"] / rate["bare async"], 3),
        "bare_async_per_s": round(rate["bare async"]),
        "sdk_async_per_s": round(rate["sdk async"]),
        "sdk_sync_per_s": round(rate["sdk sync"]),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
