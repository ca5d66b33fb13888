"""Every failure is one line on stderr and a documented exit code; --debug adds the traceback."""

from __future__ import annotations

import pytest

from iqmetrix_dropship import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    Cursor,
    CursorLostError,
    DropshipClient,
    FeedParseError,
    InvalidRequestError,
    LedgerSchemaError,
    NotFoundError,
    OrderLedger,
    RateLimitError,
    ServerError,
    TokenError,
)
from iqmetrix_dropship.cli._exit import CliError, ExitCode, exit_code_for, message_for

from .conftest import Cli


def api_error(cls: type[Exception], status: int) -> Exception:
    return cls("Not found", status_code=status, method="GET", url="http://127.0.0.1/v1/x")


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (TokenError("refused", error="invalid_grant"), 3),
        (api_error(AuthenticationError, 401), 3),
        (api_error(NotFoundError, 404), 4),
        (api_error(BadRequestError, 400), 1),
        (api_error(RateLimitError, 429), 1),
        (api_error(ServerError, 503), 1),
        (APIConnectionError("GET x failed: ConnectError"), 5),
        (APITimeoutError("GET x timed out"), 5),
        (FeedParseError("not Atom"), 6),
        (CursorLostError("entry gone"), 6),
        (InvalidRequestError("'Exception' is not a valid OrderStatus"), 2),
        (ConfigurationError("IQMETRIX_SUPPLIER_ID is not set"), 2),
        (LedgerSchemaError("newer"), 2),
        (CliError("no such order", ExitCode.NOT_FOUND), 4),
        (CliError("bad profile"), 2),
        (OSError(21, "Is a directory"), 2),
        (KeyboardInterrupt(), 130),
        (RuntimeError("a bug"), 1),
    ],
)
def test_each_error_has_its_documented_exit_code(error: BaseException, code: int) -> None:
    assert exit_code_for(error) == code


def test_messages_are_one_line() -> None:
    assert message_for(APIConnectionError("GET x\nfailed")) == "no answer from the server: GET x failed"
    assert message_for(KeyboardInterrupt()) == "interrupted"
    assert message_for(RuntimeError("boom")) == "unexpected RuntimeError: boom (run with --debug for the traceback)"


def test_ctrl_c_exits_130(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(self: DropshipClient, **options: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(DropshipClient, "get_notifications", interrupted)
    result = cli("feed", code=130)
    assert result.stderr == "error: interrupted\n"


def test_an_interrupted_sync_loses_nothing_and_the_next_one_resumes(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    advance = OrderLedger.advance
    calls = 0

    def interrupted_at_the_fifth(self: OrderLedger, cursor: Cursor, entry: object) -> None:
        nonlocal calls
        calls += 1
        if calls == 5:
            raise KeyboardInterrupt
        advance(self, cursor, entry)  # type: ignore[arg-type]

    monkeypatch.setattr(OrderLedger, "advance", interrupted_at_the_fifth)
    result = cli("sync", code=130)
    assert result.stderr == "error: interrupted after applying 4 events; `dropship sync` resumes there\n"
    monkeypatch.setattr(OrderLedger, "advance", advance)
    assert cli.json("sync")["events"] == 15
    with OrderLedger(cli.cwd / "orders.db") as ledger:
        assert ledger.entry_ids() == cli.emulator.entry_ids()


def test_a_lost_cursor_exits_6_with_advice(cli: Cli) -> None:
    with OrderLedger(cli.cwd / "orders.db") as ledger:
        ledger.save(Cursor("urn:uuid:no-longer-there", cli.emulator.current_page_id))
    result = cli("sync", code=6)
    assert "urn:uuid:no-longer-there" in result.stderr
    assert "sync into a new ledger (--db NEW.db)" in result.stderr


def test_a_feed_that_cannot_be_parsed_exits_6(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: DropshipClient, **options: object) -> None:
        raise FeedParseError("not a feed", element="html")

    monkeypatch.setattr(DropshipClient, "get_notifications", broken)
    assert cli("feed", code=6).stderr == "error: the feed could not be read: not a feed (at element <html>)\n"


def test_an_unexpected_error_is_one_line_without_debug_and_a_traceback_with_it(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    def bug(self: DropshipClient, **options: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(DropshipClient, "get_notifications", bug)
    quiet = cli("feed", code=1)
    assert quiet.stderr == "error: unexpected RuntimeError: boom (run with --debug for the traceback)\n"
    loud = cli("--debug", "feed", code=1)
    assert "Traceback (most recent call last)" in loud.stderr
    assert loud.stderr.rstrip().endswith("error: unexpected RuntimeError: boom (run with --debug for the traceback)")


def test_debug_logs_the_sdks_requests_on_stderr(cli: Cli) -> None:
    result = cli("--debug", "feed", "--json")
    assert "POST " in result.stderr
    assert "/oauth2/token -> 200" in result.stderr
    assert result.stdout.startswith("{")


def test_a_ledger_that_cannot_be_opened_exits_2(cli: Cli) -> None:
    result = cli("sync", "--db", "no/such/folder/orders.db", code=2)
    assert result.stderr.startswith("error: cannot open the ledger no/such/folder/orders.db:")
    assert result.stderr.count("\n") == 1


def test_a_ledger_path_that_is_a_directory_is_a_usage_error(cli: Cli) -> None:
    (cli.cwd / "folder.db").mkdir()
    assert "folder.db" in cli("sync", "--db", "folder.db", code=2).stderr


def test_a_click_usage_error_exits_2(cli: Cli) -> None:
    assert "--nope" in cli("feed", "--nope", code=2).output
