"""Secrets never appear in a log line, a repr or an error message."""

from __future__ import annotations

import contextlib
import logging
import traceback
from typing import Any

import anyio
import httpx
import pytest
import respx

from iqmetrix_dropship import (
    APIConnectionError,
    ArgumentTypeError,
    AsyncDropshipClient,
    BadRequestError,
    ConfigurationError,
    DropshipClient,
    DropshipError,
    TokenError,
)

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


# -- redirects of the token request ---------------------------------------------------------------


def _redirecting_client(kind: str, client_factory: Any) -> Any:
    """A client over the caller's own httpx client, built to follow redirects."""
    http: Any = httpx.Client(follow_redirects=True) if kind == "sync" else httpx.AsyncClient(follow_redirects=True)
    return client_factory(http_client=http)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_token_request_never_follows_a_redirect_even_on_a_client_that_does(
    api: respx.MockRouter, client_factory: Any, kind: str, status: int
) -> None:
    client = _redirecting_client(kind, client_factory)
    api.post(TOKEN_URL).respond(status, headers={"Location": "https://collector.test/steal"})
    stolen = api.route(host="collector.test").respond(200, json=token_json(1))

    with pytest.raises(TokenError) as caught:
        client.get_notifications()

    assert not stolen.called  # the form (password, client secret) went nowhere else
    assert "redirect" in str(caught.value)
    assert caught.value.status_code == status


# -- tokens that an HTTP header cannot carry -------------------------------------------------------

HELD = "held-SECRET-token"


@pytest.mark.parametrize(
    "token",
    [f"{HELD}\n", f" {HELD}", f"{HELD} x", f"{HELD}\t", f"{HELD}\xa0", f"{HELD}\u200b", f"{HELD}\r\nX: y", "é" + HELD],
)
def test_a_static_token_with_a_stray_character_is_refused_at_construction(
    api: respx.MockRouter, client_factory: Any, token: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        client_factory(access_token=token)
    assert HELD not in str(caught.value)
    assert HELD not in repr(caught.value)
    assert HELD not in "".join(traceback.format_exception(caught.value))
    assert not api.calls  # nothing was sent, let alone retried as a network failure


def test_a_static_token_from_the_environment_is_checked_too() -> None:
    environ = {"IQMETRIX_SUPPLIER_ID": "60455", "IQMETRIX_ACCESS_TOKEN": f"{HELD}\n"}
    with pytest.raises(ConfigurationError) as caught:
        DropshipClient.from_env(environ)
    assert HELD not in str(caught.value)


@pytest.mark.parametrize("token", ["access-1\n", "access-1 x", "access-1\xa0", "access-1\u200b", ""])
def test_a_received_token_with_a_stray_character_is_a_token_error_naming_no_secret(
    api: respx.MockRouter, client: Any, token: str
) -> None:
    api.post(TOKEN_URL).respond(200, json={"access_token": token, "expires_in": 3600})
    feed = api.get(NOTIFICATIONS).respond(200, content=page("f1be4a74-508f-4159-b3f1-c6efe76c03e4", []))
    with pytest.raises(TokenError) as caught:
        client.get_notifications()
    assert_clean(str(caught.value) + repr(caught.value) + "".join(traceback.format_exception(caught.value)))
    assert not feed.called


@pytest.mark.parametrize("field", ["password", "client_secret", "username", "client_id"])
def test_a_credential_that_cannot_be_encoded_is_refused_naming_the_field_only(client_factory: Any, field: str) -> None:
    with pytest.raises(ConfigurationError, match=field) as caught:
        client_factory(**{field: "hunter2-\ud800-x"})
    assert "hunter2" not in str(caught.value)


# -- exception chains ----------------------------------------------------------------------------


def _chain(error: BaseException) -> list[BaseException]:
    links: list[BaseException] = []
    pending = [error]
    while pending:
        link = pending.pop()
        if any(link is seen for seen in links):
            continue
        links.append(link)
        pending += [e for e in (link.__cause__, link.__context__) if e is not None]
    return links


def _headers(headers: httpx.Headers) -> str:
    # Not repr(headers): httpx masks Authorization there, and a debugger or logger need not.
    return "\n".join(f"{name}: {value}" for name, value in headers.items())


def _carried(link: BaseException) -> str:
    """Everything a link of a chain carries that a debugger, a logger or Sentry could show."""
    texts = [str(link), repr(link), repr(vars(link))]
    for name in ("request", "response"):
        try:
            value = getattr(link, name, None)
        except RuntimeError:  # httpx: "the .request property has not been set"
            continue
        if isinstance(value, httpx.Response):
            texts += [_headers(value.headers), value.text]
            value = value.request
        if isinstance(value, httpx.Request):
            texts.append(_headers(value.headers))
            with contextlib.suppress(httpx.RequestNotRead):
                texts.append(value.content.decode(errors="replace"))
    return "\n".join(texts)


def assert_chain_clean(error: BaseException) -> None:
    for link in _chain(error):
        assert_clean(_carried(link))
    assert_clean("".join(traceback.format_exception(error)))


def _raise(kind: type[httpx.TransportError]) -> Any:
    def effect(request: httpx.Request) -> httpx.Response:
        raise kind("no luck", request=request)

    return effect


@pytest.mark.parametrize("failure", [httpx.ConnectTimeout, httpx.ReadTimeout, httpx.ConnectError, httpx.ReadError])
def test_no_link_of_the_chain_of_a_failed_token_fetch_carries_the_form(
    api: respx.MockRouter, client: Any, failure: type[httpx.TransportError]
) -> None:
    api.post(TOKEN_URL).mock(side_effect=_raise(failure))
    with pytest.raises(DropshipError) as caught:
        client.get_notifications(max_retries=1)
    assert_chain_clean(caught.value)
    with pytest.raises(DropshipError) as caught:
        client.authenticate()
    assert_chain_clean(caught.value)


@pytest.mark.parametrize(
    "failure", [httpx.ConnectTimeout, httpx.ReadTimeout, httpx.ConnectError, httpx.RemoteProtocolError]
)
def test_no_link_of_the_chain_of_a_failed_api_call_carries_the_bearer_token(
    api: respx.MockRouter, client: Any, failure: type[httpx.TransportError]
) -> None:
    api.post(TOKEN_URL).respond(200, json=token_json(1))
    api.get(NOTIFICATIONS).mock(side_effect=_raise(failure))
    api.put(f"{SUPPLIER}/Orders({ORDER_ID})/OrderStatusUpdate").mock(side_effect=_raise(failure))
    with pytest.raises(DropshipError) as caught:
        client.get_notifications(max_retries=1)
    assert_chain_clean(caught.value)
    with pytest.raises(DropshipError) as caught:
        client.update_order_status(ORDER_ID, "Cancelled", max_retries=0)
    assert_chain_clean(caught.value)


def test_a_token_answer_that_is_half_a_json_document_leaves_no_trace_of_it(api: respx.MockRouter, client: Any) -> None:
    api.post(TOKEN_URL).respond(200, content=b'{"access_token": "access-1", "refresh_token": "refresh-1", "expi')
    with pytest.raises(TokenError) as caught:
        client.get_notifications()
    assert_chain_clean(caught.value)


# -- servers that echo secrets ---------------------------------------------------------------------


def test_an_api_error_body_echoing_the_bearer_token_is_redacted(api: respx.MockRouter, client: Any) -> None:
    api.post(TOKEN_URL).respond(200, json=token_json(1))

    def echo(request: httpx.Request) -> httpx.Response:
        said = request.headers["authorization"]
        return httpx.Response(400, json={"Message": f"bad header {said}", "Echo": {"Authorization": said}})

    api.put(f"{SUPPLIER}/Orders({ORDER_ID})/OrderStatusUpdate").mock(side_effect=echo)
    with pytest.raises(BadRequestError) as caught:
        client.update_order_status(ORDER_ID, "Cancelled")
    error = caught.value
    assert "bad header Bearer ***" in str(error)
    assert_chain_clean(error)
    assert_clean(repr(error.body))
    assert error.response is not None
    assert_clean(error.response.text)


@pytest.mark.parametrize("status", [400, 401, 500])
def test_a_token_error_body_echoing_the_form_is_redacted(api: respx.MockRouter, client: Any, status: int) -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        form = request.content.decode()
        return httpx.Response(status, json={"error": "invalid_grant", "error_description": f"refused {form}"})

    api.post(TOKEN_URL).mock(side_effect=echo)
    with pytest.raises(DropshipError) as caught:
        client.get_notifications(max_retries=0)
    error = caught.value
    assert_chain_clean(error)
    assert_clean(repr(getattr(error, "description", None)))
    assert_clean(repr(getattr(error, "body", None)))


def test_a_plain_text_error_echoing_a_json_escaped_or_url_encoded_secret_is_redacted(
    api: respx.MockRouter, client_factory: Any
) -> None:
    client = client_factory(password='p@ss "word"/x', client_secret="s3cr3t-client-secret")
    api.post(TOKEN_URL).respond(
        400, text='invalid password=p%40ss+%22word%22%2Fx or "p@ss \\"word\\"/x" for s3cr3t-client-secret'
    )
    with pytest.raises(TokenError) as caught:
        client.get_notifications()
    text = str(caught.value)
    assert "p%40ss" not in text
    assert 'p@ss \\"word' not in text
    assert "s3cr3t-client-secret" not in text


@pytest.mark.parametrize(
    "spelling",
    [
        lambda s: s.replace("-", "\\u002d"),  # .NET escapes some characters as \uXXXX
        lambda s: "".join(f"\\u{ord(c):04x}" for c in s),  # or all of them
    ],
)
def test_a_secret_spelled_with_json_escapes_is_redacted_once_decoded(
    api: respx.MockRouter, client: Any, spelling: Any
) -> None:
    api.post(TOKEN_URL).respond(
        400,
        content=b'{"error": "invalid_grant", "error_description": "password '
        + spelling("hunter2-password").encode()
        + b' is locked"}',
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(TokenError) as caught:
        client.get_notifications()
    assert_chain_clean(caught.value)
    assert_clean(repr(caught.value.description))


def test_a_secret_with_a_slash_written_the_dotnet_way_is_redacted_everywhere(
    api: respx.MockRouter, client_factory: Any
) -> None:
    client = client_factory(password="hunter2/password")
    api.post(TOKEN_URL).respond(200, json=token_json(1))
    body = b'{"Message": "no: hunter2\\/password"}'
    api.get(NOTIFICATIONS).respond(400, content=body, headers={"Content-Type": "application/json"})
    with pytest.raises(BadRequestError) as caught:
        client.get_notifications()
    error = caught.value
    for text in (str(error), repr(error.body), error.response.text, repr(error.response.json())):
        assert "hunter2/password" not in text
        assert "hunter2\\/password" not in text


def test_an_html_error_page_spelling_a_secret_with_entities_is_redacted(
    api: respx.MockRouter, client_factory: Any
) -> None:
    client = client_factory(password="p@ss&word")
    api.post(TOKEN_URL).respond(400, html="<html><title>bad password p&#64;ss&amp;word</title></html>")
    with pytest.raises(TokenError) as caught:
        client.get_notifications()
    assert "p@ss&word" not in str(caught.value)
    assert "***" in str(caught.value)


def test_response_headers_quoting_the_token_are_redacted_on_the_kept_response(
    api: respx.MockRouter, client: Any
) -> None:
    api.post(TOKEN_URL).respond(200, json=token_json(1))
    api.get(NOTIFICATIONS).mock(
        side_effect=lambda request: httpx.Response(
            403,
            text="no",
            headers={"X-Echo": request.headers["authorization"], "X-Request-Id": "req-access-1"},
        )
    )
    with pytest.raises(DropshipError) as caught:
        client.get_notifications()
    response = caught.value.response  # type: ignore[attr-defined]
    assert_clean(_headers(response.headers))
    assert response.headers["X-Echo"] == "Bearer ***"
    assert_clean(repr(caught.value.request_id))  # type: ignore[attr-defined]


def test_a_redirect_loop_on_a_client_that_follows_redirects_is_a_clean_connection_error(
    api: respx.MockRouter, client_factory: Any, kind: str
) -> None:
    client = _redirecting_client(kind, client_factory)
    api.post(TOKEN_URL).respond(200, json=token_json(1))
    api.get(NOTIFICATIONS).respond(302, headers={"Location": NOTIFICATIONS})
    with pytest.raises(APIConnectionError, match="TooManyRedirects") as caught:
        client.get_notifications(max_retries=0)
    assert_chain_clean(caught.value)  # before: httpx.TooManyRedirects, its request carrying the token


@pytest.mark.parametrize("supplier_id", [0, "0", "000", -1, "x" * 10_000])
def test_a_supplier_id_that_is_no_positive_integer_is_refused_at_construction(supplier_id: Any) -> None:
    with pytest.raises(ConfigurationError, match="supplier_id must be a positive integer") as caught:
        DropshipClient(supplier_id=supplier_id, access_token="held-token")
    assert len(str(caught.value)) < 300


@pytest.mark.parametrize("field", ["base_url", "accounts_url", "availability_url", "product_library_url"])
@pytest.mark.parametrize("url", ["https://u:pa55-in-url@dropship.test/v1", "ftp://u:pa55-in-url@dropship.test/v1"])
def test_a_url_with_credentials_in_it_is_refused_without_showing_them(field: str, url: str) -> None:
    with pytest.raises(ConfigurationError, match=field) as caught:
        DropshipClient(supplier_id=60455, access_token="static-token-value", **{field: url})
    assert "pa55-in-url" not in str(caught.value)
    assert "u:" not in str(caught.value)
    assert "***@dropship.test" in str(caught.value)


def test_an_http_client_of_the_other_kind_is_refused_at_construction() -> None:
    """Refused when the client is built, not with an AttributeError at its first request."""
    with (
        httpx.Client() as sync_http,
        pytest.raises(ArgumentTypeError, match=r"must be an httpx\.AsyncClient, got Client"),
    ):
        AsyncDropshipClient(supplier_id=60455, access_token="static-token-value", http_client=sync_http)  # type: ignore[arg-type]

    async def build() -> None:
        async with httpx.AsyncClient() as async_http:
            with pytest.raises(ConfigurationError, match=r"must be an httpx\.Client, got AsyncClient"):
                DropshipClient(supplier_id=60455, access_token="static-token-value", http_client=async_http)  # type: ignore[arg-type]

    anyio.run(build)
