"""Reports for auditors: traceability, coverage, gaps (mandatory documented information:
mandatory.py).

One function per report returns typed rows, and each row type says how it is shown: its
``HEADERS`` and ``cells()`` (the words a reader sees) and ``to_dict()`` (JSON). The CLI,
the Sphinx report directives and the audit pack all take their tables from these, so a
page of the site, ``qms`` output and the audit pack always agree. Document
statuses come in as :class:`~qms_docs.status.StatusInfo`.

Coverage counts only what is in force: a clause is covered by a document when the header
of its revision *in force* names it (its approved text, read from git when the working
text is a newer draft: :func:`load_basis`). A clause that only a newer revision names is
shown as pending ("pending: SOP-001 rev 3") and stays a gap until that revision is in force.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..documents import (
    RECORDS_SECTION,
    fingerprint,
    named_records,
    read_header,
    to_document,
)
from ..errors import QmsError
from ..model import Catalog, Clause, Document, UpstreamDocument
from ..status import InForce, StatusInfo

if TYPE_CHECKING:  # GitPython loads only when a text must come from git
    from ..history import HistoryIndex

Statuses = dict[str, StatusInfo]


def in_force_of(doc: Document, statuses: Statuses | None) -> InForce | None:
    """The revision of ``doc`` in force (None if none is, or it is retired)."""
    info = (statuses or {}).get(doc.id)
    if info is None or info.in_force is None or info.status == "obsolete":
        return None
    return info.in_force


def in_force(doc: Document, statuses: Statuses | None) -> bool:
    return in_force_of(doc, statuses) is not None


# --- what is in force -----------------------------------------------------------------------

@dataclass(frozen=True)
class Basis:
    """What coverage counts: each document in force as the header of its revision in force
    declares it (id -> document), and notes where that text could not be read."""

    in_force: dict[str, Document]
    notes: tuple[str, ...] = ()


def needs_in_force_text(documents: Iterable[Document], statuses: Statuses) -> dict[str, str]:
    """Path -> approved fingerprint of every document in force whose working text is not
    the text in force (a newer draft, or an edit): only these need a read from git."""
    out = {}
    for doc in documents:
        current = in_force_of(doc, statuses)
        if current is not None and current.fingerprint != doc.fingerprint:
            out[doc.path] = current.fingerprint
    return out


def coverage_basis(documents: Iterable[Document], statuses: Statuses,
                   texts: Mapping[str, bytes | None] | None = None,
                   why: str = "", catalogs: Sequence[Catalog] = ()) -> Basis:
    """The :class:`Basis` of these documents. ``texts`` holds, by path, the text in force of
    each document :func:`needs_in_force_text` names (None: no commit held it); where it is
    missing, the working header stands in, with a note saying so (and ``why``)."""
    chosen: dict[str, Document] = {}
    notes = []
    for doc in documents:
        current = in_force_of(doc, statuses)
        if current is None:
            continue
        if current.fingerprint == doc.fingerprint:
            chosen.setdefault(doc.id, doc)
            continue
        raw = (texts or {}).get(doc.path)
        parsed = _in_force_document(raw, doc.path, catalogs) if raw is not None else None
        if parsed is None:
            reason = why or "no commit holds it"
            notes.append(f"{doc.id}: the text of revision {current.revision}, in force, "
                         f"could not be read ({reason}); the clauses of the working header "
                         f"(revision {doc.revision}) count instead.")
            parsed = doc
        chosen.setdefault(doc.id, parsed)
    return Basis(chosen, tuple(notes))


def _in_force_document(raw: bytes, path: str, catalogs: Sequence[Catalog]) -> Document | None:
    """The document as an older text of ``path`` declares it (None if it cannot be read)."""
    try:
        text = raw.decode("utf-8")
        header = read_header(text, path)
    except (UnicodeDecodeError, QmsError):
        return None
    if header is None:
        return None
    return to_document(header, path, fingerprint(raw), bool(RECORDS_SECTION.search(text)),
                       catalogs, named_records(text))


def load_basis(root: Path, documents: Iterable[Document], statuses: Statuses,
               use_git: bool = True, index: HistoryIndex | None = None,
               catalogs: Sequence[Catalog] = ()) -> Basis:
    """The :class:`Basis` of the documents of the QMS at ``root``: texts in force that the
    working tree does not hold are read from git (one ``git log`` over their files, one
    ``git cat-file --batch``; no ``git log`` with the ``index`` of the whole history a
    caller already read), and only when there are any. Without git (or with ``use_git``
    False) their working headers stand in, with a note."""
    documents = list(documents)
    wanted = needs_in_force_text(documents, statuses)
    if not wanted:
        return coverage_basis(documents, statuses)
    if not use_git:
        return coverage_basis(documents, statuses, None, "no git history here")
    from .. import gitrepo, history  # GitPython loads only when a text must come from git
    from ..errors import GitError

    try:
        texts = history.texts_with_fingerprints(gitrepo.open_repo(root), root, wanted, index)
    except GitError as exc:
        return coverage_basis(documents, statuses, None, exc.message)
    return coverage_basis(documents, statuses, texts, catalogs=catalogs)


def pending_label(doc: Document) -> str:
    """How a revision not yet in force shows where it names a clause."""
    return f"pending: {doc.id} rev {doc.revision if doc.revision is not None else '?'}"


@dataclass(frozen=True)
class DocRef:
    """A document as a report cell shows it: ``effective`` when the revision in force
    names the clause, ``pending`` when only a revision not yet in force does."""

    id: str
    title: str
    type: str
    revision: int | None
    status: str | None = None
    effective: bool = False
    pending: bool = False
    source: str = ""  # the upstream QMS it belongs to ("": this one)

    HEADERS = ("Document", "Document title", "Revision", "Status")

    def cells(self) -> list[object]:
        return [self.id, self.title, self.revision, self.status]

    def label(self) -> str:
        """Title and status, as a cell that already shows the id beside it: ``Control of
        Documented Information (effective)``; an upstream's: ``Purchasing (effective,
        upstream corporate)``."""
        return f"{self.title} ({self.status})"

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "id": self.id, "title": self.title, "type": self.type, "revision": self.revision,
            "status": self.status, "in_force": self.effective, "pending": self.pending}
        if self.source:
            out["source"] = self.source
        return out


def doc_ref(doc: Document, statuses: Statuses | None) -> DocRef:
    info = (statuses or {}).get(doc.id)
    return DocRef(doc.id, doc.title, doc.type, doc.revision, info.label if info else None,
                  in_force(doc, statuses))


def _in_force_ref(doc: Document, current: Document, info: StatusInfo | None) -> DocRef:
    """A cell of the revision in force (its title and revision; "effective" while a newer
    revision is open, with its overdue review: status.StatusInfo.in_force_label)."""
    status = info.in_force_label if info is not None else "effective"
    return DocRef(doc.id, current.title, doc.type, current.revision, status, True)


def upstream_ref(doc: UpstreamDocument) -> DocRef:
    """A cell of an upstream document in force, as its export states it."""
    return DocRef(doc.id, doc.title, doc.type, doc.revision,
                  f"effective, upstream {doc.source}", True, source=doc.source)


def _pending_ref(doc: Document) -> DocRef:
    return DocRef(doc.id, doc.title, doc.type, doc.revision, pending_label(doc), False, True)


def _cells(documents: Iterable[Document], statuses: Statuses | None, basis: Basis | None,
           only_effective: bool, upstream: Iterable[UpstreamDocument] = ()
           ) -> dict[str, list[DocRef]]:
    """Clause need id -> the cells of the documents that name it: the revision in force
    where its header names the clause, else a pending (or, retired, obsolete) one; and
    the ``upstream`` documents in force (federation.py) that name it."""
    statuses = statuses or {}
    by_clause: dict[str, list[DocRef]] = {}
    for up in upstream:
        if up.in_force:
            cell = upstream_ref(up)  # one cell per document, in each of its clauses' rows
            for ref in up.satisfies:
                by_clause.setdefault(ref, []).append(cell)
    for doc in documents:
        info = statuses.get(doc.id)
        current = (basis.in_force.get(doc.id) if basis is not None
                   else doc if in_force(doc, statuses) else None)
        covered = set(current.satisfies) if current is not None else set()
        if current is not None:
            for ref in current.satisfies:
                by_clause.setdefault(ref, []).append(_in_force_ref(doc, current, info))
        if only_effective:
            continue
        newer = current is None or current.fingerprint != doc.fingerprint
        for ref in doc.satisfies:
            if ref in covered or not newer:
                continue
            if info is None or info.status != "obsolete":
                cell = _pending_ref(doc)  # (no status: a revision a controlled build left out)
            else:  # retired
                cell = doc_ref(doc, statuses)
            by_clause.setdefault(ref, []).append(cell)
    return by_clause


@dataclass(frozen=True)
class TraceRow:
    """One clause of the matrix with the documents that satisfy it."""

    clause: Clause
    documents: tuple[DocRef, ...]

    @property
    def covered(self) -> bool:
        """A revision in force names the clause."""
        return any(d.effective for d in self.documents)

    @property
    def pending(self) -> tuple[DocRef, ...]:
        """Revisions not yet in force that name the clause."""
        return tuple(d for d in self.documents if d.pending)

    #: A flat table (CSV, spreadsheet, terminal): one line per clause and document.
    HEADERS = ("Clause", "Clause title", *DocRef.HEADERS)
    #: A grouped table (the site): one line per clause, its documents in one cell.
    GROUPED_HEADERS = ("Clause", "Title", "Satisfied by")

    def lines(self) -> list[list[object]]:
        """The lines of the flat table: one per document, or one with empty document cells
        when no document names the clause."""
        return ([[self.clause.number, self.clause.title, *d.cells()] for d in self.documents]
                or [[self.clause.number, self.clause.title, "", "", "", ""]])

    def to_dict(self) -> dict[str, object]:
        return {"clause": self.clause.number, "title": self.clause.title,
                "need_id": self.clause.need_id, "is_leaf": self.clause.is_leaf,
                "documents": [d.to_dict() for d in self.documents]}


def trace_lines(rows: Iterable[TraceRow]) -> list[list[object]]:
    """The flat table of a matrix (:attr:`TraceRow.HEADERS`), in clause order."""
    return [line for row in rows for line in row.lines()]


def trace_matrix(catalog: Catalog, documents: Iterable[Document],
                 statuses: Statuses | None = None, only_effective: bool = False,
                 basis: Basis | None = None,
                 upstream: Sequence[UpstreamDocument] = ()) -> list[TraceRow]:
    """Every clause of ``catalog`` in order, with the documents whose :satisfies: name it:
    as in force (``basis``; without it, the working header of a document in force), and,
    unless ``only_effective``, the revisions not yet in force that add it (pending); with
    the ``upstream`` documents in force that name it (a federated QMS)."""
    by_clause = _cells(documents, statuses, basis, only_effective, upstream)
    return [TraceRow(clause, tuple(sorted(by_clause.get(clause.need_id, []),
                                          key=lambda d: (bool(d.source), d.id, d.pending))))
            for clause in catalog.clauses]


@dataclass(frozen=True)
class Coverage:
    """How many requirement clauses (the leaves of the tree) a revision in force covers."""

    standard: str
    total: int
    covered: int
    uncovered: tuple[Clause, ...] = ()
    pending: dict[str, tuple[DocRef, ...]] = field(default_factory=dict, compare=False)

    @property
    def percent(self) -> float:
        return 100.0 * self.covered / self.total if self.total else 100.0

    def gap_rows(self) -> list[GapRow]:
        """The requirement clauses not covered, as the gaps report shows them."""
        return [GapRow(c, self.pending.get(c.number, ())) for c in self.uncovered]

    def to_dict(self) -> dict[str, object]:
        return {"standard": self.standard, "total": self.total, "covered": self.covered,
                "percent": round(self.percent, 1),
                "uncovered": [{"clause": c.number, "title": c.title,
                               "pending": pending_dicts(self.pending.get(c.number, ()))}
                              for c in self.uncovered]}


def pending_dicts(refs: Iterable[DocRef]) -> list[dict[str, object]]:
    return [{"document": d.id, "revision": d.revision} for d in refs]


def pending_text(refs: Iterable[DocRef]) -> str:
    """``pending: SOP-001 rev 3`` (several joined by "; "), or empty."""
    return "; ".join(d.status or "" for d in refs)


def coverage(catalog: Catalog, documents: Iterable[Document], statuses: Statuses | None = None,
             only_effective: bool = False, basis: Basis | None = None,
             upstream: Sequence[UpstreamDocument] = ()) -> Coverage:
    """Requirement clauses (leaves) covered by a revision in force (of this QMS, or of an
    ``upstream`` one)."""
    rows = [r for r in trace_matrix(catalog, documents, statuses, only_effective, basis,
                                    upstream)
            if r.clause.is_leaf]
    uncovered = tuple(row.clause for row in rows if not row.covered)
    pending = {row.clause.number: row.pending for row in rows
               if not row.covered and row.pending}
    return Coverage(catalog.standard, len(rows), len(rows) - len(uncovered), uncovered,
                    pending)


def upstream_covered(rows: Iterable[TraceRow]) -> list[TraceRow]:
    """The requirement clauses that only upstream documents cover (no local one in force):
    what a site owes to its upstreams."""
    return [r for r in rows if r.clause.is_leaf and r.covered
            and not any(d.effective and not d.source for d in r.documents)]


@dataclass(frozen=True)
class GapRow:
    """A requirement clause no revision in force covers, and the revisions that would."""

    clause: Clause
    pending: tuple[DocRef, ...] = ()

    HEADERS = ("Clause", "Title", "Pending")

    @property
    def pending_text(self) -> str:
        return pending_text(self.pending)

    def cells(self) -> list[object]:
        return [self.clause.number, self.clause.title, self.pending_text]

    def to_dict(self) -> dict[str, object]:
        return {"clause": self.clause.number, "title": self.clause.title,
                "pending": pending_dicts(self.pending)}


def gap_rows(catalog: Catalog, documents: Iterable[Document], statuses: Statuses,
             basis: Basis | None = None,
             upstream: Sequence[UpstreamDocument] = ()) -> list[GapRow]:
    """Requirement clauses with no revision in force naming them (of this QMS or of an
    ``upstream`` one), each with the revisions not yet in force that do (pending)."""
    return [GapRow(row.clause, row.pending)
            for row in trace_matrix(catalog, documents, statuses, False, basis, upstream)
            if row.clause.is_leaf and not row.covered]


@dataclass(frozen=True)
class ChapterCoverage:
    chapter: Clause
    total: int
    covered: int


def coverage_by_chapter(catalog: Catalog, documents: Iterable[Document],
                        statuses: Statuses | None = None,
                        only_effective: bool = False,
                        basis: Basis | None = None,
                        upstream: Sequence[UpstreamDocument] = ()) -> list[ChapterCoverage]:
    """Requirement clauses covered in force per top-level clause (the coverage chart)."""
    rows = [r for r in trace_matrix(catalog, documents, statuses, only_effective, basis,
                                    upstream)
            if r.clause.is_leaf]
    out = []
    for chapter in (c for c in catalog.clauses if c.parent is None):
        mine = [r for r in rows if r.clause.number == chapter.number
                or r.clause.number.startswith(chapter.number + ".")]
        out.append(ChapterCoverage(chapter, len(mine), sum(r.covered for r in mine)))
    return out


@dataclass(frozen=True)
class ChapterLink:
    """A document's link to one top-level clause (chapter), with the clauses behind it."""

    document: Document
    chapter: Clause
    clauses: tuple[str, ...]


def chapter_links(catalog: Catalog, documents: Iterable[Document]) -> list[ChapterLink]:
    """Document -> chapter links (for the traceability diagram), in document order."""
    by_id = catalog.by_need_id()
    chapters = {c.number: c for c in catalog.clauses if c.parent is None}
    out = []
    for doc in sorted(documents, key=lambda d: d.id):
        grouped: dict[str, list[str]] = {}
        for ref in doc.satisfies:
            clause = by_id.get(ref)
            if clause is not None:
                grouped.setdefault(clause.number.split(".")[0], []).append(clause.number)
        out += [ChapterLink(doc, chapters[number], tuple(numbers))
                for number, numbers in grouped.items() if number in chapters]
    return out

