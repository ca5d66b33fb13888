"""Errors: the documented error rows map to their classes with the server's message, whatever the body."""

from __future__ import annotations

from typing import Any

import pytest
import respx

from iqmetrix_dropship import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ClientClosedError,
    DropshipError,
    NotFoundError,
    ServerError,
)

from .conftest import NOTIFICATIONS, ORDER_ID, SUPPLIER, TOKEN_URL, token_json

UPDATE_URL = f"{SUPPLIER}/Orders({ORDER_ID})/OrderStatusUpdate"


@pytest.fixture(autouse=True)
def token(api: respx.MockRouter) -> respx.Route:
    return api.post(TOKEN_URL).respond(200, json=token_json(1))


@pytest.mark.parametrize(
    ("status", "body", "error", "message"),
    [
        (
            400,
            {"Message": "Cannot find supplier identifier in the uri"},
            BadRequestError,
            "Cannot find supplier identifier in the uri",
        ),
        (400, {"message": "The request is invalid"}, BadRequestError, "The request is invalid"),
        (401, "Invalid token", AuthenticationError, "Invalid token"),
        (404, {"Message": "Not found"}, NotFoundError, "Not found"),
    ],
)
def test_documented_error_rows_map_to_their_classes(
    api: respx.MockRouter, client: Any, status: int, body: Any, error: type[APIError], message: str
) -> None:
    route = api.get(NOTIFICATIONS)
    if isinstance(body, dict):
        route.respond(status, json=body, headers={"X-Request-Id": "req-123"})
    else:
        route.respond(status, text=body, headers={"X-Request-Id": "req-123"})

    with pytest.raises(error) as caught:
        client.get_notifications()

    assert caught.value.status_code == status
    assert caught.value.message == message
    assert caught.value.request_id == "req-123"
    assert message in str(caught.value)
    assert caught.value.response is not None
    assert caught.value.response.status_code == status


@pytest.mark.parametrize(
    ("content", "content_type", "message"),
    [
        (b"Service down for maintenance", "text/plain", "Service down for maintenance"),
        (
            b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad</h1></body></html>",
            "text/html",
            "502 Bad Gateway",
        ),
        (b"", "text/plain", "Bad Gateway"),
        (b"{not json", "application/json", "{not json"),
        (b'"just a string"', "application/json", "just a string"),
    ],
)
def test_odd_error_bodies_still_yield_a_clear_error(
    api: respx.MockRouter, client: Any, content: bytes, content_type: str, message: str
) -> None:
    api.get(NOTIFICATIONS).respond(502, content=content, headers={"Content-Type": content_type})
    with pytest.raises(ServerError) as caught:
        client.get_notifications(max_retries=0)
    assert caught.value.message == message
    assert f"HTTP 502 from GET {NOTIFICATIONS}: {message}" == str(caught.value)


def test_other_4xx_is_a_plain_api_error(api: respx.MockRouter, client: Any) -> None:
    api.get(NOTIFICATIONS).respond(409, text="conflict")
    with pytest.raises(APIError) as caught:
        client.get_notifications()
    assert type(caught.value) is APIError
    assert caught.value.status_code == 409


def test_an_accepted_update_with_a_plain_text_body_returns_what_was_sent(api: respx.MockRouter, client: Any) -> None:
    api.put(UPDATE_URL).respond(202, text="Accepted")
    echo = client.update_order_status(ORDER_ID, "Cancelled")
    assert echo.status == "Cancelled"
    assert str(echo.id) == ORDER_ID


def test_every_error_is_a_dropship_error(api: respx.MockRouter, client: Any) -> None:
    api.get(NOTIFICATIONS).respond(500, text="boom")
    with pytest.raises(DropshipError):
        client.get_notifications(max_retries=0)


def test_a_bad_request_says_the_reasons_the_server_gave_in_model_state(api: respx.MockRouter, client: Any) -> None:
    api.put(UPDATE_URL).respond(
        400,
        json={
            "Message": "The request is invalid.",
            "ModelState": {"update.ItemInformation[0].Sku": ["Sku 'X1' is not an item of this order."]},
        },
    )
    with pytest.raises(BadRequestError) as caught:
        client.update_order_status(ORDER_ID, "Cancelled")
    assert caught.value.message == (
        "The request is invalid: ItemInformation[0].Sku: Sku 'X1' is not an item of this order."
    )


def test_an_error_over_the_size_limit_keeps_its_class_and_status(api: respx.MockRouter, client: Any) -> None:
    api.put(UPDATE_URL).respond(503, text="<html>" + "busy " * 400_000 + "</html>")  # 2 MB, over the 1 MiB cap
    with pytest.raises(ServerError) as caught:
        client.update_order_status(ORDER_ID, "Cancelled", max_retries=0)
    assert caught.value.status_code == 503
    assert len(str(caught.value)) < 1_000


def test_a_closed_client_raises_client_closed_error_and_sends_nothing(api: respx.MockRouter, client: Any) -> None:
    api.post(TOKEN_URL).respond(200, json=token_json(1))
    client.close()
    for call in (client.get_notifications, lambda: client.update_order_status(ORDER_ID, "Ordered")):
        with pytest.raises(ClientClosedError, match="the client is closed; nothing was sent") as caught:
            call()
        assert isinstance(caught.value, DropshipError)
        assert isinstance(caught.value, RuntimeError)  # as httpx's own error for it was
    assert api.calls.call_count == 0


def test_a_client_closed_while_a_call_waits_to_retry_ends_that_call_typed(
    api: respx.MockRouter, client: Any, sleeps: list[float]
) -> None:
    api.post(TOKEN_URL).respond(200, json=token_json(1))
    api.get(NOTIFICATIONS).respond(503)

    def close_instead_of_sleeping(seconds: float) -> None:
        sleeps.append(seconds)
        client.close()

    inner = client.inner if hasattr(client, "inner") else client
    if hasattr(client, "inner"):

        async def close_async(seconds: float) -> None:
            sleeps.append(seconds)
            await inner.aclose()

        inner._sleep = close_async
    else:
        inner._sleep = close_instead_of_sleeping
    with pytest.raises(ClientClosedError):
        client.get_notifications()
    assert len(sleeps) == 1  # one back-off, then the closed client ended the call
