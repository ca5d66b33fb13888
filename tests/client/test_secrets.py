"""Secrets never appear in a log line, a repr or an error message."""

from __future__ import annotations

import logging
import traceback
from typing import Any

import httpx
import pytest
import respx

from iqmetrix_dropship import DropshipError

from .conftest import NOTIFICATIONS, ORDER_ID, SECRETS, SUPPLIER, TOKEN_URL, token_json
from .feeds import page


def then_default(default: httpx.Response, first: list[Any]) -> Any:
    """A side effect answering ``first`` in turn, then ``default`` for ever."""
    pending = list(first)

    def effect(request: httpx.Request) -> httpx.Response:
        outcome = pending.pop(0) if pending else default
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return effect


def assert_clean(text: str) -> None:
    leaked = [s for s in SECRETS if s in text]
    assert not leaked, f"leaked {leaked} in {text!r}"


def test_client_repr_masks_credentials(client: Any) -> None:
    text = repr(client.inner if hasattr(client, "inner") else client)
    assert_clean(text)
    assert "supplier_id=60455" in text
    assert "***" in text


def test_token_cache_and_requests_mask_secrets(api: respx.MockRouter, client: Any) -> None:
    api.post(TOKEN_URL).respond(200, json=token_json(1))
    api.get(NOTIFICATIONS).respond(200, content=page("f1be4a74-508f-4159-b3f1-c6efe76c03e4", []))
    client.get_notifications()
    inner = client.inner if hasattr(client, "inner") else client
    assert_clean(repr(inner._tokens))
    assert_clean(repr(inner._tokens.credentials))
    assert_clean(repr(inner._tokens.credentials.password_grant(inner.config)))


def test_no_secret_in_any_error_or_log_line_across_a_bad_day(
    api: respx.MockRouter, client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    token = api.post(TOKEN_URL)
    token.side_effect = then_default(
        httpx.Response(200, json=token_json(2)),
        [
            httpx.Response(503),
            httpx.Response(200, json=token_json(1)),
            httpx.Response(200, json=token_json(2)),
            httpx.Response(400, json={"error": "invalid_grant", "error_description": "refresh token expired"}),
            httpx.Response(400, json={"error": "invalid_client"}),
        ],
    )
    api.get(NOTIFICATIONS).side_effect = then_default(
        httpx.Response(401, text="Invalid token"),
        [
            httpx.Response(401, text="Invalid token"),
            httpx.Response(500, text="boom"),
            httpx.Response(200, content=page("f1be4a74-508f-4159-b3f1-c6efe76c03e4", [])),
            httpx.Response(401, text="Invalid token"),
            httpx.ConnectError("connection refused"),
        ],
    )
    api.put(f"{SUPPLIER}/Orders({ORDER_ID})/OrderStatusUpdate").respond(400, json={"Message": "The request is invalid"})

    errors: list[BaseException] = []
    with caplog.at_level(logging.DEBUG):
        for call in (
            lambda: client.get_notifications(),
            lambda: client.get_notifications(),
            lambda: client.get_notifications(),
            lambda: client.get_notifications(),
            lambda: client.update_order_status(ORDER_ID, "Cancelled"),
            lambda: client.update_order_status(ORDER_ID, "Exception"),
        ):
            try:
                call()
            except DropshipError as error:
                errors.append(error)

    kinds = {type(e).__name__ for e in errors}
    assert {"TokenError", "BadRequestError", "InvalidRequestError", "AuthenticationError"} <= kinds
    for error in errors:
        assert_clean(str(error))
        assert_clean(repr(error))
        assert_clean("".join(traceback.format_exception(error)))
    for record in caplog.records:
        assert_clean(record.getMessage())


def test_the_response_kept_on_an_error_carries_neither_the_form_nor_the_token(
    api: respx.MockRouter, client: Any
) -> None:
    api.post(TOKEN_URL).respond(503, text="accounts down")
    with pytest.raises(DropshipError) as caught:
        client.get_notifications(max_retries=0)
    response = getattr(caught.value, "response", None)
    assert response is not None
    assert response.request.content == b""
    assert "authorization" not in {name.lower() for name in response.request.headers}
    assert_clean(repr(vars(response.request)))

    api.post(TOKEN_URL).respond(200, json=token_json(1))
    api.get(NOTIFICATIONS).respond(500, text="boom")
    with pytest.raises(DropshipError) as caught:
        client.get_notifications(max_retries=0)
    request = caught.value.response.request  # type: ignore[attr-defined]
    assert "authorization" not in {name.lower() for name in request.headers}
