"""The committed import fixtures (tests/fixtures/imports, see its README) and their xlsx variants.

xlsx files are never committed: :func:`as_xlsx` builds one from a fixture CSV at test time the way
Excel's "save as xlsx" keeps the cells (numbers and times typed, ``="…"`` guards unwrapped).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from laoke.imports.generator import xlsx_bytes

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"


def fixture_path(name: str) -> Path:
    return FIXTURES / name


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def csv_rows(data: bytes, encoding: str) -> list[list[str]]:
    """The raw cells of a CSV (the stdlib reader, no cleaning), blank lines kept as []."""
    return list(csv.reader(io.StringIO(data.decode(encoding), newline="")))


def as_xlsx(csv_bytes: bytes, encoding: str) -> bytes:
    """The CSV as an xlsx workbook of one sheet, row for row (a blank line stays a blank row)."""
    return xlsx_bytes(csv_rows(csv_bytes, encoding))
