"""`dropship` as a real process: the console script, the extra, the emulator, --watch and signals."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from iqmetrix_dropship import OrderLedger
from iqmetrix_dropship.cli._app import app

from .conftest import Cli
from .processes import DROPSHIP, WAIT, dropship


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=WAIT, check=False)


def test_importing_the_sdk_does_not_import_typer() -> None:
    done = run_python("import sys, iqmetrix_dropship; print('typer' in sys.modules)")
    assert done.stdout.strip() == "False", done.stderr


def test_the_sdk_works_without_typer_and_rich() -> None:
    # (httpx itself imports rich when it is installed, for its own command line; it copes without.)
    code = "import sys; sys.modules['typer'] = sys.modules['rich'] = None\nimport iqmetrix_dropship.cli; print('ok')"
    done = run_python(code)
    assert done.stdout.strip() == "ok", done.stderr


def test_without_the_extra_main_says_what_to_install_and_exits_2() -> None:
    done = run_python(
        "import sys; sys.modules['typer'] = None\nfrom iqmetrix_dropship.cli import main\nmain(['login'])"
    )
    assert done.returncode == 2
    assert done.stderr == "error: the dropship command needs its extra: pip install 'iqmetrix-dropship[cli]'\n"


def test_python_dash_m_runs_the_command_line() -> None:
    done = subprocess.run([*DROPSHIP, "--version"], capture_output=True, text=True, timeout=WAIT, check=False)
    assert done.returncode == 0
    assert done.stdout.startswith("dropship (iqmetrix-dropship) ")


def test_the_emulator_command_serves_until_sigterm(cli: Cli, tmp_path: Path) -> None:
    args = ["emulator", "--port", "0", "--orders", "3", "--seed", "5"]
    with dropship(args, env={}, cwd=tmp_path) as (process, out, _):
        base_url = out.wait_for(lambda line: line.startswith("http://127.0.0.1:"))
        assert out.seen[0].startswith("iQmetrix Dropship emulator: 3 orders")
        login = CliRunner().invoke(
            app,
            ["--profile", "emulator", "login", "--json"],
            env={
                **{name: None for name in cli.env if name.startswith("IQMETRIX_")},
                "IQMETRIX_BASE_URL": base_url,
                "IQMETRIX_ACCOUNTS_URL": base_url,
            },
        )
        assert login.exit_code == 0, login.output
        process.send_signal(signal.SIGTERM)
        assert process.wait(WAIT) == 0
        assert out.rest()[-1] == "emulator stopped"


@pytest.mark.parametrize("port", ["not-a-port", "99999", "-1"])
def test_the_emulator_command_refuses_bad_options_with_exit_2(cli: Cli, port: str) -> None:
    result = cli("emulator", "--port", port, code=2)
    assert "dropship emulator: error: argument --port: a port is 0 to 65535" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_emulator_command_says_in_one_line_why_it_cannot_start(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "not.db").write_bytes(b"not a database, but long enough to look like a file " * 100)
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = str(taken.getsockname()[1])
        for args, why in [
            (["--port", port], "Address already in use"),
            (["--port", "0", "--host", "999.1.1.1"], "Name or service not known"),
            (["--port", "0", "--db", str(tmp_path / "not.db")], "file is not a database"),
        ]:
            result = cli("emulator", *args, code=2)
            last = result.stderr.strip().splitlines()[-1]
            assert last.startswith("error: the emulator cannot start: "), result.stderr
            assert why in last
            assert "Traceback" not in result.stderr


def test_sync_watch_follows_new_orders_until_ctrl_c(cli: Cli) -> None:
    env = {**cli.env, "COLUMNS": "100"}
    with dropship(["sync", "--watch", "--interval", "0.1"], env=env, cwd=cli.cwd) as (process, out, err):
        out.wait_for(lambda line: line.startswith("Applied 19 new events"))
        err.wait_for(lambda line: line.startswith("Watching the feed every 0.1 s"))
        cli.emulator.place_order()
        out.wait_for(lambda line: "1 new event: 1 new order, 0 status updates" in line)
        process.send_signal(signal.SIGINT)
        assert process.wait(WAIT) == 0
        assert err.rest()[-1] == "Stopped; 20 events applied in all."
    with OrderLedger(cli.cwd / "orders.db") as ledger:
        assert sum(ledger.counts().values()) == 13


def test_sync_watch_json_prints_one_line_per_poll_with_news(cli: Cli) -> None:
    with dropship(["sync", "--watch", "--interval", "0.1", "--json"], env=cli.env, cwd=cli.cwd) as (process, out, _):
        first = json.loads(out.wait_for(lambda line: line.startswith("{")))
        assert (first["events"], first["orders"]) == (19, 12)
        cli.emulator.place_orders(2)
        news = [json.loads(out.wait_for(lambda line: line.startswith("{")))]
        if news[0]["orders"] == 13:  # one poll saw the first order only: the next sees the second
            news.append(json.loads(out.wait_for(lambda line: line.startswith("{"))))
        process.send_signal(signal.SIGTERM)
        assert process.wait(WAIT) == 0
    assert news[-1]["orders"] == 14
    assert sum(poll["new_orders"] for poll in news) == 2
    assert {"at", "db", "events", "orders_by_status"} <= set(news[-1])
