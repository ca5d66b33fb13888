"""A server that echoes what it was sent, over real sockets: no secret reaches a log line.

The server puts the token form (password, client secret) and the bearer token in its status
line's reason phrase and in a header. httpx logs each status line at INFO and httpcore the headers
at DEBUG, as received; the SDK logs each answer at DEBUG. The autouse fixture of ``conftest.py``
captures every logger at DEBUG and fails the test on any record that holds a secret.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from typing import Any

import pytest

from iqmetrix_dropship import APIError

from ..scripted import ScriptedServer
from .conftest import SECRETS


def _read(conn: socket.socket) -> tuple[bytes, bytes] | None:
    """One request's head and body, or ``None`` once the client closed the connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        body += conn.recv(65536)
    return head, body


def _echoing(status: int) -> Callable[[socket.socket, threading.Event], None]:
    """Tokens as asked, each answer quoting the request; every API call answered ``status``."""

    def script(conn: socket.socket, stop: threading.Event) -> None:
        # One request per connection (Connection: close), so that no thread waits on an idle one.
        conn.settimeout(5)
        request = _read(conn)
        if request is None:
            return
        head, body = request
        if head.startswith(b"POST"):
            echo = body  # the form: grant type, username, password, client id and secret
            payload = b'{"access_token": "access-1", "expires_in": 3600, "refresh_token": "refresh-1"}'
            line, kind = b"200 OK " + echo, b"application/json"
        else:
            auth = [h for h in head.split(b"\r\n") if h.lower().startswith(b"authorization:")]
            echo = auth[0].partition(b":")[2].strip() if auth else b"none"
            payload, kind = b"", b"text/plain"
            line = str(status).encode() + b" Rejected " + echo
        headers = [b"X-Echo: " + echo, b"WWW-Authenticate: " + echo, b"Connection: close"]
        headers += [b"Content-Type: " + kind, b"Content-Length: " + str(len(payload)).encode()]
        conn.sendall(b"HTTP/1.1 " + line + b"\r\n" + b"\r\n".join(headers) + b"\r\n\r\n" + payload)

    return script


@pytest.mark.parametrize("status", [401, 500, 599])
def test_echoed_credentials_and_token_reach_no_log_line_nor_error(
    status: int, client_factory: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    with ScriptedServer(_echoing(status)) as server:
        client = client_factory(base_url=f"{server.url}/v1", accounts_url=f"{server.url}/v1", max_retries=1)
        with pytest.raises(APIError) as caught:
            client.get_notifications()

    message = str(caught.value)
    assert not [secret for secret in SECRETS if secret in message], message
    assert caught.value.status_code == status
    # The loggers that quote the server did log (the fixture then checks them): the status lines
    # at INFO, the headers at DEBUG, the SDK's own line per answer.
    names = {record.name for record in caplog.records}
    assert {"httpx", "httpcore.http11", "iqmetrix_dropship"} <= names, names
    answers = [r.getMessage() for r in caplog.records if r.name == "httpx" and "HTTP Request" in r.getMessage()]
    assert any(f"{status} " in line and "***" in line for line in answers), answers
    assert any("Bearer ***" in r.getMessage() for r in caplog.records if r.name == "httpcore.http11")


def test_the_sdk_logs_the_standard_reason_phrase_never_the_servers(
    client_factory: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    with ScriptedServer(_echoing(401)) as server:
        client = client_factory(base_url=f"{server.url}/v1", accounts_url=f"{server.url}/v1", max_retries=0)
        with pytest.raises(APIError):
            client.get_notifications()
    ours = [r.getMessage() for r in caplog.records if r.name == "iqmetrix_dropship" and "->" in r.getMessage()]
    assert any(line.split("->")[1].strip().startswith("401 Unauthorized (") for line in ours), ours
    assert not any("Rejected" in line for line in ours), ours


def test_a_record_that_cannot_be_formatted_is_left_to_its_handler(client: Any) -> None:
    """The filter never raises into the library that logs, whatever the record (a client is alive,
    so it has secrets to look for)."""
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, "%d items", ("not a number",), None)
    assert logging.getLogger("httpx").filter(record)
    assert record.msg == "%d items"
    quoting = logging.LogRecord("httpx", logging.INFO, __file__, 1, "said %s", ("hunter2-password",), None)
    assert logging.getLogger("httpx").filter(quoting)
    assert quoting.getMessage() == "said ***"
