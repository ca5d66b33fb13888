"""Push only what changed: the ledger keeps the availability iQmetrix last accepted, per SKU."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from iqmetrix_dropship import (
    AsyncDropshipClient,
    DropshipClient,
    InvalidRequestError,
    ProductAvailability,
    RetryPolicy,
)
from iqmetrix_dropship.ledger import OrderLedger

from .conftest import OpenLedger

BASE = "https://dropship.test/v1"
AVAILABILITY = f"{BASE}/Suppliers(60455)/Availability"


def p(sku: str, available: bool, quantity: int) -> ProductAvailability:
    return ProductAvailability(sku, available, quantity)


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        yield router


@pytest.fixture
def client() -> Iterator[DropshipClient]:
    policy = RetryPolicy(jitter=lambda delay: delay)
    with DropshipClient(60455, access_token="token", base_url=BASE, retry_policy=policy, max_retries=0) as client:
        yield client


def sent(route: respx.Route) -> list[list[str]]:
    return [[product["Sku"] for product in json.loads(call.request.content)["Products"]] for call in route.calls]


def test_an_empty_ledger_has_every_product_to_send(ledger: OrderLedger) -> None:
    stock = [p("A", True, 3), p("B", False, 0)]

    assert ledger.availability_changes(stock) == stock


def test_only_new_and_changed_products_differ_from_what_was_accepted(ledger: OrderLedger) -> None:
    ledger.record_availability([p("A", True, 3), p("B", False, 0), p("C", True, 1)])

    changes = ledger.availability_changes([p("A", True, 3), p("B", True, 5), p("C", True, 1), p("D", True, 2)])

    assert changes == [p("B", True, 5), p("D", True, 2)]


def test_a_complete_catalogue_sends_a_product_that_disappeared_as_unavailable(ledger: OrderLedger) -> None:
    ledger.record_availability([p("A", True, 3), p("GONE", True, 7), p("OUT", False, 0)])

    changes = ledger.availability_changes([p("A", True, 3)], complete=True)

    assert changes == [p("GONE", False, 0)]  # OUT is already unavailable: nothing to say
    assert ledger.availability_changes([p("A", True, 3)]) == []  # a partial list says nothing of the others


def test_recording_again_overwrites_the_last_accepted_state(ledger: OrderLedger) -> None:
    ledger.record_availability([p("A", True, 3)])
    ledger.record_availability([p("A", False, 0)])

    assert ledger.pushed_availability() == {"A": p("A", False, 0)}


def test_the_pushed_state_survives_reopening(open_ledger: OpenLedger) -> None:
    first = open_ledger()
    first.record_availability([p("A", True, 3)])
    first.close()

    assert open_ledger().availability_changes([p("A", True, 3)]) == []


def test_bad_stock_is_refused_like_a_push(ledger: OrderLedger) -> None:
    with pytest.raises(InvalidRequestError, match="Quantity must be at least 0"):
        ledger.availability_changes([{"sku": "A", "is_available": True, "quantity": -1}])


def test_a_second_push_of_the_same_stock_sends_nothing(
    api: respx.MockRouter, client: DropshipClient, ledger: OrderLedger
) -> None:
    route = api.post(AVAILABILITY).respond(202, json={"Id": "x"})
    stock = [p("A", True, 3), p("B", False, 0)]

    first = ledger.push_availability(client, stock)
    second = ledger.push_availability(client, stock)
    third = ledger.push_availability(client, [p("A", True, 2), p("B", False, 0)])

    assert sent(route) == [["A", "B"], ["A"]]
    assert len(first.accepted) == 2
    assert second.accepted == ()
    assert second.ok
    assert [product.quantity for product in third.accepted] == [2]


def test_a_chunk_that_failed_is_not_recorded_and_is_sent_again_next_time(
    api: respx.MockRouter, client: DropshipClient, ledger: OrderLedger
) -> None:
    answers = iter([202, 500])

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(next(answers, 202), json={"Message": "An error has occurred."})

    route = api.post(AVAILABILITY).mock(side_effect=answer)
    stock: list[Any] = [p("A", True, 1), p("B", True, 2)]

    failed = ledger.push_availability(client, stock, chunk_size=1)
    again = ledger.push_availability(client, stock, chunk_size=1)

    assert [product.sku for product in failed.failed_products] == ["B"]
    assert sent(route) == [["A"], ["B"], ["B"]]
    assert again.ok
    assert set(ledger.pushed_availability()) == {"A", "B"}


def test_the_ledger_refuses_an_async_client_and_names_the_recipe(ledger: OrderLedger) -> None:
    client = AsyncDropshipClient(60455, access_token="token", base_url=BASE)

    with pytest.raises(TypeError, match=r"availability_changes, then await client\.push_availability"):
        ledger.push_availability(client, [p("A", True, 1)])  # type: ignore[arg-type]
    assert ledger.pushed_availability() == {}
