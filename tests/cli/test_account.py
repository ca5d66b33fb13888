"""`dropship login`, `dropship config` and `dropship feed` against the emulator."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from iqmetrix_dropship.emulator import EmulatorServer

from .conftest import Cli, Switchboard, closed_port


def test_login_accepts_the_credentials_and_shows_when_the_token_expires(cli: Cli) -> None:
    result = cli("login")
    assert result.stdout.startswith("Credentials accepted.")
    assert re.search(r"token expires\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in 11h 59m\)", result.stdout)
    assert "supplier@example.com" in result.stdout
    assert "19 entries on the current page" in result.stdout


def test_login_json_parses_and_carries_no_token(cli: Cli) -> None:
    data = cli.json("login")
    assert data["ok"] is True
    assert data["supplier_id"] == 60455
    assert data["base_url"] == cli.server.base_url
    assert 43000 < data["token_expires_in"] <= 43199
    assert data["current_page_entries"] == 19
    assert not {key for key in data if "token" in key} - {"token_expires_at", "token_expires_in"}


def test_login_with_a_wrong_password_exits_3(cli: Cli) -> None:
    result = cli("--password", "not-the-password", "login", code=3)
    assert result.stderr.startswith("error: credentials refused:")
    assert "Traceback" not in result.output


def test_login_with_nothing_listening_exits_5(cli: Cli) -> None:
    nowhere = f"http://127.0.0.1:{closed_port()}/v1"
    result = cli("--base-url", nowhere, "--accounts-url", nowhere, "login", code=5)
    assert result.stderr.startswith("error: no answer from the server:")
    assert result.stderr.count("\n") == 1


def test_login_without_a_supplier_id_exits_2(cli: Cli) -> None:
    result = cli("login", code=2, env={"IQMETRIX_SUPPLIER_ID": None})
    assert "no supplier id" in result.stderr


def test_login_without_a_password_names_what_is_missing(cli: Cli) -> None:
    result = cli("login", code=2, env={"IQMETRIX_PASSWORD": None})
    assert "missing --password" in result.stderr
    assert "IQMETRIX_PASSWORD" in result.stderr


def test_an_unknown_profile_exits_2(cli: Cli) -> None:
    result = cli("--profile", "nope", "login", code=2)
    assert "no profile 'nope'" in result.stderr
    assert "emulator" in result.stderr  # the profiles that do exist


def test_a_bad_timeout_exits_2(cli: Cli) -> None:
    result = cli("login", code=2, env={"IQMETRIX_TIMEOUT": "soon"})
    assert "timeout must be a number of seconds" in result.stderr
    assert "IQMETRIX_TIMEOUT" in result.stderr


def test_config_shows_where_each_setting_comes_from_with_secrets_masked(cli: Cli) -> None:
    data = cli.json("--timeout", "5", "config")
    settings = data["settings"]
    assert settings["supplier_id"] == {"value": "60455", "source": "IQMETRIX_SUPPLIER_ID"}
    assert settings["password"] == {"value": "***", "source": "IQMETRIX_PASSWORD"}
    assert settings["timeout"] == {"value": "5.0", "source": "--timeout"}
    assert settings["db"] == {"value": "orders.db", "source": "default"}
    assert settings["access_token"] == {"value": None, "source": "not set"}
    table = cli("config").stdout
    assert "***" in table
    assert "IQMETRIX_CLIENT_SECRET" in table


def test_feed_shows_the_current_page_newest_first(cli: Cli) -> None:
    result = cli("feed")
    newest = cli.emulator.entry_ids()[-1]
    assert f"Feed page {cli.emulator.current_page_id}: 19 entries, newest first" in result.stdout
    assert result.stdout.index(newest) < result.stdout.index(cli.emulator.entry_ids()[0])
    assert "order-created" in result.stdout
    assert "order-status-updated" in result.stdout


def test_feed_on_a_narrow_terminal_leaves_entry_ids_to_json(cli: Cli) -> None:
    result = cli("feed", env={"COLUMNS": "100"})
    assert "urn:uuid:" not in result.stdout
    assert "Entry ids: --json, or a terminal of 150 columns." in result.stdout
    assert all(len(line) <= 100 for line in result.stdout.splitlines())


def test_feed_json_parses_with_page_links_and_entries(cli: Cli) -> None:
    data = cli.json("feed")
    assert data["page_id"] == cli.emulator.current_page_id
    assert data["prev_archive_page_id"] is None  # one page only
    assert [entry["id"] for entry in data["entries"]] == cli.emulator.entry_ids()[::-1]
    assert data["entries"][-1]["event"]["event_type"] == "order-created"
    assert set(data["links"]) == {"current", "self", "prev_archive", "next_archive"}


def test_feed_page_takes_a_guid_or_an_href(cli: Cli) -> None:
    cli.emulator.place_orders(40)  # 59 events: the first 50 roll into an archive page
    current = cli.json("feed")
    older = current["prev_archive_page_id"]
    assert older is not None
    by_id = cli.json("feed", "--page", older)
    by_href = cli.json("feed", "--page", current["links"]["prev_archive"])
    assert by_id["page_id"] == by_href["page_id"] == older
    assert len(by_id["entries"]) == 50
    assert f"Older entries: dropship feed --page {older}" in cli("feed").stdout


def test_feed_page_that_is_no_page_id_exits_2_before_any_request(cli: Cli) -> None:
    result = cli("feed", "--page", "https://example.com/not/a/page", code=2)
    assert "neither a page id nor a link" in result.stderr
    assert cli.emulator.request_log() == []


def test_feed_page_the_server_does_not_know_exits_1(cli: Cli) -> None:
    result = cli("feed", "--page", "00000000-0000-0000-0000-00000000abcd", code=1)
    assert result.stderr.startswith("error: HTTP 400")
    assert "The request is invalid" in result.stderr


def test_feed_with_nothing_listening_exits_5(cli: Cli) -> None:
    nowhere = f"http://127.0.0.1:{closed_port()}/v1"
    cli("--base-url", nowhere, "--accounts-url", nowhere, "--max-retries", "0", "feed", code=5)


def test_login_with_a_token_you_hold_checks_it_with_the_feed(cli: Cli) -> None:
    credentials = cli.emulator.credentials
    form = {
        "grant_type": "password",
        "username": credentials.username,
        "password": credentials.password,
        "client_id": credentials.client_id,
        "client_secret": credentials.client_secret,
    }
    token = httpx.post(f"{cli.server.base_url}/oauth2/token", data=form).json()["access_token"]
    held = {"IQMETRIX_ACCESS_TOKEN": token, "IQMETRIX_PASSWORD": None, "IQMETRIX_CLIENT_SECRET": None}
    result = cli("login", env=held)
    assert "token expires  unknown (an access token you hold" in result.stdout
    assert "username" not in result.stdout
    assert token not in result.output


def test_login_with_a_token_the_api_refuses_exits_3(cli: Cli) -> None:
    result = cli("login", code=3, env={"IQMETRIX_ACCESS_TOKEN": "not-a-token"})
    assert result.stderr.startswith("error: the API refused the token: HTTP 401")


def _lifetime_rewritten(inner: Any, expires_in: object) -> Any:
    """The emulator's app, its token answers carrying ``expires_in`` as given."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].endswith("/oauth2/token"):
            await inner(scope, receive, send)
            return
        start: dict[str, Any] = {}
        body = bytearray()

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                body.extend(message.get("body", b""))

        await inner(scope, receive, capture)
        data = json.loads(body)
        data["expires_in"] = expires_in
        rewritten = json.dumps(data).encode()
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        await send({**start, "headers": [*headers, (b"content-length", str(len(rewritten)).encode())]})
        await send({"type": "http.response.body", "body": rewritten})

    return app


@pytest.mark.parametrize("expires_in", [2**63 - 1, 1e12])
def test_login_with_an_absurd_token_lifetime_succeeds_with_a_clamped_expiry(
    cli: Cli, switchboard: tuple[Switchboard, EmulatorServer], expires_in: object
) -> None:
    board = switchboard[0]
    board.app = _lifetime_rewritten(board.app, expires_in)
    data = cli.json("login")  # before: exit 1, "unexpected OverflowError"
    expires = datetime.fromisoformat(data["token_expires_at"])
    assert expires - datetime.now(timezone.utc) <= timedelta(days=7, minutes=1)


@pytest.mark.parametrize("expires_in", [-60, "soon"])
def test_login_with_a_negative_or_non_numeric_token_lifetime_exits_3(
    cli: Cli, switchboard: tuple[Switchboard, EmulatorServer], expires_in: object
) -> None:
    board = switchboard[0]
    board.app = _lifetime_rewritten(board.app, expires_in)
    assert "expires_in" in cli("login", code=3).stderr


def test_a_huge_bad_setting_is_quoted_as_a_short_preview(cli: Cli) -> None:
    result = cli("login", code=2, env={"IQMETRIX_TIMEOUT": "x" * 100_000})
    assert "IQMETRIX_TIMEOUT" in result.stderr or "timeout" in result.stderr
    assert len(result.stderr) < 1_000


def test_a_timeout_that_is_not_a_number_is_refused(cli: Cli) -> None:
    cli("login", code=2, env={"IQMETRIX_TIMEOUT": "nan"})
