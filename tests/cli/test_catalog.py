"""`dropship availability`, `costs` and `products` against a served emulator.

A file with a bad row sends nothing (exit 2) unless --skip-bad-rows; what is sent is checked in
the emulator's own state, what is not in its request log.
"""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from iqmetrix_dropship._exceptions import BadRequestError, TokenError
from iqmetrix_dropship._protocol.catalog import FailedChunk, PushResult
from iqmetrix_dropship.cli.commands.catalog import progress_bar, push_chunks
from iqmetrix_dropship.models import ProductAvailability

from .conftest import Cli, assert_no_secret, closed_port

# Hosts the emulator serves under its one base URL: cleared, so that the developer's own never leak in.
NO_HOST_VARIABLES = {"IQMETRIX_AVAILABILITY_URL": None, "IQMETRIX_PRODUCT_LIBRARY_URL": None}

HEADER = "sku,is_available,quantity\n"

PRODUCT = {
    "Classification": {"Id": 4, "TreeId": 1},
    "Fields": [{"Definition": {"Id": 1}, "Value": "Galaxy S9"}],
    "ModelName": "SM-G960",
    "Manufacturer": "Samsung",
    "VendorSkus": [{"Sku": "V-1", "VendorName": "Acme"}],
}


@pytest.fixture
def cli(cli: Cli) -> Cli:
    cli.env.update(NO_HOST_VARIABLES)
    return cli


def write(cli: Cli, name: str, text: str) -> str:
    (cli.cwd / name).write_text(text, encoding="utf-8")
    return name


def posts(cli: Cli, path_end: str) -> list[tuple[str, str, int]]:
    return [entry for entry in cli.emulator.request_log() if entry[0] == "POST" and entry[1].endswith(path_end)]


def held(cli: Cli) -> dict[str, tuple[bool, int]]:
    return {sku: (row.is_available, row.quantity) for sku, row in cli.emulator.availability().items()}


# -- availability push ------------------------------------------------------------------------


def test_availability_push_sends_every_row(cli: Cli) -> None:
    name = write(cli, "stock.csv", HEADER + "A-1,true,10\nB-2,no,0\nC-3,YES,3\n")
    result = cli("availability", "push", name)
    assert "Sent 3 products from stock.csv: all accepted." in result.stdout
    assert held(cli) == {"A-1": (True, 10), "B-2": (False, 0), "C-3": (True, 3)}


def test_availability_push_json_reports_what_was_accepted(cli: Cli) -> None:
    name = write(cli, "stock.csv", "Sku,IsAvailable,Quantity\nA-1,true,10\n")
    report = cli.json("availability", "push", name)
    assert (report["rows"], report["sent"], report["accepted"], report["failed"]) == (1, 1, 1, 0)
    assert len(report["request_ids"]) == 1


def test_a_bad_row_means_nothing_is_sent_and_exit_2(cli: Cli) -> None:
    name = write(cli, "stock.csv", HEADER + "A,true,1\nB,maybe,1\nC,true,-4\n")
    result = cli("availability", "push", name, code=2)
    assert "line 3, column is_available: must be true, false, yes, no, 1 or 0, got 'maybe'" in result.stderr
    assert "line 4, column quantity: quantity must be at least 0, got -4" in result.stderr
    assert "error: 2 bad rows in stock.csv; nothing was sent" in result.stderr
    assert "--skip-bad-rows to send the other 1 row" in result.stderr
    assert posts(cli, "/Availability") == []


def test_bad_rows_are_listed_up_to_20_then_counted(cli: Cli) -> None:
    name = write(cli, "stock.csv", HEADER + "".join(f"S{n},maybe,1\n" for n in range(25)))
    result = cli("availability", "push", name, code=2)
    listed = [line for line in result.stderr.splitlines() if line.startswith("  line ")]
    assert len(listed) == 20
    assert "... and 5 more problems (--json lists them all)" in result.stderr


def test_bad_rows_are_in_the_json_output_with_their_lines(cli: Cli) -> None:
    name = write(cli, "stock.csv", HEADER + "A,true,1\n=cmd|' /C calc'!A0,true,1\n")
    result = cli("availability", "push", name, "--json", code=2)
    report = json.loads(result.stdout)
    assert report["sent"] == 0
    assert report["bad_rows"] == [
        {"line": 3, "column": "sku", "message": "looks like a spreadsheet formula, refused: \"=cmd|' /C calc'!A0\""}
    ]


def test_skip_bad_rows_sends_the_good_rows_and_reports_the_bad(cli: Cli) -> None:
    name = write(cli, "stock.csv", HEADER + "A,true,1\nB,maybe,1\nC,false,0\nA,true,2\nD,yes,4\n")
    result = cli("availability", "push", name, "--skip-bad-rows")
    assert "Skipping 3 bad rows of 5 in stock.csv:" in result.stderr
    assert "line 5, column sku: SKU 'A' is also on line 2; neither line is sent" in result.stderr
    assert held(cli) == {"C": (False, 0), "D": (True, 4)}


def test_dry_run_shows_what_would_be_sent_and_sends_nothing(cli: Cli) -> None:
    name = write(cli, "stock.csv", HEADER + "A,true,1\nB,false,0\n")
    report = cli.json("availability", "push", name, "--dry-run")
    assert report["would_send"] == [
        {"Sku": "A", "IsAvailable": True, "Quantity": 1},
        {"Sku": "B", "IsAvailable": False, "Quantity": 0},
    ]
    text = cli("availability", "push", name, "--dry-run").stdout
    assert "Would send 2 products in 1 request:" in text
    assert "Nothing was sent" in text
    assert posts(cli, "/Availability") == []


def test_a_file_that_is_not_utf8_is_refused_naming_the_line_and_byte(cli: Cli) -> None:
    (cli.cwd / "stock.csv").write_bytes((HEADER + "A,true,1\ncaf\xe9,true,1\n").encode("latin-1"))
    result = cli("availability", "push", "stock.csv", code=2)
    assert "stock.csv is not UTF-8: line 3, byte 4 (0xe9" in result.stderr
    assert "nothing was sent" in result.stderr
    assert posts(cli, "/Availability") == []


def test_a_misspelt_column_is_refused_rather_than_sending_quantity_0(cli: Cli) -> None:
    name = write(cli, "stock.csv", "sku,is_available,quantitiy\nA,true,5\n")
    result = cli("availability", "push", name, code=2)
    assert "missing column quantity; unknown column 'quantitiy'" in result.stderr
    assert posts(cli, "/Availability") == []


def test_a_row_with_a_missing_cell_is_refused_with_its_line(cli: Cli) -> None:
    name = write(cli, "stock.csv", HEADER + "A,true,1\n\nB,true\n")
    result = cli("availability", "push", name, code=2)
    assert "line 4: has 2 cells, the header has 3" in result.stderr


def test_a_header_only_file_sends_nothing(cli: Cli) -> None:
    name = write(cli, "stock.csv", HEADER)
    assert "Nothing to send: the file has no rows to send." in cli("availability", "push", name).stdout
    assert posts(cli, "/Availability") == []


def test_a_missing_file_is_a_usage_error(cli: Cli) -> None:
    cli("availability", "push", "missing.csv", code=2)


def test_a_hundred_thousand_rows_are_streamed_and_sent_in_chunks(cli: Cli) -> None:
    rows = "".join(f"SKU-{n:06d},{'true' if n % 3 else 'false'},{n % 50}\n" for n in range(100_000))
    name = write(cli, "big.csv", HEADER + rows)
    report = cli.json("availability", "push", name, "--chunk-size", "5000")
    assert (report["rows"], report["accepted"], report["failed"]) == (100_000, 100_000, 0)
    assert len(posts(cli, "/Availability")) == 20
    assert len(cli.emulator.availability()) == 100_000


def test_one_formula_in_the_last_of_a_hundred_thousand_rows_sends_nothing(cli: Cli) -> None:
    rows = "".join(f"SKU-{n:06d},true,{n % 50}\n" for n in range(100_000))
    name = write(cli, "big.csv", HEADER + rows + "=cmd|' /C calc'!A0,true,1\n")

    result = cli("availability", "push", name, code=2)

    assert "line 100002, column sku: looks like a spreadsheet formula, refused" in result.stderr
    assert "nothing was sent" in result.stderr
    assert posts(cli, "/Availability") == []
    assert cli.emulator.availability() == {}


def test_a_refusal_of_the_supplier_id_stops_after_the_first_chunk_with_exit_1(cli: Cli) -> None:
    name = write(cli, "stock.csv", HEADER + "".join(f"S{n},true,1\n" for n in range(5)))
    result = cli("--supplier-id", "99", "availability", "push", name, "--chunk-size", "2", "--json", code=1)
    report = json.loads(result.stdout)
    assert (report["accepted"], report["failed"]) == (0, 5)
    assert "Cannot find supplier identifier" in report["failures"][0]["error"]
    assert "error: 5 of 5 products were not accepted" in result.stderr
    assert len(posts(cli, "/Availability")) == 1


def test_the_push_is_recorded_in_the_ledger_and_changed_only_sends_what_changed(cli: Cli) -> None:
    write(cli, "stock.csv", HEADER + "A,true,1\nB,true,2\nC,false,0\n")
    first = cli.json("availability", "push", "stock.csv", "--changed-only")
    assert (first["sent"], first["unchanged"], first["recorded_in"]) == (3, 0, "orders.db")
    write(cli, "stock.csv", HEADER + "A,true,1\nB,true,7\nC,false,0\n")
    second = cli.json("availability", "push", "stock.csv", "--changed-only")
    assert (second["sent"], second["unchanged"]) == (1, 2)
    assert held(cli)["B"] == (True, 7)
    assert "Nothing to send: nothing changed" in cli("availability", "push", "stock.csv", "--changed-only").stdout
    assert len(posts(cli, "/Availability")) == 2


def test_changed_only_complete_sends_a_sku_that_left_the_file_as_unavailable(cli: Cli) -> None:
    write(cli, "stock.csv", HEADER + "A,true,1\nB,true,2\n")
    cli("availability", "push", "stock.csv", "--changed-only")
    write(cli, "stock.csv", HEADER + "A,true,1\n")
    report = cli.json("availability", "push", "stock.csv", "--changed-only", "--complete")
    assert (report["sent"], report["absent_now_unavailable"]) == (1, 1)
    assert held(cli) == {"A": (True, 1), "B": (False, 0)}


def test_complete_needs_changed_only(cli: Cli) -> None:
    name = write(cli, "stock.csv", HEADER + "A,true,1\n")
    assert "--complete needs --changed-only" in cli("availability", "push", name, "--complete", code=2).stderr


def test_availability_show_lists_what_iqmetrix_holds(cli: Cli) -> None:
    cli("availability", "push", write(cli, "stock.csv", HEADER + "A-1,true,10\nB-2,false,0\n"))
    rows = cli.json("availability", "show")
    assert {(row["supplier_sku"], row["is_available"], row["quantity"]) for row in rows} == {
        ("A-1", True, 10),
        ("B-2", False, 0),
    }
    table = cli("availability", "show").stdout
    assert "2 SKUs held by iQmetrix" in table
    assert "A-1" in table


# -- push_chunks: progress and refusals, without a server -----------------------------------------


def _products(count: int) -> list[ProductAvailability]:
    return [ProductAvailability(f"S{n}", True, n) for n in range(count)]


def test_push_chunks_advances_the_progress_once_per_chunk() -> None:
    calls: list[int] = []
    advanced: list[int] = []

    def push(chunk: list[ProductAvailability], *, chunk_size: int) -> PushResult[ProductAvailability]:
        calls.append(len(chunk))
        return PushResult(accepted=tuple(chunk), ids=(f"id-{len(calls)}",))

    result = push_chunks(push, _products(7), 3, advanced.append)
    assert calls == advanced == [3, 3, 1]
    assert (len(result.accepted), result.ids) == (7, ("id-1", "id-2", "id-3"))


@pytest.mark.parametrize(
    ("terminal", "shown", "drawn"), [(True, True, True), (False, True, False), (True, False, False)]
)
def test_the_progress_bar_is_drawn_only_on_a_terminal_and_without_json(
    terminal: bool, shown: bool, drawn: bool
) -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=terminal, width=80)
    with progress_bar(console, 10, shown=shown) as advance:
        advance(5)
        advance(5)
    assert ("Sending" in out.getvalue()) is drawn


def test_push_chunks_goes_on_after_a_chunk_fails_for_its_own_reason() -> None:
    def push(chunk: list[ProductAvailability], *, chunk_size: int) -> PushResult[ProductAvailability]:
        if chunk[0].sku == "S0":
            return PushResult(failed=(FailedChunk(tuple(chunk), BadRequestError("bad", status_code=400)),))
        return PushResult(accepted=tuple(chunk))

    result = push_chunks(push, _products(4), 2)
    assert [p.sku for p in result.accepted] == ["S2", "S3"]
    assert [p.sku for p in result.failed_products] == ["S0", "S1"]


def test_push_chunks_stops_after_a_refusal_every_chunk_would_meet() -> None:
    calls: list[Any] = []

    def push(chunk: list[ProductAvailability], *, chunk_size: int) -> PushResult[ProductAvailability]:
        calls.append(chunk)
        return PushResult(failed=(FailedChunk(tuple(chunk), TokenError("refused", error="invalid_grant")),))

    result = push_chunks(push, _products(5), 2)
    assert len(calls) == 1
    assert len(result.failed_products) == 5


# -- costs push -------------------------------------------------------------------------------


def test_costs_push_sends_decimal_costs_grouped_by_sku_and_cost(cli: Cli) -> None:
    name = write(cli, "costs.csv", "sku,cost,company_id\nA,12.99,1\nA,12.99,2\nA,11.50,3\nB,0.10,1\n")
    report = cli.json("costs", "push", name)
    assert (report["rows"], report["sent"], report["accepted"]) == (4, 3, 3)
    assert cli.emulator.costs() == {
        ("A", 1): Decimal("12.99"),
        ("A", 2): Decimal("12.99"),
        ("A", 3): Decimal("11.50"),
        ("B", 1): Decimal("0.10"),
    }


def test_costs_push_reads_a_company_ids_column(cli: Cli) -> None:
    name = write(cli, "costs.csv", "Sku,Cost,CompanyIds\nA,5,1;2 3\n")
    cli("costs", "push", name)
    assert set(cli.emulator.costs()) == {("A", 1), ("A", 2), ("A", 3)}


def test_a_company_given_two_costs_for_one_sku_sends_nothing(cli: Cli) -> None:
    name = write(cli, "costs.csv", "sku,cost,company_id\nA,1.00,7\nA,1.50,7\n")
    result = cli("costs", "push", name, code=2)
    assert "line 3, column company_id: company 7 already has a cost for SKU 'A' on line 2" in result.stderr
    assert posts(cli, "/Cost") == []


def test_a_cost_with_three_decimals_is_refused_with_its_line(cli: Cli) -> None:
    name = write(cli, "costs.csv", "sku,cost,company_id\nA,1.00,7\nB,1.005,7\n")
    result = cli("costs", "push", name, code=2)
    assert "line 3, column cost: cost must have at most 2 decimals" in result.stderr


def test_costs_dry_run_shows_the_grouped_products(cli: Cli) -> None:
    name = write(cli, "costs.csv", "sku,cost,company_id\nA,12.99,1\nA,12.99,2\n")
    report = cli.json("costs", "push", name, "--dry-run")
    assert report["would_send"] == [{"Sku": "A", "Cost": 12.99, "CompanyIds": [1, 2]}]
    assert posts(cli, "/Cost") == []


# -- products ---------------------------------------------------------------------------------


def feed_id(cli: Cli) -> str:
    return str(cli.emulator.product_feed_id)


def test_products_add_list_feed_and_remove(cli: Cli) -> None:
    (cli.cwd / "p.json").write_text(json.dumps([PRODUCT, PRODUCT | {"ModelName": "P-7"}]), encoding="utf-8")
    added = cli.json("products", "add", feed_id(cli), "p.json")
    assert [product["ModelName"] for product in added] == ["SM-G960", "P-7"]
    listed = cli.json("products", "list", feed_id(cli))
    assert listed == added
    assert listed[0]["Fields"] == [{"Definition": {"Id": 1}, "Value": "Galaxy S9"}]
    feed = cli.json("products", "feed", feed_id(cli))
    assert (feed["Id"], len(feed["Products"])) == (int(feed_id(cli)), 2)
    assert "Removed product" in cli("products", "remove", feed_id(cli), str(added[0]["Id"])).stdout
    assert [product["ModelName"] for product in cli.json("products", "list", feed_id(cli))] == ["P-7"]


def test_the_json_of_products_list_can_be_added_again(cli: Cli) -> None:
    (cli.cwd / "p.json").write_text(json.dumps(PRODUCT), encoding="utf-8")
    cli("products", "add", feed_id(cli), "p.json")
    result = cli("products", "list", feed_id(cli), "--json")
    (cli.cwd / "again.json").write_text(result.stdout, encoding="utf-8")
    cli("products", "add", feed_id(cli), "again.json")
    assert len(cli.emulator.products()) == 2


def test_products_replace_removes_then_adds_the_new_version(cli: Cli) -> None:
    (cli.cwd / "p.json").write_text(json.dumps(PRODUCT), encoding="utf-8")
    (old,) = cli.json("products", "add", feed_id(cli), "p.json")
    (cli.cwd / "new.json").write_text(json.dumps(PRODUCT | {"ModelName": "SM-G965"}), encoding="utf-8")
    (new,) = cli.json("products", "replace", feed_id(cli), str(old["Id"]), "new.json")
    assert new["ModelName"] == "SM-G965"
    assert [product["ModelName"] for product in cli.json("products", "list", feed_id(cli))] == ["SM-G965"]


def test_a_bad_product_file_is_refused_before_anything_is_sent(cli: Cli) -> None:
    bad = dict(PRODUCT)
    del bad["ModelName"]
    (cli.cwd / "p.json").write_text(json.dumps([PRODUCT, bad]), encoding="utf-8")
    result = cli("products", "add", feed_id(cli), "p.json", code=2)
    assert "1 bad product, nothing was sent: product 2: ModelName" in result.stderr
    assert cli.emulator.products() == []


def test_a_product_file_that_is_not_json_names_the_line(cli: Cli) -> None:
    (cli.cwd / "p.json").write_text('{\n  "ModelName": ,\n}', encoding="utf-8")
    result = cli("products", "add", feed_id(cli), "p.json", code=2)
    assert "p.json is not JSON: line 2, column" in result.stderr


@pytest.mark.parametrize(
    ("content", "why"),
    [("[" * 50_000 + "]" * 50_000, "nested too deeply"), ('{"ModelName": NaN}', "NaN is not a JSON value")],
    ids=["deep", "nan"],
)
def test_a_product_file_python_could_read_but_json_does_not_allow_is_refused(cli: Cli, content: str, why: str) -> None:
    (cli.cwd / "p.json").write_text(content, encoding="utf-8")
    result = cli("products", "add", feed_id(cli), "p.json", code=2)
    assert f"p.json is not JSON: {why}" in result.stderr
    assert "Traceback" not in result.stderr
    assert cli.emulator.products() == []


def test_an_unknown_feed_or_product_is_exit_4(cli: Cli) -> None:
    cli("products", "list", "999999", code=4)
    cli("products", "remove", feed_id(cli), "424242", code=4)


def test_a_feed_id_that_is_not_a_positive_number_is_a_usage_error(cli: Cli) -> None:
    cli("products", "list", "abc", code=2)
    cli("products", "list", "0", code=2)


def test_the_input_file_is_left_as_it_was(cli: Cli) -> None:
    path: Path = cli.cwd / "stock.csv"
    path.write_text(HEADER + "A,true,1\n", encoding="utf-8")
    cli("availability", "push", "stock.csv")
    assert path.read_text(encoding="utf-8") == HEADER + "A,true,1\n"


# -- secrets ----------------------------------------------------------------------------------


def test_no_catalog_command_prints_a_secret_or_a_token(cli: Cli) -> None:
    write(cli, "stock.csv", HEADER + "A,true,1\n")
    write(cli, "bad.csv", HEADER + "A,maybe,1\n")
    write(cli, "costs.csv", "sku,cost,company_id\nA,1.00,7\n")
    (cli.cwd / "p.json").write_text(json.dumps(PRODUCT), encoding="utf-8")
    nowhere = f"http://127.0.0.1:{closed_port()}/v1"
    feed = feed_id(cli)
    outputs: list[str] = []
    for debug in ((), ("--debug",)):
        for json_flag in ((), ("--json",)):
            for args, code in (
                (("availability", "push", "stock.csv"), 0),
                (("availability", "push", "bad.csv"), 2),
                (("availability", "show"), 0),
                (("costs", "push", "costs.csv"), 0),
                (("products", "add", feed, "p.json"), 0),
                (("products", "list", feed), 0),
                (("products", "feed", feed), 0),
                (("products", "remove", feed, "999"), 4),
                (("ping",), 0),
                (("--password", "wrong-password", "availability", "push", "stock.csv"), 3),
                (("--password", "wrong-password", "products", "list", feed), 3),
                (("--base-url", nowhere, "--accounts-url", nowhere, "--max-retries", "0", "availability", "show"), 5),
            ):
                outputs.append(cli(*debug, *args, *json_flag, code=code).output)
    tokens = [*cli.emulator._tokens._access, *cli.emulator._tokens._refresh]
    assert tokens
    for text in outputs:
        assert_no_secret(text)
        assert not [token for token in tokens if token in text]
