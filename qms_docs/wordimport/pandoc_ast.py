"""Small helpers over pandoc's JSON document model (pandoc-types 1.23).

A pandoc element is ``{"t": type, "c": content}``; these functions read the text of
elements, the rows of a table and rewrite lists of elements, so the clean-up in
:mod:`convert` reads as what it does rather than as list indexing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

Node = dict[str, Any]
EMPTY_ATTR: list[Any] = ["", [], []]


def text(value: Any) -> str:
    """The plain text of an element or a list of them, on one line."""
    out: list[str] = []
    _text(value, out)
    return " ".join("".join(out).split())


def _text(value: Any, out: list[str]) -> None:
    if isinstance(value, list):
        for item in value:
            _text(item, out)
    elif isinstance(value, dict):
        kind = value.get("t")
        if kind == "Str":
            out.append(value["c"])
        elif kind in ("Space", "SoftBreak", "LineBreak"):
            out.append(" ")
        elif kind in ("Code", "Math"):
            out.append(value["c"][1])
        elif kind == "Note":
            return  # a footnote is not part of the text it annotates
        elif kind in ("Para", "Plain", "Header", "BulletList", "OrderedList", "Table"):
            out.append(" ")
            _text(value.get("c"), out)
            out.append(" ")
        else:
            _text(value.get("c"), out)


def cells(row: list[Any]) -> list[list[Any]]:
    """The cells of a table row (``[attr, [cell, ...]]``)."""
    return list(row[1])


def table_rows(table: Node) -> Iterator[list[Any]]:
    """Every row of a table: head, each body's head rows and rows, foot."""
    _, _, _, head, bodies, foot = table["c"]
    yield from head[1]
    for body in bodies:
        yield from body[2]
        yield from body[3]
    yield from foot[1]


def row_texts(table: Node) -> list[list[str]]:
    """The text of each cell, row by row."""
    return [[text(cell[4]) for cell in cells(row)] for row in table_rows(table)]


def map_inlines(blocks: list[Any], change: Callable[[Node], list[Node] | None]) -> None:
    """Replace, everywhere inside ``blocks``, each inline element for which ``change``
    returns a list by that list (in place); ``change`` sees the children first."""
    _map(blocks, change)


def _map(value: Any, change: Callable[[Node], list[Node] | None]) -> Any:
    if isinstance(value, list):
        index = 0
        while index < len(value):
            item = value[index]
            _map(item, change)
            replaced = change(item) if isinstance(item, dict) and "t" in item else None
            if replaced is not None:
                value[index:index + 1] = replaced
                index += len(replaced)
            else:
                index += 1
    elif isinstance(value, dict):
        content = value.get("c")
        if isinstance(content, list):
            _map(content, change)
    return value


def walk(value: Any) -> Iterator[Node]:
    """Every element inside ``value``, parents before children."""
    if isinstance(value, list):
        for item in value:
            yield from walk(item)
    elif isinstance(value, dict):
        if "t" in value:
            yield value
        content = value.get("c")
        if isinstance(content, list | dict):
            yield from walk(content)
