"""The password and the API key never appear in an answer, a log line or a repr, whatever happens."""

from __future__ import annotations

from typing import Any

import pytest

from iqmetrix_dropship.shipping_options import (
    ApiKeyAuth,
    BasicAuth,
    ShippingOption,
    ShippingOptionsHandler,
    ShippingQuery,
)

from .conftest import (
    API_KEY,
    BASIC,
    BODY,
    KEYED,
    PASSWORD,
    TOKEN,
    USERNAME,
    Serve,
    assert_no_secret,
    basic,
    log_text,
)


def _raising(query: ShippingQuery) -> list[ShippingOption]:
    raise RuntimeError("the supplier's bug")


def _invalid(query: ShippingQuery) -> list[Any]:
    return [{"Id": "1", "Cost": 0.125, "Currency": "XXX"}]


# (quote, method, body, content type): every kind of answer the endpoint gives.
REQUESTS = {
    "ok": (None, "POST", BODY, "application/json"),
    "out-of-stock": (None, "POST", BODY.replace(b"87932OTS45S6", b"GONE-1"), "application/json"),
    "bad-query": (None, "POST", b'{"CompanyId": "abc"}', "application/json"),
    "not-json": (None, "POST", b"{", "application/json"),
    "too-large": (None, "POST", b" " * 70_000, "application/json"),
    "wrong-type": (None, "POST", BODY, "text/plain"),
    "wrong-method": (None, "PUT", BODY, "application/json"),
    "raises": (_raising, "POST", BODY, "application/json"),
    "invalid-answer": (_invalid, "POST", BODY, "application/json"),
}
CREDENTIALS = {
    "basic-right": {"Authorization": f"Basic {TOKEN}"},
    "basic-wrong-user": basic("other", PASSWORD),
    "basic-wrong-password": basic(USERNAME, PASSWORD[:-1]),
    "basic-malformed": {"Authorization": f"Basic {PASSWORD}"},
    "key-right": {"Api-Key": API_KEY},
    "key-wrong": {"Api-Key": API_KEY[::-1]},
    "key-in-basic": {"Authorization": f"Basic {API_KEY}"},
}


@pytest.mark.parametrize("request_kind", sorted(REQUESTS))
@pytest.mark.parametrize("credentials", sorted(CREDENTIALS))
@pytest.mark.parametrize("auth", [BASIC, KEYED], ids=["basic-auth", "key-auth"])
def test_no_answer_or_log_line_holds_a_secret(
    serve: Serve, caplog: pytest.LogCaptureFixture, auth: Any, credentials: str, request_kind: str
) -> None:
    quote, method, body, content_type = REQUESTS[request_kind]
    client = serve(quote, auth=auth) if quote is not None else serve(auth=auth)
    headers = {**CREDENTIALS[credentials], "Content-Type": content_type}
    response = client.request(method, "/ShippingOptions", content=body, headers=headers)
    assert response.status_code in (200, 400, 401, 405, 413, 415, 500)
    assert_no_secret(response.text, str(response.headers), log_text(caplog))


def test_the_handler_repr_masks_the_secrets() -> None:
    for auth in (BASIC, KEYED):
        assert_no_secret(repr(ShippingOptionsHandler(_raising, auth=auth)))


def test_a_refused_secret_is_not_in_the_construction_error() -> None:
    for build in (lambda: BasicAuth(f"{PASSWORD}:", PASSWORD), lambda: ApiKeyAuth(f" {API_KEY}")):
        with pytest.raises(ValueError, match="must not") as caught:
            build()
        assert_no_secret(str(caught.value))
