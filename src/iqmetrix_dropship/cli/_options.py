"""Options that several commands share, written once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .._protocol.catalog import DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "ChunkSizeOption",
    "CsvFileArgument",
    "DbOption",
    "DryRunOption",
    "FeedIdArgument",
    "JsonOption",
    "OrderIdArgument",
    "ProductFileArgument",
    "ProductIdArgument",
    "SkipBadRowsOption",
]

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table (for scripts).")]

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help=(
            "The order ledger: a SQLite file, or a PostgreSQL DSN (postgresql://...). "
            "Default: the profile's db, IQMETRIX_DB, or ./orders.db."
        ),
        show_default=False,
    ),
]

OrderIdArgument = Annotated[
    str, typer.Argument(metavar="ORDER_ID", help="The dropship order id (a GUID).", show_default=False)
]

CsvFileArgument = Annotated[
    Path,
    typer.Argument(
        metavar="FILE",
        help="A CSV file, UTF-8 (a BOM allowed), with a header line.",
        exists=True,
        dir_okay=False,
        readable=True,
        show_default=False,
    ),
]

ChunkSizeOption = Annotated[int, typer.Option("--chunk-size", help="Products per request.", min=1, max=MAX_CHUNK_SIZE)]

SkipBadRowsOption = Annotated[
    bool,
    typer.Option(
        "--skip-bad-rows",
        help="Send the good rows and report the bad ones. Default: any bad row and nothing is sent.",
    ),
]

DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Read and check the file, show what would be sent, send nothing.")
]

FeedIdArgument = Annotated[
    int, typer.Argument(metavar="FEED_ID", help="The product feed's id.", min=1, show_default=False)
]

ProductIdArgument = Annotated[
    int, typer.Argument(metavar="PRODUCT_ID", help="The product's id in the feed.", min=1, show_default=False)
]

ProductFileArgument = Annotated[
    Path,
    typer.Argument(
        metavar="FILE.json",
        help="A product in the API's JSON shape (ModelName, Classification, Fields, ...).",
        exists=True,
        dir_okay=False,
        readable=True,
        show_default=False,
    ),
]
