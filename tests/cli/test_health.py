"""`dropship ping` and `dropship doctor` against a served emulator, and doctor's pure checks as tables."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest

from iqmetrix_dropship._protocol.config import Environment
from iqmetrix_dropship.cli.commands.health import (
    DateSample,
    Status,
    check_clock,
    check_config_file,
    check_environment,
)

from .conftest import PASSWORD, Cli, assert_no_secret, closed_port

NO_HOST_VARIABLES = {"IQMETRIX_AVAILABILITY_URL": None, "IQMETRIX_PRODUCT_LIBRARY_URL": None}
SERVICES = ("dropship", "accounts", "availability", "product_library")


@pytest.fixture
def cli(cli: Cli) -> Cli:
    cli.env.update(NO_HOST_VARIABLES)
    return cli


def nowhere() -> str:
    return f"http://127.0.0.1:{closed_port()}/v1"


def checks(cli: Cli, *args: str, code: int, env: Mapping[str, str | None] | None = None) -> dict[str, dict[str, str]]:
    result = cli(*args, "doctor", "--json", code=code, env=env)
    assert_no_secret(result.output)
    report = json.loads(result.stdout)
    assert report["ok"] is (code == 0)
    return {check["name"]: check for check in report["checks"]}


# -- ping -------------------------------------------------------------------------------------


def test_ping_prints_a_line_per_service_and_exits_0(cli: Cli) -> None:
    lines = cli("ping").stdout.splitlines()
    assert [line.split()[:3] for line in lines] == [["✓", name, "200"] for name in SERVICES]
    assert all("version" in line for line in lines)


def test_ping_needs_no_credentials(cli: Cli) -> None:
    unset = dict.fromkeys(name for name in cli.env if name.startswith("IQMETRIX_") and not name.endswith("_URL"))
    cli("ping", env=unset)


def test_ping_exits_5_when_a_service_does_not_answer(cli: Cli) -> None:
    result = cli("--availability-url", nowhere(), "ping", code=5)
    down = [line for line in result.stdout.splitlines() if line.startswith("✗")]
    assert [line.split()[1] for line in down] == ["availability"]
    assert "error: 1 service of 4 not OK: availability" in result.stderr


def test_ping_json_has_each_services_status(cli: Cli) -> None:
    report = cli.json("ping")
    assert report["ok"] is True
    assert set(report["services"]) == set(SERVICES)
    assert report["services"]["dropship"]["status_code"] == 200


# -- doctor against the emulator --------------------------------------------------------------


def test_doctor_passes_every_check_on_a_working_setup(cli: Cli) -> None:
    result = cli("doctor")
    assert all(line.startswith("✓") for line in result.stdout.splitlines()[:-1]), result.stdout
    assert result.stdout.splitlines()[-1] == "11 of 11 checks passed."
    names = list(checks(cli, code=0))
    assert names == [
        "settings", "config file", "environment", "URLs", *(f"host {name}" for name in SERVICES), "token", "feed",
        "clock",
    ]  # fmt: skip


def test_doctor_names_the_password_setting_when_the_password_is_refused(cli: Cli) -> None:
    wrong = "wrong-SECRET-pass-31e0"
    result = cli("doctor", env={"IQMETRIX_PASSWORD": wrong}, code=3)
    assert "✗ token" in result.stdout
    assert "password (from IQMETRIX_PASSWORD)" in result.stdout
    assert "--password" in result.stdout
    assert wrong not in result.output
    found = checks(cli, env={"IQMETRIX_PASSWORD": wrong}, code=3)
    assert found["token"]["status"] == "failed"
    assert found["feed"]["status"] == "skipped"


def test_a_password_refused_from_the_flag_names_the_flag_and_is_never_printed(cli: Cli) -> None:
    wrong = "wrong-SECRET-flag-8d2b"
    result = cli("--password", wrong, "doctor", code=3)
    assert "password (from --password)" in result.stdout
    assert wrong not in result.output
    assert PASSWORD not in result.output


def test_a_refused_client_secret_names_the_client_settings(cli: Cli) -> None:
    result = cli("doctor", env={"IQMETRIX_CLIENT_SECRET": "wrong-SECRET-client"}, code=3)
    assert "client_secret (from IQMETRIX_CLIENT_SECRET)" in result.stdout
    assert "wrong-SECRET-client" not in result.output


def test_doctor_exits_5_when_the_hosts_do_not_answer(cli: Cli) -> None:
    dead = nowhere()
    found = checks(cli, "--base-url", dead, "--accounts-url", dead, code=5)
    assert found["host dropship"]["status"] == "failed"
    assert "no answer" in found["host dropship"]["detail"]
    assert "--base-url" in found["host dropship"]["fix"]
    assert found["token"]["status"] == "skipped"
    assert found["clock"]["status"] == "skipped"


def test_doctor_names_the_supplier_id_when_the_api_does_not_know_it(cli: Cli) -> None:
    found = checks(cli, "--supplier-id", "99", code=1)
    assert found["token"]["status"] == "ok"
    assert found["feed"]["status"] == "failed"
    assert "supplier_id (from --supplier-id)" in found["feed"]["detail"]
    assert "IQMETRIX_SUPPLIER_ID" in found["feed"]["fix"]


def test_doctor_lists_missing_settings_and_exits_2(cli: Cli) -> None:
    result = cli("doctor", env={"IQMETRIX_PASSWORD": None, "IQMETRIX_USERNAME": None}, code=2)
    assert "✗ settings" in result.stdout
    assert "missing: username, password" in result.stdout
    assert "--username, --password, or IQMETRIX_USERNAME, IQMETRIX_PASSWORD" in result.stdout
    assert "- token" in result.stdout  # skipped, the hosts still checked
    assert "✓ host dropship" in result.stdout


def test_doctor_refuses_a_config_file_others_can_read(cli: Cli) -> None:
    config = cli.cwd / "config.toml"
    config.write_text(f'[profiles.p]\nsupplier_id = 60455\nbase_url = "{cli.server.base_url}"\n', encoding="utf-8")
    config.chmod(0o644)
    env = {"IQMETRIX_CONFIG": str(config), "IQMETRIX_PROFILE": "p", "IQMETRIX_BASE_URL": None}
    result = cli("doctor", env=env, code=2)
    assert f"fix: chmod 600 {config}" in result.stdout
    config.chmod(0o600)
    assert "✓ config file" in cli("doctor", env=env).stdout


def test_doctor_prints_no_secret_or_token(cli: Cli) -> None:
    for args in (("doctor",), ("doctor", "--json"), ("--debug", "doctor")):
        assert_no_secret(cli(*args).output)
    tokens = [*cli.emulator._tokens._access]
    assert tokens
    assert not [token for token in tokens if token in cli("doctor", "--json").output]


# -- the pure checks --------------------------------------------------------------------------

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("local", "status", "words"),
    [
        (NOW, Status.OK, "within 0 s"),
        (NOW + timedelta(seconds=59), Status.OK, "within 59 s"),
        (NOW + timedelta(seconds=90), Status.WARN, "90 s ahead of"),
        (NOW - timedelta(minutes=5), Status.WARN, "300 s behind"),
    ],
)
def test_the_clock_is_compared_with_the_servers_date_header(local: datetime, status: Status, words: str) -> None:
    check = check_clock([DateSample(format_datetime(NOW, usegmt=True), local, "dropship.example")])
    assert check.status is status
    assert words in check.detail
    if status is Status.WARN:
        assert "NTP" in (check.fix or "")


@pytest.mark.parametrize(
    ("samples", "status"),
    [
        ([], Status.SKIPPED),
        ([DateSample(None, NOW, "h")], Status.WARN),
        ([DateSample("not a date", NOW, "h")], Status.WARN),
    ],
)
def test_without_a_readable_date_the_clock_is_not_compared(samples: list[DateSample], status: Status) -> None:
    assert check_clock(samples).status is status


SANDBOX_HOSTS = {
    "base_url": Environment.SANDBOX.base_url,
    "accounts_url": Environment.SANDBOX.accounts_url,
}
PRODUCTION_HOSTS = {
    "base_url": Environment.PRODUCTION.base_url,
    "accounts_url": Environment.PRODUCTION.accounts_url,
}


@pytest.mark.parametrize(
    ("environment", "urls", "status", "words"),
    [
        (Environment.SANDBOX, SANDBOX_HOSTS, Status.OK, "sandbox"),
        (Environment.PRODUCTION, PRODUCTION_HOSTS, Status.OK, "production"),
        (Environment.PRODUCTION, SANDBOX_HOSTS, Status.FAILED,
         "base_url https://dropshipdemo.iqmetrix.net/v1 is a sandbox host"),
        (Environment.SANDBOX, {**SANDBOX_HOSTS, "accounts_url": "https://accounts.iqmetrix.net/v1"}, Status.FAILED,
         "accounts_url https://accounts.iqmetrix.net/v1 is a production host"),
        (Environment.SANDBOX, {"base_url": "https://dropshiprc.iqmetrix.net/v1"}, Status.OK, "sandbox"),
        (Environment.PRODUCTION, {"base_url": "http://127.0.0.1:8080/v1"}, Status.OK, "not iQmetrix hosts"),
    ],
)  # fmt: skip
def test_the_hosts_must_belong_to_the_environment(
    environment: Environment, urls: dict[str, str], status: Status, words: str
) -> None:
    check = check_environment(environment, urls)[0]
    assert check.status is status
    assert words in check.detail


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("http://127.0.0.1:8080/v1", Status.OK),
        ("http://localhost/v1", Status.OK),
        ("http://proxy.example/v1", Status.WARN),
    ],
)
def test_plain_http_is_only_for_this_machine(url: str, status: Status) -> None:
    assert check_environment(Environment.SANDBOX, {"base_url": url})[1].status is status


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
@pytest.mark.parametrize(
    ("mode", "status"),
    [
        (None, Status.OK),
        (0o100600, Status.OK),
        (0o100400, Status.OK),
        (0o100640, Status.FAILED),
        (0o100644, Status.FAILED),
    ],
)
def test_a_config_file_must_be_private(mode: int | None, status: Status) -> None:
    path = None if mode is None else Path("/home/ops/.config/iqmetrix-dropship/config.toml")
    assert check_config_file(path, mode).status is status
