"""``dropship login``, ``dropship config`` and ``dropship feed``: the account and the raw feed."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from .._options import JsonOption
from .._render import WIDE_FEED, echo_json, feed_table, fields_table, out_console, time_text
from .._session import Session

__all__ = ["feed", "login", "show_config"]


def _expiry_text(expires: datetime | None, now: datetime) -> str:
    if expires is None:
        return "unknown (an access token you hold; it cannot be refreshed)"
    minutes = max(int((expires - now).total_seconds()) // 60, 0)
    return f"{time_text(expires)} UTC (in {minutes // 60}h {minutes % 60:02d}m)"


def login(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Check the credentials and show when the token expires (never the token).

    Gets a token from the accounts server, then reads the feed's current page with it, which
    proves that the token and the supplier id work with the Dropship API.
    """
    session = Session.of(ctx)
    settings = session.settings
    with session.client() as client:
        expires = client.authenticate()
        page = client.get_notifications()  # the token works with the API, for this supplier id
        config = client.config
    now = datetime.now(timezone.utc)
    # With a token you hold (IQMETRIX_ACCESS_TOKEN) the user and client are not known.
    who = (
        {}
        if settings.get("access_token")
        else {"username": settings.get("username"), "client id": settings.get("client_id")}
    )
    if json_output:
        data: dict[str, Any] = {
            "ok": True,
            "profile": settings.profile,
            "supplier_id": config.supplier_id,
            "username": who.get("username"),
            "client_id": who.get("client id"),
            "base_url": config.base_url,
            "accounts_url": config.accounts_url,
            "token_expires_at": None if expires is None else expires.isoformat(),
            "token_expires_in": None if expires is None else int((expires - now).total_seconds()),
            "current_page_entries": len(page.entries),
        }
        echo_json(data)
        return
    rows: list[tuple[str, object]] = []
    if settings.profile:
        rows.append(("profile", settings.profile))
    rows += [("supplier", config.supplier_id), *who.items()]
    rows += [
        ("API", config.base_url),
        ("accounts", config.accounts_url),
        ("token expires", _expiry_text(expires, now)),
        ("feed", f"readable: {len(page.entries)} entries on the current page"),
    ]
    console = out_console()
    console.print("Credentials accepted.")
    console.print(fields_table(rows))


def show_config(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Show the settings in effect and where each comes from; secrets as ***.

    Flags win over IQMETRIX_* variables, which win over the profile. Nothing is sent.
    """
    settings = Session.of(ctx).settings
    rows = settings.shown()
    if json_output:
        echo_json(
            {
                "config_file": None if settings.config_path is None else str(settings.config_path),
                "profile": settings.profile,
                "settings": {name: {"value": value or None, "source": source} for name, value, source in rows},
            }
        )
        return
    console = out_console()
    where = [("config file", settings.config_path or "none"), ("profile", settings.profile or "none")]
    console.print(fields_table(where))
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0))
    for column in ("setting", "value", "source"):
        table.add_column(column, overflow="fold")
    for name, value, source in rows:
        table.add_row(name, value or "-", source)
    console.print(table)


def feed(
    ctx: typer.Context,
    *,
    page: Annotated[
        str | None,
        typer.Option(
            "--page",
            help="An archive page: its GUID or a prev-archive/next-archive href. Default: the current page.",
            show_default=False,
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Show one page of the notification feed, newest entry first.

    The current page by default. Nothing is recorded: `dropship sync` keeps the ledger.
    """
    with Session.of(ctx).client() as client:
        feed_page = client.get_archive(page) if page else client.get_notifications()
    if json_output:
        echo_json(
            {
                "page_id": feed_page.page_id,
                "prev_archive_page_id": feed_page.prev_archive_page_id,
                "next_archive_page_id": feed_page.next_archive_page_id,
                **feed_page.model_dump(mode="json"),
            }
        )
        return
    console = out_console()
    console.print(feed_table(feed_page, console.width))
    if console.width < WIDE_FEED:
        console.print(f"Entry ids: --json, or a terminal of {WIDE_FEED} columns.")
    if feed_page.prev_archive_page_id:
        console.print(f"Older entries: dropship feed --page {feed_page.prev_archive_page_id}")
    if feed_page.next_archive_page_id:
        console.print(f"Newer entries: dropship feed --page {feed_page.next_archive_page_id}")
