"""``dropship run`` with its ops endpoints, as a real process: it logs where it listens (JSON
lines with ``--log-format json``), answers ``/healthz``, ``/readyz`` and ``/metrics``, polls at
once on a webhook, and never logs a secret; options that cannot work are refused at start."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable

import httpx

from iqmetrix_dropship import OrderLedger

from ..conftest import PgStore
from .conftest import Cli, assert_no_secret, closed_port
from .processes import WAIT, dropship

WEBHOOK_SECRET = "cli-SECRET-webhook-0d4e"


def _until(condition: Callable[[], bool], timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.05)


def _ready(url: str) -> bool:
    return httpx.get(f"{url}/readyz", timeout=WAIT).status_code == 200


def test_run_serves_health_readiness_metrics_and_the_webhook_and_logs_json_lines(cli: Cli, pg_store: PgStore) -> None:
    args = ["run", "--db", pg_store.dsn, "--schema", pg_store.schema, "--interval", "3600", "--lease", "1"]
    args += ["--metrics-port", "0", "--webhook-port", "0", "--log-format", "json"]
    env = {**cli.env, "DROPSHIP_WEBHOOK_SECRET": WEBHOOK_SECRET}
    with dropship(args, env=env, cwd=cli.cwd) as (process, _, log):
        url = json.loads(log.wait_for(lambda line: '"ops.url"' in line))["ops.url"]
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{url}/healthz", timeout=WAIT).json() == {"status": "ok"}
        _until(lambda: _ready(url))  # once the first poll has read the feed
        scrape = httpx.get(f"{url}/metrics", timeout=WAIT)
        assert scrape.status_code == 200
        assert "process_resident_memory_bytes" in scrape.text
        cli.emulator.place_order()
        placed = cli.emulator.entry_ids()[-1]
        answer = httpx.post(
            f"{url}/webhook",
            json={"Event": "OrderCreated"},
            headers={"X-Dropship-Webhook-Secret": WEBHOOK_SECRET},
            timeout=WAIT,
        )
        assert answer.status_code == 202
        with OrderLedger(pg_store.dsn, schema=pg_store.schema) as ledger:
            _until(lambda: placed in ledger.entry_ids())  # polled now, not in an hour
        process.send_signal(signal.SIGTERM)
        assert process.wait(WAIT) == 0
        lines = log.rest()
    parsed = [json.loads(line) for line in lines]  # every line is one JSON object
    assert {"time", "level", "logger", "message"} <= set(parsed[0])
    assert any(str(line["message"]).startswith("webhook accepted (OrderCreated)") for line in parsed)
    tokens = [*cli.emulator._tokens._access, *cli.emulator._tokens._refresh]
    assert tokens
    for line in lines:
        assert_no_secret(line)
        assert WEBHOOK_SECRET not in line
        assert not any(token in line for token in tokens)


def test_a_webhook_port_without_a_secret_in_the_environment_is_refused_at_start(cli: Cli) -> None:
    env = {"DROPSHIP_WEBHOOK_SECRET": None, "DROPSHIP_WEBHOOK_USERNAME": None, "DROPSHIP_WEBHOOK_PASSWORD": None}
    result = cli("run", "--db", "orders.db", "--webhook-port", "0", code=2, env=env)
    assert "the webhook needs a secret: set DROPSHIP_WEBHOOK_SECRET" in result.stderr
    assert not (cli.cwd / "orders.db").exists()


def test_the_webhook_secret_is_not_a_command_line_option(cli: Cli) -> None:
    result = cli("run", "--webhook-port", "0", "--webhook-secret", WEBHOOK_SECRET, code=2)
    assert "No such option: --webhook-secret" in result.stderr


def test_half_a_basic_pair_is_refused(cli: Cli) -> None:
    env = {"DROPSHIP_WEBHOOK_USERNAME": "iqmetrix", "DROPSHIP_WEBHOOK_PASSWORD": None}
    result = cli("run", "--db", "orders.db", "--webhook-port", "0", code=2, env=env)
    assert "set both DROPSHIP_WEBHOOK_USERNAME and DROPSHIP_WEBHOOK_PASSWORD" in result.stderr


def test_a_webhook_without_a_follower_to_wake_is_refused(cli: Cli) -> None:
    args = ["run", "--db", "postgresql://app@127.0.0.1:1/shop", "--no-follower", "--workers", "1"]
    args += ["--handler", "tests.cli.run_handler:ship", "--webhook-port", "0"]
    result = cli(*args, code=2, env={"DROPSHIP_WEBHOOK_SECRET": WEBHOOK_SECRET})
    assert "--webhook-port wakes the follower" in result.stderr


def test_binding_beyond_the_loopback_is_warned_about(cli: Cli) -> None:
    dsn = f"postgresql://app@127.0.0.1:{closed_port()}/shop"  # fails right after the warning
    args = ["run", "--db", dsn, "--webhook-port", "0", "--bind", "0.0.0.0"]  # noqa: S104 - the point
    result = cli(*args, code=2, env={"DROPSHIP_WEBHOOK_SECRET": WEBHOOK_SECRET})
    assert "the ops endpoints listen on 0.0.0.0, beyond this machine" in result.stderr


def test_metrics_without_the_prometheus_extra_is_refused_naming_it(cli: Cli) -> None:
    # A child whose import of prometheus_client fails, as where the extra is not installed.
    code = "import sys; sys.modules['prometheus_client'] = None; from iqmetrix_dropship.cli import main; main()"
    result = subprocess.run(
        [sys.executable, "-c", code, "run", "--db", "orders.db", "--metrics-port", "0"],
        cwd=cli.cwd,
        capture_output=True,
        text=True,
        timeout=WAIT,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "pip install 'iqmetrix-dropship[prometheus]'" in result.stderr
    assert "prometheus_client is missing" in result.stderr


def test_a_port_in_use_is_a_clear_error_naming_it(cli: Cli) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli(
            "run",
            "--db",
            "orders.db",
            "--webhook-port",
            str(port),
            code=2,
            env={"DROPSHIP_WEBHOOK_SECRET": WEBHOOK_SECRET},
        )
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in result.stderr
