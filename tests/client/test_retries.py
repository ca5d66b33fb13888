"""Retries: what is retried, how long the client waits, and what it says when it gives up."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
import respx

from iqmetrix_dropship import (
    APIConnectionError,
    APITimeoutError,
    BadRequestError,
    NotFoundError,
    RateLimitError,
    RetryPolicy,
    ServerError,
)
from iqmetrix_dropship._protocol.retry import parse_retry_after, retry_decision

from .conftest import NOTIFICATIONS, TOKEN_URL, Sleeps, token_json
from .feeds import page

FEED = page("f1be4a74-508f-4159-b3f1-c6efe76c03e4", ["urn:uuid:a"])
POLICY = RetryPolicy(initial_backoff=0.5, max_backoff=8.0, max_wait=60.0, jitter=lambda delay: delay)


@pytest.fixture(autouse=True)
def token(api: respx.MockRouter) -> respx.Route:
    return api.post(TOKEN_URL).respond(200, json=token_json(1))


@pytest.mark.parametrize(
    ("status", "server_wait", "retries_taken", "retry", "wait"),
    [
        (None, None, 0, True, 0.5),  # no answer: backoff
        (None, None, 3, True, 4.0),
        (None, None, 10, True, 8.0),  # backoff capped
        (408, None, 0, True, 0.5),
        (429, None, 1, True, 1.0),
        (429, 7.0, 0, True, 7.0),  # X-RateLimit-ResetSeconds honoured
        (429, 61.0, 0, False, 61.0),  # over the cap: raise at once
        (500, None, 2, True, 2.0),
        (502, None, 0, True, 0.5),
        (503, 1.0, 0, True, 1.0),  # Retry-After honoured
        (503, 0.0, 0, True, 0.0),
        (504, None, 0, True, 0.5),
        (400, None, 0, False, 0.0),
        (401, None, 0, False, 0.0),
        (403, None, 0, False, 0.0),
        (404, None, 0, False, 0.0),
        (409, None, 0, False, 0.0),
        (422, None, 0, False, 0.0),
        (501, None, 0, False, 0.0),
    ],
)
def test_retry_decision_table(
    status: int | None, server_wait: float | None, retries_taken: int, retry: bool, wait: float
) -> None:
    decision = retry_decision(status, server_wait, retries_taken, POLICY)
    assert (decision.retry, decision.wait) == (retry, wait)


def test_jitter_never_waits_longer_than_the_backoff_and_at_least_three_quarters() -> None:
    policy = RetryPolicy(initial_backoff=1.0)
    waits = {retry_decision(500, None, 2, policy).wait for _ in range(200)}
    assert all(3.0 <= w <= 4.0 for w in waits)
    assert len(waits) > 1


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "1"}, 1.0),
        ({"retry-after": "2.5"}, 2.5),
        ({"X-RateLimit-ResetSeconds": "30"}, 30.0),
        ({"x-ratelimit-resetseconds": "30"}, 30.0),
        ({"Retry-After": "-5"}, 0.0),
        ({"Retry-After": "soon"}, None),
        ({}, None),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(headers) == expected


def test_parse_retry_after_http_date() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    header = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert parse_retry_after({"Retry-After": header}, now=now) == 90.0


def test_503_with_retry_after_then_200_succeeds_after_one_retry(
    api: respx.MockRouter, client: Any, sleeps: Sleeps
) -> None:
    feed = api.get(NOTIFICATIONS)
    feed.side_effect = [httpx.Response(503, headers={"Retry-After": "1"}), httpx.Response(200, content=FEED)]

    assert client.get_notifications().entries[0].id == "urn:uuid:a"
    assert feed.call_count == 2
    assert sleeps == [1.0]


def test_429_waits_for_x_ratelimit_resetseconds(api: respx.MockRouter, client: Any, sleeps: Sleeps) -> None:
    feed = api.get(NOTIFICATIONS)
    limited = httpx.Response(
        429,
        text="rate limit exceeded",
        headers={"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0", "X-RateLimit-ResetSeconds": "7"},
    )
    feed.side_effect = [limited, httpx.Response(200, content=FEED)]

    client.get_notifications()
    assert sleeps == [7.0]


def test_429_asking_for_a_wait_over_the_cap_raises_rate_limit_error_at_once(
    api: respx.MockRouter, client: Any, sleeps: Sleeps
) -> None:
    feed = api.get(NOTIFICATIONS).respond(429, text="rate limit exceeded", headers={"X-RateLimit-ResetSeconds": "3600"})

    with pytest.raises(RateLimitError) as caught:
        client.get_notifications()

    assert caught.value.retry_after == 3600.0
    assert caught.value.message == "rate limit exceeded"
    assert feed.call_count == 1
    assert sleeps == []


def test_persistent_500_raises_server_error_after_max_retries_plus_one_attempts(
    api: respx.MockRouter, client: Any, sleeps: Sleeps
) -> None:
    feed = api.get(NOTIFICATIONS).respond(500, json={"Message": "An error has occurred."})

    with pytest.raises(ServerError) as caught:
        client.get_notifications()

    assert feed.call_count == 4  # max_retries=3 by default
    assert sleeps == [0.5, 1.0, 2.0]  # exponential backoff, jitter pinned
    assert caught.value.retries == 3
    assert "after 3 retries" in str(caught.value)
    assert caught.value.message == "An error has occurred."


@pytest.mark.parametrize(("status", "error"), [(400, BadRequestError), (404, NotFoundError)])
def test_400_and_404_are_never_retried(
    api: respx.MockRouter, client: Any, sleeps: Sleeps, status: int, error: type[Exception]
) -> None:
    feed = api.get(NOTIFICATIONS).respond(status, json={"Message": "nope"})
    with pytest.raises(error):
        client.get_notifications()
    assert feed.call_count == 1
    assert sleeps == []


def test_max_retries_per_client(api: respx.MockRouter, client_factory: Any, sleeps: Sleeps) -> None:
    client = client_factory(max_retries=1)
    feed = api.get(NOTIFICATIONS).respond(502)
    with pytest.raises(ServerError) as caught:
        client.get_notifications()
    assert feed.call_count == 2
    assert caught.value.retries == 1


def test_max_retries_per_call_overrides_the_client(api: respx.MockRouter, client: Any, sleeps: Sleeps) -> None:
    feed = api.get(NOTIFICATIONS).respond(503)
    with pytest.raises(ServerError) as caught:
        client.get_notifications(max_retries=0)
    assert feed.call_count == 1
    assert caught.value.retries == 0
    assert "after" not in str(caught.value)


def test_connection_errors_are_retried(api: respx.MockRouter, client: Any, sleeps: Sleeps) -> None:
    feed = api.get(NOTIFICATIONS)
    feed.side_effect = [httpx.ConnectError("refused"), httpx.Response(200, content=FEED)]
    client.get_notifications()
    assert feed.call_count == 2


def test_timeouts_raise_api_timeout_error_after_the_retries(api: respx.MockRouter, client: Any, sleeps: Sleeps) -> None:
    feed = api.get(NOTIFICATIONS).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(APITimeoutError) as caught:
        client.get_notifications()
    assert isinstance(caught.value, APIConnectionError)
    assert feed.call_count == 4
    assert "after 3 retries" in str(caught.value)


def test_each_retry_is_logged(
    api: respx.MockRouter, client: Any, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    api.get(NOTIFICATIONS).side_effect = [httpx.Response(503), httpx.Response(502), httpx.Response(200, content=FEED)]
    with caplog.at_level(logging.INFO, logger="iqmetrix_dropship"):
        client.get_notifications()
    retries = [r.getMessage() for r in caplog.records if "; retry " in r.getMessage()]
    assert len(retries) == 2
    assert retries[0].startswith(f"GET {NOTIFICATIONS} failed (HTTP 503")
    assert "retry 1 of 3" in retries[0]
    assert "HTTP 502" in retries[1]


def test_token_endpoint_outage_is_retried_too(
    api: respx.MockRouter, client: Any, token: respx.Route, sleeps: Sleeps
) -> None:
    token.side_effect = [httpx.Response(503), httpx.Response(200, json=token_json(1))]
    api.get(NOTIFICATIONS).respond(200, content=FEED)
    client.get_notifications()
    assert token.call_count == 2
