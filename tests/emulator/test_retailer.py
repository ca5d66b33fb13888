"""The retailer side: seeded orders and history, new orders on demand, the admin endpoints."""

from __future__ import annotations

import json
import re
import threading
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest

from iqmetrix_dropship import OrderCreated, parse_feed
from iqmetrix_dropship.emulator import Emulator, EmulatorConfig

from .conftest import DROPSHIP, XSI_NIL, Page, assert_feed_readable, parse_page

NAN, INF = float("nan"), float("inf")


def created_events(emulator: Emulator) -> list[Page]:
    return [parse_page(emulator.page(page_id)) for page_id in emulator.page_ids()]


def test_the_same_seed_gives_the_same_world() -> None:
    first, second = Emulator(orders=50, seed=5), Emulator(orders=50, seed=5)

    assert first.entry_ids() == second.entry_ids()
    assert first.page_ids() == second.page_ids()
    assert first.order_ids() == second.order_ids()
    assert first.page() == second.page()
    assert Emulator(orders=50, seed=6).entry_ids() != first.entry_ids()


def test_orders_only_seeds_that_many_orders_with_some_history() -> None:
    emulator = Emulator(EmulatorConfig(orders=200, seed=1))

    summary = emulator.summary()
    assert summary["orders"] == 200
    assert summary["events"] > 200
    assert summary["order_statuses"]["PendingSupplier"] < 200
    assert "Shipped" in summary["order_statuses"]


def test_events_seeds_exactly_that_many_events() -> None:
    assert Emulator(events=1234).event_count == 1234
    both = Emulator(orders=10, events=60)
    assert (both.event_count, len(both.order_ids())) == (60, 10)


def test_the_default_is_a_hundred_orders() -> None:
    assert len(Emulator().order_ids()) == 100


@pytest.mark.parametrize(
    "settings",
    [{"orders": -1}, {"events": 5, "orders": 10}, {"orders": 0, "events": 3}, {"error_rate": 2}],
)
def test_nonsense_settings_are_refused(settings: dict[str, int]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each setting has its own message
        EmulatorConfig(**settings)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "settings",
    [
        {"latency": NAN},
        {"latency": INF},
        {"latency": 61},
        {"error_rate": NAN},
        {"rate_limit_window": NAN},
        {"rate_limit_window": INF},
        {"token_lifetime": INF},
        {"token_lifetime": 60.5},
        {"refresh_token_lifetime": NAN},
        {"history_rate": NAN},
        {"rate_limit": True},
        {"events": 2.5},
        {"supplier_id": NAN},
    ],
    ids=repr,
)
def test_settings_that_are_no_finite_number_in_range_are_refused_naming_them(settings: dict[str, Any]) -> None:
    (name,) = settings

    with pytest.raises(ValueError, match=name):
        Emulator(orders=1, **settings)


def test_seeded_orders_look_like_real_ones() -> None:
    emulator = Emulator(orders=300, seed=2)
    created = [
        Page.content(entry)
        for page in created_events(emulator)
        for entry in page.entries
        if Page.content(entry).tag == f"{{{DROPSHIP}}}order-created"
    ]
    ns = f"{{{DROPSHIP}}}"

    assert len(created) == 300
    item_counts = {len(order.findall(f"{ns}items/{ns}order-item")) for order in created}
    assert item_counts <= {1, 2, 3, 4}
    assert len(item_counts) > 1
    prices = [Decimal(str(price.text)) for order in created for price in order.iter(f"{ns}selling-price")]
    assert {-price.as_tuple().exponent for price in prices} <= {0, 1, 2}  # type: ignore[operator]
    assert any(price == price.to_integral_value() for price in prices)
    countries = {order.findtext(f"{ns}shipping-address/{ns}country-code") for order in created}
    assert countries == {"CA", "US"}
    assert {order.findtext(f"{ns}ship-to-store") for order in created} == {"true", "false"}
    address_ids = [order.findtext(f"{ns}shipping-address/{ns}address-id") for order in created]
    assert "00000000-0000-0000-0000-000000000000" in address_ids
    nil_phones = [
        order
        for order in created
        if order.find(f"{ns}shipping-address/{ns}phone").get(XSI_NIL) == "true"  # type: ignore[union-attr]
    ]
    assert 0 < len(nil_phones) < len(created)


def test_place_order_with_random_fields_appends_an_order_created_event(emulator: Emulator) -> None:
    before = emulator.event_count

    order_id = emulator.place_order()

    uuid.UUID(order_id)
    assert emulator.event_count == before + 1
    assert emulator.order_status(order_id) == "PendingSupplier"
    assert set(emulator.item_statuses(order_id).values()) == {"PendingSupplier"}
    newest = Page.content(parse_page(emulator.page()).entries[0])
    assert newest.findtext(f"{{{DROPSHIP}}}order-id") == order_id


def test_place_order_with_given_fields(emulator: Emulator) -> None:
    order_id = emulator.place_order(
        order_id="0B05F9FB-1210-4494-B654-D051948716B4",
        items=[{"sku": "9356SAMGL6S", "quantity": 5, "selling_price": "100", "description": "A & B <case>"}],
        ship_to_store=True,
        country_code="CA",
        company_id=33772,
    )

    assert order_id == "0b05f9fb-1210-4494-b654-d051948716b4"
    order = emulator.order(order_id)
    assert order["ship_to_store"] is True
    assert order["company_id"] == 33772
    assert order["country_code"] == "CA"
    assert order["items"][0]["quantity"] == 5
    created = Page.content(parse_page(emulator.page()).entries[0])
    assert created.findtext(f".//{{{DROPSHIP}}}description") == "A & B <case>"
    assert created.findtext(f".//{{{DROPSHIP}}}selling-price") == "100"


def test_place_order_refuses_nonsense(emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="GUID"):
        emulator.place_order(order_id="order-1")
    with pytest.raises(ValueError, match="twice"):
        emulator.place_order(items=[{"sku": "A"}, {"sku": "A"}])
    with pytest.raises(ValueError, match="already exists"):
        emulator.place_order(order_id=emulator.order_ids()[0])


# -- what an order may hold: one check for the Python API and the admin endpoint ----------

# (fields, the field the refusal must name): each value is one the feed could not carry, or
# that the SDK could not read back (feed/_values.py), or that makes no order.
_BAD_ORDERS: list[tuple[dict[str, Any], str]] = [
    ({"order_id": "order-1"}, "order_id"),
    ({"order_id": 12345}, "order_id"),
    ({"items": "abc"}, "items"),
    ({"items": {"sku": "A"}}, "items"),
    ({"items": []}, "items"),
    ({"items": [{"sku": f"S{n}"} for n in range(51)]}, "items"),
    ({"items": ["abc"]}, "items[0]"),
    ({"items": [{"colour": "red"}]}, "items[0].colour"),
    ({"items": [{"sku": 5}]}, "items[0].sku"),
    ({"items": [{"sku": ""}]}, "items[0].sku"),
    ({"items": [{"sku": "S" * 101}]}, "items[0].sku"),
    ({"items": [{"sku": "A"}, {"sku": "A"}]}, "items[1].sku"),
    ({"items": [{"description": ["x"]}]}, "items[0].description"),
    ({"items": [{"description": "d" * 201}]}, "items[0].description"),
    ({"items": [{"quantity": "abc"}]}, "items[0].quantity"),
    ({"items": [{"quantity": "5"}]}, "items[0].quantity"),
    ({"items": [{"quantity": 0}]}, "items[0].quantity"),
    ({"items": [{"quantity": 1.5}]}, "items[0].quantity"),
    ({"items": [{"quantity": NAN}]}, "items[0].quantity"),
    ({"items": [{"quantity": True}]}, "items[0].quantity"),
    ({"items": [{"quantity": 2**31}]}, "items[0].quantity"),
    ({"items": [{"selling_price": "abc"}]}, "items[0].selling_price"),
    ({"items": [{"selling_price": NAN}]}, "items[0].selling_price"),
    ({"items": [{"selling_price": "NaN"}]}, "items[0].selling_price"),
    ({"items": [{"selling_price": INF}]}, "items[0].selling_price"),
    ({"items": [{"selling_price": "-Infinity"}]}, "items[0].selling_price"),
    ({"items": [{"selling_price": "-1"}]}, "items[0].selling_price"),
    ({"items": [{"selling_price": "0.0000001"}]}, "items[0].selling_price"),
    ({"items": [{"selling_price": "1e15"}]}, "items[0].selling_price"),
    ({"items": [{"selling_price": True}]}, "items[0].selling_price"),
    ({"items": [{"selling_price": [1]}]}, "items[0].selling_price"),
    ({"items": [{"catalog_id": 7}]}, "items[0].catalog_id"),
    ({"items": [{"catalog_id": "c" * 101}]}, "items[0].catalog_id"),
    ({"ship_to_store": "maybe"}, "ship_to_store"),
    ({"ship_to_store": 1}, "ship_to_store"),
    ({"country_code": "FR"}, "country_code"),
    ({"country_code": "ca"}, "country_code"),
    ({"company_id": "x"}, "company_id"),
    ({"company_id": 1.5}, "company_id"),
    ({"company_id": NAN}, "company_id"),
    ({"company_id": True}, "company_id"),
    ({"company_id": 0}, "company_id"),
    ({"company_id": 10**30}, "company_id"),
    ({"location_id": "x"}, "location_id"),
    ({"location_id": -5}, "location_id"),
    ({"shipping_method": 7}, "shipping_method"),
    ({"shipping_method": ""}, "shipping_method"),
    ({"shipping_method": "m" * 101}, "shipping_method"),
]
BAD_ORDERS = [pytest.param(fields, field, id=json.dumps(fields)[:40]) for fields, field in _BAD_ORDERS]


@pytest.mark.parametrize(("fields", "field"), BAD_ORDERS)
def test_place_order_refuses_what_the_feed_cannot_carry(emulator: Emulator, fields: dict[str, Any], field: str) -> None:
    events = emulator.event_count

    with pytest.raises(ValueError, match=re.escape(field)):
        emulator.place_order(**fields)

    assert emulator.event_count == events
    assert_feed_readable(emulator)


@pytest.mark.parametrize(("fields", "field"), BAD_ORDERS)
def test_admin_refuses_what_the_feed_cannot_carry_naming_the_field(
    client: httpx.Client, emulator: Emulator, fields: dict[str, Any], field: str
) -> None:
    events = emulator.event_count

    # json.dumps writes NaN and Infinity as Python's json module reads them.
    response = client.post("/_emulator/orders", content=json.dumps(fields))

    assert response.status_code == 400
    assert response.json()["Field"] == field
    assert field in response.json()["Message"]
    assert emulator.event_count == events
    assert_feed_readable(emulator)


@pytest.mark.parametrize("count", [-1, 1.5, NAN, "3", True, None, 10_001])
def test_place_orders_refuses_a_count_that_is_no_count(emulator: Emulator, count: Any) -> None:
    events = emulator.event_count

    with pytest.raises(ValueError, match="count"):
        emulator.place_orders(count)

    assert emulator.event_count == events


@pytest.mark.parametrize(
    ("price", "written"),
    [("29.99", "29.99"), (29.99, "29.99"), (25, "25"), (Decimal("12.50"), "12.50"), ("1e3", "1000"), ("-0", "0")],
)
def test_a_price_is_kept_in_the_plain_notation_the_feed_writes(emulator: Emulator, price: Any, written: str) -> None:
    order_id = emulator.place_order(items=[{"sku": "A", "selling_price": price}])

    assert emulator.order(order_id)["items"][0]["selling_price"] == written
    event = parse_feed(emulator.page()).entries[0].event
    assert isinstance(event, OrderCreated)
    assert event.items[0].selling_price == Decimal(written)


def test_items_given_without_a_sku_get_distinct_ones(emulator: Emulator) -> None:
    # Items are keyed by sku: two lines with one sku could never be updated apart.
    order_id = emulator.place_order(items=[{}] * 30)

    skus = [item["sku"] for item in emulator.order(order_id)["items"]]
    assert len(set(skus)) == 30


def test_a_refused_order_leaves_the_next_random_order_as_it_was() -> None:
    refused, untouched = Emulator(orders=3, seed=9), Emulator(orders=3, seed=9)
    with pytest.raises(ValueError, match="country_code"):
        refused.place_order(country_code="FR")

    assert refused.order(refused.place_order()) == untouched.order(untouched.place_order())


def test_a_page_of_the_largest_orders_accepted_is_one_the_sdk_reads() -> None:
    emulator = Emulator(orders=0)
    # & is the character that grows most in the feed (&amp;).
    items = [
        {"sku": f"{n:02}" + "&" * 98, "description": "&" * 200, "catalog_id": "&" * 100, "quantity": 2**31 - 1}
        for n in range(50)
    ]

    for _ in range(50):
        emulator.place_order(items=items, shipping_method="&" * 100, company_id=2**31 - 1)

    assert emulator.summary()["current_page_entries"] == 50
    assert_feed_readable(emulator)


def test_new_events_are_never_older_than_the_newest(emulator: Emulator) -> None:
    emulator.place_orders(3)
    stamps = [entry.findtext("{http://www.w3.org/2005/Atom}published") for entry in parse_page(emulator.page()).entries]

    assert stamps == sorted(stamps, reverse=True)  # type: ignore[type-var]


def test_unknown_orders_raise_key_error(emulator: Emulator) -> None:
    with pytest.raises(KeyError):
        emulator.order_status("0b05f9fb-1210-4494-b654-d051948716b4")


# -- admin endpoints ----------------------------------------------------------------------


def test_admin_places_orders(client: httpx.Client, emulator: Emulator) -> None:
    before = emulator.event_count

    response = client.post("/_emulator/orders", json={"count": 3})

    assert response.status_code == 201
    order_ids = response.json()["order_ids"]
    assert len(order_ids) == 3
    assert emulator.event_count == before + 3
    assert emulator.order_ids()[-3:] == order_ids


def test_admin_places_one_order_with_fields(client: httpx.Client, emulator: Emulator) -> None:
    response = client.post("/_emulator/orders", json={"ship_to_store": False, "country_code": "US"})

    assert response.status_code == 201
    (order_id,) = response.json()["order_ids"]
    assert emulator.order(order_id)["country_code"] == "US"


@pytest.mark.parametrize("body", [{"count": -1}, {"count": "3"}, {"count": 2, "country_code": "CA"}, {"bogus": 1}])
def test_admin_refuses_bad_order_requests(client: httpx.Client, body: dict[str, object]) -> None:
    assert client.post("/_emulator/orders", json=body).status_code == 400


def test_admin_state_summarises_counts(client: httpx.Client, emulator: Emulator) -> None:
    state = client.get("/_emulator/state").json()

    assert state["events"] == 120
    assert state["pages"] == 3
    assert state["archive_pages"] == 2
    assert state["current_page_entries"] == 20
    assert state["current_page_id"] == emulator.current_page_id
    assert sum(state["order_statuses"].values()) == state["orders"]


def test_admin_shows_an_order(client: httpx.Client, emulator: Emulator) -> None:
    order_id = emulator.order_ids()[0]

    assert client.get(f"/_emulator/orders/{order_id}").json()["status"] == emulator.order_status(order_id)
    assert client.get("/_emulator/orders/0b05f9fb-1210-4494-b654-d051948716b4").status_code == 404


def test_admin_lists_entry_and_page_ids(client: httpx.Client, emulator: Emulator) -> None:
    body = client.get("/_emulator/entries").json()

    assert body["entry_ids"] == emulator.entry_ids()
    assert body["page_ids"] == emulator.page_ids()


def test_admin_advances_the_clock(client: httpx.Client, emulator: Emulator) -> None:
    before = emulator.now()

    client.post("/_emulator/clock", json={"advance": 3600})

    assert emulator.now() >= before + 3600


def test_the_request_log_records_method_path_and_status(client: httpx.Client, emulator: Emulator) -> None:
    client.get("/v1/Zxppliers(60455)")

    assert emulator.request_log()[-1] == ("GET", "/v1/Zxppliers(60455)", 404)


def test_orders_placed_from_many_threads_all_land_in_the_feed(emulator: Emulator) -> None:
    before = emulator.event_count
    errors: list[BaseException] = []

    def place() -> None:
        try:
            emulator.place_orders(50)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=place) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert emulator.event_count == before + 200
    assert len(set(emulator.entry_ids())) == emulator.event_count
    walked = [
        entry_id
        for page_id in emulator.page_ids()
        for entry_id in reversed(parse_page(emulator.page(page_id)).entry_ids)
    ]
    assert walked == emulator.entry_ids()


def test_prerender_fills_the_archive_cache() -> None:
    emulator = Emulator(events=260)

    assert emulator.prerender() == 5
    assert emulator.prerender() == 0
