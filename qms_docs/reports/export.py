"""Tabular exports for auditors: CSV, Markdown, JSON and XLSX (openpyxl).

Every report is headers plus rows of cells; these functions write them in the format
asked for, so every report has every format. An xlsx sheet also says whose QMS it shows, as
of which day and when it was exported (its first rows and the workbook's properties),
holds dates as dates, and prints landscape with its header row on every page. Cells are
data, never code: text that a spreadsheet would run as a formula (starting with = + - @, a
tab or a carriage return) gets a leading apostrophe in CSV and XLSX, and Markdown cells
escape markup and HTML.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import extras
from ..atomic import write_atomic

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


@dataclass(frozen=True)
class Provenance:
    """What an exported sheet says of itself, for an auditor who holds only the file: whose
    QMS, what report, as it stood on which day, exported when."""

    organization: str
    title: str
    as_of: dt.date
    exported: dt.datetime


#: The first rows of every sheet: organization, report, as-of date, export time; a blank
#: row; then the column headers (row HEADER_ROW), repeated on every printed page.
HEADER_ROW = 6
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?")
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = 'yyyy-mm-dd hh:mm:ss "UTC"'


def sheet_value(value: Any) -> tuple[Any, str | None]:
    """A cell's value for a spreadsheet and its number format: numbers stay numbers, an ISO
    date is a date, an ISO date and time is a date and time in UTC (a spreadsheet has no
    zones; the format says UTC), anything else is text that is never a formula."""
    if isinstance(value, bool) or value is None:
        return _cell(value), None
    if isinstance(value, (int, float)):
        return value, None
    if isinstance(value, dt.datetime):
        return _utc(value), DATETIME_FORMAT
    if isinstance(value, dt.date):
        return value, DATE_FORMAT
    text = _text(value)
    if _DATE.fullmatch(text):
        try:
            return dt.date.fromisoformat(text), DATE_FORMAT
        except ValueError:
            pass
    elif _DATETIME.fullmatch(text):
        try:
            return _utc(dt.datetime.fromisoformat(text)), DATETIME_FORMAT
        except ValueError:
            pass
    return _cell(value), None


def _utc(moment: dt.datetime) -> dt.datetime:
    """``moment`` in UTC without its zone (naive moments are taken as UTC already)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def write_xlsx(path: Path, sheets: Sequence[tuple[str, Sequence[str], Rows]],
               about: Provenance) -> None:
    """One worksheet per (title, headers, rows), each opening with its provenance (also in
    the workbook's properties); bold header row, frozen below it, with filters; dates as
    dates; printed landscape, one page wide, the header row on every page."""
    extras.require("xlsx", "xlsx exports")
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    book.properties.creator = _text(about.organization)
    book.properties.title = f"{about.title} as of {about.as_of.isoformat()}"
    book.properties.subject = about.title
    book.properties.description = (f"{about.organization}: {about.title} as of "
                                   f"{about.as_of.isoformat()}, exported "
                                   f"{about.exported.isoformat()}")
    book.properties.created = _utc(about.exported)
    for title, headers, rows in sheets:
        sheet = book.create_sheet(title[:31])
        sheet.append([_cell(about.organization)])
        sheet.append([_cell(title)])
        sheet.append(["As of", about.as_of])
        sheet.append(["Exported", _utc(about.exported)])
        sheet["A1"].font = Font(bold=True, size=12)
        sheet["A2"].font = Font(bold=True)
        sheet["B3"].number_format = DATE_FORMAT
        sheet["B4"].number_format = DATETIME_FORMAT
        sheet.append([])
        sheet.append([_cell(h) for h in headers])
        for cell in sheet[HEADER_ROW]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="DCE6F0")
        for row in rows:
            values = [sheet_value(v) for v in row]
            sheet.append([v for v, _ in values])
            for cell, (_, number_format) in zip(sheet[sheet.max_row], values, strict=False):
                if number_format:
                    cell.number_format = number_format
        last = get_column_letter(max(len(headers), 1))
        sheet.freeze_panes = f"A{HEADER_ROW + 1}"
        sheet.auto_filter.ref = f"A{HEADER_ROW}:{last}{max(sheet.max_row, HEADER_ROW)}"
        sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        said = f"{about.organization}: {title}, as of {about.as_of.isoformat()}"
        sheet.oddFooter.center.text = said.replace("&", "&&") + "; page &P of &N"
        for index, header in enumerate(headers, start=1):
            width = max([len(str(header)), *(len(_text(r[index - 1])) for r in rows)] or [10])
            sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), 60)
    write_atomic(path, book.save)
