"""``POST /webhook`` over real HTTP: a signed JSON webhook is answered 202 at once and makes the
follower poll now (a burst of them, one poll more at most); anything else is refused before its
body is read, and no body, secret or credential is ever logged or answered."""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from iqmetrix_dropship import ConfigurationError, DropshipClient, OrderLedger
from iqmetrix_dropship._sync.follower import FeedFollower
from iqmetrix_dropship.emulator import Emulator
from iqmetrix_dropship.models import FeedEntry
from iqmetrix_dropship.ops._webhook import MAX_BODY_BYTES, WebhookAuth

from .conftest import EVENT, SECRETS, SIGNED, WAIT, WEBHOOK_PASSWORD, Following, polls, serving, webhook

BODY_MARK = "ops-BODY-customer-Jane-Doe-12-Main-St"


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class CountingWakes:
    """A follower as the endpoints see it, counting the wake-ups they ask for (each forwarded)."""

    def __init__(self, follower: FeedFollower) -> None:
        self.follower = follower
        self.wakes = 0

    @property
    def leading(self) -> bool:
        return self.follower.leading

    @property
    def last_poll_ok(self) -> float | None:
        return self.follower.last_poll_ok

    def wake(self) -> None:
        self.wakes += 1
        self.follower.wake()


@contextmanager
def counting(client: DropshipClient, ledger: OrderLedger) -> Iterator[tuple[str, CountingWakes]]:
    wakes = CountingWakes(client.follow(checkpoint=ledger))
    with serving(client, ledger, wakes) as url:  # type: ignore[arg-type]
        yield url, wakes


def test_a_webhook_is_accepted_and_the_follower_polls_at_once_and_delivers_the_new_order(
    emulator: Emulator, client: DropshipClient, ledger: OrderLedger
) -> None:
    follower = client.follow(checkpoint=ledger)
    with Following(follower) as following, serving(client, ledger, follower) as url:
        following.wait_for(emulator.entry_ids())  # the first poll; the next one is an hour away
        emulator.place_order()
        placed = emulator.entry_ids()[-1]
        answer = webhook(url)
        assert (answer.status_code, answer.json()) == (202, {"status": "accepted"})
        following.wait_for([placed])


def test_a_burst_of_20_webhooks_makes_at_most_one_poll_more_than_one(
    emulator: Emulator, client: DropshipClient, ledger: OrderLedger
) -> None:
    in_poll, release = threading.Event(), threading.Event()
    follower = client.follow(checkpoint=ledger)
    emulator.place_order()
    held = emulator.entry_ids()[-1]

    def hold(entry: FeedEntry) -> None:
        if entry.id == held:  # the poll is in progress while the burst arrives
            in_poll.set()
            assert release.wait(WAIT)

    with Following(follower, on_entry=hold) as following, serving(client, ledger, follower) as url:
        assert in_poll.wait(WAIT)
        before = polls(emulator)
        emulator.place_order()
        after_burst = emulator.entry_ids()[-1]
        assert [webhook(url).status_code for _ in range(20)] == [202] * 20
        release.set()
        following.wait_for([after_burst])
        assert polls(emulator) == before + 1  # twenty wake-ups, one poll
        emulator.place_order()  # and the next webhook makes the next poll, again just one
        last = emulator.entry_ids()[-1]
        assert webhook(url).status_code == 202
        following.wait_for([last])
        assert polls(emulator) == before + 2


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "application/json"},
        {"Content-Type": "application/json", "X-Dropship-Webhook-Secret": "not-the-secret"},
        {"Content-Type": "application/json", "X-Dropship-Webhook-Secret": ""},
        {"Content-Type": "application/json", "Authorization": _basic("iqmetrix", "not-the-password")},
        {"Content-Type": "application/json", "Authorization": _basic("someone", WEBHOOK_PASSWORD)},
        {"Content-Type": "application/json", "Authorization": "Basic !!!not-base64"},
        {"Content-Type": "application/json", "Authorization": f"Bearer {WEBHOOK_PASSWORD}"},
    ],
    ids=["none", "wrong-secret", "empty-secret", "wrong-password", "wrong-user", "bad-basic", "bearer"],
)
def test_a_webhook_without_the_secret_or_the_credentials_is_401_and_wakes_nothing(
    client: DropshipClient, ledger: OrderLedger, headers: dict[str, str]
) -> None:
    with counting(client, ledger) as (url, follower):
        answer = webhook(url, headers=headers)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == 'Basic realm="dropship webhook"'
    assert follower.wakes == 0


def test_a_webhook_with_the_basic_credentials_is_accepted_and_wakes_the_follower_once(
    client: DropshipClient, ledger: OrderLedger
) -> None:
    headers = {"Content-Type": "application/json", "Authorization": _basic("iqmetrix", WEBHOOK_PASSWORD)}
    with counting(client, ledger) as (url, follower):
        assert webhook(url, headers=headers).status_code == 202
    assert follower.wakes == 1


def test_the_secret_in_the_query_string_is_not_accepted(client: DropshipClient, ledger: OrderLedger) -> None:
    follower = client.follow(checkpoint=ledger)
    with serving(client, ledger, follower) as url:
        answer = webhook(f"{url}/webhook?secret={SECRETS[2]}&", headers={"Content-Type": "application/json"})
    assert answer.status_code in (401, 404)  # never 202


def test_a_body_over_the_cap_is_413_and_wakes_nothing(client: DropshipClient, ledger: OrderLedger) -> None:
    body = b'{"Event": "' + b"x" * MAX_BODY_BYTES + b'"}'
    with counting(client, ledger) as (url, follower):
        answer = webhook(url, body)
    assert answer.status_code == 413
    assert follower.wakes == 0


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_a_body_that_is_not_sent_as_json_is_415(client: DropshipClient, ledger: OrderLedger, content_type: str) -> None:
    follower = client.follow(checkpoint=ledger)
    with serving(client, ledger, follower) as url:
        answer = webhook(url, headers={**SIGNED, "Content-Type": content_type})
    assert answer.status_code == 415


def test_a_content_length_that_is_not_plain_digits_is_refused(client: DropshipClient, ledger: OrderLedger) -> None:
    # A raw request: httpx would not send this header.
    follower = client.follow(checkpoint=ledger)
    with serving(client, ledger, follower) as url:
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=WAIT) as sock:
            sock.sendall(
                b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"X-Dropship-Webhook-Secret: " + SIGNED["X-Dropship-Webhook-Secret"].encode() + b"\r\n"
                b"Content-Length: " + b"9" * 4000 + b"\r\n\r\n{}"
            )
            status_line = sock.makefile("rb").readline()
    assert status_line.split()[1] == b"411"


@pytest.mark.parametrize(
    "body",
    [
        f"not json, but {BODY_MARK}".encode(),
        b"\xff\xfe" + BODY_MARK.encode(),
        b"[" * 100_000 + b"]" * 10,
        b"NaN",
        f'{{"Event": Infinity, "Mark": "{BODY_MARK}"}}'.encode(),
    ],
    ids=["text", "not-utf8", "deep", "nan", "infinity"],
)
def test_a_body_that_is_not_json_is_400_logged_without_its_content_and_wakes_nothing(
    client: DropshipClient, ledger: OrderLedger, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    with caplog.at_level("DEBUG", logger="iqmetrix_dropship"), counting(client, ledger) as (url, follower):
        answer = webhook(url, body[:MAX_BODY_BYTES])
    assert answer.status_code == 400
    assert follower.wakes == 0
    assert "not JSON" in caplog.text
    assert BODY_MARK not in caplog.text
    assert BODY_MARK not in answer.text


def test_an_accepted_webhook_logs_its_event_name_and_nothing_else_of_its_body(
    client: DropshipClient, ledger: OrderLedger, caplog: pytest.LogCaptureFixture
) -> None:
    follower = client.follow(checkpoint=ledger)
    body = ('{"EventType": "OrderCreated", "Customer": "' + BODY_MARK + '"}').encode()
    with caplog.at_level("DEBUG", logger="iqmetrix_dropship"), serving(client, ledger, follower) as url:
        assert webhook(url, body).status_code == 202
        assert webhook(url, b'{"event": "' + BODY_MARK.encode() * 3 + b'"}').status_code == 202
    accepted = [record for record in caplog.records if record.getMessage().startswith("webhook accepted")]
    assert [record.getMessage() for record in accepted] == [
        "webhook accepted (OrderCreated): polling the feed now",
        "webhook accepted (no event name): polling the feed now",  # too long to be a name: not logged
    ]
    assert BODY_MARK not in caplog.text
    for secret in SECRETS:
        assert secret not in caplog.text


def test_the_webhook_answers_at_once_while_a_poll_is_in_progress(
    emulator: Emulator, client: DropshipClient, ledger: OrderLedger
) -> None:
    in_poll, release = threading.Event(), threading.Event()
    follower = client.follow(checkpoint=ledger)

    def hold(entry: FeedEntry) -> None:
        in_poll.set()
        assert release.wait(WAIT)

    with Following(follower, on_entry=hold), serving(client, ledger, follower) as url:
        assert in_poll.wait(WAIT)
        try:
            answer = webhook(url, EVENT)
        finally:
            release.set()
    assert answer.status_code == 202


def test_the_webhook_is_served_only_where_it_was_asked(client: DropshipClient, ledger: OrderLedger) -> None:
    follower = client.follow(checkpoint=ledger)
    with serving(client, ledger, follower, webhook_port=None) as url:
        assert webhook(url).status_code == 404


@pytest.mark.parametrize(
    "environ",
    [
        {"DROPSHIP_WEBHOOK_SECRET": "s"},
        {"DROPSHIP_WEBHOOK_SECRET": "run"},
        {"DROPSHIP_WEBHOOK_SECRET": "fifteen-chars-x\n"},
        {"DROPSHIP_WEBHOOK_USERNAME": "iqmetrix", "DROPSHIP_WEBHOOK_PASSWORD": "hunter2"},
    ],
    ids=["one", "three", "fifteen", "basic"],
)
def test_a_short_secret_is_refused_without_being_shown(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError, match="use a random one of 16 or more") as refused:
        WebhookAuth.from_environ(environ)
    secret = environ.get("DROPSHIP_WEBHOOK_SECRET", environ.get("DROPSHIP_WEBHOOK_PASSWORD", "")).strip()
    assert f" {secret} " not in f" {refused.value} "
    assert repr(secret) not in str(refused.value)


def test_a_secret_read_from_a_file_with_its_newline_still_matches() -> None:
    auth = WebhookAuth.from_environ({"DROPSHIP_WEBHOOK_SECRET": "s3cret-from-a-file\n"})

    assert auth.secrets == ("s3cret-from-a-file",)
