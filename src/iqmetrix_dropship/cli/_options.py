"""Options that several commands share, written once."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["DbOption", "JsonOption", "OrderIdArgument"]

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
