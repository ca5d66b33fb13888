"""The CSV files of ``dropship availability push`` and ``dropship costs push``, read and checked.

Pure functions over lines of text (and, to locate a decoding error, lines of bytes): no typer, no
network, so every rule is tested as a table (``tests/cli/test_csv.py``). Each row becomes a
request model or one ``BadRow`` per bad cell, named by its physical line (1-based, the header is
line 1) and its column; the command decides what to do with them (by default: send nothing).

The rules, for both files:

- UTF-8, a BOM allowed (Excel's "CSV UTF-8"); anything else is refused with the line and byte where
  decoding failed. Read with ``newline=""`` (the ``csv`` module's documentation), so that a quoted
  cell may hold a line break without shifting the line numbers.
- A header first (blank lines before it are skipped). Column names are matched ignoring case,
  ``_``, ``-`` and spaces: ``is_available``, ``IsAvailable`` and ``Is Available`` are one column.
  A missing column, a column named twice and an unknown one are refused: a typo such as
  ``quantitiy`` must not silently send quantity 0.
- A row with more or fewer cells than the header is bad; a blank row (``,,``) is skipped.
- A cell a spreadsheet would evaluate (OWASP, "CSV Injection"): one starting with ``=``, ``+``,
  ``-`` or ``@`` that is not a plain number, or with a tab or a carriage return, is bad; so is a
  cell holding any other control character.
- Availability: a SKU given twice is bad on every line it appears on (which one was meant?).
  Costs: a company given two costs for one SKU is bad on both lines (supplier-apis.md, "Cost feed":
  one cost per product per company); rows with the same SKU and cost become one ``ProductCost``.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Generic, TypeVar

from .._text import preview
from ..models import ProductAvailability, ProductCost
from ..models._catalog import check_company_id, check_count, check_money, check_sku

__all__ = [
    "AVAILABILITY_COLUMNS",
    "COST_COLUMNS",
    "MAX_FILE_BYTES",
    "BadRow",
    "CsvFileError",
    "Parsed",
    "Undecodable",
    "csv_lines",
    "first_undecodable",
    "looks_like_formula",
    "parse_availability",
    "parse_costs",
    "read_csv",
]

T = TypeVar("T")

MAX_FILE_BYTES = 200 * 1024 * 1024
"""A catalogue of a million SKUs is about 30 MB; a file far beyond that is a mistake (a wrong file)."""

AVAILABILITY_COLUMNS = ("sku", "is_available", "quantity")
COST_COLUMNS = ("sku", "cost", "company_id")
_COMPANY_IDS = "company_ids"

_BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")
_AMOUNT = re.compile(r"-?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
_ID_SEPARATORS = re.compile(r"[;\s]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_FORMULA_STARTS = ("=", "+", "-", "@")


class CsvFileError(ValueError):
    """The file as a whole cannot be used (its encoding, header, size or quoting): nothing is sent."""


@dataclass(frozen=True, order=True)
class BadRow:
    """One problem with one row: its physical line, the column (when one cell is to blame), why."""

    line: int
    message: str
    column: str | None = None

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class Parsed(Generic[T]):
    """What a file holds: the products to send (bad rows left out) and every bad row."""

    products: list[T] = field(default_factory=list)
    bad_rows: list[BadRow] = field(default_factory=list)
    rows: int = 0
    """Data rows read (blank ones not counted)."""

    @property
    def bad_lines(self) -> list[int]:
        return sorted({bad.line for bad in self.bad_rows})

    @property
    def good_rows(self) -> int:
        return self.rows - len(self.bad_lines)


# -- bytes and lines --------------------------------------------------------------------------


@dataclass(frozen=True)
class Undecodable:
    """Where a file stops being UTF-8: ``line`` and ``column`` (the byte within it) are 1-based,
    ``offset`` is the 0-based byte offset in the file, ``byte`` the value found there."""

    line: int
    column: int
    offset: int
    byte: int


def first_undecodable(lines: Iterable[bytes]) -> Undecodable | None:
    """The first byte that is not UTF-8, or ``None``. ``lines`` are split after ``\\n``, as a binary
    file iterates: no UTF-8 sequence holds the byte 0x0A, so each line decodes on its own."""
    offset = 0
    for number, raw in enumerate(lines, start=1):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as error:
            return Undecodable(number, error.start + 1, offset + error.start, raw[error.start])
        offset += len(raw)
    return None


def _not_utf8(path: Path) -> CsvFileError:
    with path.open("rb") as file:
        start = file.read(2)
        file.seek(0)
        where = first_undecodable(file)
    if start in (b"\xff\xfe", b"\xfe\xff"):
        return CsvFileError(f"{path} is UTF-16 (it starts with a UTF-16 byte order mark): save it as CSV UTF-8")
    if where is None:  # pragma: no cover - the text reader and the byte scan disagree
        return CsvFileError(f"{path} is not UTF-8: save it as CSV UTF-8")
    return CsvFileError(
        f"{path} is not UTF-8: line {where.line}, byte {where.column} (0x{where.byte:02x}, offset {where.offset} "
        "of the file) cannot be decoded; save the file as CSV UTF-8"
    )


def csv_lines(path: Path, *, max_bytes: int = MAX_FILE_BYTES) -> Generator[str, None, None]:
    """The file's lines, decoded as UTF-8 (a BOM dropped) and read with ``newline=""``, one at a time."""
    with path.open(encoding="utf-8-sig", newline="") as file:
        size = os.fstat(file.fileno()).st_size
        if size > max_bytes:
            raise CsvFileError(f"{path} is {size:,} bytes; the limit is {max_bytes:,}: split it into smaller files")
        read = 0
        try:
            for line in file:
                read += len(line)  # characters, never more than bytes: a cap for pipes, whose size is unknown
                if read > max_bytes:
                    raise CsvFileError(f"{path} is larger than {max_bytes:,} bytes: split it into smaller files")
                yield line
        except UnicodeDecodeError:
            raise _not_utf8(path) from None


def read_csv(path: Path, parse: Callable[[Iterable[str]], Parsed[T]], *, max_bytes: int = MAX_FILE_BYTES) -> Parsed[T]:
    """``parse`` over the lines of ``path``; the file is closed whatever happens."""
    with closing(csv_lines(path, max_bytes=max_bytes)) as lines:
        return parse(lines)


# -- records and header -----------------------------------------------------------------------


def _records(lines: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    """``(first physical line, cells)`` of each record that is not blank."""
    reader = csv.reader(lines, strict=True)  # strict: a stray quote is an error, not a guess
    start = 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise CsvFileError(f"line {reader.line_num}: not valid CSV: {error}") from None
        if any(cell.strip() for cell in record):
            yield start, record
        start = reader.line_num + 1


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name).lower()


def _header(line: int, names: list[str], required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, int]:
    """The index of each known column; ``CsvFileError`` naming every missing, doubled or unknown one."""
    known = {_key(name): name for name in (*required, *optional)}
    where: dict[str, int] = {}
    unknown: list[str] = []
    doubled: list[str] = []
    for index, name in enumerate(names):
        column = known.get(_key(name))
        if column is None:
            unknown.append(preview(name))
        elif column in where:
            doubled.append(column)
        else:
            where[column] = index
    missing = [name for name in required if name not in where]
    problems = []
    if missing:
        problems.append(f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}")
    if doubled:
        problems.append(f"column{'s' if len(doubled) > 1 else ''} named twice: {', '.join(doubled)}")
    if problems:
        expected = ",".join((*required, *optional))
        hint = ""
        if len(names) == 1 and ";" in names[0]:
            hint = " (the columns seem to be separated by ';': save the file with commas)"
        raise CsvFileError(f"line {line}: {'; '.join(problems)}; the header must be {expected}{hint}")
    return where


def _header_and_rows(
    lines: Iterable[str], required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> tuple[dict[str, int], Iterator[tuple[int, list[str]]], int]:
    records = _records(lines)
    first = next(records, None)
    if first is None:
        raise CsvFileError(f"the file is empty: the first line must name the columns: {','.join(required)}")
    line, names = first
    return _header(line, names, required, optional), records, len(names)


# -- cells ------------------------------------------------------------------------------------


def looks_like_formula(cell: str) -> bool:
    """A cell a spreadsheet would evaluate (``=cmd|' /C calc'!A0``, ``@SUM(A1)``, ``+1+2``), unlike a
    plain number such as ``-5`` or ``+3``. OWASP, "CSV Injection"."""
    if cell[:1] in ("\t", "\r"):
        return True
    text = cell.strip(" ")
    return text[:1] in _FORMULA_STARTS and _PLAIN_NUMBER.fullmatch(text) is None


def _cell_problem(cell: str) -> str | None:
    if looks_like_formula(cell):
        return f"looks like a spreadsheet formula, refused: {preview(cell)}"
    control = _CONTROL.search(cell)
    if control is not None:
        return f"holds a control character (U+{ord(control.group()):04X}): {preview(cell)}"
    return None


class _Row:
    """The cells of one record by column, collecting a ``BadRow`` for each cell that is wrong."""

    def __init__(self, line: int, cells: list[str], columns: Mapping[str, int]) -> None:
        self.line = line
        self.cells = {name: cells[index] for name, index in columns.items()}
        self.bad: list[BadRow] = []
        for name, cell in self.cells.items():
            problem = _cell_problem(cell)
            if problem is not None:
                self.bad.append(BadRow(line, problem, name))

    def value(self, column: str, read: Callable[[str], T]) -> T | None:
        """``read(cell)``, or ``None`` with a ``BadRow`` (the cell was bad already, or ``read`` raised)."""
        if any(bad.column == column for bad in self.bad):
            return None
        cell = self.cells[column]
        if not cell.strip():
            self.bad.append(BadRow(self.line, "is empty", column))
            return None
        try:
            return read(cell)
        except ValueError as error:
            self.bad.append(BadRow(self.line, str(error), column))
            return None


def _sku(cell: str) -> str:
    return check_sku(cell)  # white space around a SKU is refused, not trimmed: it may be part of it


def _boolean(cell: str) -> bool:
    value = _BOOLEANS.get(cell.strip().lower())
    if value is None:
        raise ValueError(f"must be true, false, yes, no, 1 or 0, got {preview(cell)}")
    return value


def _quantity(cell: str) -> int:
    text = cell.strip()
    if _WHOLE_NUMBER.fullmatch(text) is None:
        raise ValueError(f"must be a whole number, got {preview(cell)}")
    return check_count(int(text), "quantity")


def _cost(cell: str) -> Decimal:
    text = cell.strip()
    if _AMOUNT.fullmatch(text) is None:
        raise ValueError(
            f"must be an amount such as 12.99 (no currency sign, no thousands separator), got {preview(cell)}"
        )
    return check_money(text, "cost")  # from the text, never through a float


def _company_id(cell: str) -> int:
    text = cell.strip()
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"must be a company id (a whole number), got {preview(text)}")
    return check_company_id(int(text), "company id")


def _company_ids(cell: str) -> tuple[int, ...]:
    ids = tuple(_company_id(part) for part in _ID_SEPARATORS.split(cell.strip()) if part)
    if len(set(ids)) != len(ids):
        raise ValueError(f"names a company twice: {preview(cell)}")
    return ids


def _row_of(line: int, cells: list[str], width: int, columns: Mapping[str, int]) -> _Row | BadRow:
    if len(cells) != width:
        return BadRow(line, f"has {len(cells)} cells, the header has {width}")
    return _Row(line, cells, columns)


# -- the two files ----------------------------------------------------------------------------


def parse_availability(lines: Iterable[str]) -> Parsed[ProductAvailability]:
    """Rows of ``sku,is_available,quantity`` as ``ProductAvailability``; every bad row reported."""
    columns, records, width = _header_and_rows(lines, AVAILABILITY_COLUMNS)
    parsed: Parsed[ProductAvailability] = Parsed()
    products: list[tuple[int, ProductAvailability]] = []
    first_line: dict[str, int] = {}
    doubled: set[str] = set()
    for line, cells in records:
        parsed.rows += 1
        row = _row_of(line, cells, width, columns)
        if isinstance(row, BadRow):
            parsed.bad_rows.append(row)
            continue
        sku = row.value("sku", _sku)
        available = row.value("is_available", _boolean)
        quantity = row.value("quantity", _quantity)
        if sku is not None:
            first = first_line.setdefault(sku, line)
            if first != line:
                doubled.add(sku)
                row.bad.append(BadRow(line, f"SKU {preview(sku)} is also on line {first}; neither line is sent", "sku"))
        if row.bad:
            parsed.bad_rows.extend(row.bad)
        elif sku is not None and available is not None and quantity is not None:
            products.append((line, ProductAvailability(sku, available, quantity)))
    for product_line, product in products:
        if product.sku in doubled:  # its first line: the later ones are reported already
            parsed.bad_rows.append(
                BadRow(product_line, f"SKU {preview(product.sku)} is given again below; neither line is sent", "sku")
            )
        else:
            parsed.products.append(product)
    parsed.bad_rows.sort()
    return parsed


@dataclass
class _CostRow:
    line: int
    sku: str
    cost: Decimal
    companies: tuple[int, ...]


def parse_costs(lines: Iterable[str]) -> Parsed[ProductCost]:
    """Rows of ``sku,cost,company_id`` (or ``company_ids``: ids separated by ``;`` or spaces) as
    ``ProductCost``, rows of one SKU and cost grouped; every bad row reported."""
    columns, records, width = _header_and_rows(lines, ("sku", "cost"), ("company_id", _COMPANY_IDS))
    company_column = [name for name in ("company_id", _COMPANY_IDS) if name in columns]
    if len(company_column) != 1:
        names = "a company_id column (one company a row) or a company_ids column (ids separated by ';')"
        problem = "both" if company_column else "neither"
        raise CsvFileError(f"the header has {problem} of company_id and company_ids; it needs {names}")
    company, read_companies = company_column[0], (_company_ids if company_column[0] == _COMPANY_IDS else None)
    parsed: Parsed[ProductCost] = Parsed()
    good: list[_CostRow] = []
    first_line: dict[tuple[str, int], int] = {}
    conflicts: dict[int, list[BadRow]] = {}
    for line, cells in records:
        parsed.rows += 1
        row = _row_of(line, cells, width, columns)
        if isinstance(row, BadRow):
            parsed.bad_rows.append(row)
            continue
        sku = row.value("sku", _sku)
        cost = row.value("cost", _cost)
        companies = row.value(company, read_companies or (lambda cell: (_company_id(cell),)))
        if sku is not None and companies is not None:
            for company_id in companies:
                first = first_line.setdefault((sku, company_id), line)
                if first != line:
                    why = f"company {company_id} already has a cost for SKU {preview(sku)} on line {first}"
                    row.bad.append(
                        BadRow(line, why + " (one cost per product per company); neither line is sent", company)
                    )
                    conflicts.setdefault(first, []).append(
                        BadRow(
                            first,
                            f"company {company_id} is given another cost for SKU {preview(sku)} on line {line}",
                            company,
                        )
                    )
        if row.bad:
            parsed.bad_rows.extend(row.bad)
        elif sku is not None and cost is not None and companies is not None:
            good.append(_CostRow(line, sku, cost, companies))
    groups: dict[tuple[str, Decimal], list[int]] = {}
    for cost_row in good:
        if cost_row.line in conflicts:
            parsed.bad_rows.extend(conflicts[cost_row.line])
            continue
        groups.setdefault((cost_row.sku, cost_row.cost), []).extend(cost_row.companies)
    parsed.products = [ProductCost(sku, cost, tuple(ids)) for (sku, cost), ids in groups.items()]
    parsed.bad_rows.sort()
    return parsed
