"""``/healthz`` and ``/readyz`` over real HTTP: ready when every check passes, else 503 naming
each failing check and why (the token refused, the database stopped, the last poll too old)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from iqmetrix_dropship import DropshipClient, OrderLedger
from iqmetrix_dropship.emulator import Emulator, EmulatorServer

from ..postgres import running_server
from ..support import client_for
from .conftest import SECRETS, WAIT, Following, get, serving, tokens_issued


def test_healthz_answers_ok_while_the_process_is_alive(client: DropshipClient, ledger: OrderLedger) -> None:
    with serving(client, ledger) as url:
        answer = get(f"{url}/healthz")
    assert (answer.status_code, answer.json()) == (200, {"status": "ok"})


def test_readyz_is_200_once_a_token_was_obtained_the_database_answers_and_a_poll_succeeded(
    emulator: Emulator, client: DropshipClient, ledger: OrderLedger
) -> None:
    follower = client.follow(checkpoint=ledger)
    with Following(follower) as following, serving(client, ledger, follower) as url:
        following.wait_for(emulator.entry_ids())
        answer = get(f"{url}/readyz")
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["status"] == "ready"
    assert report["checks"]["token"] == {"ok": True, "detail": "a token was obtained"}
    assert report["checks"]["database"] == {"ok": True, "detail": "the ledger answered"}
    assert report["checks"]["poll"]["ok"] is True
    assert report["checks"]["poll"]["detail"].startswith("the last successful poll was")


def test_readyz_names_the_token_when_the_accounts_server_refuses_the_credentials(
    emulator: Emulator, served: EmulatorServer, ledger: OrderLedger
) -> None:
    with (
        client_for(emulator, served.base_url, password="ops-SECRET-wrong-11") as refused,
        serving(refused, ledger) as url,
    ):
        answer = get(f"{url}/readyz")
    assert answer.status_code == 503
    report = answer.json()
    assert report["status"] == "not ready"
    assert report["failed"] == {"token": "the accounts server refused the credentials (invalid_grant)"}
    assert report["checks"]["database"]["ok"] is True
    for secret in (*SECRETS, "ops-SECRET-wrong-11", *tokens_issued(emulator)):
        assert secret not in answer.text


def test_readyz_names_the_database_when_its_server_is_stopped(client: DropshipClient) -> None:
    try:
        server = running_server()
        postgres = server.__enter__()
    except RuntimeError as error:
        pytest.skip(f"NO POSTGRESQL SERVER: {error}")
    try:
        with OrderLedger(postgres.dsn, schema="ops") as ledger, serving(client, ledger) as url:
            assert get(f"{url}/readyz").status_code == 200
            postgres.stop("fast")
            answer = get(f"{url}/readyz")
    finally:
        server.__exit__(None, None, None)
    assert answer.status_code == 503
    failed = answer.json()["failed"]
    assert list(failed) == ["database"]
    assert "did not answer" in failed["database"]
    assert "127.0.0.1" in failed["database"]  # which database: its DSN, without a password


def test_readyz_names_the_poll_when_the_last_successful_one_is_older_than_the_limit(
    emulator: Emulator, client: DropshipClient, ledger: OrderLedger
) -> None:
    follower = client.follow(checkpoint=ledger)
    with serving(client, ledger, follower, max_poll_age=120.0) as url:
        for _ in follower.poll():
            pass
        assert get(f"{url}/readyz").status_code == 200
        follower.last_poll_ok = time.time() - 312  # as if the feed had not been read since
        answer = get(f"{url}/readyz")
    assert answer.status_code == 503
    assert answer.json()["failed"] == {"poll": "the last successful poll was 312 s ago (limit 120 s)"}


def test_readyz_fails_before_the_first_successful_poll(client: DropshipClient, ledger: OrderLedger) -> None:
    follower = client.follow(checkpoint=ledger)
    with serving(client, ledger, follower) as url:
        answer = get(f"{url}/readyz")
    assert answer.status_code == 503
    assert answer.json()["failed"]["poll"].startswith("no poll has succeeded yet")


def test_readyz_passes_a_standby_replica_that_can_ask_for_the_lease(client: DropshipClient, tmp_path: Path) -> None:
    # A PostgreSQL ledger's replica that does not lead: ready, and the check says "standby".
    try:
        server = running_server()
        postgres = server.__enter__()
    except RuntimeError as error:
        pytest.skip(f"NO POSTGRESQL SERVER: {error}")
    try:
        with OrderLedger(postgres.dsn, schema="ops") as leader, OrderLedger(postgres.dsn, schema="ops") as standby:
            assert leader.lead()
            follower = client.follow(checkpoint=standby)
            for _ in follower.poll():  # asks for the lease, gets none, delivers nothing
                pass
            with serving(client, standby, follower) as url:
                answer = get(f"{url}/readyz")
    finally:
        server.__exit__(None, None, None)
    assert answer.status_code == 200, answer.text
    assert answer.json()["checks"]["poll"]["detail"].startswith("standby")


def test_an_unknown_path_is_404_and_a_wrong_method_405(client: DropshipClient, ledger: OrderLedger) -> None:
    with serving(client, ledger) as url:
        unknown = get(f"{url}/secrets")
        wrong = httpx.post(f"{url}/healthz", timeout=WAIT)
    assert unknown.status_code == 404
    assert wrong.status_code == 405
    assert wrong.headers["Allow"] == "GET"
