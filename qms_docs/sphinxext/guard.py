"""Leave out of a build what no page may show, before any directive reads it.

Every page and every file an ``include`` pulls in passes through here as text
(``source-read``, ``include-read``): a directive that would read a file outside the
repository or fetch something from the network, and a need directive of a document type
outside a document file's header, are blanked out (their lines kept empty, so every other
line keeps its number). What ``qms check`` reports is reported by the extension's
check (``[qms.<code>]``); the rest is warned about here, with the same codes.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

from ..documents import with_clause_ids
from ..includes import HINTS, blank, refused, stray_documents, stray_finding
from .domain import QmsDomain

logger = logging.getLogger(__name__)


def on_source_read(app: Sphinx, docname: str, source: list[str]) -> None:
    rel = _relative(app, app.env.doc2path(docname))
    if rel is not None:
        source[0] = _guard(app, rel, rel, source[0], (docname, None))


def on_include_read(app: Sphinx, relative_path: Path, parent_docname: str,
                    content: list[str]) -> None:
    # the page being read (MyST names its parent by the file's stem, not its docname)
    current = getattr(getattr(app.env, "current_document", None), "docname", "")
    document = _relative(app, app.env.doc2path(current or parent_docname))
    rel = Path(relative_path).as_posix()
    if document is not None:
        content[0] = _guard(app, rel, document, content[0], None, included=True)


def _relative(app: Sphinx, path: str | PathLike[str]) -> str | None:
    try:
        return Path(path).resolve().relative_to(Path(app.srcdir).resolve()).as_posix()
    except ValueError:
        return None


#: Where a warning of a page points: its docname (the line is the finding's), or None
#: for an included file (the warning names the file and line).
Location = tuple[str, None] | None


def _guard(app: Sphinx, rel: str, document: str, text: str, location: Location,
           included: bool = False) -> str:
    state = QmsDomain.of(app.env).project
    types = state.config.types
    header = state.scan.headers.get(rel) if not included else None
    refs = refused(text, rel, document, Path(app.srcdir))
    strays = stray_documents(text, rel, types, header.line if header else None)
    # qms check reports those of documents (and their includes) and of the pages it reads
    if document not in state.scan.headers:
        for ref in refs:
            _warn(ref.code, f"{ref.directive.name}: {ref.why} (hint: {HINTS[ref.code]})",
                  rel, ref.directive.line, location)
    if included or rel not in state.scan.pages:
        for found in strays:
            item = stray_finding(found, rel, types)
            _warn(item.code, f"{item.message} (hint: {item.hint})", rel, found.line, location)
    text = blank(text, [r.directive for r in refs] + strays)
    if header is not None:  # clauses written as numbers, as the scan read them
        doc = next((d for d in state.scan.documents if d.path == rel), None)
        if doc is not None:
            text = with_clause_ids(text, header, doc.satisfies)
    return text


def _warn(code: str, message: str, rel: str, line: int, location: Location) -> None:
    where = (location[0], line) if location else f"{rel}:{line}"
    logger.warning(message, type="qms", subtype=code.replace("-", "_"), location=where)


def setup(app: Sphinx) -> None:
    app.connect("source-read", on_source_read)
    app.connect("include-read", on_include_read)
