"""The CSV rules of `availability push` and `costs push`, on the pure functions, table by table.

Every bad row is named by its physical line (the header is line 1) and its column.
"""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest

from iqmetrix_dropship.cli._csv import (
    BadRow,
    CsvFileError,
    Undecodable,
    csv_lines,
    first_undecodable,
    looks_like_formula,
    parse_availability,
    parse_costs,
    read_csv,
)
from iqmetrix_dropship.models import ProductAvailability, ProductCost


def lines(text: str) -> io.StringIO:
    return io.StringIO(text, newline="")  # as the file is read: newline=""


def bad(text: str, parse=parse_availability) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(row) for row in parse(lines(text)).bad_rows]


# -- availability: what is read -----------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "sku,is_available,quantity",
        "Sku,IsAvailable,Quantity",
        "SKU,IS_AVAILABLE,QUANTITY",
        "quantity,sku,is_available",
        " sku , Is Available , quantity ",
    ],
)
def test_the_header_is_matched_ignoring_case_underscores_spaces_and_order(header: str) -> None:
    names = [
        name.strip().lower().replace(" ", "_").replace("isavailable", "is_available") for name in header.split(",")
    ]
    row = ",".join({"sku": "A1", "is_available": "true", "quantity": "4"}[name] for name in names)
    assert parse_availability(lines(f"{header}\n{row}\n")).products == [ProductAvailability("A1", True, 4)]


@pytest.mark.parametrize(
    ("cell", "value"),
    [("true", True), ("TRUE", True), ("Yes", True), ("1", True), ("false", False), ("No", False), ("0", False),
     (" yes ", True)],
)  # fmt: skip
def test_booleans_are_true_false_yes_no_1_0_in_any_case(cell: str, value: bool) -> None:
    parsed = parse_availability(lines(f"sku,is_available,quantity\nA,{cell},0\n"))
    assert parsed.products[0].is_available is value


def test_a_utf8_bom_and_crlf_line_ends_are_read() -> None:
    data = "\ufeffsku,is_available,quantity\r\nA,true,1\r\nB,false,0\r\n".encode()
    text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    assert [p.sku for p in parse_availability(text).products] == ["A", "B"]


def test_empty_lines_and_blank_rows_are_skipped_but_counted_as_lines() -> None:
    parsed = parse_availability(lines("\nsku,is_available,quantity\n\nA,true,1\n,,\n\nB,yes,x\n"))
    assert [p.sku for p in parsed.products] == ["A"]
    assert parsed.rows == 2
    assert [str(row) for row in parsed.bad_rows] == ["line 7, column quantity: must be a whole number, got 'x'"]


def test_a_quoted_cell_over_two_lines_keeps_the_following_line_numbers() -> None:
    text = 'sku,is_available,quantity\n"A\nB",true,1\nC,maybe,1\n'
    assert bad(text) == [
        "line 2, column sku: holds a control character (U+000A): 'A\\nB'",
        "line 4, column is_available: must be true, false, yes, no, 1 or 0, got 'maybe'",
    ]


# -- availability: bad rows ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("A,true,-1", "line 2, column quantity: quantity must be at least 0, got -1"),
        ("A,true,1.5", "line 2, column quantity: must be a whole number, got '1.5'"),
        ("A,true,", "line 2, column quantity: is empty"),
        ("A,,3", "line 2, column is_available: is empty"),
        ("A,maybe,3", "line 2, column is_available: must be true, false, yes, no, 1 or 0, got 'maybe'"),
        (" A,true,3", "line 2, column sku: Sku has white space around it: ' A'"),
        ("A,true,3,extra", "line 2: has 4 cells, the header has 3"),
        ("A,true", "line 2: has 2 cells, the header has 3"),
        ("A,true,99999999999", "line 2, column quantity: quantity is too large: 99999999999"),
    ],
)
def test_a_bad_cell_is_reported_with_its_line_and_column(row: str, problem: str) -> None:
    assert bad(f"sku,is_available,quantity\n{row}\n") == [problem]


@pytest.mark.parametrize(
    "cell",
    ["=cmd|' /C calc'!A0", "@SUM(A1:A9)", "+1+2", "-2+3", "=1", "\tA", "\rA", " =1", '=HYPERLINK("x")'],
)
def test_a_spreadsheet_formula_in_any_cell_is_refused(cell: str) -> None:
    assert looks_like_formula(cell)
    quoted = '"' + cell.replace('"', '""') + '"'
    (in_sku,) = bad(f"sku,is_available,quantity\n{quoted},true,1\n")
    (in_quantity,) = bad(f"sku,is_available,quantity\nB,true,{quoted}\n")
    assert in_sku.startswith("line 2, column sku: looks like a spreadsheet formula, refused")
    assert in_quantity.startswith("line 2, column quantity: looks like a spreadsheet formula, refused")


@pytest.mark.parametrize("cell", ["-5", "+3", "-1.25", "A-1", "12", "x=1"])
def test_a_plain_number_or_an_inner_sign_is_no_formula(cell: str) -> None:
    assert not looks_like_formula(cell)


def test_a_sku_given_twice_is_bad_on_every_line_with_both_line_numbers() -> None:
    parsed = parse_availability(lines("sku,is_available,quantity\nA,true,1\nB,true,1\nA,false,0\n"))
    assert [p.sku for p in parsed.products] == ["B"]
    assert [str(row) for row in parsed.bad_rows] == [
        "line 2, column sku: SKU 'A' is given again below; neither line is sent",
        "line 4, column sku: SKU 'A' is also on line 2; neither line is sent",
    ]
    assert parsed.bad_lines == [2, 4]
    assert parsed.good_rows == 1


def test_every_bad_row_is_reported_not_only_the_first() -> None:
    rows = "".join(f"S{n},{'maybe' if n % 2 else 'true'},1\n" for n in range(10))
    parsed = parse_availability(lines("sku,is_available,quantity\n" + rows))
    assert parsed.bad_lines == [3, 5, 7, 9, 11]
    assert len(parsed.products) == 5


# -- the header ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("\n\n", "the file is empty"),
        ("sku,is_available\nA,true\n", "line 1: missing column quantity"),
        ("A1,true,5\n", "line 1: missing columns sku, is_available, quantity; unknown columns 'A1', 'true', '5'"),
        ("sku,is_available,quantitiy\n", "line 1: missing column quantity; unknown column 'quantitiy'"),
        ("sku,is_available,quantity,price\n", "line 1: unknown column 'price'"),
        ("sku,is_available,quantity,\n", "line 1: unknown column ''"),
        ("sku,Sku,is_available,quantity\n", "line 1: column named twice: sku"),
        ("sku;is_available;quantity\n", "separated by ';'"),
        ('sku,"is_available,quantity\nA,true,1\n', "not valid CSV"),
    ],
)
def test_a_header_that_is_missing_incomplete_or_unknown_is_refused_whole(text: str, message: str) -> None:
    with pytest.raises(CsvFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_availability(lines(text))


def test_an_unknown_column_is_refused_even_when_every_required_one_is_there() -> None:
    with pytest.raises(CsvFileError) as caught:
        parse_availability(lines("sku,is_available,quantity,quantitiy\nA,true,1,5\n"))
    assert "unknown column 'quantitiy'" in str(caught.value)
    assert "the header must be sku,is_available,quantity" in str(caught.value)


# -- costs --------------------------------------------------------------------------------------


def test_costs_with_one_company_a_row_are_grouped_by_sku_and_cost() -> None:
    text = "sku,cost,company_id\nA,12.99,1\nA,12.99,2\nA,11.50,3\nB,0,1\n"
    assert parse_costs(lines(text)).products == [
        ProductCost("A", Decimal("12.99"), [1, 2]),
        ProductCost("A", Decimal("11.50"), [3]),
        ProductCost("B", Decimal("0"), [1]),
    ]


@pytest.mark.parametrize("ids", ["1;2;3", "1 2 3", "1; 2 ;3", " 1;2;3 "])
def test_a_company_ids_column_holds_ids_separated_by_semicolons_or_spaces(ids: str) -> None:
    parsed = parse_costs(lines(f"Sku,Cost,CompanyIds\nA,1.5,{ids}\n"))
    assert parsed.products == [ProductCost("A", Decimal("1.5"), [1, 2, 3])]


def test_a_cost_is_read_as_a_decimal_from_its_text() -> None:
    (product,) = parse_costs(lines("sku,cost,company_id\nA,0.10,1\n")).products
    assert product.cost == Decimal("0.10")
    assert isinstance(product.cost, Decimal)


@pytest.mark.parametrize(
    ("cost", "problem"),
    [
        ("12.999", "cost must have at most 2 decimals, got"),
        ("-1", "cost must be 0 or more, got"),
        ("$12.99", "must be an amount such as 12.99 (no currency sign, no thousands separator), got '$12.99'"),
        ('"1,299.00"', "must be an amount such as 12.99 (no currency sign, no thousands separator), got '1,299.00'"),
        ("1e3", "must be an amount such as 12.99"),
        ("NaN", "must be an amount such as 12.99"),
        ("", "is empty"),
    ],
)
def test_a_bad_cost_is_reported(cost: str, problem: str) -> None:
    (row,) = parse_costs(lines(f"sku,cost,company_id\nA,{cost},1\n")).bad_rows
    assert (row.line, row.column) == (2, "cost")
    assert row.message.startswith(problem)


@pytest.mark.parametrize(
    ("ids", "problem"),
    [
        ("1;1", "names a company twice"),
        ("1;x", "must be a company id (a whole number), got 'x'"),
        ("0", "company id must hold positive whole numbers"),
        ("1,2", "unused"),
    ],
)
def test_bad_company_ids_are_reported(ids: str, problem: str) -> None:
    if problem == "unused":  # a bare comma splits the row: one cell too many
        assert bad(f"sku,cost,company_ids\nA,1,{ids}\n", parse_costs) == ["line 2: has 4 cells, the header has 3"]
        return
    (row,) = parse_costs(lines(f"sku,cost,company_ids\nA,1,{ids}\n")).bad_rows
    assert (row.line, row.column) == (2, "company_ids")
    assert problem in row.message


def test_a_company_given_two_costs_for_one_sku_is_bad_on_both_lines() -> None:
    parsed = parse_costs(lines("sku,cost,company_id\nA,1.00,7\nB,2.00,7\nA,1.50,7\n"))
    assert parsed.products == [ProductCost("B", Decimal("2.00"), [7])]
    assert parsed.bad_rows == [
        BadRow(2, "company 7 is given another cost for SKU 'A' on line 4", "company_id"),
        BadRow(
            4,
            "company 7 already has a cost for SKU 'A' on line 2 (one cost per product per company); "
            "neither line is sent",
            "company_id",
        ),
    ]


def test_costs_need_exactly_one_of_company_id_and_company_ids() -> None:
    with pytest.raises(CsvFileError, match="neither of company_id and company_ids"):
        parse_costs(lines("sku,cost\nA,1\n"))
    with pytest.raises(CsvFileError, match="both of company_id and company_ids"):
        parse_costs(lines("sku,cost,company_id,company_ids\nA,1,2,3\n"))


# -- the file: encoding and size ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (b"abc\n", None),
        (b"sku\n\xe9t\xe9\n", Undecodable(line=2, column=1, offset=4, byte=0xE9)),
        (b"a\nbc\xc3\n", Undecodable(line=2, column=3, offset=4, byte=0xC3)),  # cut in the middle of a character
        ("é\n".encode() + b"x\xff\n", Undecodable(line=2, column=2, offset=4, byte=0xFF)),
    ],
)
def test_the_first_byte_that_is_not_utf8_is_located(data: bytes, where: Undecodable | None) -> None:
    assert first_undecodable(io.BytesIO(data)) == where


def test_a_latin1_file_is_refused_naming_the_line_and_byte(tmp_path: Path) -> None:
    path = tmp_path / "stock.csv"
    path.write_bytes("sku,is_available,quantity\nA,true,1\ncaf\xe9,true,2\n".encode("latin-1"))
    with pytest.raises(CsvFileError, match=r"is not UTF-8: line 3, byte 4 \(0xe9, offset 38 of the file\)"):
        read_csv(path, parse_availability)


def test_a_utf16_file_is_named_as_such(tmp_path: Path) -> None:
    path = tmp_path / "stock.csv"
    path.write_bytes("sku,is_available,quantity\nA,true,1\n".encode("utf-16"))
    with pytest.raises(CsvFileError, match="is UTF-16"):
        read_csv(path, parse_availability)


def test_a_file_over_the_size_cap_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "stock.csv"
    path.write_text("sku,is_available,quantity\n" + "A,true,1\n" * 100, encoding="utf-8")
    with pytest.raises(CsvFileError, match="the limit is 100"):
        list(csv_lines(path, max_bytes=100))


def test_lines_are_read_without_translating_line_ends(tmp_path: Path) -> None:
    path = tmp_path / "stock.csv"
    path.write_bytes(b"a\r\nb\n")
    assert list(csv_lines(path)) == ["a\r\n", "b\n"]
