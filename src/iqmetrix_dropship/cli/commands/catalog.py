"""``dropship availability push|show``, ``dropship costs push`` and ``dropship products ...``.

A CSV file is read and checked whole before anything is sent (``_csv.py``): by default one bad row
and nothing is sent (exit 2), every bad row listed with its line; ``--skip-bad-rows`` sends the
others. The products then go in chunks, one request each, with a progress bar on a terminal; a
chunk the server refuses does not stop the others (unless the credentials or the supplier id are
refused: the rest would fail alike), and the summary says which products were not accepted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ..._exceptions import DropshipError
from ..._protocol.catalog import FailedChunk, PushResult, refused_everything
from ...ledger import OrderLedger
from ...models import Product, ProductAvailability, ProductCost
from .._csv import BadRow, CsvFileError, Parsed, parse_availability, parse_costs, read_csv
from .._exit import CliError, exit_code_for, message_for
from .._options import (
    DEFAULT_CHUNK_SIZE,
    ChunkSizeOption,
    CsvFileArgument,
    DbOption,
    DryRunOption,
    FeedIdArgument,
    JsonOption,
    ProductFileArgument,
    ProductIdArgument,
    SkipBadRowsOption,
)
from .._render import (
    availability_table,
    costs_table,
    echo_json,
    err_console,
    feed_fields,
    fields_table,
    listing,
    out_console,
    plural,
    product_json,
    products_table,
    supplier_skus_table,
)
from .._session import Session, open_ledger

__all__ = [
    "MAX_JSON_BYTES",
    "add_product",
    "list_products",
    "progress_bar",
    "push_availability",
    "push_chunks",
    "push_costs",
    "remove_product",
    "replace_product",
    "show_availability",
    "show_feed",
]

T = TypeVar("T", ProductAvailability, ProductCost)

MAX_JSON_BYTES = 50 * 1024 * 1024
"""A product file: a few kilobytes a product; fifty megabytes is a whole catalogue and then some."""


# -- reading and checking a file --------------------------------------------------------------


def _read(file: Path, parse: Callable[[Any], Parsed[T]]) -> Parsed[T]:
    try:
        return read_csv(file, parse)
    except CsvFileError as error:
        message = str(error)
        where = message if message.startswith(str(file)) else f"{file}: {message}"
        raise CliError(f"{where}; nothing was sent") from None


def _bad_row_json(bad: BadRow) -> dict[str, Any]:
    return {"line": bad.line, "column": bad.column, "message": bad.message}


def _check_rows(file: Path, parsed: Parsed[Any], *, skip_bad_rows: bool, json_output: bool) -> None:
    """List the bad rows on stderr; without ``--skip-bad-rows`` any bad row stops everything (exit 2)."""
    if not parsed.bad_rows:
        return
    lines = parsed.bad_lines
    err = err_console()
    verb = "Skipping" if skip_bad_rows else "Found"
    err.print(f"{verb} {plural(len(lines), 'bad row')} of {parsed.rows} in {file}:")
    for text in listing([str(bad) for bad in parsed.bad_rows], more="more problems"):
        err.print(f"  {text}")
    if skip_bad_rows:
        return
    if json_output:
        echo_json(
            {
                "file": str(file),
                "rows": parsed.rows,
                "bad_rows": [_bad_row_json(bad) for bad in parsed.bad_rows],
                "sent": 0,
            }
        )
    raise CliError(
        f"{plural(len(lines), 'bad row')} in {file}; nothing was sent "
        f"(fix them, or pass --skip-bad-rows to send the other {plural(parsed.good_rows, 'row')})"
    )


# -- sending ----------------------------------------------------------------------------------


def push_chunks(
    push: Callable[..., PushResult[T]],
    products: Sequence[T],
    chunk_size: int,
    advance: Callable[[int], None] = lambda sent: None,
) -> PushResult[T]:
    """``push`` one chunk at a time, so that ``advance`` can move a progress bar after each; the
    results joined. After a refusal every chunk would meet (credentials, supplier id: the SDK's
    own rule), the rest is not sent and is reported failed with that error."""
    accepted: list[T] = []
    failed: list[FailedChunk[T]] = []
    ids: list[str] = []
    for start in range(0, len(products), chunk_size):
        chunk = products[start : start + chunk_size]
        result = push(chunk, chunk_size=chunk_size)
        accepted.extend(result.accepted)
        failed.extend(result.failed)
        ids.extend(result.ids)
        advance(len(chunk))
        if result.failed and refused_everything(result.failed[0].error):
            rest = tuple(products[start + chunk_size :])
            if rest:
                failed.append(FailedChunk(rest, result.failed[0].error))
            break
    return PushResult(accepted=tuple(accepted), failed=tuple(failed), ids=tuple(ids))


@contextmanager
def progress_bar(console: Console, total: int, *, shown: bool) -> Iterator[Callable[[int], None]]:
    # On stderr, so that stdout stays clean for --json; only on a terminal, and gone when done.
    progress = Progress(
        TextColumn("Sending"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("products"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not (shown and console.is_terminal),
    )
    with progress:
        task = progress.add_task("send", total=total)
        yield lambda sent: progress.advance(task, sent)


def _failures_json(failed: Sequence[FailedChunk[Any]], sku: Callable[[Any], str]) -> list[dict[str, Any]]:
    return [{"error": message_for(chunk.error), "skus": [sku(p) for p in chunk.products]} for chunk in failed]


def _report(
    file: Path,
    parsed: Parsed[Any],
    sent: Sequence[Any],
    result: PushResult[Any],
    *,
    json_output: bool,
    extra: dict[str, Any],
    recorded: str | None = None,
) -> None:
    """The summary of a push; then, if some products were not accepted, the first error's exit code."""
    failed = result.failed_products
    if json_output:
        echo_json(
            {
                "file": str(file),
                "rows": parsed.rows,
                "bad_rows": [_bad_row_json(bad) for bad in parsed.bad_rows],
                **extra,
                "sent": len(sent),
                "accepted": len(result.accepted),
                "failed": len(failed),
                "request_ids": list(result.ids),
                "failures": _failures_json(result.failed, lambda product: product.sku),
                "recorded_in": recorded,
            }
        )
    else:
        console = out_console()
        if not failed:
            console.print(f"Sent {plural(len(sent), 'product')} from {file}: all accepted.")
        else:
            console.print(
                f"Sent {plural(len(sent), 'product')} from {file}: {len(result.accepted)} accepted, {len(failed)} not:"
            )
            for chunk in result.failed:
                skus = ", ".join(listing([product.sku for product in chunk.products], limit=5))
                console.print(f"  {plural(len(chunk.products), 'product')} ({skus}): {message_for(chunk.error)}")
        if recorded:
            console.print(f"Recorded what was accepted in {recorded}.")
    if failed:
        first = result.failed[0].error
        raise CliError(
            f"{len(failed)} of {len(sent)} products were not accepted: {message_for(first)}", exit_code_for(first)
        )


def _nothing_to_send(file: Path, parsed: Parsed[Any], *, json_output: bool, why: str, extra: dict[str, Any]) -> None:
    if json_output:
        echo_json(
            {
                "file": str(file),
                "rows": parsed.rows,
                "bad_rows": [_bad_row_json(bad) for bad in parsed.bad_rows],
                **extra,
                "sent": 0,
                "accepted": 0,
                "failed": 0,
                "request_ids": [],
                "failures": [],
                "recorded_in": None,
            }
        )
    else:
        out_console().print(f"Nothing to send: {why}.")


def _dry_run(
    file: Path, parsed: Parsed[Any], products: Sequence[Any], table: Any, *, chunk_size: int, json_output: bool
) -> None:
    requests = -(-len(products) // chunk_size)
    if json_output:
        echo_json(
            {
                "file": str(file),
                "rows": parsed.rows,
                "bad_rows": [_bad_row_json(bad) for bad in parsed.bad_rows],
                "dry_run": True,
                "requests": requests,
                "would_send": [product.to_json_body() for product in products],
            }
        )
        return
    console = out_console()
    shown = products[:20]
    more = f"; the first {len(shown)}" if len(products) > len(shown) else ""
    console.print(f"Would send {plural(len(products), 'product')} in {plural(requests, 'request')}{more}:")
    console.print(table(shown, None))
    if len(products) > len(shown):
        console.print(f"... and {len(products) - len(shown)} more (--json lists them all). Nothing was sent.")
    else:
        console.print("Nothing was sent (--dry-run).")


# -- availability -----------------------------------------------------------------------------


def _ledger_to_record(session: Session, db: str | None, *, needed: bool) -> OrderLedger | None:
    """The ledger that remembers what was accepted: with --changed-only always (created if need be),
    otherwise the one --db names or the default one if it exists."""
    path, named = session.ledger_path(db)
    if not (needed or named) and isinstance(path, Path) and not path.is_file():
        return None
    return open_ledger(path)


def push_availability(
    ctx: typer.Context,
    file: CsvFileArgument,
    *,
    chunk_size: ChunkSizeOption = DEFAULT_CHUNK_SIZE,
    skip_bad_rows: SkipBadRowsOption = False,
    dry_run: DryRunOption = False,
    changed_only: Annotated[
        bool,
        typer.Option(
            "--changed-only",
            help="Send only what differs from what iQmetrix last accepted, as the ledger (--db) remembers it.",
        ),
    ] = False,
    complete: Annotated[
        bool,
        typer.Option(
            "--complete",
            help="With --changed-only: the file is the whole catalogue; a SKU sent before and absent now "
            "is sent as unavailable, quantity 0.",
        ),
    ] = False,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Send what is in stock, from a CSV file with columns sku,is_available,quantity.

    The whole file is checked first; a bad row and nothing is sent (exit 2) unless --skip-bad-rows.
    Booleans: true/false, yes/no, 1/0. What iQmetrix accepted is recorded in the ledger when there
    is one (--db, or ./orders.db if it exists), for --changed-only.
    """
    if complete and not changed_only:
        raise CliError("--complete needs --changed-only")
    session = Session.of(ctx)
    parsed = _read(file, parse_availability)
    _check_rows(file, parsed, skip_bad_rows=skip_bad_rows, json_output=json_output)
    products = parsed.products
    # A dry run creates no ledger: without one, everything counts as changed.
    ledger = (
        _ledger_to_record(session, db, needed=changed_only and not dry_run) if changed_only or not dry_run else None
    )
    extra: dict[str, Any] = {}
    try:
        if changed_only:
            if ledger is not None:
                products = ledger.availability_changes(products, complete=complete)
            in_file = {product.sku for product in parsed.products}
            sending = {product.sku for product in products}
            extra["unchanged"] = len(in_file - sending)
            extra["absent_now_unavailable"] = len(sending - in_file)
        if dry_run:
            _dry_run(file, parsed, products, availability_table, chunk_size=chunk_size, json_output=json_output)
            return
        if not products:
            why = "nothing changed since the last accepted push" if changed_only else "the file has no rows to send"
            _nothing_to_send(file, parsed, json_output=json_output, why=why, extra=extra)
            return
        with session.client() as client, progress_bar(err_console(), len(products), shown=not json_output) as advance:
            result = push_chunks(client.push_availability, products, chunk_size, advance)
        recorded = None
        if ledger is not None:
            ledger.record_availability(result.accepted)
            recorded = str(ledger.path)
        _report(file, parsed, products, result, json_output=json_output, extra=extra, recorded=recorded)
    finally:
        if ledger is not None:
            ledger.close()


def show_availability(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Show the availability iQmetrix holds now for each of your SKUs (SupplierSkus)."""
    with Session.of(ctx).client() as client:
        skus = client.get_availability()
    if json_output:
        echo_json([sku.model_dump(mode="json") for sku in skus])
        return
    out_console().print(supplier_skus_table(skus))


# -- costs ------------------------------------------------------------------------------------


def push_costs(
    ctx: typer.Context,
    file: CsvFileArgument,
    *,
    chunk_size: ChunkSizeOption = DEFAULT_CHUNK_SIZE,
    skip_bad_rows: SkipBadRowsOption = False,
    dry_run: DryRunOption = False,
    json_output: JsonOption = False,
) -> None:
    """Send wholesale costs, from a CSV file with columns sku,cost,company_id.

    Or company_ids instead of company_id: ids separated by ';' or spaces. A cost has at most 2
    decimals, no currency sign; a company has one cost per SKU. Rows of one SKU and cost are sent
    as one product with all their companies. The whole file is checked first, as for availability.
    """
    session = Session.of(ctx)
    parsed = _read(file, parse_costs)
    _check_rows(file, parsed, skip_bad_rows=skip_bad_rows, json_output=json_output)
    products = parsed.products
    if dry_run:
        _dry_run(file, parsed, products, costs_table, chunk_size=chunk_size, json_output=json_output)
        return
    if not products:
        _nothing_to_send(file, parsed, json_output=json_output, why="the file has no rows to send", extra={})
        return
    with session.client() as client, progress_bar(err_console(), len(products), shown=not json_output) as advance:
        result = push_chunks(client.push_costs, products, chunk_size, advance)
    _report(file, parsed, products, result, json_output=json_output, extra={})


# -- the product feed -------------------------------------------------------------------------


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")  # Python's json would take NaN and Infinity


def _read_products(file: Path) -> list[Product]:
    """The products of a JSON file (one object or a list of them), each checked before any is sent."""
    size = file.stat().st_size
    if size > MAX_JSON_BYTES:
        raise CliError(f"{file} is {size:,} bytes; the limit is {MAX_JSON_BYTES:,}")
    try:
        data = json.loads(file.read_text(encoding="utf-8-sig"), parse_constant=_no_constant)
    except UnicodeDecodeError as error:
        raise CliError(f"{file} is not UTF-8 (byte {error.start + 1} cannot be decoded)") from None
    except json.JSONDecodeError as error:
        raise CliError(f"{file} is not JSON: line {error.lineno}, column {error.colno}: {error.msg}") from None
    except (ValueError, RecursionError) as error:  # NaN, Infinity; nested deeper than Python recurses
        why = "nested too deeply" if isinstance(error, RecursionError) else str(error)
        raise CliError(f"{file} is not JSON: {why}") from None
    items = data if isinstance(data, list) else [data]
    if not items:
        raise CliError(f"{file} holds an empty list: no product to add")
    products: list[Product] = []
    problems: list[str] = []
    for index, item in enumerate(items):
        where = f"product {index + 1}" if isinstance(data, list) else "the product"
        if not isinstance(item, dict):
            problems.append(f"{where} is not a JSON object")
            continue
        try:
            products.append(Product.model_validate(item))
        except ValueError as error:  # pydantic's ValidationError is one
            problems.append(f"{where}: {_validation_text(error)}")
    if problems:
        shown = "; ".join(listing(problems, limit=5))
        raise CliError(f"{file}: {plural(len(problems), 'bad product')}, nothing was sent: {shown}")
    return products


def _validation_text(error: ValueError) -> str:
    errors = getattr(error, "errors", None)
    if not callable(errors):
        return str(error)
    parts = []
    for detail in errors()[:3]:
        location = ".".join(str(part) for part in detail.get("loc", ())) or "product"
        parts.append(f"{location}: {detail.get('msg', 'invalid')}")
    return "; ".join(parts)


def _print_products(products: Sequence[Product], title: str, *, json_output: bool) -> None:
    if json_output:
        echo_json([product_json(product) for product in products])
    else:
        out_console().print(products_table(products, title))


def add_product(
    ctx: typer.Context, feed_id: FeedIdArgument, file: ProductFileArgument, json_output: JsonOption = False
) -> None:
    """Add products to a product feed, from a JSON file: one product, or a list of them.

    Each product in the API's shape (Classification, Fields, ModelName, ...); all are checked
    before the first is sent. Prints each product as stored, with its new id.
    """
    products = _read_products(file)
    stored: list[Product] = []
    with Session.of(ctx).client() as client:
        for number, product in enumerate(products, start=1):
            try:
                stored.append(client.add_product(feed_id, product))
            except DropshipError as error:
                if stored:  # say what is in the feed now, then fail
                    _print_products(
                        stored, f"Added {plural(len(stored), 'product')} to feed {feed_id}", json_output=json_output
                    )
                raise CliError(
                    f"product {number} of {len(products)} was not added ({len(stored)} were): {message_for(error)}",
                    exit_code_for(error),
                ) from None
    _print_products(stored, f"Added {plural(len(stored), 'product')} to feed {feed_id}", json_output=json_output)


def list_products(ctx: typer.Context, feed_id: FeedIdArgument, json_output: JsonOption = False) -> None:
    """List the products of a product feed (--json: in the API's shape, ready for products add)."""
    with Session.of(ctx).client() as client:
        products = client.list_products(feed_id)
    _print_products(products, f"Feed {feed_id}: {plural(len(products), 'product')}", json_output=json_output)


def show_feed(ctx: typer.Context, feed_id: FeedIdArgument, json_output: JsonOption = False) -> None:
    """Show a product feed: its provider, version, last update and number of products."""
    with Session.of(ctx).client() as client:
        feed = client.get_product_feed(feed_id)
    if json_output:
        data = feed.model_dump(mode="json", by_alias=True, exclude={"products"})  # the API's shape, as products list
        echo_json(data | {"Products": [product_json(product) for product in feed.products]})
        return
    out_console().print(fields_table(feed_fields(feed)))


def remove_product(
    ctx: typer.Context, feed_id: FeedIdArgument, product_id: ProductIdArgument, json_output: JsonOption = False
) -> None:
    """Remove a product from a product feed (an unknown feed or product: exit 4)."""
    with Session.of(ctx).client() as client:
        client.remove_product(feed_id, product_id)
    if json_output:
        echo_json({"removed": True, "feed_id": feed_id, "product_id": product_id})
    else:
        out_console().print(f"Removed product {product_id} from feed {feed_id}.")


def replace_product(
    ctx: typer.Context,
    feed_id: FeedIdArgument,
    product_id: ProductIdArgument,
    file: ProductFileArgument,
    json_output: JsonOption = False,
) -> None:
    """Replace a product with the one in a JSON file: remove it, then add the new version.

    The API has no update; the new version is checked before anything is removed. If adding it
    fails after the removal, the error says how to finish (products add).
    """
    products = _read_products(file)
    if len(products) != 1:
        raise CliError(f"{file} holds {len(products)} products; replace takes one")
    with Session.of(ctx).client() as client:
        client.remove_product(feed_id, product_id)
        try:
            stored = client.add_product(feed_id, products[0])
        except DropshipError as error:
            raise CliError(
                f"product {product_id} was removed, but adding its new version failed: {message_for(error)}; "
                f"finish with: dropship products add {feed_id} {file}",
                exit_code_for(error),
            ) from None
    _print_products([stored], f"Replaced product {product_id} of feed {feed_id}", json_output=json_output)
