"""``dropship sync``: follow the feed into the order ledger, once or (``--watch``) until Ctrl-C.

The ledger is the follower's checkpoint (docs/ledger.md): it applies each entry and moves the
cursor in one transaction, so an interrupted sync loses nothing and the next one resumes there.
A small recorder in front of it counts what was applied, for the progress bar and the summary.
"""

from __future__ import annotations

import json
import threading
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Annotated, Any

import httpx
import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..._concurrency import stop_on_signals
from ...follow import Cursor, FeedFollower
from ...follow._shared import TRANSIENT_ERRORS
from ...ledger import OrderLedger
from ...models import FeedEntry, OrderCreated, OrderStatusUpdated
from .._exit import CliError, ExitCode
from .._options import DbOption, JsonOption
from .._render import echo_json, err_console, out_console, plural, time_text
from .._session import Session, open_ledger

__all__ = ["sync"]


class Start(str, Enum):
    EARLIEST = "earliest"
    LATEST = "latest"


@dataclass
class PollStats:
    """What one poll applied."""

    events: int = 0
    orders_created: int = 0
    status_updates: int = 0
    other_events: int = 0
    new_orders: int = 0
    pages: set[str] = field(default_factory=set)
    """The feed pages the applied entries were on."""
    feed_requests: int = 0
    """Feed pages fetched over HTTP (the follower reads back to its cursor first)."""

    def count(self, entry: FeedEntry, cursor: Cursor) -> None:
        self.events += 1
        if isinstance(entry.event, OrderCreated):
            self.orders_created += 1
        elif isinstance(entry.event, OrderStatusUpdated):
            self.status_updates += 1
        else:
            self.other_events += 1
        if cursor.page_id is not None:
            self.pages.add(cursor.page_id)

    def as_json(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "orders_created": self.orders_created,
            "status_updates": self.status_updates,
            "other_events": self.other_events,
            "new_orders": self.new_orders,
            "feed_pages": len(self.pages),
            "feed_requests": self.feed_requests,
        }

    def add(self, other: PollStats) -> None:
        for name in ("events", "orders_created", "status_updates", "other_events", "new_orders", "feed_requests"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.pages |= other.pages

    def sentence(self) -> str:
        parts = [plural(self.new_orders, "new order"), plural(self.status_updates, "status update")]
        if self.other_events:
            parts.append(plural(self.other_events, "other event"))
        return ", ".join(parts)


class _Run:
    """One ``dropship sync``: the checkpoint in front of the ledger, the counters and the progress bar."""

    def __init__(self, ledger: OrderLedger, console: Console) -> None:
        self.ledger = ledger
        self.path = ledger.path  # a DSN without its password
        self.stats = PollStats()
        self.total = PollStats()
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._console = console

    # -- the CheckpointStore protocol: the ledger does the work, we count ------------------------

    def load(self) -> Cursor | None:
        return self.ledger.load()

    def save(self, cursor: Cursor) -> None:
        self.ledger.save(cursor)

    def lead(self) -> bool:
        return self.ledger.lead()  # on PostgreSQL, a sync is one more replica: it leads, or waits

    @property
    def lease_seconds(self) -> float | None:
        return self.ledger.lease_seconds

    def advance(self, cursor: Cursor, entry: FeedEntry) -> None:
        self.ledger.advance(cursor, entry)  # applied and committed with the cursor
        self.stats.count(entry, cursor)
        self._show("Applying events")

    def flush(self) -> None:
        self.ledger.flush()  # the follower's, when a poll ends: what advance took is committed

    # -- the httpx response hook ---------------------------------------------------------------

    def on_response(self, response: httpx.Response) -> None:
        if "/Notifications" in response.request.url.path:
            self.stats.feed_requests += 1
            self._show("Reading the feed" if self.stats.events == 0 else "Applying events")

    def _show(self, what: str) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(
                self._task, description=what, events=self.stats.events, requests=self.stats.feed_requests
            )

    # -- polls ----------------------------------------------------------------------------------

    def poll(self, follower: FeedFollower, stop: threading.Event, *, progress: bool) -> PollStats:
        """Apply every new entry, or stop between two entries once ``stop`` is set."""
        self.stats = PollStats()
        orders_before = sum(self.ledger.counts().values())
        with _progress_bar(self._console, shown=progress) as bar:
            self._progress = bar
            self._task = bar.add_task("Reading the feed", total=None, events=0, requests=0)
            try:
                for _entry in follower.poll():
                    if stop.is_set():
                        break  # the entry in hand is not applied yet: the next sync delivers it again
            finally:
                self._progress = self._task = None
                self.stats.new_orders = sum(self.ledger.counts().values()) - orders_before
                self.total.add(self.stats)
        return self.stats


def _progress_bar(console: Console, *, shown: bool) -> Progress:
    # On stderr, so that stdout stays clean for --json; only on a terminal, and gone when done.
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),  # indeterminate: the follower cannot know how much of the feed is new
        TextColumn("{task.fields[events]} events applied, {task.fields[requests]} feed requests"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not (shown and console.is_terminal),
    )


def _status_table(counts: dict[str, int]) -> Table:
    table = Table(box=box.SIMPLE, show_edge=False, pad_edge=False, show_footer=True, padding=(0, 1, 0, 0))
    table.add_column("status", footer="total")
    table.add_column("orders", justify="right", footer=str(sum(counts.values())))
    for status, number in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        table.add_row(status, str(number))
    return table


def _summary(run: _Run, *, json_output: bool, watching: bool) -> None:
    """After a poll: a sentence and the orders by status; or JSON (with --watch, one line per poll)."""
    stats, counts = run.stats, run.ledger.counts()
    if json_output:
        data = {"db": str(run.path), **stats.as_json(), "orders": sum(counts.values()), "orders_by_status": counts}
        if watching:  # JSON lines, so that a pipe can read poll after poll
            at = datetime.now(timezone.utc).isoformat(timespec="seconds")
            typer.echo(json.dumps({"at": at, **data}))
        else:
            echo_json(data)
        return
    console = out_console()
    if stats.events == 0:
        console.print(f"Up to date: no new events; {run.path} holds {plural(sum(counts.values()), 'order')}.")
    else:
        pages = plural(len(stats.pages), "feed page")
        console.print(f"Applied {plural(stats.events, 'new event')} from {pages} to {run.path}: {stats.sentence()}.")
    console.print(_status_table(counts))


def _poll_line(run: _Run, *, json_output: bool) -> None:
    """With --watch, after a poll that applied something."""
    if json_output:
        _summary(run, json_output=True, watching=True)
    else:
        now = time_text(datetime.now(timezone.utc))
        out_console().print(f"{now}  {plural(run.stats.events, 'new event')}: {run.stats.sentence()}")


def sync(
    ctx: typer.Context,
    *,
    db: DbOption = None,
    watch: Annotated[bool, typer.Option("--watch", help="Keep polling the feed until Ctrl-C (or SIGTERM).")] = False,
    interval: Annotated[
        float, typer.Option("--interval", help="Seconds between two polls with --watch.", min=0.1)
    ] = 30.0,
    start: Annotated[
        Start,
        typer.Option(
            "--start",
            help="For a new, empty ledger only: replay the whole feed (earliest) or begin after its newest entry.",
        ),
    ] = Start.EARLIEST,
    json_output: JsonOption = False,
) -> None:
    """Follow the feed into the order ledger, then show a summary.

    Applies every event not yet applied, oldest first, each exactly once in the ledger, walking back through
    archive pages as far as needed. An interrupted sync loses nothing: the next one resumes.
    """
    session = Session.of(ctx)
    path, _ = session.ledger_path(db)
    stop = threading.Event()
    with open_ledger(path) as ledger:
        run = _Run(ledger, err_console())
        with session.client(on_response=run.on_response) as client:
            follower = client.follow(checkpoint=run, start=start.value)
            # With --watch, Ctrl-C and SIGTERM ask to stop after the entry in hand.
            with stop_on_signals(stop) if watch else nullcontext():
                try:
                    run.poll(follower, stop, progress=True)
                except KeyboardInterrupt:
                    raise CliError(
                        f"interrupted after applying {run.stats.events} events; `dropship sync` resumes there",
                        ExitCode.INTERRUPTED,
                    ) from None
                _summary(run, json_output=json_output, watching=watch)
                if watch:
                    _watch(run, follower, stop, interval, json_output)


def _watch(run: _Run, follower: FeedFollower, stop: threading.Event, interval: float, json_output: bool) -> None:
    err = err_console()
    err.print(f"Watching the feed every {interval:g} s; Ctrl-C stops.")
    while not stop.wait(interval):
        try:
            stats = run.poll(follower, stop, progress=False)
        except TRANSIENT_ERRORS as error:
            err.print(f"warning: poll failed, trying again in {interval:g} s: {error}")
            continue
        if stats.events:
            _poll_line(run, json_output=json_output)
    err.print(f"Stopped; {plural(run.total.events, 'event')} applied in all.")
