"""Shipping options: before placing a new order, the emulator asks the supplier's own server, as
iQmetrix does (supplier-apis.md, "Shipping options"). The supplier here is a real HTTP server on
the loopback, whose answers each test decides."""

from __future__ import annotations

import base64
import html
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from iqmetrix_dropship import OrderCreated, parse_feed
from iqmetrix_dropship.emulator import (
    Emulator,
    EmulatorConfig,
    EmulatorServer,
    OrderNotPlaced,
    OrderRefused,
    ShippingOption,
    ShippingOptionsError,
)
from iqmetrix_dropship.emulator.__main__ import main

from .test_server import _Lines

PASSWORD = "s3cret-Pa55word"
API_KEY = "9c269e40-5bd4-4dc6-8f3c-6d0e0d5b1b51"
# The spec's own examples.
OPTIONS = {
    "ShippingOptions": [
        {"Id": "350", "Name": "PurolatorExpress", "Cost": 7.94, "Currency": "CAD", "EstimatedTransitTime": "1 week"},
        {"Id": "351", "Name": "PurolatorGround", "Cost": 4.50, "Currency": "CAD", "EstimatedTransitTime": "2 weeks"},
        {"Id": "352", "Name": "CanadaPost", "Cost": 4.5, "Currency": "CAD"},
    ]
}
ITEMS = [{"sku": "87932OTS45S6", "description": "Galaxy S23 Case", "quantity": 11}]


@dataclass
class Supplier:
    """The supplier's shipping-options server: records each request, answers ``answer``."""

    answer: tuple[int, Any] = (200, OPTIONS)
    then: list[tuple[int, Any]] = field(default_factory=list)
    """Answers for the next requests, before ``answer``."""
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    called: threading.Event = field(default_factory=threading.Event)
    release: threading.Event | None = None
    echo_authorization: bool = False

    async def handle(self, request: Request) -> Response:
        self.requests.append((dict(request.headers), await request.body()))
        self.called.set()
        if self.release is not None:
            await anyio.to_thread.run_sync(self.release.wait, 10)
        status, body = self.then.pop(0) if self.then else self.answer
        if self.echo_authorization:  # a careless server quoting the request's credentials back
            body = {"Message": f"who is {request.headers.get('authorization')} {request.headers.get('api-key')}?"}
        if isinstance(body, bytes):
            return Response(body, status, media_type="text/plain")
        return JSONResponse(body, status)

    @property
    def queries(self) -> list[Any]:
        return [json.loads(body) for _, body in self.requests]


@pytest.fixture(scope="module")
def supplier_server() -> Iterator[tuple[EmulatorServer, list[Supplier]]]:
    current = [Supplier()]

    async def shipping_options(request: Request) -> Response:
        return await current[0].handle(request)

    app = Starlette(routes=[Route("/ShippingOptions", shipping_options, methods=["POST"])])
    with EmulatorServer(app) as server:
        yield server, current


@pytest.fixture
def supplier(supplier_server: tuple[EmulatorServer, list[Supplier]]) -> Supplier:
    _, current = supplier_server
    current[0] = Supplier()
    return current[0]


@pytest.fixture
def url(supplier_server: tuple[EmulatorServer, list[Supplier]]) -> str:
    return f"{supplier_server[0].url}/ShippingOptions"


@pytest.fixture
def emulator(url: str) -> Iterator[Emulator]:
    config = EmulatorConfig(
        orders=5,
        seed=3,
        shipping_options_url=url,
        shipping_options_username="iqmetrix",
        shipping_options_password=PASSWORD,
    )
    with Emulator(config) as emulator:
        yield emulator


def newest_order(emulator: Emulator) -> OrderCreated:
    for entry in parse_feed(emulator.page()).entries:
        if isinstance(entry.event, OrderCreated):
            return entry.event
    raise AssertionError("no order-created event on the current page")


# -- placed ---------------------------------------------------------------------------------


def test_a_quoted_order_is_placed_with_the_chosen_options_id_as_its_shipping_method(
    emulator: Emulator, supplier: Supplier
) -> None:
    order_id = emulator.place_order(items=ITEMS)

    event = newest_order(emulator)
    assert str(event.order_id) == order_id
    assert event.shipping_method == "351"  # the cheapest; 352 costs the same but comes later
    assert emulator.order(order_id)["shipping_method"] == "351"


def test_the_query_names_the_orders_company_postal_code_and_items(emulator: Emulator, supplier: Supplier) -> None:
    order_id = emulator.place_order(items=ITEMS, company_id=14146, postal_code="A1A1A1")

    [query] = supplier.queries
    assert query == {
        "CompanyId": 14146,
        "PostalCode": "A1A1A1",
        "Items": [{"ProductName": "Galaxy S23 Case", "Quantity": 11, "Sku": "87932OTS45S6"}],
    }
    event = newest_order(emulator)
    assert event.shipping_address.postal_code == "A1A1A1"
    assert event.seller.company_id == 14146
    assert emulator.order(order_id)["country_code"] == "CA"


def test_a_random_orders_query_matches_the_order_in_the_feed(emulator: Emulator, supplier: Supplier) -> None:
    emulator.place_order()

    [query] = supplier.queries
    event = newest_order(emulator)
    assert query["CompanyId"] == event.seller.company_id
    assert query["PostalCode"] == event.shipping_address.postal_code
    assert [(item["Sku"], item["Quantity"], item["ProductName"]) for item in query["Items"]] == [
        (item.sku, item.quantity, emulator.order(str(event.order_id))["items"][n]["description"])
        for n, item in enumerate(event.items)
    ]


def test_the_call_is_a_json_post_with_basic_credentials(emulator: Emulator, supplier: Supplier) -> None:
    emulator.place_order()

    [(headers, _)] = supplier.requests
    assert headers["content-type"] == "application/json"
    assert headers["accept"] == "application/json"
    assert headers["authorization"] == "Basic " + base64.b64encode(f"iqmetrix:{PASSWORD}".encode()).decode()


def test_an_api_key_goes_in_its_configured_header(url: str, supplier: Supplier) -> None:
    with Emulator(orders=1, shipping_options_url=url, shipping_options_api_key=API_KEY) as emulator:
        emulator.place_order()
    with Emulator(
        orders=1, shipping_options_url=url, shipping_options_api_key=API_KEY, shipping_options_api_key_header="X-Key"
    ) as emulator:
        emulator.place_order()

    (default, _), (configured, _) = supplier.requests
    assert default["api-key"] == API_KEY
    assert configured["x-key"] == API_KEY
    assert "authorization" not in default


def test_choose_picks_the_option_the_customer_takes(emulator: Emulator, supplier: Supplier) -> None:
    def priciest(options: Sequence[ShippingOption]) -> ShippingOption:
        return max(options, key=lambda option: option.cost)

    order_id = emulator.place_order(choose=priciest)

    assert emulator.order(order_id)["shipping_method"] == "350"


def test_the_log_records_the_query_the_options_and_the_choice(emulator: Emulator, supplier: Supplier) -> None:
    order_id = emulator.place_order(items=ITEMS)

    [call] = emulator.shipping_log()
    assert (call.order_id, call.status, call.outcome, call.chosen) == (order_id, 200, "placed", "351")
    assert call.query == supplier.queries[0]
    assert [(option.id, str(option.cost), option.currency) for option in call.options] == [
        ("350", "7.94", "CAD"),
        ("351", "4.5", "CAD"),
        ("352", "4.5", "CAD"),
    ]


def test_the_seeded_history_never_calls_the_supplier(url: str, supplier: Supplier) -> None:
    with Emulator(orders=50, shipping_options_url=url, shipping_options_api_key=API_KEY) as emulator:
        assert supplier.requests == []
        assert emulator.shipping_log() == []
        assert emulator.summary()["orders"] == 50


def test_shipping_method_cannot_be_given_with_a_shipping_options_server(emulator: Emulator, supplier: Supplier) -> None:
    with pytest.raises(ValueError, match="shipping_method"):
        emulator.place_order(shipping_method="350")

    assert supplier.requests == []


def test_without_a_shipping_options_server_nothing_is_called_and_shipping_method_is_taken(supplier: Supplier) -> None:
    emulator = Emulator(orders=1)

    order_id = emulator.place_order(shipping_method="Overnight")

    assert emulator.order(order_id)["shipping_method"] == "Overnight"
    assert supplier.requests == []


# -- refused: out of stock ----------------------------------------------------------------------


def test_a_400_refuses_the_order_records_it_and_leaves_the_feed_as_it_was(
    emulator: Emulator, supplier: Supplier
) -> None:
    supplier.answer = (400, {"Message": "Out of stock", "Skus": ["87932OTS45S6"]})
    entries, orders = emulator.entry_ids(), emulator.order_ids()

    with pytest.raises(OrderRefused) as refused:
        emulator.place_order(items=[*ITEMS, {"sku": "IN-STOCK-1"}])

    assert refused.value.skus == ("87932OTS45S6",)
    assert refused.value.status == 400
    assert "87932OTS45S6" in str(refused.value)
    assert (emulator.entry_ids(), emulator.order_ids()) == (entries, orders)
    [call] = emulator.shipping_log()
    assert (call.outcome, call.status, call.order_id, call.chosen) == ("refused", 400, refused.value.order_id, None)
    assert call.skus == ("87932OTS45S6",)
    assert "Out of stock" in str(call.body)
    assert call.query == supplier.queries[0]


def test_a_refused_order_is_no_shipping_options_error(emulator: Emulator, supplier: Supplier) -> None:
    supplier.answer = (400, b"sold out")

    with pytest.raises(OrderNotPlaced) as refused:
        emulator.place_order()

    assert isinstance(refused.value, OrderRefused)
    assert not isinstance(refused.value, ShippingOptionsError)
    assert refused.value.skus == ()


def test_place_orders_stops_at_the_first_refusal_and_names_those_placed(emulator: Emulator, supplier: Supplier) -> None:
    supplier.then = [(200, OPTIONS), (200, OPTIONS), (400, b"out of stock")]
    before = emulator.order_ids()

    with pytest.raises(OrderRefused) as refused:
        emulator.place_orders(5)

    assert len(refused.value.placed_order_ids) == 2
    assert emulator.order_ids() == before + refused.value.placed_order_ids
    assert [call.outcome for call in emulator.shipping_log()] == ["placed", "placed", "refused"]


# -- failed ---------------------------------------------------------------------------------


def test_refused_credentials_are_a_clear_error_and_place_nothing(emulator: Emulator, supplier: Supplier) -> None:
    supplier.answer = (401, {"Message": "Unauthorized"})
    entries = emulator.entry_ids()

    with pytest.raises(ShippingOptionsError, match=r"refused the credentials \(401\)") as failed:
        emulator.place_order()

    assert failed.value.status == 401
    assert emulator.entry_ids() == entries
    assert emulator.shipping_log()[0].outcome == "failed"


def test_a_server_error_is_a_clear_error(emulator: Emulator, supplier: Supplier) -> None:
    supplier.answer = (500, b"boom")

    with pytest.raises(ShippingOptionsError, match="answered 500"):
        emulator.place_order()


def test_an_answer_that_is_not_json_is_a_clear_error(emulator: Emulator, supplier: Supplier) -> None:
    supplier.answer = (200, b"<html>options</html>")

    with pytest.raises(ShippingOptionsError, match="not JSON"):
        emulator.place_order()

    assert emulator.shipping_log()[0].body == "<html>options</html>"


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (OPTIONS["ShippingOptions"], "bare JSON array"),
        ({"ShippingOptions": []}, "ShippingOptions: must hold 1 to"),
        ({"Options": OPTIONS["ShippingOptions"]}, "ShippingOptions: must be an array"),
        ({"ShippingOptions": [{"Id": "350", "Cost": 7.94, "Currency": "EUR"}]}, r"ShippingOptions\[0\].Currency"),
        ({"ShippingOptions": [{"Cost": 7.94, "Currency": "CAD"}]}, r"ShippingOptions\[0\].Id"),
        ({"ShippingOptions": [{"Id": 350, "Cost": 7.94, "Currency": "CAD"}]}, r"ShippingOptions\[0\].Id"),
        ({"ShippingOptions": [{"Id": "350", "Cost": "7.94", "Currency": "CAD"}]}, r"ShippingOptions\[0\].Cost"),
        ({"ShippingOptions": [{"Id": "350", "Cost": -1, "Currency": "CAD"}]}, r"ShippingOptions\[0\].Cost"),
        ({"ShippingOptions": [{"Id": "350", "Currency": "CAD"}]}, r"ShippingOptions\[0\].Cost"),
        (
            {"ShippingOptions": [{"Id": "1", "Cost": 1, "Currency": "CAD"}, {"Id": "1", "Cost": 2, "Currency": "CAD"}]},
            r"ShippingOptions\[1\].Id: '1' is offered twice",
        ),
    ],
)
def test_invalid_options_are_a_clear_error(emulator: Emulator, supplier: Supplier, answer: Any, problem: str) -> None:
    supplier.answer = (200, answer)
    orders = emulator.order_ids()

    with pytest.raises(ShippingOptionsError, match=problem):
        emulator.place_order()

    assert emulator.order_ids() == orders


def test_a_server_that_is_down_is_a_clear_error() -> None:
    with socket.socket() as closed:  # bound, never listening: every connection is refused
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/ShippingOptions"
        emulator = Emulator(orders=1, shipping_options_url=url)

        with pytest.raises(ShippingOptionsError, match="could not connect") as failed:
            emulator.place_order()

    assert failed.value.status is None
    assert emulator.shipping_log()[0].outcome == "failed"
    assert len(emulator.order_ids()) == 1


def test_a_server_that_never_answers_times_out() -> None:
    with socket.socket() as silent:  # listening, never accepting: the connection waits in the backlog
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/ShippingOptions"
        emulator = Emulator(orders=1, shipping_options_url=url, shipping_options_timeout=0.2)

        with pytest.raises(ShippingOptionsError, match=r"did not answer within 0\.2 s"):
            emulator.place_order()


# -- secrets --------------------------------------------------------------------------------


def test_no_secret_in_a_repr(emulator: Emulator) -> None:
    config = emulator.config
    api_key_config = EmulatorConfig(
        shipping_options_url="https://s.example/ShippingOptions", shipping_options_api_key=API_KEY
    )

    for shown in (repr(config), repr(config.shipping_endpoint), repr(emulator), repr(api_key_config)):
        assert PASSWORD not in shown
        assert API_KEY not in shown


def test_no_secret_in_errors_or_the_log_even_when_the_server_echoes_it(
    emulator: Emulator, supplier: Supplier, client: httpx.Client
) -> None:
    supplier.answer = (401, None)
    supplier.echo_authorization = True
    basic = base64.b64encode(f"iqmetrix:{PASSWORD}".encode()).decode()

    with pytest.raises(ShippingOptionsError) as failed:
        emulator.place_order()
    response = client.post("/_emulator/orders", json={})

    shown = [
        str(failed.value),
        repr(failed.value),
        str(failed.value.body),
        response.text,
        client.get("/_emulator/shipping").text,
    ]
    shown += [json.dumps(call.as_dict()) for call in emulator.shipping_log()]
    for text in shown:
        assert PASSWORD not in text
        assert basic not in text
    assert "***" in str(failed.value.body)


def test_credentials_in_the_url_are_refused_without_quoting_them() -> None:
    with pytest.raises(ValueError, match="shipping_options_url") as refused:
        EmulatorConfig(shipping_options_url=f"https://iqmetrix:{PASSWORD}@s.example/ShippingOptions")

    assert PASSWORD not in str(refused.value)


@pytest.mark.parametrize(
    "settings",
    [
        {"shipping_options_api_key": API_KEY},
        {"shipping_options_url": "ftp://s.example/", "shipping_options_api_key": API_KEY},
        {"shipping_options_url": "https://s.example/", "shipping_options_username": "a"},
        {"shipping_options_url": "https://s.example/", "shipping_options_password": PASSWORD},
        {
            "shipping_options_url": "https://s.example/",
            "shipping_options_username": "a",
            "shipping_options_password": PASSWORD,
            "shipping_options_api_key": API_KEY,
        },
        {"shipping_options_url": "https://s.example/", "shipping_options_api_key_header": "Api Key"},
        {"shipping_options_url": "https://s.example/", "shipping_options_timeout": 0},
    ],
)
def test_a_shipping_options_setting_that_cannot_work_is_refused(settings: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="shipping_options_") as refused:
        EmulatorConfig(**settings)

    assert PASSWORD not in str(refused.value)
    assert API_KEY not in str(refused.value)


# -- postal codes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("postal_code", "country"), [("A1A1A1", "CA"), ("K1A 0B1", "CA"), ("08540", "US"), ("02139-4301", "US")]
)
def test_a_postal_code_is_the_shipping_addresses_and_gives_the_country(postal_code: str, country: str) -> None:
    emulator = Emulator(orders=1)

    order = emulator.order(emulator.place_order(postal_code=postal_code))

    assert (order["postal_code"], order["country_code"]) == (postal_code, country)


@pytest.mark.parametrize(
    "fields", [{"postal_code": "1A1A1A"}, {"postal_code": 8540}, {"postal_code": "08540", "country_code": "CA"}]
)
def test_a_postal_code_that_is_none_or_of_another_country_is_refused(fields: dict[str, Any]) -> None:
    emulator = Emulator(orders=1)

    with pytest.raises(ValueError, match="postal_code"):
        emulator.place_order(**fields)

    assert len(emulator.order_ids()) == 1


# -- the admin endpoint -----------------------------------------------------------------------


@pytest.fixture
def client(emulator: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(transport=emulator.transport(), base_url="http://emulator.test") as client:
        yield client


def test_the_admin_endpoint_places_a_quoted_order(emulator: Emulator, supplier: Supplier, client: httpx.Client) -> None:
    response = client.post("/_emulator/orders", json={"items": ITEMS, "postal_code": "08540"})

    assert response.status_code == 201
    [order_id] = response.json()["order_ids"]
    assert emulator.order(order_id)["shipping_method"] == "351"
    assert supplier.queries[0]["PostalCode"] == "08540"


def test_the_admin_endpoint_answers_a_refusal_with_409_and_the_skus(
    emulator: Emulator, supplier: Supplier, client: httpx.Client
) -> None:
    supplier.answer = (400, {"OutOfStock": ["87932OTS45S6"]})

    response = client.post("/_emulator/orders", json={"items": ITEMS})

    assert response.status_code == 409
    body = response.json()
    assert body["Skus"] == ["87932OTS45S6"]
    assert "out of stock" in body["Message"]
    assert body["OrderId"] not in emulator.order_ids()


def test_the_admin_endpoint_answers_a_failed_call_with_502_naming_it(client: httpx.Client, supplier: Supplier) -> None:
    supplier.answer = (401, b"")

    response = client.post("/_emulator/orders", json={"count": 2})

    assert response.status_code == 502
    assert "refused the credentials (401)" in response.json()["Message"]
    assert response.json()["PlacedOrderIds"] == []


def test_the_admin_endpoint_lists_the_calls(emulator: Emulator, supplier: Supplier, client: httpx.Client) -> None:
    order_id = emulator.place_order(items=ITEMS)

    [call] = client.get("/_emulator/shipping").json()

    assert (call["order_id"], call["outcome"], call["chosen"], call["status"]) == (order_id, "placed", "351", 200)
    assert call["query"]["Items"][0]["Sku"] == "87932OTS45S6"
    assert call["options"][0] == {
        "Id": "350",
        "Name": "PurolatorExpress",
        "Cost": "7.94",
        "Currency": "CAD",
        "EstimatedTransitTime": "1 week",
    }


def test_waiting_on_the_supplier_blocks_neither_the_server_nor_the_lock(emulator: Emulator, supplier: Supplier) -> None:
    supplier.release = threading.Event()
    with emulator.serve() as server, httpx.Client(base_url=server.url, timeout=10) as client:
        answers: list[httpx.Response] = []
        placing = threading.Thread(target=lambda: answers.append(client.post("/_emulator/orders", json={})))
        placing.start()
        try:
            assert supplier.called.wait(10)

            assert client.get("/v1/ping").status_code == 200  # the event loop is free
            reading = threading.Thread(target=emulator.summary)
            reading.start()
            reading.join(10)
            assert not reading.is_alive()  # and so is the emulator's lock
        finally:
            supplier.release.set()
            placing.join(10)

    assert answers[0].status_code == 201


# -- the command line -------------------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is POSIX")
def test_the_command_line_reads_the_password_from_the_environment_and_never_prints_it(
    url: str, supplier: Supplier
) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "DROPSHIP_EMULATOR_SHIPPING_PASSWORD": PASSWORD}
    command = [sys.executable, "-m", "iqmetrix_dropship.emulator", "--port", "0", "--orders", "3"]
    command += ["--shipping-options-url", url, "--shipping-options-username", "iqmetrix"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines = _Lines(process)
    try:
        base_url = lines.wait_for(r"http://127\.0\.0\.1:\d+/v1", timeout=20)
        assert any("HTTP Basic as iqmetrix" in line for line in lines.seen)
        with httpx.Client(timeout=10) as client:
            response = client.post(base_url.removesuffix("/v1") + "/_emulator/orders", json={})
        assert response.status_code == 201
        [(headers, _)] = supplier.requests
        assert headers["authorization"] == "Basic " + base64.b64encode(f"iqmetrix:{PASSWORD}".encode()).decode()

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        lines.wait_for("emulator stopped", timeout=5)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
        lines.close()
    assert not any(PASSWORD in line for line in lines.seen)


def test_the_command_line_refuses_a_user_name_without_the_password_in_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DROPSHIP_EMULATOR_SHIPPING_PASSWORD", raising=False)

    assert main(["--shipping-options-url", "https://s.example/", "--shipping-options-username", "a"]) == 2
    assert "DROPSHIP_EMULATOR_SHIPPING_PASSWORD" in capsys.readouterr().err


# -- found by the review: masking, a trickling answer, sku names ----------------------------------


def basic_token(password: str = PASSWORD) -> str:
    return base64.b64encode(f"iqmetrix:{password}".encode()).decode()


def test_a_secret_quoted_back_inside_an_option_is_masked_in_the_problem(emulator: Emulator, supplier: Supplier) -> None:
    supplier.answer = (200, {"ShippingOptions": [{"Id": "1", "Cost": 1, "Currency": f"Basic {basic_token()}"}]})

    with pytest.raises(ShippingOptionsError) as failed:
        emulator.place_order()

    shown = [str(failed.value), json.dumps(emulator.shipping_log()[0].as_dict())]
    assert all(basic_token() not in text and PASSWORD not in text for text in shown)
    assert "Currency" in str(failed.value)


def test_a_json_escaped_secret_is_masked(url: str, supplier: Supplier) -> None:
    password = "s3cret/Pa55"
    supplier.answer = (401, b'{"Message": "who is iqmetrix:s3cret\\/Pa55?"}')
    config = EmulatorConfig(
        orders=1, shipping_options_url=url, shipping_options_username="iqmetrix", shipping_options_password=password
    )
    with Emulator(config) as emulator, pytest.raises(ShippingOptionsError) as failed:
        emulator.place_order()

    assert "s3cret\\/Pa55" not in str(failed.value.body)
    assert "***" in str(failed.value.body)


@pytest.mark.parametrize(
    "spelling",
    [html.escape, lambda secret: json.dumps(secret)[1:-1].replace("&", "\\u0026").replace("<", "\\u003c")],
    ids=["html", "json-unicode-escapes"],
)
def test_a_secret_echoed_in_any_escaping_is_masked(url: str, supplier: Supplier, spelling: Any) -> None:
    password = "p&<ss>\"'w0rd"
    supplier.answer = (502, f"<pre>who is iqmetrix:{spelling(password)}?</pre>".encode())
    config = EmulatorConfig(
        orders=1, shipping_options_url=url, shipping_options_username="iqmetrix", shipping_options_password=password
    )
    with Emulator(config) as emulator, pytest.raises(ShippingOptionsError) as failed:
        emulator.place_order()
    shown = [str(failed.value), str(failed.value.body), json.dumps(emulator.shipping_log()[0].as_dict())]
    assert all(spelling(password) not in text and password not in text for text in shown), shown
    assert "***" in str(failed.value.body)


def test_a_secret_at_the_cut_of_a_long_body_is_masked_before_the_cut(emulator: Emulator, supplier: Supplier) -> None:
    supplier.answer = (401, b"x" * 1990 + f"Basic {basic_token()}".encode())

    with pytest.raises(ShippingOptionsError) as failed:
        emulator.place_order()

    assert basic_token()[:4] not in str(failed.value.body).removeprefix("x" * 1990)


def test_a_refusal_names_skus_as_whole_words(emulator: Emulator, supplier: Supplier) -> None:
    supplier.answer = (400, b"Out of stock: A10")

    with pytest.raises(OrderRefused) as refused:
        emulator.place_order(items=[{"sku": "A1"}, {"sku": "A10"}])

    assert refused.value.skus == ("A10",)


def test_a_refusal_names_the_skus_of_its_out_of_stock_list(emulator: Emulator, supplier: Supplier) -> None:
    supplier.answer = (400, {"Message": "Out of stock: A10 (A1 is fine)", "OutOfStock": ["A10"]})

    with pytest.raises(OrderRefused) as refused:
        emulator.place_order(items=[{"sku": "A1"}, {"sku": "A10"}])

    assert refused.value.skus == ("A10",)


def test_an_answer_that_trickles_past_the_timeout_fails_at_the_timeout() -> None:
    stop = threading.Event()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)

        def trickle() -> None:
            connection, _ = listener.accept()
            with connection:
                connection.recv(65536)
                connection.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
                )
                while not stop.wait(0.05):  # a byte every 50 ms: each read is quick, the answer never ends
                    try:
                        connection.sendall(b" ")
                    except OSError:
                        return

        server = threading.Thread(target=trickle, daemon=True)
        server.start()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/ShippingOptions"
        emulator = Emulator(orders=1, shipping_options_url=url, shipping_options_timeout=0.5)
        try:
            with pytest.raises(ShippingOptionsError, match=r"did not answer within 0\.5 s"):
                emulator.place_order()
        finally:
            stop.set()
            server.join(5)
