"""The framework-neutral handler, driven directly: method, headers and body in, an Answer out."""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import threading
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

import pytest

from iqmetrix_dropship.shipping_options import (
    MAX_BODY_BYTES,
    Answer,
    OutOfStock,
    ShippingOption,
    ShippingOptionsHandler,
    ShippingQuery,
)

from .conftest import API_KEY, BASIC, BODY, KEYED, PUROLATOR, QUERY, basic, log_text, quote

HEADERS = basic()


def _handle(method: str = "POST", headers: Mapping[str, str] = HEADERS, body: bytes = BODY, **options: Any) -> Answer:
    options.setdefault("auth", BASIC)
    return ShippingOptionsHandler(options.pop("quote", quote), **options).handle(method, headers, body)


def test_a_valid_query_is_answered_with_the_options() -> None:
    answer = _handle()
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    assert answer.json() == {
        "ShippingOptions": [
            {"Id": "350", "Name": "PurolatorExpress", "Cost": 7.94, "Currency": "CAD", "EstimatedTransitTime": "1 week"}
        ]
    }


def test_the_quote_function_gets_the_parsed_query() -> None:
    seen: list[ShippingQuery] = []
    _handle(quote=lambda query: seen.append(query) or [])
    assert seen == [ShippingQuery.model_validate(QUERY)]


def test_no_options_is_an_empty_list() -> None:
    assert _handle(quote=lambda query: []).json() == {"ShippingOptions": []}


@pytest.mark.parametrize(
    ("method", "headers", "body", "status", "message"),
    [
        ("GET", HEADERS, b"", 405, "Only POST is allowed."),
        ("PUT", HEADERS, BODY, 405, "Only POST is allowed."),
        ("POST", {**HEADERS, "Content-Type": "text/plain"}, BODY, 415, "The body must be JSON"),
        ("POST", {"Authorization": HEADERS["Authorization"]}, BODY, 415, "The body must be JSON"),
        ("POST", {**HEADERS, "Content-Length": str(MAX_BODY_BYTES + 1)}, BODY, 413, "larger than 65536 bytes"),
        ("POST", HEADERS, b" " * (MAX_BODY_BYTES + 1), 413, "larger than 65536 bytes"),
        ("POST", HEADERS, b"", 400, "The body is not valid JSON."),
        ("POST", HEADERS, b"{not json", 400, "The body is not valid JSON."),
        ("POST", HEADERS, b"\xff\xfe\xfa", 400, "The body is not valid JSON."),
        ("POST", HEADERS, b'{"CompanyId": NaN, "PostalCode": "08540"}', 400, "The body is not valid JSON."),
        ("POST", HEADERS, b"[" * 50_000, 400, "The body is not valid JSON."),
        ("POST", HEADERS, b"[]", 400, "The body must be a JSON object."),
        ("POST", HEADERS, b'"text"', 400, "The body must be a JSON object."),
        ("POST", HEADERS, b'{"PostalCode": "08540"}', 400, "CompanyId: is required"),
        ("POST", HEADERS, b'{"CompanyId": "abc", "PostalCode": "08540"}', 400, "CompanyId: must be an integer"),
        ("POST", HEADERS, b'{"CompanyId": true, "PostalCode": "08540"}', 400, "CompanyId: must be an integer"),
        ("POST", HEADERS, b'{"CompanyId": 1}', 400, "PostalCode: is required"),
        (
            "POST",
            HEADERS,
            b'{"CompanyId": 1, "PostalCode": "08540", "Items": [{"Quantity": 1}]}',
            400,
            "Items[0].Sku: is required",
        ),
        (
            "POST",
            HEADERS,
            b'{"CompanyId": 1, "PostalCode": "08540", "Items": [{"Sku": "A", "Quantity": -3}]}',
            400,
            "Items[0].Quantity: must be 1 or more",
        ),
    ],
    ids=[
        "GET",
        "PUT",
        "text-plain",
        "no-content-type",
        "content-length-too-big",
        "body-too-big",
        "empty-body",
        "not-json",
        "not-utf8",
        "nan",
        "deeply-nested",
        "json-array",
        "json-string",
        "missing-company-id",
        "company-id-abc",
        "company-id-bool",
        "missing-postal-code",
        "missing-sku",
        "negative-quantity",
    ],
)
def test_a_request_the_endpoint_cannot_take_is_refused_with_its_reason(
    method: str, headers: Mapping[str, str], body: bytes, status: int, message: str
) -> None:
    answer = _handle(method, headers, body)
    assert (answer.status, answer.json()) == (status, {"Message": answer.json()["Message"]})
    assert message in answer.json()["Message"]


def test_a_refused_method_says_which_is_allowed() -> None:
    assert _handle("GET", body=b"").headers["Allow"] == "POST"


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
        "text/json",
        "application/problem+json",
    ],
)
def test_json_content_types_are_taken(content_type: str) -> None:
    assert _handle(headers={**HEADERS, "Content-Type": content_type}).status == 200


def test_header_names_are_matched_whatever_their_case() -> None:
    headers = {"AUTHORIZATION": HEADERS["Authorization"], "content-TYPE": "application/json"}
    assert _handle(headers=headers).status == 200


def test_credentials_are_checked_before_anything_else() -> None:
    answer = _handle("GET", {"Content-Type": "text/plain"}, b"x" * (MAX_BODY_BYTES + 1))
    assert answer.status == 401
    assert answer.json() == {"Message": "Authorization has been denied for this request."}
    assert answer.headers["WWW-Authenticate"] == 'Basic realm="ShippingOptions"'


def test_a_quote_function_is_not_called_for_a_refused_request() -> None:
    calls: list[ShippingQuery] = []
    _handle(headers=basic(password="wrong"), quote=calls.append)
    _handle(body=b"[]", quote=calls.append)
    assert calls == []


def test_two_authorization_headers_are_refused() -> None:
    class Repeated(Mapping[str, str]):
        """Headers as some frameworks give them: a name more than once in items()."""

        def __init__(self, pairs: list[tuple[str, str]]) -> None:
            self.pairs = pairs

        def __getitem__(self, key: str) -> str:
            return next(value for name, value in self.pairs if name == key)

        def __iter__(self) -> Iterator[str]:
            return iter(name for name, _ in self.pairs)

        def __len__(self) -> int:
            return len(self.pairs)

        def items(self) -> Any:
            return list(self.pairs)

    pairs = [("authorization", HEADERS["Authorization"]), ("authorization", HEADERS["Authorization"])]
    assert _handle(headers=Repeated([*pairs, ("content-type", "application/json")])).status == 401


def test_api_key_auth_takes_the_key_in_its_header() -> None:
    assert _handle(headers={"Api-Key": API_KEY, "Content-Type": "application/json"}, auth=KEYED).status == 200


def test_api_key_auth_refuses_a_wrong_key_with_a_challenge() -> None:
    answer = _handle(headers={"Api-Key": "nope", "Content-Type": "application/json"}, auth=KEYED)
    assert answer.status == 401
    assert "WWW-Authenticate" in answer.headers


def test_without_auth_no_credentials_are_needed() -> None:
    assert _handle(headers={"Content-Type": "application/json"}, auth=None).status == 200


def test_auth_must_be_given_even_if_none() -> None:
    with pytest.raises(TypeError, match="auth"):
        ShippingOptionsHandler(quote)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("options", "error"), [({"auth": ("u", "p")}, TypeError), ({"auth": None, "max_body_bytes": 0}, ValueError)]
)
def test_a_handler_is_built_with_usable_settings(options: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        ShippingOptionsHandler(quote, **options)


def test_a_quote_that_is_not_callable_is_refused() -> None:
    with pytest.raises(TypeError, match="quote must be a function"):
        ShippingOptionsHandler("quote", auth=None)  # type: ignore[arg-type]


def test_out_of_stock_is_a_400_naming_the_skus() -> None:
    def quote(query: ShippingQuery) -> list[ShippingOption]:
        raise OutOfStock(["SKU1", "SKU2"])

    answer = _handle(quote=quote)
    assert answer.status == 400
    assert answer.json() == {"Message": "Out of stock: SKU1, SKU2", "OutOfStock": ["SKU1", "SKU2"]}


def test_out_of_stock_raised_while_a_generator_yields_is_a_400() -> None:
    def quote(query: ShippingQuery) -> Iterator[ShippingOption]:
        yield PUROLATOR
        raise OutOfStock("SKU1")

    assert _handle(quote=quote).json()["OutOfStock"] == ["SKU1"]


def test_options_may_be_mappings_or_any_iterable() -> None:
    def quote(query: ShippingQuery) -> Iterator[Any]:
        yield {"Id": "1", "Cost": Decimal("5.5"), "Currency": "USD"}
        yield PUROLATOR

    assert [option["Id"] for option in _handle(quote=quote).json()["ShippingOptions"]] == ["1", "350"]


def test_a_raising_quote_function_is_a_500_without_its_text(caplog: pytest.LogCaptureFixture) -> None:
    def quote(query: ShippingQuery) -> list[ShippingOption]:
        raise RuntimeError("the rates database at db.internal:5432 is down")

    answer = _handle(quote=quote)
    assert (answer.status, answer.json()) == (500, {"Message": "An error has occurred."})
    assert b"db.internal" not in answer.body
    assert b"Traceback" not in answer.body
    assert "the quote function raised RuntimeError" in log_text(caplog)
    assert "db.internal" in log_text(caplog)  # the supplier's own log has the reason and the traceback


@pytest.mark.parametrize(
    ("result", "logged"),
    [
        ([{"Id": "1", "Cost": 7.123, "Currency": "CAD"}], "ShippingOptions[0].Cost: must have at most 2 decimals"),
        ([PUROLATOR, {"Id": "2", "Cost": 1, "Currency": "EUR"}], "ShippingOptions[1].Currency: must be 'USD' or 'CAD'"),
        ([{"Id": "2", "Price": 1, "Currency": "CAD"}], "ShippingOptions[0].Price: unknown field"),
        ([PUROLATOR, PUROLATOR], "ShippingOptions[1].Id: '350' is given twice"),
        ([("350", 7.94, "CAD")], "ShippingOptions[0]: must be a ShippingOption or a mapping, not tuple"),
        (None, "must return a list of ShippingOption, not NoneType"),
        (PUROLATOR.model_dump(), "not dict"),
        ("350", "not str"),
        (42, "not int"),
        ((PUROLATOR.model_copy(update={"id": str(n)}) for n in itertools.count()), "more than 1000 options"),
    ],
    ids=["3-decimals", "currency", "unknown-field", "same-id", "tuple", "none", "dict", "str", "int", "endless"],
)
def test_an_invalid_answer_is_a_500_and_the_log_names_what_is_wrong(
    result: Any, logged: str, caplog: pytest.LogCaptureFixture
) -> None:
    answer = _handle(quote=lambda query: result)
    assert (answer.status, answer.json()) == (500, {"Message": "An error has occurred."})
    assert logged in log_text(caplog)


def test_handle_runs_an_async_quote_function() -> None:
    async def quote(query: ShippingQuery) -> list[ShippingOption]:
        await asyncio.sleep(0)
        return [PUROLATOR]

    assert _handle(quote=quote).status == 200


def test_handle_inside_an_event_loop_refuses_an_async_quote_with_a_500(caplog: pytest.LogCaptureFixture) -> None:
    async def quote(query: ShippingQuery) -> list[ShippingOption]:
        return [PUROLATOR]

    async def main() -> Answer:
        return _handle(quote=quote)

    assert asyncio.run(main()).status == 500
    assert "call handle_async()" in log_text(caplog)


def _handle_async(quote: Any) -> Answer:
    handler = ShippingOptionsHandler(quote, auth=BASIC)
    return asyncio.run(handler.handle_async("POST", HEADERS, BODY))


def test_handle_async_awaits_an_async_quote_function() -> None:
    async def quote(query: ShippingQuery) -> list[ShippingOption]:
        await asyncio.sleep(0)
        raise OutOfStock("SKU9")

    assert _handle_async(quote).json()["OutOfStock"] == ["SKU9"]


def test_handle_async_runs_a_plain_quote_function_in_a_worker_thread() -> None:
    threads: list[threading.Thread] = []

    def quote(query: ShippingQuery) -> list[ShippingOption]:
        threads.append(threading.current_thread())
        return [PUROLATOR]

    assert _handle_async(quote).status == 200
    assert threads != [threading.current_thread()]


def test_handle_async_awaits_what_a_plain_function_hands_back() -> None:
    async def quote(query: ShippingQuery, currency: str) -> list[ShippingOption]:
        return [PUROLATOR.model_copy(update={"currency": currency})]

    answer = _handle_async(functools.partial(quote, currency="USD"))
    assert answer.json()["ShippingOptions"][0]["Currency"] == "USD"


def test_handle_async_takes_an_object_whose_call_is_async() -> None:
    class Quote:
        async def __call__(self, query: ShippingQuery) -> list[ShippingOption]:
            return [PUROLATOR]

    assert _handle_async(Quote()).status == 200


def test_the_answer_body_is_json_for_every_status() -> None:
    for answer in (_handle(), _handle("GET"), _handle(body=b"[]"), _handle(headers=basic(password="x"))):
        json.loads(answer.body)
        assert answer.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("length", ["\xb2", "9" * 5000, "-1", "1e3", " ", "\u0663"])
def test_a_malformed_content_length_never_raises(length: str) -> None:
    # Under Flask or Django the handler sees what uvicorn's h11 would have refused first.
    answer = _handle(headers={**HEADERS, "Content-Length": length})

    assert answer.status in (200, 413)
