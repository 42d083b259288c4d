"""Reading the tables shops upload: CSV in any encoding Chinese software writes, or xlsx.

One reader for every import (members, orders, products, coupon codes, Taobao reports, external
campaigns, page views), so the quirks of real exports are handled once:

- Encoding: UTF-8 (with or without a BOM) is tried first, then GB18030 — a superset of GBK and
  GB2312, which Excel and the Taobao seller centre write on Chinese Windows. A file whose lines mix
  the two (two exports pasted together) is decoded line by line; a line neither can decode is a
  row error, never a silent replacement character.
- Headers: full-width letters, digits and brackets folded (NFKC), surrounding and repeated spaces
  removed; empty trailing columns dropped. ``订单编号 `` and ``订单编号`` are the same column.
- Cells: spreadsheet guards removed — ``="123"`` and ``=123`` (Excel text formulas that keep long
  order numbers from becoming 1.23E+18), a leading apostrophe (``'13812345678``), tab characters
  Taobao appends to numbers — and surrounding whitespace.
- Rows are numbered as the file shows them (the header is row 1), blank rows skipped, so every
  error names the row an operator can find in Excel.
"""

from __future__ import annotations

import csv
import gc
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from laoke.core.errors import ErrorCode, RowError, define

TABLE_UNREADABLE = define(
    "TABLE_UNREADABLE", 422, "无法读取文件 {file}：{reason}", "The file {file} cannot be read: {reason}"
)
ROW_UNDECODABLE = define(
    "ROW_UNDECODABLE",
    422,
    "该行的文字编码无法识别（既不是 UTF-8 也不是 GBK/GB18030）",
    "This row's text is neither UTF-8 nor GBK/GB18030",
)
ROW_HEADER_MISSING = define(
    "ROW_HEADER_MISSING", 422, "缺少列“{column}”", "The column \u201c{column}\u201d is missing"
)
ROW_COLUMNS = define(
    "ROW_COLUMNS",
    422,
    "该行的列数不对（表头有 {expected} 列）",
    "Wrong number of cells (the header has {expected})",
)
ROW_EMPTY_FILE = define("ROW_EMPTY_FILE", 422, "文件中没有数据行", "The file holds no rows")
ROW_REQUIRED = define("ROW_REQUIRED", 422, "“{column}”不能为空", "\u201c{column}\u201d is required")
ROW_TOO_LONG = define(
    "ROW_TOO_LONG", 422, "“{column}”过长（最多 {max} 个字符）", "\u201c{column}\u201d is too long (max {max})"
)
ROW_DATETIME = define(
    "ROW_DATETIME",
    422,
    "“{column}”不是有效的时间（如 2026-11-11 10:00:00）",
    "\u201c{column}\u201d is not a date and time (e.g. 2026-11-11 10:00:00)",
)
ROW_DATE = define(
    "ROW_DATE",
    422,
    "“{column}”不是有效的日期（如 1990-05-01）",
    "\u201c{column}\u201d is not a date (e.g. 1990-05-01)",
)
ROW_AMOUNT = define(
    "ROW_AMOUNT",
    422,
    "“{column}”不是有效的金额（元，最多两位小数，不能为负）",
    "\u201c{column}\u201d is not an amount (yuan, at most 2 decimals, not negative)",
)
ROW_INTEGER = define(
    "ROW_INTEGER",
    422,
    "“{column}”须为 {min} 到 {max} 之间的整数",
    "\u201c{column}\u201d must be a whole number from {min} to {max}",
)
ROW_CHOICE = define(
    "ROW_CHOICE", 422, "“{column}”须为以下之一：{choices}", "\u201c{column}\u201d must be one of: {choices}"
)

MAX_BYTES = 512 * 1024 * 1024


def normalize_header(value: object) -> str:
    """``' 订单编号 '`` → ``'订单编号'``; full-width forms folded; inner runs of spaces made one."""
    text = unicodedata.normalize("NFKC", "" if value is None else str(value)).replace("\ufeff", "")
    return re.sub(r"\s+", " ", text).strip()


_FORMULA = re.compile(r'^="(.*)"$', re.S)


def clean_cell(value: object) -> str:
    """A cell as text, spreadsheet guards removed (see the module docstring)."""
    if value.__class__ is str:  # the usual cell, returned as it is (a million cells a file)
        if not value:
            return value
        first = value[0]
        if (
            first != "="
            and first != "'"
            and not first.isspace()
            and not value[-1].isspace()
            and "\t" not in value
        ):
            return value
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # xlsx stores 13812345678 as 13812345678.0
    text = str(value).replace("\t", "").strip()
    m = _FORMULA.match(text)
    if m:
        return m.group(1).strip()
    if text.startswith("=") and text[1:].isdigit():
        return text[1:]
    if text.startswith("'"):
        return text[1:].strip()
    return text


@dataclass
class Table:
    """A file read into rows of cleaned text. ``rows`` are (row number, cells); ``problems`` holds
    what the reader itself found (undecodable lines)."""

    name: str
    headers: list[str]
    rows: list[tuple[int, list[str]]]
    encoding: str
    problems: list[RowError] = field(default_factory=list)
    # Cells of the header row as written (empty trailing ones included), and for a CSV {row
    # number: cells as written} of the rows whose count differs from it — for readers that insist
    # on a rectangular file (trailing empty cells are dropped from ``rows``, so they cannot tell).
    width: int = 0
    ragged: dict[int, int] = field(default_factory=dict)

    def index(
        self, wanted: dict[str, str | None], required: set[str]
    ) -> tuple[dict[str, int], list[RowError]]:
        """Column positions of the fields in ``wanted`` (field → header, None = not in the file).
        A required field whose header is absent is a ROW_HEADER_MISSING (row 1)."""
        pos = {h: i for i, h in reversed(list(enumerate(self.headers)))}  # first of duplicates wins
        out: dict[str, int] = {}
        errors: list[RowError] = []
        for fld, header in wanted.items():
            key = normalize_header(header) if header else ""
            if key and key in pos:
                out[fld] = pos[key]
            elif fld in required:
                errors.append(RowError(self.name, 1, header or fld, "", ROW_HEADER_MISSING))
        return out, errors

    def records(self, columns: dict[str, int]) -> Iterator[tuple[int, dict[str, str]]]:
        """Each row as {field: cleaned text} for the fields of ``columns`` (missing cells are "")."""
        for number, cells in self.rows:
            n = len(cells)
            yield number, {f: (cells[i] if i < n else "") for f, i in columns.items()}


_BAD = "\ufffe"  # a noncharacter: marks a line neither encoding decodes (mixed files)
_BAD_LINE = re.compile(_BAD + r"(\d+)" + _BAD)


def _decode(data: bytes) -> tuple[str, str, dict[int, bytes]]:
    """(text, encoding label, {physical line number: raw bytes} of the undecodable lines). In a
    mixed file such a line is replaced by a marker naming it, so the row it ends up in is
    numbered like every other (a quoted cell may span several physical lines)."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig", {}
        except UnicodeDecodeError:
            data = data[3:]
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding), encoding, {}
        except UnicodeDecodeError:
            continue
    lines, bad = [], {}
    for number, raw in enumerate(data.split(b"\n"), start=1):
        for encoding in ("utf-8", "gb18030"):
            try:
                lines.append(raw.decode(encoding))
                break
            except UnicodeDecodeError:
                continue
        else:
            lines.append(f"{_BAD}{number}{_BAD}")
            bad[number] = raw
    return "\n".join(lines), "mixed", bad


def _csv_rows(text: str) -> list[list[str]]:
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _xlsx_rows(data: bytes, name: str) -> list[list[object]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds (zipfile, KeyError, InvalidFileException)
        raise_unreadable(name, f"xlsx: {exc.__class__.__name__}")
    try:
        ws = wb.worksheets[0]
        # Read-only mode trusts the sheet's <dimension>, which some exporters write wrong (A1):
        # it would silently stop after the first row.
        ws.reset_dimensions()
        return [list(r) for r in ws.iter_rows(values_only=True)]
    finally:
        wb.close()


def raise_unreadable(name: str, reason: str):
    from laoke.core.errors import DomainError

    raise DomainError(TABLE_UNREADABLE, file=name, reason=reason, details={"file": name})


def read_table(data: bytes, name: str) -> Table:
    """Read a CSV or xlsx file (xlsx is recognised by its zip signature, not by its name)."""
    # A 200,000-order report is millions of cells in lists the cyclic garbage collector would
    # scan again and again (a third of the time); they form no cycles.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _read_table(data, name)
    finally:
        if enabled:
            gc.enable()


def _clean_row(raw: list[str]) -> list[str]:
    """clean_cell of every cell of a CSV row; a plain text cell (most of them) is kept without a
    call: one that starts with neither = nor ' nor a space, ends with no space and holds no tab."""
    return [
        c
        if not c or (c[0] not in "='" and not c[0].isspace() and not c[-1].isspace() and "\t" not in c)
        else clean_cell(c)
        for c in raw
    ]


def _read_table(data: bytes, name: str) -> Table:
    if len(data) > MAX_BYTES:
        raise_unreadable(name, f"> {MAX_BYTES // 1024 // 1024} MB")
    bad: dict[int, bytes] = {}
    if data[:4] == b"PK\x03\x04":
        raw_rows: list[list] = _xlsx_rows(data, name)
        encoding = "xlsx"
    else:
        if b"\x00" in data[:4096]:
            raise_unreadable(name, "binary (UTF-16 or not a table)")
        text, encoding, bad = _decode(data)
        raw_rows = _csv_rows(text)
    problems: list[RowError] = []

    def undecodable(number: int, row: list) -> bool:
        for cell in row:
            m = _BAD_LINE.search(cell) if isinstance(cell, str) else None
            if m:
                raw = bad.get(int(m.group(1)), b"")
                problems.append(RowError(name, number, "", raw[:60].hex(" "), ROW_UNDECODABLE))
                return True
        return False

    header_at = None
    for i, r in enumerate(raw_rows):
        if bad and undecodable(i + 1, r):
            continue
        if any(clean_cell(c) for c in r):
            header_at = i
            break
    if header_at is None:
        return Table(name, [], [], encoding, [*problems, RowError(name, 1, "", "", ROW_EMPTY_FILE)])
    headers = [normalize_header(h) for h in raw_rows[header_at]]
    width = len(headers)
    while headers and not headers[-1]:
        headers.pop()  # empty trailing columns
    rows: list[tuple[int, list[str]]] = []
    ragged: dict[int, int] = {}
    for i in range(header_at + 1, len(raw_rows)):
        number = i + 1
        raw = raw_rows[i]
        if bad and undecodable(number, raw):
            continue
        cells = [clean_cell(c) for c in raw] if encoding == "xlsx" else _clean_row(raw)
        n = len(cells)
        while cells and not cells[-1]:
            cells.pop()
        if cells:
            rows.append((number, cells))
            if n != width and encoding != "xlsx":  # a sheet has no ragged rows, only empty cells
                ragged[number] = n
    return Table(name, headers, rows, encoding, problems, width=width, ragged=ragged)


# --- cell parsers: each returns the value or records a RowError and returns None -----------------


@dataclass
class Cells:
    """Parses the cells of one row of ``file``, collecting problems into ``errors``."""

    file: str
    errors: list[RowError]
    headers: dict[str, str] = field(default_factory=dict)  # field → the header shown in errors

    def __post_init__(self):
        from laoke.core.clock import shop_tz

        self.tz = shop_tz()

    def error(self, row: int, fld: str, value: str, code: ErrorCode, **params) -> None:
        column = self.headers.get(fld, fld)
        self.errors.append(RowError(self.file, row, column, value, code, tuple(params.items())))

    def text(self, row: int, cells: dict, fld: str, max_len: int, *, required: bool = False) -> str:
        value = cells.get(fld, "")
        if not value:
            if required:
                self.error(row, fld, value, ROW_REQUIRED)
            return ""
        if len(value) > max_len:
            self.error(row, fld, value, ROW_TOO_LONG, max=max_len)
            return ""
        return value

    def when(self, row: int, cells: dict, fld: str, *, required: bool = False) -> datetime | None:
        value = cells.get(fld, "")
        if not value:
            if required:
                self.error(row, fld, value, ROW_REQUIRED)
            return None
        parsed = parse_time(value, self.tz)
        if parsed is None:
            self.error(row, fld, value, ROW_DATETIME)
        return parsed

    def day(self, row: int, cells: dict, fld: str) -> date | None:
        value = cells.get(fld, "")
        if not value:
            return None
        parsed = parse_date(value)
        if parsed is None:
            self.error(row, fld, value, ROW_DATE)
        return parsed

    def fen(self, row: int, cells: dict, fld: str, *, required: bool = False) -> int | None:
        value = cells.get(fld, "")
        if not value:
            if required:
                self.error(row, fld, value, ROW_REQUIRED)
            return None
        parsed = parse_yuan(value)
        if parsed is None:
            self.error(row, fld, value, ROW_AMOUNT)
        return parsed

    def integer(
        self, row: int, cells: dict, fld: str, *, lo: int = 0, hi: int = 10**9, required: bool = False
    ) -> int | None:
        value = unicodedata.normalize("NFKC", cells.get(fld, "")).replace(",", "")
        if not value:
            if required:
                self.error(row, fld, value, ROW_REQUIRED)
            return None
        try:
            number = int(Decimal(value)) if Decimal(value) == int(Decimal(value)) else None
        except (ArithmeticError, ValueError):
            number = None
        if number is None or not lo <= number <= hi:
            self.error(row, fld, value, ROW_INTEGER, min=lo, max=hi)
            return None
        return number


_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d",
    "%Y/%m/%d",
)


def parse_time(value: str, tz=None) -> datetime | None:
    """A timestamp as shops write it, read in shop time (``tz``: the shop's zone, looked up when
    not given) — or None. ISO 8601 with an offset is honoured; 2026/11/11 1:02:03 (Excel) and a
    date alone (midnight) are accepted."""
    text = value.strip() if value.isascii() else unicodedata.normalize("NFKC", value).strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = None
        for fmt in _TIME_FORMATS:
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        if parsed is None:
            return None
    if parsed.tzinfo is None:
        if tz is None:
            from laoke.core.clock import shop_tz

            tz = shop_tz()
        parsed = parsed.replace(tzinfo=tz)
    if not 1990 <= parsed.year <= 2100:
        return None
    return parsed


def parse_date(value: str) -> date | None:
    text = unicodedata.normalize("NFKC", value).strip().replace("/", "-")
    text = re.sub(r"(\d{4})年(\d{1,2})月(\d{1,2})日?", r"\1-\2-\3", text)
    try:
        y, m, d = (int(p) for p in text.split(" ")[0].split("-"))
        return date(y, m, d)
    except (ValueError, TypeError):
        return None


_YUAN = re.compile(r"^(\d{1,12})(?:\.(\d{1,2})0*)?$")


def parse_yuan(value: str) -> int | None:
    """'1,299.5' / '¥1299.50' / '１２９９．５' → 129950 fen; negative or more than 2 decimals → None."""
    whole, dot, frac = value.partition(".")
    if (
        whole.isdigit()
        and whole.isascii()
        and len(whole) <= 12
        and (not dot or (frac.isdigit() and frac.isascii()))
    ):
        if len(frac) <= 2 or not frac[2:].strip("0"):  # the usual cell: '129.50'
            return int(whole) * 100 + int((frac[:2] or "0").ljust(2, "0"))
    text = unicodedata.normalize("NFKC", value).strip().lstrip("¥").replace(",", "").strip()
    if text.startswith("."):
        text = "0" + text
    m = _YUAN.match(text)
    if not m:
        return None
    cents = (m.group(2) or "").ljust(2, "0")
    return int(m.group(1)) * 100 + int(cents)
