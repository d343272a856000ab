"""The whole QMS in one PDF (``qms-manual.pdf``): its contents, then every document's
own PDF, joined by qpdf (pikepdf) and numbered as a book is.

Only the contents are rendered here (in parts, each kept in the PDF cache: pdfs.py); the
documents' PDFs are the ones the build made, copied page by page. The contents pages are
numbered i, ii, iii and the documents' pages 1 to M, so where a document starts does not
depend on how long the contents are, and the contents are made once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import logging
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__, pdfs
from .model import Document
from .status import StatusInfo

if TYPE_CHECKING:  # the pdf extra
    import pikepdf


#: Rows of the manual's contents made into one PDF: each part is cached on its own, so an
#: edit renders again only the part that lists the document (about a second; the whole
#: contents of 1000 documents took ten). A part begins on a new page: 100 rows, six to
#: nine pages, leave one page of the contents part-filled in every few.
CONTENTS_ROWS = 100


def manual_pdf(target: Path, organization: str, documents: list[Document],
                statuses: dict[str, StatusInfo], paths: list[Path], controlled: bool,
                today: dt.date, pdf_cache: pdfs.PdfCache | None = None) -> None:
    """The whole QMS in one PDF: contents listing every document and the manual page it
    starts on, then each document's own PDF; the contents numbered i, ii, iii and the
    documents' pages 1 to M (:func:`assemble`), so where a document starts does not depend
    on how long the contents are.

    Nothing is rendered again but the parts of the contents whose rows changed: the
    contents are made in parts of CONTENTS_ROWS rows, each cached under the digest of
    what it shows."""
    import pikepdf

    by_id = {p.stem: p for p in paths}
    shown = [d for d in documents if d.id in by_id]
    pdf_cache = pdf_cache or pdfs.PdfCache(None, None)
    date = pdfs.pdf_date(today)
    with (opened(by_id[d.id] for d in shown) as sources,
          tempfile.TemporaryDirectory(prefix="qms-pdf-cover-") as folder):
        starts, page = {}, 1
        for doc, source in zip(shown, sources, strict=True):
            starts[doc.id], page = page, page + len(source.pages)
        contents: list[Path] = []
        for first in range(0, max(len(shown), 1), CONTENTS_ROWS):
            part = Path(folder) / f"contents-{first}.pdf"
            html_text = contents_html(organization, shown[first:first + CONTENTS_ROWS],
                                    statuses, starts, controlled, today, opening=first == 0)
            digest = pdfs.string_digest(html_text, date)
            if not pdf_cache.fetch(digest, part):
                pdfs.render_string(html_text, part, date)
                pdf_cache.store(digest, part)
            contents.append(part)
        stamp = "D:" + today.strftime("%Y%m%d") + "000000Z"
        parts: list[tuple[Path | pikepdf.Pdf, str | None]] = [(c, None) for c in contents]
        parts += [(source, d.id) for d, source in zip(shown, sources, strict=True)]
        assemble(target, parts, {
            "/Producer": f"qms-docs {__version__} (pikepdf {pikepdf.__version__})",
            "/Title": f"{organization}: Quality Management System",
            "/CreationDate": stamp, "/ModDate": stamp}, front=sum(page_counts(contents)))


def contents_html(organization: str, documents: list[Document], statuses: dict[str, StatusInfo],
                starts: dict[str, int], controlled: bool, today: dt.date,
                opening: bool = True) -> str:
    """A part of the manual's contents: ``documents``' rows, under the manual's title and
    what the contents are when ``opening`` (the first part), else under the table's head."""
    rows = "".join(
        f"<tr><td>{html.escape(d.id)}</td><td>{html.escape(d.title)}</td>"
        f"<td>{d.revision}</td><td>{html.escape(statuses[d.id].label)}</td>"
        f"<td>{statuses[d.id].effective or ''}</td><td>{starts[d.id]}</td></tr>"
        for d in documents)
    mode = "Controlled copy" if controlled else "Preview (working tree)"
    title = f"""<h1>{html.escape(organization)}</h1><h2>Quality Management System</h2>
      <p>{mode}, status as of {today.isoformat()}. The controlled copy is the published
      site; check the revision of any printout against it. Page: where the document starts
      in this manual (the number at the foot of each page).</p>""" if opening else ""
    return f"""<html><head><style>
      @page {{ size: A4; margin: 25mm 18mm; @bottom-left {{ content: "Uncontrolled when printed";
        font-size: 8pt; color: #8a1c1c; }} }}
      {pdfs.print_fonts()}
      body {{ font-size: 10pt; }}
      h1 {{ font-size: 22pt; margin-bottom: 2mm; }}
      table {{ border-collapse: collapse; width: 100%; table-layout: fixed; }}
      td, th {{ border: 1px solid #bbb; padding: 1.5mm 2mm; text-align: left;
        overflow-wrap: break-word; }}
      tr {{ page-break-inside: avoid; }}
    </style></head><body>
      {title}
      <table><colgroup><col style="width: 12%"><col style="width: 39%"><col style="width: 8%">
      <col style="width: 15%"><col style="width: 16%"><col style="width: 10%"></colgroup>
      <thead><tr><th>Id</th><th>Title</th><th>Rev.</th><th>Status</th><th>Effective</th>
      <th>Page</th></tr></thead>
      <tbody>{rows}</tbody></table></body></html>"""


#: The font of the page-number line: the family of the PDFs' text (print-fonts.css).
PAGE_NUMBER_FAMILY = "DejaVu Sans"
PAGE_NUMBER_SIZE = 7.0
PAGE_NUMBER_RISE = 14.0  # points above the page's bottom edge: below the running footer
_NUMBER_CHARS = "Manual Contents page of 0123456789ivxlcdm"
#: Widths of Helvetica's glyphs (1/1000 em): the line's font where the family is missing.
_HELVETICA = {**dict.fromkeys("0123456789aegnou", 556), " ": 278, "f": 278, "l": 222,
              "M": 833, "P": 667}


@dataclass(frozen=True)
class _NumberFont:
    """The page-number line's font in the manual, and its glyphs' widths (1/1000 em)."""

    font: pikepdf.Object
    widths: dict[str, int]


def _font_file(family: str) -> Path | None:
    """The file fontconfig gives for ``family``, if it is that family (not a substitute)."""
    command = shutil.which("fc-match")
    if command is None:
        return None
    found = subprocess.run([command, "-f", "%{family}\t%{file}", family],
                           capture_output=True, text=True, check=False).stdout
    families, _, file = found.partition("\t")
    if family not in families.split(",") or not file.endswith((".ttf", ".otf")):
        return None
    return Path(file)


def _number_font(pdf: pikepdf.Pdf) -> _NumberFont:
    """The family of the documents' text, embedded once in ``pdf`` as a TrueType subset of
    the characters of "Manual page N of M" (a few kilobytes): the numbers are set in the
    same family as every other line of the manual. Where fontconfig does not have it,
    Helvetica, which every PDF reader has (nothing embedded)."""
    import io

    import pikepdf

    path = _font_file(PAGE_NUMBER_FAMILY)
    if path is None or path.suffix != ".ttf":
        return _NumberFont(pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
            BaseFont=pikepdf.Name.Helvetica, Encoding=pikepdf.Name.WinAnsiEncoding)),
            _HELVETICA)
    from fontTools import subset  # WeasyPrint's own dependency
    from fontTools.ttLib import TTFont

    font = TTFont(str(path), recalcTimestamp=False)  # the same bytes on every build
    subsetter = subset.Subsetter(subset.Options(notdef_outline=True, recalc_timestamp=False))
    subsetter.populate(text=_NUMBER_CHARS)
    quiet = logging.getLogger("fontTools")  # "FFTM NOT subset ... dropped": for nobody
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        subsetter.subset(font)
    finally:
        quiet.setLevel(level)
    data = io.BytesIO()
    font.save(data)
    scale = 1000 / font["head"].unitsPerEm
    cmap, metrics = font.getBestCmap(), font["hmtx"]
    widths = {c: round(metrics[cmap[ord(c)]][0] * scale) for c in set(_NUMBER_CHARS)}
    codes = range(ord(" "), ord("z") + 1)
    head, os2 = font["head"], font["OS/2"]
    tag = "".join(chr(65 + b % 26) for b in hashlib.sha256(data.getvalue()).digest()[:6])
    name = pikepdf.Name("/" + tag + "+" + PAGE_NUMBER_FAMILY.replace(" ", "-"))
    descriptor = pikepdf.Dictionary(
        Type=pikepdf.Name.FontDescriptor, FontName=name, Flags=32, ItalicAngle=0,
        FontBBox=[round(v * scale) for v in (head.xMin, head.yMin, head.xMax, head.yMax)],
        Ascent=round(os2.sTypoAscender * scale), Descent=round(os2.sTypoDescender * scale),
        CapHeight=round(getattr(os2, "sCapHeight", os2.sTypoAscender) * scale), StemV=80,
        FontFile2=pdf.make_stream(data.getvalue()))
    return _NumberFont(pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.TrueType, BaseFont=name,
        FirstChar=codes[0], LastChar=codes[-1], Encoding=pikepdf.Name.WinAnsiEncoding,
        Widths=[widths.get(chr(c), 0) for c in codes],
        FontDescriptor=pdf.make_indirect(descriptor))), widths)


def page_counts(paths: Iterable[Path]) -> list[int]:
    with opened(paths) as pdfs:
        return [len(pdf.pages) for pdf in pdfs]


@contextmanager
def opened(paths: Iterable[Path]) -> Iterator[list[pikepdf.Pdf]]:
    """The PDFs at ``paths``, open (each is read once: counted, then joined)."""
    import pikepdf

    pdfs: list[pikepdf.Pdf] = []
    try:
        for path in paths:
            pdfs.append(pikepdf.open(path))
        yield pdfs
    finally:
        for pdf in pdfs:
            pdf.close()


def assemble(target: Path, parts: list[tuple[Path | pikepdf.Pdf, str | None]],
             metadata: dict[str, str], front: int = 0) -> int:
    """Join the PDFs ``parts`` (a path or an open PDF, and its outline entry or None) into
    ``target`` and number its pages as a book does: the first ``front`` pages (the
    contents) "Contents page i of iii", the rest "Manual page N of M" from 1, under each
    page's own footer, with page labels to match (a viewer shows i, ii, iii, 1, 2 ...).
    Returns M.

    Each document keeps its running header, its own "Page X of Y" and its bookmarks (under
    one entry per document); the manual's number is what a reader of the printed manual
    looks up in the cover's table of contents. qpdf (through pikepdf) joins them: copying
    pages between PDFs in pure Python (pypdf) took a third of a second per document, more
    than rendering it. The file's /ID is a digest of its content (the same bytes again)."""
    import pikepdf

    manual = pikepdf.Pdf.new()
    sources = []  # opened here; open until the manual is saved (its pages come from them)
    bookmarks: list[pikepdf.OutlineItem] = []
    for part, title in parts:
        if isinstance(part, Path):
            source = pikepdf.open(part)
            sources.append(source)
        else:
            source = part
        start = len(manual.pages)
        manual.add_pages_from(source, outlines="ignore")  # with the named destinations
        index = {page.obj.objgen: start + i for i, page in enumerate(source.pages)}
        with source.open_outline() as outline:
            children = [_outline_copy(item, index) for item in outline.root]
        if title is None:
            bookmarks += children
        else:
            bookmarks.append(pikepdf.OutlineItem(title, start))
            bookmarks[-1].children.extend(children)
    try:
        total = number_pages(manual, front)
        with manual.open_outline() as outline:
            outline.root.extend(bookmarks)
        for key, value in metadata.items():
            manual.docinfo[pikepdf.Name(key)] = value
        manual.save(target, deterministic_id=True, compress_streams=True,
                    object_stream_mode=pikepdf.ObjectStreamMode.generate)
    finally:
        for source in sources:
            source.close()
    return total


def _outline_copy(item: pikepdf.OutlineItem, pages: dict[tuple[int, int], int]
                  ) -> pikepdf.OutlineItem:
    """A bookmark of a document's PDF, pointing to the same page in the manual."""
    import pikepdf

    destination = item.destination
    page = None
    if isinstance(destination, pikepdf.Array) and len(destination):
        page = pages.get(destination[0].objgen)
    elif item.action is not None and item.action.get("/D") is not None:
        target = item.action.get("/D")
        if isinstance(target, pikepdf.Array) and len(target):
            page = pages.get(target[0].objgen)
    copy = pikepdf.OutlineItem(item.title, page if page is not None else min(pages.values()))
    copy.children.extend(_outline_copy(child, pages) for child in item.children)
    return copy


def roman(number: int) -> str:
    """``number`` (1 and above) in lower-case Roman numerals: the contents' page numbers."""
    out = []
    for value, letters in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"),
                           (90, "xc"), (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"),
                           (4, "iv"), (1, "i")):
        count, number = divmod(number, value)
        out.append(letters * count)
    return "".join(out)


def number_pages(pdf: pikepdf.Pdf, front: int = 0) -> int:
    """Number every page of ``pdf`` at its foot: the first ``front`` pages "Contents page
    ii of iii", the others "Manual page N of M" (N from 1); returns M. The page labels of
    the file say the same (i, ii, iii, then 1, 2, 3), as a viewer shows them.

    Numbering the contents apart, as books number their front matter, makes where each
    document starts independent of how long the contents are: the contents are made once.
    The number is drawn by a content stream added after the page's own, between a "q"
    before and a "Q" after them (whatever the page's streams leave changed, the number
    is drawn in the page's own coordinates), in the family of the documents' text
    (:func:`_number_font`): nothing is rendered again."""
    import pikepdf

    number_font = _number_font(pdf)
    save = pdf.make_stream(b"q\n")
    total = len(pdf.pages) - front
    for index, page in enumerate(pdf.pages):
        text = (f"Contents page {roman(index + 1)} of {roman(front)}" if index < front
                else f"Manual page {index - front + 1} of {total}")
        width = sum(number_font.widths.get(c, 556) for c in text) * PAGE_NUMBER_SIZE / 1000
        left, bottom, right, _ = (float(v) for v in page.mediabox)
        x = left + (right - left - width) / 2
        y = bottom + PAGE_NUMBER_RISE
        name = page.add_resource(number_font.font, pikepdf.Name.Font, pikepdf.Name("/QmsPageNo"))
        page.contents_add(save, prepend=True)
        page.contents_add(pdf.make_stream(
            f"Q\nq BT {name} {PAGE_NUMBER_SIZE:g} Tf 0.25 g {x:.2f} {y:.2f} Td ({text}) Tj "
            "ET Q\n".encode("ascii")))
    labels = ([0, pikepdf.Dictionary(S=pikepdf.Name.r)] if front else [])
    if total:
        labels += [front, pikepdf.Dictionary(S=pikepdf.Name.D)]
    pdf.Root.PageLabels = pikepdf.Dictionary(Nums=pikepdf.Array(labels))
    return total
