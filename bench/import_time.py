"""Import time: the SDK against its dependencies alone, each in fresh interpreters (median of runs).

- ``deps``: ``import httpx, pydantic, lxml.etree, tenacity`` (the floor: the SDK needs them all);
- ``sdk``: ``import iqmetrix_dropship`` (the top level loads its members lazily, PEP 562);
- ``client``: ``from iqmetrix_dropship import DropshipClient, OrderStatus`` (what a program does);
- ``everything``: the clients, the follower, the ledger and the models.

Prints a table, then as its last line one JSON object of named figures.
Usage: ``python bench/import_time.py [--runs 15]``.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile

CASES = {
    "deps": "import httpx, pydantic, lxml.etree, tenacity",
    "sdk": "import iqmetrix_dropship",
    "client": "from iqmetrix_dropship import DropshipClient, OrderStatus",
    "everything": (
        "from iqmetrix_dropship import AsyncDropshipClient, DropshipClient, FeedFollower, OrderLedger, "
        "OrderStatus, FeedPage, ItemUpdate"
    ),
}


def time_import(statement: str, runs: int) -> float:
    """Median seconds of ``statement`` in ``runs`` fresh interpreters (run from a neutral directory)."""
    probe = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    samples = []
    with tempfile.TemporaryDirectory() as neutral:
        for _ in range(runs):
            out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=neutral)
            samples.append(float(out.stdout))
    return statistics.median(samples)


def compile_sdk() -> None:
    """Write the SDK's bytecode first, as ``pip install`` does for the dependencies: otherwise every
    fresh interpreter compiles the SDK from source (always so under PYTHONDONTWRITEBYTECODE, or from
    a fresh clone) and the figure measures the compiler, not the import."""
    spec = importlib.util.find_spec("iqmetrix_dropship")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            compileall.compile_dir(location, quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    compile_sdk()
    # Interleave the cases run by run, so that machine noise hits them alike.
    samples: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(args.runs):
        for name, statement in CASES.items():
            samples[name].append(time_import(statement, 1))
    median = {name: statistics.median(values) for name, values in samples.items()}
    deps = median["deps"]
    print(f"import time, median of {args.runs} fresh interpreters")
    print(f"{'case':<12}{'ms':>8}{'x deps':>9}")
    for name, seconds in median.items():
        print(f"{name:<12}{seconds * 1000:>8.1f}{seconds / deps:>9.2f}")
    print(
        json.dumps(
            {
                "import_vs_deps": round(median["sdk"] / deps, 3),
                "client_import_vs_deps": round(median["client"] / deps, 3),
                "everything_import_vs_deps": round(median["everything"] / deps, 3),
                "deps_ms": round(deps * 1000, 1),
                "sdk_ms": round(median["sdk"] * 1000, 1),
                "client_ms": round(median["client"] * 1000, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
