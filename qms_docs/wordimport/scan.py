"""What a Word file holds that its text cannot carry over faithfully, and where.

pandoc converts the text of a .docx; what it drops or flattens without a word (text boxes,
tracked changes, comments, embedded objects, fields) is found here by reading the file's
own XML (a .docx is a zip of XML parts), each with the place it was found: the heading it
stands under and the paragraph's number in that section (table cells' paragraphs count), as
an author finds it again in Word.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from xml.etree import ElementTree as ET

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
O = "{urn:schemas-microsoft-com:office:office}"  # noqa: E741 - the namespace's own name
WORD_FIRST = "accept or reject them in Word first"


@dataclass(frozen=True)
class Problem:
    """One thing of a Word file the import does not carry over faithfully."""

    kind: str  # text box, tracked change, comment, embedded object, field, picture, table,
    # numbered headings
    place: str  # "paragraph 14, under '3.1 Requisition'"
    detail: str  # what was found and what to do

    def __str__(self) -> str:
        return f"{self.place}: {self.kind}: {self.detail}"


def text_of(element: ET.Element) -> str:
    """The visible text of an element (runs' text, tabs as spaces), on one line."""
    parts = []
    for node in element.iter():
        if node.tag in (f"{W}t", f"{W}delText", f"{W}instrText") and node.text:
            parts.append(node.text)
        elif node.tag == f"{W}tab":
            parts.append(" ")
    return " ".join("".join(parts).split())


def _quote(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return f"'{text[:limit - 3]}...'" if len(text) > limit else f"'{text}'"


def _heading_styles(archive: zipfile.ZipFile) -> tuple[set[str], set[str]]:
    """Style ids of headings and the title (by name, so any language's Word works), and of
    those the ones Word numbers itself (``w:numPr`` in the style)."""
    try:
        root = ET.fromstring(archive.read("word/styles.xml"))
    except (KeyError, ET.ParseError):
        return set(), set()
    out, numbered = set(), set()
    for style in root.iter(f"{W}style"):
        name = style.find(f"{W}name")
        label = (name.get(f"{W}val") if name is not None else "") or ""
        outline = style.find(f"{W}pPr/{W}outlineLvl")
        if re.fullmatch(r"(heading \d|title)", label.lower()) or outline is not None:
            ident = style.get(f"{W}styleId") or ""
            out.add(ident)
            if style.find(f"{W}pPr/{W}numPr") is not None:
                numbered.add(ident)
    return out, numbered


def _comments(archive: zipfile.ZipFile) -> dict[str, tuple[str, str]]:
    """Comment id -> (author, text)."""
    try:
        root = ET.fromstring(archive.read("word/comments.xml"))
    except (KeyError, ET.ParseError):
        return {}
    return {c.get(f"{W}id") or "": (c.get(f"{W}author") or "someone", text_of(c))
            for c in root.iter(f"{W}comment")}


def scan(archive: zipfile.ZipFile) -> list[Problem]:
    """Every text box, tracked change, comment, embedded object and field of the body and
    the footnotes, in document order."""
    headings, numbered = _heading_styles(archive)
    comments = _comments(archive)
    problems: list[Problem] = []
    for part, label in (("word/document.xml", "paragraph"), ("word/footnotes.xml", "footnote"),
                        ("word/endnotes.xml", "endnote")):
        try:
            root = ET.fromstring(archive.read(part))
        except KeyError:
            continue
        except ET.ParseError as exc:
            problems.append(Problem("damaged part", part, f"cannot be read ({exc})"))
            continue
        if label == "paragraph":
            _numbered_headings(root, headings, numbered, problems)
        _scan_part(root, label, headings, comments, problems)
    return problems


def _numbered_headings(root: ET.Element, headings: set[str], numbered: set[str],
                       problems: list[Problem]) -> None:
    """Headings that Word numbers itself (1, 1.1, 1.2 ...: a numbered heading style, or a
    heading paragraph with its own numbering): pandoc keeps their text, not the numbers, and
    a "see 3.2" in the text would point nowhere. Said once per file, at the first one."""
    found = [para for para in root.iter(f"{W}p")
             if (style := para.find(f"{W}pPr/{W}pStyle")) is not None
             and style.get(f"{W}val") in headings and text_of(para)
             and (style.get(f"{W}val") in numbered
                  or para.find(f"{W}pPr/{W}numPr") is not None)]
    if found:
        problems.append(Problem(
            "numbered headings", f"heading {_quote(text_of(found[0]), 50)}",
            f"Word numbers {len(found)} heading{'s' if len(found) != 1 else ''} itself; the "
            "numbers are not imported: type them into the headings (in Word, or in the "
            "imported text) where the text refers to sections by number"))


def _fallbacks(root: ET.Element) -> set[int]:
    """Elements inside ``mc:Fallback`` (Word writes a shape twice: the modern way and a
    fallback for old readers); each counts once."""
    return {id(node) for fallback in root.iter(f"{MC}Fallback") for node in fallback.iter()}


def _scan_part(root: ET.Element, label: str, headings: set[str],
               comments: dict[str, tuple[str, str]], problems: list[Problem]) -> None:
    skip = _fallbacks(root)
    boxed = {id(n) for box in root.iter(f"{W}txbxContent") for n in box.iter()}
    in_table = {id(node) for table in root.iter(f"{W}tbl") for node in table.iter()}
    heading = ""
    number = 0
    seen_comments: set[str] = set()
    for para in root.iter(f"{W}p"):
        if id(para) in skip or id(para) in boxed:
            continue  # a text box's paragraphs are reported with the box
        number += 1
        style = para.find(f"{W}pPr/{W}pStyle")
        if style is not None and style.get(f"{W}val") in headings and text_of(para):
            heading, number = text_of(para), 0
            where = f"heading {_quote(heading, 50)}"
        elif label != "paragraph":
            where = f"{label} {number}"
        elif heading:
            where = f"section {_quote(heading, 50)}, paragraph {number}"
        else:
            where = f"paragraph {number} (before the first heading)"
        if id(para) in in_table:
            where += " (in a table)"
        _scan_paragraph(para, where, skip, comments, seen_comments, problems)


def _scan_paragraph(para: ET.Element, where: str, skip: set[int],
                    comments: dict[str, tuple[str, str]], seen_comments: set[str],
                    problems: list[Problem]) -> None:
    changes = []
    fields = []
    for node in _own(para):
        if id(node) in skip:
            continue
        tag = node.tag
        if tag == f"{W}txbxContent":
            problems.append(Problem("text box", where, f"{_quote(text_of(node))} is not "
                                    "imported: move its text into the body in Word"))
        elif tag in (f"{W}ins", f"{W}moveTo", f"{W}del", f"{W}moveFrom"):
            what = "inserted" if tag in (f"{W}ins", f"{W}moveTo") else "deleted"
            shown = text_of(node)
            changes.append(f"{what} {_quote(shown, 40) if shown else 'a paragraph break'} by "
                           f"{node.get(f'{W}author') or 'someone'}")
        elif tag in (f"{W}rPrChange", f"{W}pPrChange"):
            changes.append("a formatting change")
        elif tag == f"{W}commentReference":
            ident = node.get(f"{W}id") or ""
            if ident not in seen_comments:
                seen_comments.add(ident)
                author, text = comments.get(ident, ("someone", ""))
                problems.append(Problem("comment", where, f"by {author}: {_quote(text)} is "
                                        f"not imported; {WORD_FIRST} (resolve or delete "
                                        "the comments)"))
        elif tag in (f"{W}object", f"{O}OLEObject") or (
                tag == f"{A}graphicData" and not (node.get("uri") or "").endswith(
                    ("/picture", "wordprocessingShape"))):
            if tag == f"{O}OLEObject" and _object_counted(para, node):
                continue
            problems.append(Problem("embedded object", where, f"{_object_name(node)} is not "
                                    "imported (at most a picture of it): paste its content "
                                    "as a table or text, or attach the file as a record"))
        elif tag == f"{W}fldSimple":
            fields.append(node.get(f"{W}instr") or "")
        elif tag == f"{W}instrText" and node.text:
            fields.append(node.text)
    if changes:
        problems.append(Problem("tracked change", where, "; ".join(changes) + ": imported as "
                                f"if accepted; {WORD_FIRST}"))
    for instruction in fields:
        code = (instruction.split() or ["?"])[0].upper()
        if code in ("HYPERLINK", "PAGEREF", "REF", "NOTEREF") or not code.isalpha():
            continue  # links and cross-references: pandoc keeps their text
        problems.append(Problem("field", where, f"{code} is computed by Word; at most the value "
                                "it last showed is imported, as plain text that no longer "
                                "updates"))


def _own(para: ET.Element) -> list[ET.Element]:
    """The elements of a paragraph, without those of paragraphs nested in its text boxes
    (a text box's content is reported as the box)."""
    out = []
    nested = {id(n) for box in para.iter(f"{W}txbxContent") for n in box.iter()
              if n is not box}
    for node in para.iter():
        if id(node) not in nested and node is not para:
            out.append(node)
    return out


def _object_counted(para: ET.Element, node: ET.Element) -> bool:
    """An OLE object inside a ``w:object``, which is reported already."""
    return any(node in list(obj.iter()) for obj in para.iter(f"{W}object"))


def _object_name(node: ET.Element) -> str:
    ole = node if node.tag == f"{O}OLEObject" else node.find(f".//{O}OLEObject")
    if ole is not None and ole.get("ProgID"):
        return f"object {ole.get('ProgID')}"
    uri = node.get("uri") or ""
    return f"{uri.rsplit('/', 1)[-1] or 'object'} object" if uri else "object"


def page_header_tables(archive: zipfile.ZipFile) -> list[list[list[str]]]:
    """The tables of the page headers (word/header*.xml: a number and revision on every
    page), as rows of cell texts; pandoc does not import page headers."""
    out = []
    for name in sorted(n for n in archive.namelist()
                       if re.fullmatch(r"word/header\d*\.xml", n)):
        try:
            root = ET.fromstring(archive.read(name))
        except ET.ParseError:
            continue
        for table in root.iter(f"{W}tbl"):
            out.append([[text_of(cell) for cell in row.iter(f"{W}tc")]
                        for row in table.iter(f"{W}tr")])
    return out
