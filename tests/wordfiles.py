"""Real .docx files for the Word import tests, made with python-docx.

python-docx writes paragraphs, headings, tables, merged cells, pictures and comments
itself; footnotes, hyperlinks, text boxes, tracked changes, fields and embedded objects it
cannot, so those are written into its XML tree (the oxml layer) the way Word writes them.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Inches

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
FOOTNOTES_TYPE = ("application/vnd.openxmlformats-officedocument.wordprocessingml."
                  "footnotes+xml")


def png(width: int = 4, height: int = 3, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A small, valid PNG of one colour."""
    row = b"\x00" + bytes(rgb) * width
    raw = row * height

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                                0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@dataclass
class WordSop:
    """What goes into one Word SOP; :meth:`save` writes it."""

    number: str = "SOP-12"
    title: str = "Purchasing"
    revision: str = "C"
    approved_by: str = "J. Smith (Quality Manager), 2024-03-01"
    owner: str = "Purchasing Manager"
    header_table: bool = True
    page_header: str = ""  # a document number in a table of the page header
    history_table: bool = True
    nested_list: bool = True
    merged_table: bool = True
    image: bool = True
    footnote: bool = True
    hyperlink: bool = True
    text_box: bool = False
    tracked_change: bool = False
    comment: bool = False
    field_code: bool = False
    embedded_object: bool = False
    numbered_headings: bool = False  # Word's own numbering on the headings (w:numPr)
    pages: int = 0  # extra filler sections of about one page each
    extra_paragraphs: list[str] = field(default_factory=list)

    def save(self, path: Path) -> Path:
        doc = Document()
        if self.header_table:
            _header_table(doc, self)
        if self.page_header:
            table = doc.sections[0].header.add_table(1, 4, Inches(6))
            for cell, text in zip(table.rows[0].cells, ("Doc. No.", self.page_header, "Rev.",
                                                        self.revision), strict=True):
                cell.text = text
        doc.add_heading("1 Purpose", level=1)
        para = doc.add_paragraph("This procedure describes how we buy ")
        para.add_run("materials").bold = True
        para.add_run(" and ")
        para.add_run("services").italic = True
        para.add_run(" that affect product quality.")
        if self.footnote:
            _footnote(doc, para, "See the supplier list for approved sources.")
        doc.add_heading("2 Scope", level=1)
        scope = doc.add_paragraph("It applies to all purchases of the Bristol site.")
        if self.hyperlink:
            scope.add_run(" The supplier portal is at ")
            _hyperlink(doc, scope, "https://suppliers.example.com/", "the supplier portal")
            scope.add_run(".")
        if self.text_box:
            _text_box(doc, doc.add_paragraph("Note: "), "Call the buyer before ordering.")
        doc.add_heading("3 Procedure", level=1)
        doc.add_heading("3.1 Requisition", level=2)
        if self.nested_list:
            _listed(doc, "Raise a purchase requisition.", 0)
            _listed(doc, "State the part number.", 1)
            _listed(doc, "State the quantity.", 1)
            _listed(doc, "Send it to the buyer.", 0)
            doc.add_paragraph("Before ordering:")
            _listed(doc, "Check the supplier is approved.", 0, numbered=False)
            _listed(doc, "Check the approval date.", 1, numbered=False)
            _listed(doc, "Check the price.", 0, numbered=False)
        if self.tracked_change:
            _tracked_change(doc, doc.add_paragraph("Orders above "), "5000 EUR", "2000 EUR",
                            " need the manager's signature.")
        if self.comment:
            para = doc.add_paragraph("Receipts are checked on arrival.")
            doc.add_comment(para.runs, text="Which form?", author="Reviewer", initials="RV")
        if self.field_code:
            para = doc.add_paragraph("Printed on ")
            para._p.append(parse_xml(f'<w:fldSimple {W} w:instr=" DATE \\@ &quot;yyyy-MM-dd'
                                     '&quot; "><w:r><w:t>2024-01-01</w:t></w:r></w:fldSimple>'))
        if self.embedded_object:
            _embedded_object(doc.add_paragraph("Calculation: "))
        if self.merged_table:
            doc.add_heading("3.2 Responsibilities", level=2)
            _merged_table(doc)
        if self.image:
            doc.add_heading("3.3 Flow", level=2)
            doc.add_picture(io.BytesIO(png()), width=Inches(1))
            doc.add_paragraph("Figure 1: the purchasing flow.")
        for text in self.extra_paragraphs:
            doc.add_paragraph(text)
        for page in range(self.pages):
            _filler(doc, page)
        if self.history_table:
            doc.add_heading("Revision history", level=1)
            table = doc.add_table(rows=1, cols=3)
            for cell, text in zip(table.rows[0].cells, ("Rev", "Date", "Description"),
                                  strict=True):
                cell.text = text
            for row in (("A", "2019-05-02", "First issue"),
                        ("B", "2021-02-11", "New supplier rating"),
                        ("C", "2024-03-01", "Approval limits")):
                cells = table.add_row().cells
                for cell, text in zip(cells, row, strict=True):
                    cell.text = text
        if self.numbered_headings:
            _list_numbering(doc)
            for para in doc.paragraphs:
                if para.style.name.startswith("Heading"):
                    level = int(para.style.name.split()[-1]) - 1
                    para._p.get_or_add_pPr().append(parse_xml(
                        f'<w:numPr {W}><w:ilvl w:val="{level}"/><w:numId w:val="90"/>'
                        '</w:numPr>'))
        path.parent.mkdir(parents=True, exist_ok=True)
        doc.save(str(path))
        return path


def _header_table(doc, sop: WordSop) -> None:
    rows = [("Document No.", sop.number), ("Title", sop.title), ("Revision", sop.revision),
            ("Owner", sop.owner), ("Approved by", sop.approved_by)]
    rows = [(label, value) for label, value in rows if value]
    table = doc.add_table(rows=0, cols=2)
    for label, value in rows:
        cells = table.add_row().cells
        cells[0].text = label
        cells[1].text = value


#: Word's multi-level lists as its own templates define them: level 0 and 1 numbered
#: 1. and a., or bullets on both levels.
LISTS = {90: ("decimal", "lowerLetter"), 91: ("bullet", "bullet")}


def _list_numbering(doc) -> None:
    numbering = doc.part.numbering_part.element
    if numbering.find(qn("w:abstractNum") + '[@' + qn("w:abstractNumId") + '="90"]') is not None:
        return
    first_num = numbering.find(qn("w:num"))
    for ident, formats in LISTS.items():
        levels = "".join(
            f'<w:lvl w:ilvl="{level}"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/>'
            f'<w:lvlText w:val="{"•" if fmt == "bullet" else f"%{level + 1}."}"/>'
            f'<w:pPr><w:ind w:left="{720 * (level + 1)}" w:hanging="360"/></w:pPr></w:lvl>'
            for level, fmt in enumerate(formats))
        first_num.addprevious(parse_xml(f'<w:abstractNum {W} w:abstractNumId="{ident}">'
                                        f'{levels}</w:abstractNum>'))
        numbering.append(parse_xml(f'<w:num {W} w:numId="{ident}"><w:abstractNumId '
                                   f'w:val="{ident}"/></w:num>'))


def _listed(doc, text: str, level: int, numbered: bool = True) -> None:
    """A paragraph of a multi-level list at ``level`` (0 is the outer list)."""
    _list_numbering(doc)
    para = doc.add_paragraph(text, style="List Paragraph")
    ppr = para._p.get_or_add_pPr()
    ppr.append(parse_xml(f'<w:numPr {W}><w:ilvl w:val="{level}"/><w:numId '
                         f'w:val="{90 if numbered else 91}"/></w:numPr>'))


def _merged_table(doc) -> None:
    """A table whose first header cell spans two columns."""
    table = doc.add_table(rows=3, cols=3)
    table.style = "Table Grid"
    top = table.cell(0, 0).merge(table.cell(0, 1))
    top.text = "Who"
    table.cell(0, 2).text = "Does"
    for row, texts in ((1, ("Buyer", "Purchasing", "Places the order")),
                       (2, ("Inspector", "Quality", "Checks the goods"))):
        for col, text in enumerate(texts):
            table.cell(row, col).text = text
    header = table.rows[0]._tr.get_or_add_trPr()
    header.append(parse_xml(f"<w:tblHeader {W}/>"))


def _footnote(doc, para, text: str) -> None:
    """A footnote reference at the end of ``para`` and its note in a footnotes part."""
    part = doc.part
    footnotes = next((rel.target_part for rel in part.rels.values()
                      if rel.reltype == RT.FOOTNOTES), None)
    if footnotes is None:
        xml = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:footnotes {W}>'
               '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p>'
               '</w:footnote><w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r>'
               '<w:continuationSeparator/></w:r></w:p></w:footnote></w:footnotes>')
        footnotes = Part(PackURI("/word/footnotes.xml"), FOOTNOTES_TYPE, xml.encode(),
                         part.package)
        part.relate_to(footnotes, RT.FOOTNOTES)
        footnotes._xml = xml
    number = footnotes._xml.count("<w:footnote ") - 1
    footnotes._xml = footnotes._xml.replace(
        "</w:footnotes>",
        f'<w:footnote w:id="{number}"><w:p><w:r><w:footnoteRef/></w:r><w:r>'
        f'<w:t xml:space="preserve"> {text}</w:t></w:r></w:p></w:footnote></w:footnotes>')
    footnotes._blob = footnotes._xml.encode()
    para._p.append(parse_xml(f'<w:r {W}><w:rPr><w:vertAlign w:val="superscript"/></w:rPr>'
                             f'<w:footnoteReference w:id="{number}"/></w:r>'))


def _hyperlink(doc, para, url: str, text: str) -> None:
    rid = doc.part.relate_to(url, RT.HYPERLINK, is_external=True)
    para._p.append(parse_xml(f'<w:hyperlink {nsdecls("w", "r")} r:id="{rid}"><w:r>'
                             f'<w:t>{text}</w:t></w:r></w:hyperlink>'))


def _text_box(doc, para, text: str) -> None:
    """A text box as Word 2010+ writes it: a drawing shape holding its own paragraphs."""
    para._p.append(parse_xml(
        '<w:r xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
        'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
        'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
        '<w:drawing><wp:anchor distT="0" distB="0" distL="0" distR="0" simplePos="0" '
        'relativeHeight="1" behindDoc="0" locked="0" layoutInCell="1" allowOverlap="1">'
        '<wp:simplePos x="0" y="0"/><wp:positionH relativeFrom="column"><wp:posOffset>0'
        '</wp:posOffset></wp:positionH><wp:positionV relativeFrom="paragraph"><wp:posOffset>0'
        '</wp:posOffset></wp:positionV><wp:extent cx="1828800" cy="457200"/><wp:wrapSquare '
        'wrapText="bothSides"/><wp:docPr id="10" name="Text Box 1"/><a:graphic><a:graphicData '
        'uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"><wps:wsp>'
        '<wps:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="1828800" cy="457200"/></a:xfrm>'
        '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></wps:spPr><wps:txbx>'
        f'<w:txbxContent><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:txbxContent></wps:txbx>'
        '<wps:bodyPr/></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing></w:r>'))


def _tracked_change(doc, para, deleted: str, inserted: str, tail: str) -> None:
    para._p.append(parse_xml(f'<w:del {W} w:id="101" w:author="Reviewer" '
                             'w:date="2024-02-01T10:00:00Z"><w:r><w:delText>'
                             f'{deleted}</w:delText></w:r></w:del>'))
    para._p.append(parse_xml(f'<w:ins {W} w:id="102" w:author="Reviewer" '
                             'w:date="2024-02-01T10:00:00Z"><w:r><w:t>'
                             f'{inserted}</w:t></w:r></w:ins>'))
    para.add_run(tail)


def _embedded_object(para) -> None:
    """An embedded OLE object (an Excel sheet) as Word writes it, without its payload."""
    para._p.append(parse_xml(
        f'<w:r {W} xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:v="urn:schemas-microsoft-com:vml"><w:object><v:shape id="_x0000_i1025" '
        'style="width:100pt;height:50pt"/><o:OLEObject Type="Embed" ProgID="Excel.Sheet.12" '
        'ShapeID="_x0000_i1025" DrawAspect="Content" ObjectID="_1"/></w:object></w:r>'))


def _filler(doc, page: int) -> None:
    """About one page of an SOP: a heading, paragraphs, a short list."""
    doc.add_heading(f"{4 + page} Further requirements, part {page + 1}", level=1)
    sentence = ("The responsible person checks the documents, records the result in the "
                "purchasing log and informs the requester when a deviation is found. ")
    for n in range(5):
        para = doc.add_paragraph(sentence * 3)
        if n == 2:
            para.add_run(" This step is mandatory.").bold = True
    for n in range(3):
        _listed(doc, f"Item {n + 1} of the checklist.", 0, numbered=False)

