"""The log lines of ``dropship run``: ``--log-format json`` writes one JSON object per line with
the span attributes' names as fields; text or JSON, no secret the process knows survives."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator

import pytest

from iqmetrix_dropship import DropshipClient, OrderLedger
from iqmetrix_dropship.cli._logging import log_to_stderr

from .conftest import SECRETS, serving, webhook

logger = logging.getLogger("iqmetrix_dropship.tests.ops")
CLIENT_SECRET, PASSWORD, WEBHOOK_SECRET, _ = SECRETS


@pytest.fixture
def json_log(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    undo = log_to_stderr(logging.INFO, json_lines=True, secrets=lambda: SECRETS)
    try:
        yield capsys
    finally:
        undo()


def _lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in capsys.readouterr().err.splitlines()]


def test_a_json_line_has_the_time_level_logger_message_and_the_dotted_extra_fields(
    json_log: pytest.CaptureFixture[str],
) -> None:
    logger.info(
        "worker-1: the handler failed on order %s",
        "5b0c",
        extra={"dropship.worker": "host/worker-1", "dropship.order_id": "5b0c", "dropship.attempt": 2, "plain": "x"},
    )
    [line] = _lines(json_log)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", str(line.pop("time")))
    assert line == {
        "level": "INFO",
        "logger": "iqmetrix_dropship.tests.ops",
        "message": "worker-1: the handler failed on order 5b0c",
        "dropship.worker": "host/worker-1",
        "dropship.order_id": "5b0c",
        "dropship.attempt": 2,
    }


def test_a_failure_s_traceback_is_the_exception_field_redacted_on_one_line(
    json_log: pytest.CaptureFixture[str],
) -> None:
    try:
        raise RuntimeError(f"the server echoed password={PASSWORD}&client_secret={CLIENT_SECRET}")
    except RuntimeError:
        logger.exception("unexpected failure")
    err = json_log.readouterr().err
    assert err.count("\n") == 1
    line = json.loads(err)
    assert "Traceback (most recent call last)" in str(line["exception"])
    assert "password=***&client_secret=***" in str(line["exception"])
    assert all(secret not in err for secret in SECRETS)


def test_a_secret_in_a_message_or_a_field_is_redacted_in_json(json_log: pytest.CaptureFixture[str]) -> None:
    logger.warning("token %s", WEBHOOK_SECRET, extra={"http.route": f"/x?{CLIENT_SECRET}"})
    [line] = _lines(json_log)
    assert line["message"] == "token ***"
    assert line["http.route"] == "/x?***"


def test_a_secret_in_a_message_is_redacted_in_text(capsys: pytest.CaptureFixture[str]) -> None:
    undo = log_to_stderr(logging.INFO, secrets=lambda: SECRETS)
    try:
        logger.warning("token %s", WEBHOOK_SECRET)
    finally:
        undo()
    err = capsys.readouterr().err
    assert err.rstrip().endswith("WARNING iqmetrix_dropship.tests.ops: token ***")


def test_the_json_log_replaces_the_debug_log_until_it_is_undone(capsys: pytest.CaptureFixture[str]) -> None:
    undo_debug = log_to_stderr(logging.DEBUG)
    undo_json = log_to_stderr(logging.INFO, json_lines=True)
    logger.info("once")
    undo_json()
    logger.info("as text again")
    undo_debug()
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    assert json.loads(lines[0])["message"] == "once"
    assert lines[1].endswith("iqmetrix_dropship.tests.ops: as text again")


def test_an_accepted_webhook_is_a_json_line_with_the_http_fields_and_the_event(
    client: DropshipClient, ledger: OrderLedger, json_log: pytest.CaptureFixture[str]
) -> None:
    follower = client.follow(checkpoint=ledger)
    with serving(client, ledger, follower) as url:
        webhook(url)
    accepted = [line for line in _lines(json_log) if str(line["message"]).startswith("webhook accepted")]
    assert len(accepted) == 1
    assert accepted[0]["http.response.status_code"] == 202
    assert accepted[0]["http.request.method"] == "POST"
    assert accepted[0]["dropship.webhook.event"] == "OrderCreated"


def test_the_ops_server_logs_its_url_and_endpoints(
    client: DropshipClient, ledger: OrderLedger, json_log: pytest.CaptureFixture[str]
) -> None:
    follower = client.follow(checkpoint=ledger)
    with serving(client, ledger, follower) as url:
        pass
    [listening] = [line for line in _lines(json_log) if "ops.url" in line]
    assert listening["ops.url"] == url
    assert listening["ops.endpoints"] == "/healthz /readyz /webhook"
    assert str(listening["message"]).startswith(f"ops server listening on {url}")


@pytest.mark.parametrize("json_lines", [True, False])
def test_a_record_that_cannot_be_formatted_is_one_line_without_its_arguments(
    capsys: pytest.CaptureFixture[str], json_lines: bool
) -> None:
    undo = log_to_stderr(logging.INFO, json_lines=json_lines, secrets=lambda: SECRETS)
    # An argument missing: %-formatting fails. Handed to our handler itself (pytest's own log
    # capture would raise on it first).
    record = logging.LogRecord(logger.name, logging.INFO, __file__, 1, "token %s %s", (WEBHOOK_SECRET,), None)
    [handler] = [h for h in logging.getLogger("iqmetrix_dropship").handlers if type(h).__name__ == "_StderrHandler"]
    try:
        handler.handle(record)
    finally:
        undo()
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "could not be formatted" in err
    assert all(secret not in err for secret in SECRETS)


def test_json_lines_carry_no_nan_and_only_ascii(json_log: pytest.CaptureFixture[str]) -> None:
    logger.info("odd \u2028 text", extra={"dropship.attempt": float("nan"), "http.route": "\u0085"})
    err = json_log.readouterr().err
    assert err.isascii()
    line = json.loads(err)
    assert line["dropship.attempt"] == "nan"
    assert line["message"] == "odd \u2028 text"
