"""Backfill benchmark: a feed follower reading 100,000 events (2,000 pages) from the emulator.

The emulator runs in its own process (its memory and CPU are not the client's), serving on
127.0.0.1. Each measured run is a fresh Python process, so that its peak RSS is its own:

- ``bare``: plain ``httpx`` GETs of the same 2,000 pages, bodies read, nothing parsed (the floor);
- ``follower``: ``client.follow(checkpoint=MemoryCheckpoint()).poll()`` over the whole feed:
  walk back with cheap scans, read forward with typed parsing, every entry delivered;
- ``follower+sqlite``: the same with the default durable cursor (one SQLite commit per entry);
- ``follower+ledger``: the same into an ``OrderLedger`` (each event applied with the cursor);
- ``follower+pgledger``: the same into the PostgreSQL ``OrderLedger`` (the ``postgres`` extra), on a
  throwaway local server (``tests/postgres.py``: Debian's PostgreSQL, fsync on as in production)
  or on ``--postgres DSN``; each event applied with the cursor in one fenced transaction.

Prints a table, then as its last line one JSON object of named figures.
Usage: ``python bench/backfill.py [--events 100000] [--skip-ledger] [--postgres DSN] [--latency 0.02]``; with
``--latency`` the emulator answers every request that much later, as a server across a WAN does.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
CREDENTIALS = {
    "supplier_id": 60455,
    "client_id": "emulator-client",
    "client_secret": "emulator-secret",
    "username": "supplier@example.com",
    "password": "emulator-password",
}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measure_bare(base_url: str) -> dict[str, Any]:
    import httpx

    with httpx.Client(timeout=30) as http:
        token = http.post(
            f"{base_url}/oauth2/token",
            data={"grant_type": "password", **{k: str(v) for k, v in CREDENTIALS.items() if k != "supplier_id"}},
        ).json()["access_token"]
        pages = http.get(base_url.removesuffix("/v1") + "/_emulator/entries").json()["page_ids"]
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/atom+xml"}
        supplier = f"{base_url}/Suppliers({CREDENTIALS['supplier_id']})/Notifications/Pages"
        started, cpu = time.perf_counter(), time.process_time()
        size = 0
        for page_id in pages:
            size += len(http.get(f"{supplier}({page_id})", headers=headers).content)
        return {
            "wall_s": time.perf_counter() - started,
            "cpu_s": time.process_time() - cpu,
            "pages": len(pages),
            "mb": size / 1e6,
        }


def measure_follower(base_url: str, store: str, dsn: str | None = None) -> dict[str, Any]:
    from iqmetrix_dropship import DropshipClient, MemoryCheckpoint, OrderLedger, SQLiteCheckpoint

    with tempfile.TemporaryDirectory() as tmp:
        checkpoint: Any
        if store == "memory":
            checkpoint = MemoryCheckpoint()
        elif store == "sqlite":
            checkpoint = SQLiteCheckpoint(Path(tmp) / "cursor.db")
        elif store == "pgledger":
            assert dsn is not None
            checkpoint = OrderLedger(dsn, schema=f"bench_{os.getpid()}")
        else:
            checkpoint = OrderLedger(Path(tmp) / "orders.db")
        with DropshipClient(**CREDENTIALS, base_url=base_url, accounts_url=base_url) as client:  # type: ignore[arg-type]
            client.get_notifications()  # the token, outside the measurement
            started, cpu = time.perf_counter(), time.process_time()
            count = sum(1 for _ in client.follow(checkpoint=checkpoint).poll())
            return {"wall_s": time.perf_counter() - started, "cpu_s": time.process_time() - cpu, "entries": count}


def child(mode: str, base_url: str, dsn: str | None) -> None:
    result = measure_bare(base_url) if mode == "bare" else measure_follower(base_url, mode.split("+")[1], dsn)
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


def run_child(mode: str, base_url: str, dsn: str | None = None) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(HERE), "--child", mode, "--base-url", base_url, *(["--dsn", dsn] if dsn else [])],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def start_emulator(events: int, latency: float = 0.0) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "iqmetrix_dropship.emulator", "--port", "0", "--events", str(events)]
    command += ["--seed", "1"]
    if latency:
        command += ["--latency", str(latency)]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("http://") and line.strip().endswith("/v1"):
            return process, line.strip()
    raise RuntimeError("the emulator did not print its base URL")


def postgres_server(stack: contextlib.ExitStack) -> str | None:
    """A throwaway local PostgreSQL server for the run (the tests' harness), or ``None``, said."""
    sys.path.insert(0, str(HERE.parents[1]))
    from tests.postgres import running_server

    try:
        server = stack.enter_context(running_server(durable=True))
    except RuntimeError as error:
        print(f"no PostgreSQL server ({error}): the PostgreSQL ledger is not measured", file=sys.stderr)
        return None
    return server.dsn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--skip-ledger", action="store_true")
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds the emulator adds to every request, like a WAN"
    )
    parser.add_argument("--postgres", metavar="DSN", help="a PostgreSQL server to use (else a throwaway one)")
    parser.add_argument("--child")
    parser.add_argument("--base-url")
    parser.add_argument("--dsn")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.base_url, args.dsn)
        return

    with contextlib.ExitStack() as stack:
        dsn = None if args.skip_ledger else args.postgres or postgres_server(stack)
        emulator, base_url = start_emulator(args.events, args.latency)
        try:
            run_child("bare", base_url)  # warm the emulator's page cache: every mode then reads cached pages
            modes = ["bare", "follower+memory", "follower+sqlite"]
            modes += [] if args.skip_ledger else ["follower+ledger"] + (["follower+pgledger"] if dsn else [])
            results = {mode: run_child(mode, base_url, dsn) for mode in modes}
            results["bare"] = min(results["bare"], run_child("bare", base_url), key=lambda r: r["wall_s"])
        finally:
            emulator.terminate()
            emulator.wait(timeout=30)

    bare = results["bare"]["wall_s"]
    print(
        f"backfill of {args.events:,} events ({results['bare']['pages']:,} pages, {results['bare']['mb']:.0f} MB)"
        + (f", {args.latency * 1000:.0f} ms added to every request" if args.latency else "")
    )
    print(f"{'mode':<19}{'wall s':>9}{'cpu s':>9}{'x bare':>9}{'events/s':>10}{'peak RSS MB':>13}")
    for mode, result in results.items():
        rate = f"{args.events / result['wall_s']:>10,.0f}" if mode != "bare" else f"{'':>10}"
        print(
            f"{mode:<19}{result['wall_s']:>9.2f}{result['cpu_s']:>9.2f}"
            f"{result['wall_s'] / bare:>9.2f}{rate}{result['peak_rss_mb']:>13.1f}"
        )
    follower = results["follower+memory"]
    figures = {
        "events": args.events,
        "latency_s": args.latency,
        "pages": results["bare"]["pages"],
        "wall_vs_bare_gets": round(follower["wall_s"] / bare, 3),
        "peak_rss_mb": round(follower["peak_rss_mb"], 1),
        "bare_wall_s": round(bare, 3),
        "follower_wall_s": round(follower["wall_s"], 3),
        "follower_cpu_s": round(follower["cpu_s"], 3),
        "sqlite_wall_vs_bare_gets": round(results["follower+sqlite"]["wall_s"] / bare, 3),
        "sqlite_peak_rss_mb": round(results["follower+sqlite"]["peak_rss_mb"], 1),
    }
    if "follower+ledger" in results:
        figures["ledger_wall_s"] = round(results["follower+ledger"]["wall_s"], 3)
        figures["ledger_events_per_s"] = round(args.events / results["follower+ledger"]["wall_s"])
        figures["ledger_peak_rss_mb"] = round(results["follower+ledger"]["peak_rss_mb"], 1)
    if "follower+pgledger" in results:
        figures["pg_ledger_wall_s"] = round(results["follower+pgledger"]["wall_s"], 3)
        figures["pg_ledger_events_per_s"] = round(args.events / results["follower+pgledger"]["wall_s"])
        figures["pg_ledger_peak_rss_mb"] = round(results["follower+pgledger"]["peak_rss_mb"], 1)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
