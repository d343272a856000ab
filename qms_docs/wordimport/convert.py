"""One Word file to the text of a controlled document, through pandoc.

pandoc (from the ``pypandoc-binary`` wheel of the ``import`` extra) reads the .docx into
its document model; the clean-up that makes the result a controlled document is ours:
Word's header and revision-history tables are taken out (what they said goes to the change
record), pictures get names of ours in a folder next to the document, heading levels are
made consecutive, Word's bookmarks and internal anchors are dropped (they would be
duplicate labels in a site of many documents), and for MyST, what a Markdown table cannot
hold is flattened with a warning. pandoc then writes reStructuredText or the Markdown that
MyST reads.
"""

from __future__ import annotations

import hashlib
import io
import json
import posixpath
import subprocess
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..extras import require
from . import pandoc_ast as pa
from .scan import Problem, page_header_tables, scan
from .tables import WordHeader, header_fields, history_rows, is_history_heading

#: Pictures a browser shows (and the journal writes); Word's EMF/WMF and TIFF are not.
#: A Word file larger than this is refused unread; one whose parts unpack to more than
#: MAX_UNPACKED_BYTES is refused before it is unpacked (a few pages of SOP, with pictures,
#: are a few megabytes).
MAX_FILE_BYTES = 100_000_000
MAX_UNPACKED_BYTES = 500_000_000
SMALLER = ("save it with smaller pictures (Word: File > Compress Pictures), or split it into "
           "several documents")
WEB_PICTURES = {".png": ".png", ".jpg": ".jpg", ".jpeg": ".jpg", ".gif": ".gif"}
#: pandoc's Markdown, cut down to what MyST reads without extensions: pipe tables and
#: footnotes stay; attributes, raw HTML, math, fancy list markers and the like go.
MYST_WRITER = ("commonmark_x" + "".join(f"-{e}" for e in (
    "attributes", "raw_html", "raw_attribute", "smart", "tex_math_dollars",
    "definition_lists", "fancy_lists", "task_lists", "strikeout", "bracketed_spans",
    "fenced_divs", "emoji", "alerts", "subscript", "superscript", "yaml_metadata_block",
    "implicit_header_references", "gfm_auto_identifiers")))


@dataclass
class Converted:
    """A Word file read and cleaned up, ready to be written as a document's text."""

    source: Path
    sha256: str
    meta_title: str
    header: WordHeader
    history: list[list[str]]
    blocks: list[Any]
    pictures: list[tuple[str, bytes]]  # (our name, bytes), in order of appearance
    problems: list[Problem] = field(default_factory=list)
    api_version: list[int] = field(default_factory=lambda: [1, 23])  # pandoc's JSON model


def pandoc() -> str:
    """The path of the pandoc that pypandoc-binary ships (or a usage error naming the
    extra)."""
    require("import", "Word files")
    import pypandoc

    try:
        return str(pypandoc.get_pandoc_path())
    except OSError as exc:
        raise InputError(f"pandoc is not available: {exc}",
                         hint="pip install 'qms-docs[import]' installs pypandoc-binary, "
                              "which ships pandoc") from None


def _run(args: list[str], data: bytes | None, source: Path) -> bytes:
    done = subprocess.run([pandoc(), *args], input=data, capture_output=True, check=False)
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InputError(f"pandoc cannot convert it: {message[-1] if message else 'failed'}",
                         path=str(source), hint="open it in Word and save it again as .docx")
    return done.stdout


def read_docx(source: Path, markup: str) -> Converted:
    """Read a Word file and clean it up for ``markup`` (``rst`` or ``md``). A file larger
    than MAX_FILE_BYTES, or whose parts unpack to more than MAX_UNPACKED_BYTES (a zip
    bomb), is refused before anything is unpacked."""
    try:
        size = source.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(f"the file is too large ({size} bytes; the limit is "
                             f"{MAX_FILE_BYTES})", path=str(source), hint=SMALLER)
        raw = source.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", path=str(source)) from None
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            if "word/document.xml" not in archive.namelist():
                raise InputError("a zip file, but not a Word .docx", path=str(source))
            # zipfile stops each part at its stated size: the sum bounds what is unpacked
            unpacked = sum(info.file_size for info in archive.infolist())
            if unpacked > MAX_UNPACKED_BYTES:
                raise InputError(f"the file's parts unpack to {unpacked} bytes (the limit is "
                                 f"{MAX_UNPACKED_BYTES}): not read", path=str(source),
                                 hint=SMALLER)
            problems = scan(archive)
            page_tables = page_header_tables(archive)
            media = {name: archive.read(name) for name in archive.namelist()
                     if name.startswith("word/media/")}
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        hint = ("a .doc (Word 97-2003) is opened in Word and saved as .docx"
                if raw.startswith(b"\xd0\xcf\x11\xe0") else "open it in Word and save it again")
        raise InputError(f"not a Word .docx file, or a damaged one ({exc})", path=str(source),
                         hint=hint) from None
    # the bytes hashed for the change record are the bytes pandoc converts
    document = json.loads(_run(["-f", "docx", "-t", "json"], raw, source))
    meta = document.get("meta", {})
    blocks = document["blocks"]
    header, history = _control_tables(blocks)
    for rows in page_tables:  # what the body's header table did not say
        found = header_fields(rows)
        if found is not None:
            header.merge(found)
    _clean(blocks)
    pictures = _pictures(blocks, media, problems)
    if markup == "md":
        _flatten_tables(blocks, problems)
    return Converted(source, hashlib.sha256(raw).hexdigest(),
                     pa.text(meta.get("title", {}).get("c", [])) if meta.get("title") else "",
                     header, history, blocks, pictures, problems,
                     document.get("pandoc-api-version", [1, 23]))


def write_body(converted: Converted, markup: str, folder: str) -> tuple[str, dict[str, bytes]]:
    """The document's text below its header and its pictures (file name in ``folder`` ->
    bytes); ``folder`` is relative to the document."""
    blocks = json.loads(json.dumps(converted.blocks))
    for node in pa.walk(blocks):
        if node["t"] == "Image":
            node["c"][2][0] = f"{folder}/{node['c'][2][0]}"
    document = {"pandoc-api-version": converted.api_version, "meta": {}, "blocks": blocks}
    writer = "rst" if markup == "rst" else MYST_WRITER
    text = _run(["-f", "json", "-t", writer, "--wrap=auto", "--columns=79"],
                json.dumps(document).encode("utf-8"), converted.source).decode("utf-8")
    text = text.strip("\n")
    if not text.strip():
        raise InputError("holds no text besides Word's header and revision tables",
                         path=str(converted.source), hint="leave the file out, or write the "
                         "procedure in it first")
    return text + "\n", dict(converted.pictures)


# --- Word's control tables ---------------------------------------------------------------

def _control_tables(blocks: list[Any]) -> tuple[WordHeader, list[list[str]]]:
    """Take the header tables (before the first heading) and the revision-history table
    (anywhere, with a heading of its own if it has one) out of ``blocks``."""
    header = WordHeader()
    history: list[list[str]] = []
    index = 0
    seen_heading = False
    while index < len(blocks):
        block = blocks[index]
        if block["t"] == "Header":
            seen_heading = True
        if block["t"] != "Table":
            index += 1
            continue
        rows = pa.row_texts(block)
        found = None if seen_heading else header_fields(rows)
        if found is not None:
            header.merge(found)
            del blocks[index]
            continue
        past = history_rows(rows)
        if past is not None and not history:
            history = past
            del blocks[index]
            start = index - 1
            if (start >= 0 and blocks[start]["t"] == "Header"
                    and is_history_heading(pa.text(blocks[start]["c"][2]))
                    and (index == len(blocks) or blocks[index]["t"] == "Header")):
                del blocks[start]
                index = start
            continue
        index += 1
    return header, history


# --- clean-up ------------------------------------------------------------------------------

def _clean(blocks: list[Any]) -> None:
    """Consecutive heading levels; no bookmarks, anchors, internal links or empty headings."""
    def unwrap(node: pa.Node) -> list[pa.Node] | None:
        kind = node["t"]
        if kind == "Span":
            return list(node["c"][1])  # bookmarks, comments' anchors, styles
        if kind == "Div":
            return list(node["c"][1])
        if kind == "Link" and node["c"][2][0].startswith("#"):
            return list(node["c"][1])  # a link to a bookmark in the same file
        if kind == "Header" and not pa.text(node["c"][2]):
            return []
        return None

    pa.map_inlines(blocks, unwrap)
    level_above = 0
    for node in pa.walk(blocks):
        if node["t"] in ("Header", "Table", "Image", "Link", "Figure", "CodeBlock"):
            node["c"][1 if node["t"] == "Header" else 0] = list(pa.EMPTY_ATTR)
    _join_lists(blocks)
    for block in blocks:
        if block["t"] == "Header":
            level = min(block["c"][0], level_above + 1)
            block["c"][0] = level
            level_above = level


def _join_lists(blocks: list[Any]) -> None:
    """Two bullet lists in a row are one (Word's list styles of two levels give two)."""
    index = 1
    while index < len(blocks):
        if blocks[index]["t"] == "BulletList" and blocks[index - 1]["t"] == "BulletList":
            blocks[index - 1]["c"].extend(blocks.pop(index)["c"])
            continue
        index += 1
    for block in blocks:
        items = (block["c"] if block["t"] == "BulletList" else
                 block["c"][1] if block["t"] == "OrderedList" else [])
        for item in items:
            _join_lists(item)


def _pictures(blocks: list[Any], media: dict[str, bytes], problems: list[Problem]
              ) -> list[tuple[str, bytes]]:
    """Name each picture ``figure-N.ext`` in order of appearance, with its bytes from the
    Word file; a picture a browser cannot show is left out with a warning."""
    names: dict[str, str] = {}
    out: list[tuple[str, bytes]] = []
    section = ""

    def rename(node: pa.Node) -> list[pa.Node] | None:
        if node["t"] != "Image":
            return None
        target = node["c"][2][0]
        data = media.get(posixpath.normpath(posixpath.join("word", target)))
        suffix = WEB_PICTURES.get(posixpath.splitext(target)[1].lower())
        where = f"section '{section}'" if section else "before the first heading"
        if data is None or suffix is None:
            why = ("is not in the file (a linked picture?)" if data is None else
                   "is in a format a browser cannot show")
            problems.append(Problem("picture", where, f"{posixpath.basename(target)} {why}: "
                                    "left out; insert it in Word as PNG or JPEG"))
            return []
        if target not in names:
            names[target] = f"figure-{len(names) + 1}{suffix}"
            out.append((names[target], data))
        node["c"][2][0] = names[target]
        return None

    for block in blocks:
        if block["t"] == "Header":
            section = pa.text(block["c"][2])
        pa.map_inlines([block], rename)
    return out


def _flatten_tables(blocks: list[Any], problems: list[Problem]) -> None:
    """Make every table one a Markdown pipe table can hold: merged cells split (the text
    in the first, the others empty) and each cell's content on one line, with a warning."""
    section = ""
    number = 0
    for node in pa.walk(blocks):
        if node["t"] == "Header":
            section = pa.text(node["c"][2])
        if node["t"] != "Table":
            continue
        number += 1
        merged, multi = _flatten(node)
        where = f"table {number}" + (f" in section '{section}'" if section else "")
        if merged:
            problems.append(Problem("table", where, "merged cells are split (the text stays "
                                    "in the first): Markdown tables cannot merge cells; "
                                    "import as --format rst to keep them"))
        if multi:
            problems.append(Problem("table", where, "cells with several paragraphs or a list "
                                    "are joined into one line: a Markdown table holds one "
                                    "line per cell"))


def _empty_cell() -> list[Any]:
    return [list(pa.EMPTY_ATTR), {"t": "AlignDefault"}, 1, 1, []]


def _flatten(table: pa.Node) -> tuple[bool, bool]:
    """Split the merged cells of a table on the grid of its columns and put each cell's
    content on one line; whether it had merged cells, and cells of several blocks."""
    width = len(table["c"][2])
    covered = [0] * width  # rows still covered by a cell merged from above
    merged = multi = False
    for row in pa.table_rows(table):
        given = iter(row[1])
        out: list[Any] = []
        column = 0
        while column < width:
            if covered[column] > 0:
                covered[column] -= 1
                out.append(_empty_cell())
                column += 1
                continue
            cell = next(given, None)
            if cell is None:
                out.append(_empty_cell())
                column += 1
                continue
            rows, columns = cell[2], max(1, cell[3])
            merged = merged or rows > 1 or columns > 1
            for spanned in range(column, min(column + columns, width)):
                covered[spanned] = rows - 1
            content = cell[4]
            if len(content) > 1 or any(b["t"] not in ("Plain", "Para") for b in content):
                multi = True
                content = [{"t": "Plain", "c": _one_line(content)}]
            cell[2], cell[3], cell[4] = 1, 1, content
            out.append(cell)
            out.extend(_empty_cell() for _ in range(columns - 1))
            column += columns
        row[1] = out
    return merged, multi


def _one_line(blocks: list[Any]) -> list[pa.Node]:
    """Blocks of a cell as inlines on one line: paragraphs and list items joined."""
    out: list[pa.Node] = []
    for block in blocks:
        kind = block["t"]
        parts: list[list[Any]]
        if kind in ("Plain", "Para"):
            parts = [block["c"]]
        elif kind in ("BulletList", "OrderedList"):
            items = block["c"] if kind == "BulletList" else block["c"][1]
            parts = [[{"t": "Str", "c": "\u2022"}, {"t": "Space"},
                      *_one_line(item)] for item in items]
        else:
            parts = [[{"t": "Str", "c": pa.text(block)}]]
        for part in parts:
            if out:
                out.append({"t": "Space"})
            out.extend(part)
    return out
