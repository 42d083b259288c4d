"""Tables to an xlsx workbook (openpyxl, write-only mode: constant memory for long lists)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from laoke.core.clock import to_local


def xlsx_text(value: str) -> str:
    """A string as a cell can hold it: without the control characters xlsx forbids (openpyxl
    refuses them, and any text a user typed may hold one)."""
    return ILLEGAL_CHARACTERS_RE.sub("", value)


def _cell(value):
    if isinstance(value, datetime):  # shown in shop time, as naive (xlsx has no time zones)
        return to_local(value).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, (dict, list, tuple, set)):
        value = str(value)
    return xlsx_text(value) if isinstance(value, str) else value


def workbook_bytes(sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence]]]) -> bytes:
    """``[(sheet title, headers, rows), …]`` → the bytes of an xlsx file. Titles are cut to
    Excel's 31 characters; datetimes are written in shop time."""
    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    for title, headers, rows in sheets:
        ws = wb.create_sheet(title[:31] or "Sheet")
        header_cells = []
        for h in headers:
            c = WriteOnlyCell(ws, value=h)
            c.font = bold
            header_cells.append(c)
        ws.append(header_cells)
        for row in rows:
            ws.append([_cell(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
