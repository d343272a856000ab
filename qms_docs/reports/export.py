"""Tabular exports for auditors: CSV, Markdown, JSON and XLSX (openpyxl).

Every report is headers plus rows of cells; these functions write them in the format
asked for, so every report has every format. Cells are data, never code: text that a
spreadsheet would run as a formula (starting with = + - @, a tab or a carriage return) gets
a leading apostrophe in CSV and XLSX, and Markdown cells escape markup and HTML.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import extras
from ..journal import write_atomic

Rows = Sequence[Sequence[Any]]


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_MARKDOWN = re.compile(r"([\\`*_\[\]<>|~&])")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _cell(value: Any) -> str:
    """A cell's text for a spreadsheet: never a formula (numbers stay numbers)."""
    text = _text(value)
    if isinstance(value, str) and text.startswith(FORMULA_START):
        return "'" + text
    return text


def to_csv(headers: Sequence[str], rows: Rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([_cell(h) for h in headers])
    writer.writerows([[_cell(v) for v in row] for row in rows])
    return buffer.getvalue()


def to_markdown(headers: Sequence[str], rows: Rows) -> str:
    def cell(value: Any) -> str:
        return _MARKDOWN.sub(r"\\\1", re.sub(r"[\r\n]+", " ", _text(value)))

    lines = ["| " + " | ".join(cell(h) for h in headers) + " |",
             "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"


def write_xlsx(path: Path, sheets: Sequence[tuple[str, Sequence[str], Rows]]) -> None:
    """One worksheet per (title, headers, rows): bold header, frozen panes, filters."""
    extras.require("xlsx", "xlsx exports")
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    for title, headers, rows in sheets:
        sheet = book.create_sheet(title[:31])
        sheet.append(list(headers))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="DCE6F0")
        for row in rows:
            sheet.append([v if isinstance(v, (int, float)) else _cell(v) for v in row])
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = sheet.dimensions
        for index, header in enumerate(headers, start=1):
            width = max([len(str(header)), *(len(_text(r[index - 1])) for r in rows)] or [10])
            sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), 60)
    write_atomic(path, book.save)
