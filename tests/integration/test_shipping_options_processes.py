"""The shipping-options round trip with real processes: the supplier's quote function served by
`dropship shipping-options serve` (uvicorn, HTTP Basic, a free port), the emulator started with its
URL and credentials (`dropship emulator`), a retailer placing 50 orders over HTTP. What the feed
shows, what was refused and what the supplier was asked must all be what the function decided."""

from __future__ import annotations

import importlib.util
import json
import random
import re
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from iqmetrix_dropship import DropshipClient, OrderCreated, TokenError

from ..cli.processes import Lines, dropship

USER = "iqmetrix-checkout"
PASSWORD = "s3cret-Checkout-Pw"
WRONG = "not-the-Checkout-Pw"

SUPPLIER_MODULE = '''
"""The supplier's shipping-options function, as a supplier would write it."""
import json
import os
from decimal import Decimal

from iqmetrix_dropship.shipping_options import OutOfStock, ShippingOption

OUT_OF_STOCK = ("GONE-1", "GONE-2")


def decide(postal_code, items):
    """What the supplier answers: ("out", skus) or ("quote", [(id, cost, currency), ...])."""
    gone = [sku for sku, _ in items if sku in OUT_OF_STOCK]
    if gone:
        return "out", gone
    units = sum(quantity for _, quantity in items)
    currency = "CAD" if postal_code[0].isalpha() else "USD"
    options = [
        ("GROUND-" + currency, Decimal("5.00") + Decimal("0.75") * units, currency),
        ("EXPRESS", Decimal("14.50"), currency),
    ]
    if units >= 8:
        options.append(("FREIGHT", Decimal("9.99"), currency))
    return "quote", options


def quote(query):
    with open(os.environ["SUPPLIER_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps({"company_id": query.company_id, "postal_code": query.postal_code,
                              "items": [[item.sku, item.quantity] for item in query.items]}) + "\\n")
    verdict, detail = decide(query.postal_code, [(item.sku, item.quantity) for item in query.items])
    if verdict == "out":
        raise OutOfStock(detail)
    return [ShippingOption(id=id_, cost=cost, currency=currency, name=id_.title()) for id_, cost, currency in detail]
'''

POSTAL_CODES = ("A1A1A1", "08540", "02139-4301", "K1A 0B1", "90210")
SKUS = ("CASE-1", "CHARGER-2", "CABLE-3", "SCREEN-4", "GONE-1", "GONE-2")


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("supplier_quotes_under_test", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def retailer_order(n: int) -> dict[str, Any]:
    """Order n of the retailer: 1 to 3 lines, about one in four naming an out-of-stock SKU."""
    rng = random.Random(n)
    skus = rng.sample(SKUS[:4], k=rng.randint(1, 3))
    if n % 4 == 3:
        skus[-1] = SKUS[4 + n % 2]
    return {
        "items": [{"sku": sku, "quantity": rng.randint(1, 4)} for sku in skus],
        "postal_code": POSTAL_CODES[n % len(POSTAL_CODES)],
        "company_id": 14146 + n % 3,
    }


def first_port(lines: Lines) -> int:
    line = lines.wait_for(lambda text: "Uvicorn running on" in text)
    found = re.search(r"127\.0\.0\.1:(\d+)", line)
    assert found is not None, line
    return int(found.group(1))


@contextmanager
def supplier_server(folder: Path, password: str) -> Iterator[tuple[str, Lines, Lines]]:
    """`dropship shipping-options serve` of the supplier's module: its URL and its output."""
    env = {"DROPSHIP_SHIPPING_PASSWORD": password, "SUPPLIER_LOG": str(folder / "queries.jsonl")}
    args = ["shipping-options", "serve", "--app", "supplier_quotes:quote", "--port", "0", "--username", USER]
    with dropship(args, env=env, cwd=folder) as (_, out, err):
        yield f"http://127.0.0.1:{first_port(err)}/ShippingOptions", out, err


@contextmanager
def emulator(folder: Path, url: str, password: str) -> Iterator[tuple[str, Lines, Lines]]:
    """`dropship emulator` asking ``url`` before each order: its base URL and its output."""
    args = ["emulator", "--port", "0", "--orders", "5", "--seed", "3"]
    args += ["--shipping-options-url", url, "--shipping-options-username", USER]
    with dropship(args, env={"DROPSHIP_EMULATOR_SHIPPING_PASSWORD": password}, cwd=folder) as (_, out, err):
        yield out.wait_for(lambda line: line.startswith("http://127.0.0.1:")).strip(), out, err


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "supplier_quotes.py").write_text(SUPPLIER_MODULE, encoding="utf-8")
    return tmp_path


def place(client: httpx.Client, admin: str, order: dict[str, Any]) -> httpx.Response:
    return client.post(f"{admin}/_emulator/orders", json=order, timeout=30)


def test_fifty_orders_are_placed_or_refused_exactly_as_the_supplier_decided(folder: Path) -> None:
    supplier = load(folder / "supplier_quotes.py")
    with ExitStack() as stack:
        url, kit_out, kit_err = stack.enter_context(supplier_server(folder, PASSWORD))
        base, emu_out, emu_err = stack.enter_context(emulator(folder, url, PASSWORD))
        admin = base.removesuffix("/v1")
        http = stack.enter_context(httpx.Client())

        answers = {n: place(http, admin, retailer_order(n)) for n in range(50)}
        shipping_log = http.get(f"{admin}/_emulator/shipping").json()
        credentials = http.get(f"{admin}/_emulator/state").json()
        with DropshipClient(
            60455,
            "emulator-client",
            "emulator-secret",
            "supplier@example.com",
            "emulator-password",
            base_url=base,
            accounts_url=base,
        ) as client:
            created = {
                str(entry.event.order_id): entry.event
                for entry in client.iter_entries()
                if isinstance(entry.event, OrderCreated)
            }
    assert credentials  # the emulator answered its admin endpoint throughout

    placed = refused = 0
    for n, answer in answers.items():
        order = retailer_order(n)
        verdict, detail = supplier.decide(order["postal_code"], [(i["sku"], i["quantity"]) for i in order["items"]])
        if verdict == "out":
            refused += 1
            assert answer.status_code == 409, answer.text
            body = answer.json()
            assert body["Skus"] == detail
            assert body["OrderId"] not in created  # never reached the feed
        else:
            placed += 1
            assert answer.status_code == 201, answer.text
            (order_id,) = answer.json()["order_ids"]
            cheapest = min(detail, key=lambda option: option[1])  # the first of equals: min keeps it
            event = created[order_id]
            assert event.shipping_method == cheapest[0]
            assert [(item.sku, item.quantity) for item in event.items] == [
                (i["sku"], i["quantity"]) for i in order["items"]
            ]
            assert event.seller.company_id == order["company_id"]
    assert placed + refused == 50
    assert refused >= 10
    assert placed >= 30

    # What the supplier was asked: one query per order, each the order's own company, postal code and lines.
    asked = [json.loads(line) for line in (folder / "queries.jsonl").read_text(encoding="utf-8").splitlines()]
    assert asked == [
        {
            "company_id": retailer_order(n)["company_id"],
            "postal_code": retailer_order(n)["postal_code"],
            "items": [[i["sku"], i["quantity"]] for i in retailer_order(n)["items"]],
        }
        for n in range(50)
    ]
    # The quotes the emulator received, option by option, to the cent; the option it chose.
    assert len(shipping_log) == 50
    for n, call in enumerate(shipping_log):
        order = retailer_order(n)
        verdict, detail = supplier.decide(order["postal_code"], [(i["sku"], i["quantity"]) for i in order["items"]])
        if verdict == "out":
            assert (call["outcome"], call["skus"], call["chosen"]) == ("refused", detail, None)
        else:
            quoted = [(o["Id"], Decimal(o["Cost"]), o["Currency"]) for o in call["options"]]
            assert quoted == detail
            assert call["outcome"] == "placed"
            assert call["chosen"] == min(detail, key=lambda option: option[1])[0]

    printed = "\n".join(kit_out.seen + kit_err.seen + emu_out.seen + emu_err.seen)
    assert PASSWORD not in printed


def test_a_wrong_password_is_a_clear_failure_on_both_sides(folder: Path) -> None:
    with ExitStack() as stack:
        url, kit_out, kit_err = stack.enter_context(supplier_server(folder, PASSWORD))
        base, emu_out, emu_err = stack.enter_context(emulator(folder, url, WRONG))
        admin = base.removesuffix("/v1")
        http = stack.enter_context(httpx.Client())

        answer = place(http, admin, retailer_order(0))
        state = http.get(f"{admin}/_emulator/shipping").json()

        # The supplier's own side: the SDK with a wrong password against the (emulated) iQmetrix.
        with (
            DropshipClient(
                60455,
                "emulator-client",
                "emulator-secret",
                "supplier@example.com",
                WRONG,
                base_url=base,
                accounts_url=base,
            ) as client,
            pytest.raises(TokenError) as refused,
        ):
            client.get_notifications()

    assert answer.status_code == 502
    message = answer.json()["Message"]
    assert "refused the credentials (401)" in message
    assert "was not placed" in message
    assert [call["outcome"] for call in state] == ["failed"]
    assert not (folder / "queries.jsonl").exists()  # the supplier's function was never called
    assert refused.value.error == "invalid_grant"
    printed = "\n".join([*kit_out.seen, *kit_err.seen, *emu_out.seen, *emu_err.seen, message, str(refused.value)])
    assert PASSWORD not in printed
    assert WRONG not in printed
    assert WRONG not in json.dumps(state)


if sys.platform == "win32":  # pragma: no cover - the processes are POSIX-style
    pytestmark = pytest.mark.skip(reason="POSIX only")
