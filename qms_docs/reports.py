"""Reports for auditors: traceability, gaps, mandatory documented information.

One function per report returns plain rows. The CLI prints them and the Sphinx report
directives render them, so a page of the site and ``qms`` output always agree. Document
statuses come in as :class:`~qms_docs.control.StatusInfo` (a document counts as
effective while any of its revisions is in force, even with a newer draft open).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .control import StatusInfo
from .model import Catalog, Clause, Document

Statuses = dict[str, StatusInfo]


def in_force(doc: Document, statuses: Statuses | None) -> bool:
    info = (statuses or {}).get(doc.id)
    return info is not None and info.in_force is not None and info.status != "obsolete"


@dataclass(frozen=True)
class DocRef:
    """A document as a report cell shows it."""

    id: str
    title: str
    type: str
    revision: int | None
    status: str | None = None
    effective: bool = False

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "title": self.title, "type": self.type,
                "revision": self.revision, "status": self.status}


def doc_ref(doc: Document, statuses: Statuses | None) -> DocRef:
    info = (statuses or {}).get(doc.id)
    return DocRef(doc.id, doc.title, doc.type, doc.revision, info.label if info else None,
                  in_force(doc, statuses))


@dataclass(frozen=True)
class TraceRow:
    """One clause of the matrix with the documents that satisfy it."""

    clause: Clause
    documents: tuple[DocRef, ...]

    @property
    def covered(self) -> bool:
        return bool(self.documents)

    def to_dict(self) -> dict[str, object]:
        return {"clause": self.clause.number, "title": self.clause.title,
                "need_id": self.clause.need_id, "is_leaf": self.clause.is_leaf,
                "documents": [d.to_dict() for d in self.documents]}


def trace_matrix(catalog: Catalog, documents: Iterable[Document],
                 statuses: Statuses | None = None, only_effective: bool = False) -> list[TraceRow]:
    """Every clause of ``catalog`` in order, with the documents whose :satisfies: name it."""
    by_clause: dict[str, list[Document]] = {}
    for doc in documents:
        if only_effective and not in_force(doc, statuses):
            continue
        for ref in doc.satisfies:
            by_clause.setdefault(ref, []).append(doc)
    return [TraceRow(clause, tuple(doc_ref(d, statuses) for d in
                                   sorted(by_clause.get(clause.need_id, []), key=lambda d: d.id)))
            for clause in catalog.clauses]


@dataclass(frozen=True)
class Coverage:
    """How many requirement clauses (the leaves of the tree) have a document."""

    standard: str
    total: int
    covered: int
    uncovered: tuple[Clause, ...] = ()

    @property
    def percent(self) -> float:
        return 100.0 * self.covered / self.total if self.total else 100.0

    def to_dict(self) -> dict[str, object]:
        return {"standard": self.standard, "total": self.total, "covered": self.covered,
                "percent": round(self.percent, 1),
                "uncovered": [{"clause": c.number, "title": c.title} for c in self.uncovered]}


def coverage(catalog: Catalog, documents: Iterable[Document], statuses: Statuses | None = None,
             only_effective: bool = False) -> Coverage:
    """Requirement clauses (leaves) covered by at least one document."""
    rows = [r for r in trace_matrix(catalog, documents, statuses, only_effective)
            if r.clause.is_leaf]
    uncovered = tuple(row.clause for row in rows if not row.covered)
    return Coverage(catalog.standard, len(rows), len(rows) - len(uncovered), uncovered)


def gaps(catalog: Catalog, documents: Iterable[Document], statuses: Statuses) -> list[Clause]:
    """Requirement clauses with no *effective* document."""
    return list(coverage(catalog, documents, statuses, only_effective=True).uncovered)


@dataclass(frozen=True)
class ChapterCoverage:
    chapter: Clause
    total: int
    covered: int


def coverage_by_chapter(catalog: Catalog, documents: Iterable[Document],
                        statuses: Statuses | None = None,
                        only_effective: bool = False) -> list[ChapterCoverage]:
    """Requirement clauses covered per top-level clause (for the coverage chart)."""
    rows = [r for r in trace_matrix(catalog, documents, statuses, only_effective)
            if r.clause.is_leaf]
    out = []
    for chapter in (c for c in catalog.clauses if c.parent is None):
        mine = [r for r in rows if r.clause.number == chapter.number
                or r.clause.number.startswith(chapter.number + ".")]
        out.append(ChapterCoverage(chapter, len(mine), sum(r.covered for r in mine)))
    return out


@dataclass(frozen=True)
class MandatoryRow:
    """Documented information the standard asks for at one clause, and whether it is there."""

    clause: Clause
    kind: str  # "maintain" (a document) or "retain" (records)
    met: bool
    documents: tuple[DocRef, ...]
    detail: str

    def to_dict(self) -> dict[str, object]:
        return {"clause": self.clause.number, "title": self.clause.title, "kind": self.kind,
                "met": self.met, "documents": [d.id for d in self.documents],
                "detail": self.detail}


def mandatory(catalog: Catalog, documents: Iterable[Document],
              statuses: Statuses) -> list[MandatoryRow]:
    """Mandatory documented information: maintained documents and retained records.

    Maintained: an effective document satisfies the clause. Retained: an effective
    document satisfying the clause names its records (a ``:records:`` option or a
    "Records" section).
    """
    documents = list(documents)
    keepers_all = _record_keepers(documents)
    rows = []
    for row in trace_matrix(catalog, documents, statuses, only_effective=True):
        clause = row.clause
        if clause.maintain:
            met = bool(row.documents)
            rows.append(MandatoryRow(clause, "maintain", met, row.documents,
                                     "effective document: " + ", ".join(d.id for d in row.documents)
                                     if met else "no effective document satisfies this clause"))
        if clause.retain:
            keepers = tuple(d for d in row.documents if d.id in keepers_all)
            met = bool(keepers)
            detail = ("records named in: " + ", ".join(d.id for d in keepers) if met else
                      "no effective document satisfying this clause names its records "
                      "(a :records: option or a Records section)" if row.documents else
                      "no effective document satisfies this clause")
            rows.append(MandatoryRow(clause, "retain", met, keepers, detail))
    return rows


def _record_keepers(documents: Iterable[Document]) -> set[str]:
    return {d.id for d in documents if d.records or d.records_section}


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
