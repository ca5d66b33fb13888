"""`dropship sync` against the emulator: the ledger, the summary, the progress bar."""

from __future__ import annotations

import os
import stat

from iqmetrix_dropship import OrderLedger

from .conftest import Cli, closed_port


def test_sync_applies_the_whole_feed_into_orders_db_then_finds_nothing_new(cli: Cli) -> None:
    first = cli("sync")
    assert "Applied 19 new events from 1 feed page to orders.db: 12 new orders, 7 status updates." in first.stdout
    assert "total" in first.stdout
    with OrderLedger(cli.cwd / "orders.db") as ledger:
        assert ledger.entry_ids() == cli.emulator.entry_ids()
    again = cli("sync")
    assert again.stdout.startswith("Up to date: no new events; orders.db holds 12 orders.")


def test_sync_json_summary_counts_events_and_orders_by_status(cli: Cli) -> None:
    data = cli.json("sync", "--db", "ledger.db")
    assert data["db"] == "ledger.db"
    assert (data["events"], data["orders_created"], data["status_updates"]) == (19, 12, 7)
    assert data["new_orders"] == data["orders"] == 12
    assert sum(data["orders_by_status"].values()) == 12
    assert data["orders_by_status"]["PendingSupplier"] == 7
    assert (cli.cwd / "ledger.db").exists()
    assert not (cli.cwd / "orders.db").exists()


def test_sync_picks_up_new_orders_across_an_archive_page(cli: Cli) -> None:
    cli("sync")
    cli.emulator.place_orders(40)  # the current page rolls over into an archive
    data = cli.json("sync")
    assert (data["events"], data["new_orders"]) == (40, 40)
    assert data["feed_pages"] == 2


def test_sync_start_latest_begins_after_the_newest_entry(cli: Cli) -> None:
    data = cli.json("sync", "--start", "latest")
    assert (data["events"], data["orders"]) == (0, 0)
    cli.emulator.place_order()
    assert cli.json("sync")["new_orders"] == 1


def test_sync_takes_the_db_from_the_environment(cli: Cli) -> None:
    cli("sync", env={"IQMETRIX_DB": str(cli.cwd / "from-env.db")})
    assert (cli.cwd / "from-env.db").exists()


def test_sync_shows_a_progress_bar_on_a_terminal(cli: Cli) -> None:
    result = cli("sync", env={"TTY_COMPATIBLE": "1"})  # rich draws live output as on a terminal
    assert "events applied" in result.stderr
    assert "feed requests" in result.stderr


def test_sync_shows_no_progress_bar_when_not_on_a_terminal(cli: Cli) -> None:
    assert cli("sync").stderr == ""


def test_sync_with_nothing_listening_exits_5_and_leaves_the_ledger_empty(cli: Cli) -> None:
    nowhere = f"http://127.0.0.1:{closed_port()}/v1"
    result = cli("--base-url", nowhere, "--accounts-url", nowhere, "--max-retries", "0", "sync", code=5)
    assert result.stderr.startswith("error: no answer from the server")
    with OrderLedger(cli.cwd / "orders.db") as ledger:
        assert ledger.event_count() == 0


def test_sync_with_refused_credentials_exits_3(cli: Cli) -> None:
    cli("--client-secret", "wrong", "sync", code=3)


def test_watch_needs_a_positive_interval(cli: Cli) -> None:
    result = cli("sync", "--watch", "--interval", "0", code=2)
    assert "--interval" in result.output


def test_sync_creates_the_ledger_readable_by_its_owner_only(cli: Cli) -> None:
    previous = os.umask(0o022)  # the usual umask, under which a plain create is 0644
    try:
        cli("sync")
    finally:
        os.umask(previous)
    made = sorted(path for path in cli.cwd.iterdir() if path.name.startswith("orders.db"))
    assert made, "sync made no ledger"
    assert {path.name: stat.S_IMODE(path.stat().st_mode) for path in made} == {path.name: 0o600 for path in made}
