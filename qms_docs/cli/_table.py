"""Plain text tables that fit a terminal: columns sized to their content, long cells
wrapped within their column when the whole line would be wider than the terminal.

A reader at an 80- or 120-column terminal must see every column of ``qms history`` without
scrolling sideways; ``--wide`` (width None here) keeps each row on one line for grep.
Short columns (ids, revisions, dates) keep their width: the room is taken from the widest
ones first, and no word shorter than :data:`KEEP_WORD` is broken.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

from ..text import one_line

GAP = "  "
#: A word (an id, a date, a date and time with its zone) up to this long is never broken.
KEEP_WORD = 25
#: Where the table cannot fit otherwise, words up to this long (ids, dates) stay whole.
SHORT_WORD = 10
#: A column is never made narrower than this (unless its content is).
MIN_COLUMN = 6


def table_lines(headers: Sequence[str], rows: Sequence[Sequence[Any]],
                width: int | None = None) -> list[str]:
    """The lines of the table: header, dashes, rows. With ``width``, long cells wrap so
    that each line fits it where the columns' unbreakable words allow; rows then stand
    apart by a blank line, so that a reader sees where each ends."""
    head = [one_line(str(h)) for h in headers]
    cells = [[one_line("" if v is None else str(v)) for v in row] for row in rows]
    natural = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(head)]
    widths = natural if width is None else column_widths(head, cells, natural, width)
    wrapped = widths != natural
    out = _row_lines(head, widths)
    out.append(GAP.join("-" * w for w in widths))
    for index, row in enumerate(cells):
        lines = _row_lines(row, widths)
        if wrapped and index:
            out.append("")
        out += lines
    return out


def column_widths(headers: Sequence[str], cells: Sequence[Sequence[str]],
                  natural: Sequence[int], width: int) -> list[int]:
    """Column widths whose sum (with the gaps) is at most ``width`` if it can be: the
    widest columns are cut down to a common cap, none below its floor (its longest word up
    to :data:`KEEP_WORD`, else :data:`SHORT_WORD`, at least :data:`MIN_COLUMN`, at most its
    content)."""
    room = width - len(GAP) * (len(natural) - 1)
    if sum(natural) <= room:
        return list(natural)
    longest = [max((len(w) for text in (headers[index], *(r[index] for r in cells))
                    for w in text.split()), default=0) for index in range(len(natural))]
    for keep in (KEEP_WORD, 20, 15, SHORT_WORD, 0):  # break only the longest words
        floors = [min(size, max(MIN_COLUMN, min(word, keep)))
                  for size, word in zip(natural, longest, strict=True)]
        if sum(floors) <= room:
            break
    else:
        return floors  # narrower than the narrowest table: as narrow as it gets

    def total(cap: int) -> int:
        return sum(max(f, min(n, cap)) for f, n in zip(floors, natural, strict=True))

    low, high = 0, max(natural)  # the largest cap that fits: total(low) <= room
    while low < high:
        middle = (low + high + 1) // 2
        if total(middle) <= room:
            low = middle
        else:
            high = middle - 1
    widths = [max(f, min(n, low)) for f, n in zip(floors, natural, strict=True)]
    spare = room - sum(widths)
    for index in sorted(range(len(widths)), key=lambda i: -natural[i]):  # leftovers
        if spare <= 0:
            break
        extra = min(spare, natural[index] - widths[index])
        widths[index] += extra
        spare -= extra
    return widths


def _row_lines(row: Sequence[str], widths: Sequence[int]) -> list[str]:
    columns = [_wrap(text, w) for text, w in zip(row, widths, strict=True)]
    height = max(len(c) for c in columns)
    return [GAP.join((c[line] if line < len(c) else "").ljust(w)
                     for c, w in zip(columns, widths, strict=True)).rstrip()
            for line in range(height)]


def _wrap(text: str, width: int) -> list[str]:
    if len(text) <= width:
        return [text]
    return textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False) or [""]
