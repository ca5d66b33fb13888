"""`dropship ship`, `dropship status` and `dropship item-status` against the emulator."""

from __future__ import annotations

from uuid import UUID

import pytest

from iqmetrix_dropship import OrderLedger

from .conftest import Cli


def test_ship_sends_shipped_with_tracking_and_records_the_echo(cli: Cli) -> None:
    order_id = cli.pending_order()
    result = cli("ship", order_id, "--tracking", "1Z999", "--carrier", "UPS", "--message", "[left at] the door")
    assert result.stdout.startswith(f"Order {order_id} is now Shipped (the server's echo):")
    assert "[left at] the door" in result.stdout  # server text is never read as rich markup
    assert "Recorded in orders.db." in result.stdout
    assert cli.emulator.order_status(order_id) == "Shipped"
    with OrderLedger(cli.cwd / "orders.db") as ledger:
        order = ledger.order(order_id)
    assert order is not None
    assert order.status == "Shipped"
    assert order.history[-1].kind == "local-order-status-update"
    assert {item.tracking_info for item in order.items} == {"1Z999"}


def test_ship_json_parses(cli: Cli) -> None:
    order_id = cli.pending_order()
    data = cli.json("ship", order_id, "--tracking", "0012345", "--carrier", "UPS")
    assert data["echo"]["id"] == order_id
    assert data["echo"]["status"] == "Shipped"
    assert data["echo"]["tracking_info"] == "0012345"  # a string: leading zeros kept (traps.md 9)
    assert data["recorded_in"] == "orders.db"


def test_ship_without_a_ledger_sends_but_records_nothing(cli: Cli) -> None:
    order_id = cli.emulator.order_ids()[0]
    result = cli("ship", order_id, "--tracking", "1Z999", "--carrier", "UPS")
    assert "Not recorded: no ledger" in result.stdout
    assert not (cli.cwd / "orders.db").exists()
    assert cli.emulator.order_status(order_id) == "Shipped"


def test_ship_with_db_records_even_in_a_new_ledger(cli: Cli) -> None:
    order_id = cli.emulator.order_ids()[0]
    assert (
        cli.json("ship", order_id, "--tracking", "1", "--carrier", "UPS", "--db", "new.db")["recorded_in"] == "new.db"
    )
    with OrderLedger(cli.cwd / "new.db") as ledger:
        assert ledger.event_count("local") == 1


def test_ship_an_order_the_server_does_not_know_exits_4(cli: Cli) -> None:
    result = cli("ship", str(UUID(int=7)), "--tracking", "1Z999", "--carrier", "UPS", code=4)
    assert result.stderr.startswith("error: not found: HTTP 404")


def test_ship_without_tracking_is_a_usage_error(cli: Cli) -> None:
    result = cli("ship", cli.emulator.order_ids()[0], "--carrier", "UPS", code=2)
    assert "--tracking" in result.output
    assert cli.updates_sent() == []


def test_ship_a_malformed_order_id_exits_2_before_sending(cli: Cli) -> None:
    result = cli("ship", "order-7", "--tracking", "1Z999", "--carrier", "UPS", code=2)
    assert "order_id must be a GUID" in result.stderr
    assert cli.emulator.request_log() == []


def test_status_back_ordered(cli: Cli) -> None:
    order_id = cli.pending_order()
    data = cli.json("status", order_id, "BackOrdered", "--message", "next week")
    assert (data["echo"]["status"], data["echo"]["message"]) == ("BackOrdered", "next week")
    assert cli.emulator.order_status(order_id) == "BackOrdered"
    assert cli.json("order", order_id)["status"] == "BackOrdered"


def test_status_unknown_exits_2_lists_the_valid_statuses_and_sends_nothing(cli: Cli) -> None:
    order_id = cli.emulator.order_ids()[0]
    result = cli("status", order_id, "Exception", code=2)  # traps.md 6
    assert "valid names are: PendingSupplier, Ordered, Shipped, BackOrdered" in result.stderr
    assert result.stderr.count("\n") == 1
    assert cli.emulator.request_log() == []  # not even a token


def test_status_shipped_without_tracking_exits_2(cli: Cli) -> None:
    result = cli("status", cli.emulator.order_ids()[0], "Shipped", "--carrier", "UPS", code=2)
    assert "Shipped needs --tracking and --carrier" in result.stderr
    assert cli.updates_sent() == []


def test_item_status_ships_one_item(cli: Cli) -> None:
    order_id = cli.pending_order()
    sku = cli.emulator.order(order_id)["items"][0]["sku"]
    args = ("--sku", sku, "--status", "Shipped", "--quantity", "1", "--tracking", "1Z999", "--carrier", "UPS")
    result = cli("item-status", order_id, *args)
    assert f"Order {order_id}: items updated" in result.stdout
    assert "Recorded in orders.db." in result.stdout
    assert cli.emulator.item_statuses(order_id)[sku] == "Shipped"
    data = cli.json("item-status", order_id, *args)
    (item,) = data["echo"]["item_information"]
    assert (item["sku"], item["status"], item["quantity"]) == (sku, "Shipped", 1)


def test_item_status_back_ordered_without_tracking(cli: Cli) -> None:
    order_id = cli.pending_order()
    sku = cli.emulator.order(order_id)["items"][0]["sku"]
    cli("item-status", order_id, "--sku", sku, "--status", "BackOrdered")
    assert cli.emulator.item_statuses(order_id)[sku] == "BackOrdered"


def test_item_status_unknown_status_exits_2_and_sends_nothing(cli: Cli) -> None:
    result = cli("item-status", cli.emulator.order_ids()[0], "--sku", "X", "--status", "shipped ", code=2)
    assert "valid names are" in result.stderr
    assert cli.emulator.request_log() == []


def test_item_status_quantity_must_be_positive(cli: Cli) -> None:
    cli("item-status", cli.emulator.order_ids()[0], "--sku", "X", "--status", "Ordered", "--quantity", "0", code=2)
    assert cli.updates_sent() == []


@pytest.mark.parametrize(("tracking", "carrier"), [("   ", "UPS"), ("1Z999", "\t\xa0"), ("\u200b", "UPS")])
def test_ship_with_a_blank_tracking_number_or_carrier_exits_2_and_sends_nothing(
    cli: Cli, tracking: str, carrier: str
) -> None:
    order_id = cli.pending_order()
    result = cli("ship", order_id, "--tracking", tracking, "--carrier", carrier, code=2)
    assert "Shipped needs --tracking and --carrier" in result.stderr
    assert cli.updates_sent() == []


def test_item_status_shipped_with_a_blank_tracking_number_exits_2_and_sends_nothing(cli: Cli) -> None:
    order_id = cli.pending_order()
    args = ("item-status", order_id, "--sku", "X", "--status", "Shipped", "--tracking", " ", "--carrier", "UPS")
    cli(*args, code=2)
    assert cli.updates_sent() == []


def test_a_bad_request_shows_the_reason_the_server_gave(cli: Cli) -> None:
    order_id = cli.pending_order()
    result = cli("item-status", order_id, "--sku", "NOT-IN-THIS-ORDER", "--status", "BackOrdered", code=1)
    # before: only "The request is invalid", with the server's ModelState reason hidden
    assert "The request is invalid" in result.stderr
    assert "'NOT-IN-THIS-ORDER' is not an item of this order" in result.stderr


def test_ship_joins_several_tracking_numbers_with_commas(cli: Cli) -> None:
    order_id = cli.pending_order()
    data = cli.json("ship", order_id, "--tracking", "1Z1", "--tracking", "1Z2", "--carrier", "UPS")
    assert data["echo"]["tracking_info"] == "1Z1,1Z2"
    assert cli.emulator.order_status(order_id) == "Shipped"


def test_ship_a_tracking_number_holding_a_comma_exits_2_before_sending(cli: Cli) -> None:
    result = cli("ship", cli.pending_order(), "--tracking", "1Z1,1Z2", "--carrier", "UPS", code=2)
    assert "holds a comma" in result.stderr
    assert cli.updates_sent() == []


def test_ship_one_parcel_of_a_split_shipment_then_the_last(cli: Cli) -> None:
    order_id = cli.pending_order()
    skus = list(cli.emulator.item_statuses(order_id))
    first, rest = skus[0], skus[1:]

    cli("ship", order_id, "--sku", first, "--partial", "--tracking", "1Z1", "--carrier", "UPS")
    assert cli.emulator.item_statuses(order_id)[first] == "Shipped"
    assert cli.emulator.order_status(order_id) == "PartiallyShipped"

    last = [arg for sku in rest for arg in ("--sku", sku)] or ["--sku", first]
    cli("ship", order_id, *last, "--tracking", "1Z2", "--carrier", "UPS")
    assert cli.emulator.order_status(order_id) == "Shipped"
    with OrderLedger(cli.cwd / "orders.db") as ledger:
        order = ledger.order(order_id)
    assert order is not None
    assert order.status == "Shipped"
    assert [event.kind for event in order.history[-2:]] == ["local-item-status-update", "local-order-status-update"]


def test_ship_partial_without_skus_is_a_usage_error(cli: Cli) -> None:
    result = cli("ship", cli.pending_order(), "--partial", "--tracking", "1Z1", "--carrier", "UPS", code=2)
    assert "--sku" in result.stderr
    assert cli.updates_sent() == []
