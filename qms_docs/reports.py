"""Reports for auditors: traceability matrix, coverage, master document list.

One function per report returns plain rows. The CLI prints them and the Sphinx report
directives render them, so a page of the site and ``qms`` output always agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .model import Catalog, Clause, Config, Document


@dataclass(frozen=True)
class DocRef:
    """A document as a report cell shows it."""

    id: str
    title: str
    type: str
    revision: int | None
    status: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "title": self.title, "type": self.type,
                "revision": self.revision, "status": self.status}


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


@dataclass(frozen=True)
class Coverage:
    """How many requirement clauses (the leaves of the tree) have a document."""

    standard: str
    total: int
    covered: int
    uncovered: tuple[Clause, ...] = field(default=())

    @property
    def percent(self) -> float:
        return 100.0 * self.covered / self.total if self.total else 100.0

    def to_dict(self) -> dict[str, object]:
        return {"standard": self.standard, "total": self.total, "covered": self.covered,
                "percent": round(self.percent, 1),
                "uncovered": [{"clause": c.number, "title": c.title} for c in self.uncovered]}


@dataclass(frozen=True)
class MasterRow:
    id: str
    title: str
    type: str
    type_title: str
    revision: int | None
    owner: str | None
    owner_title: str | None
    path: str
    status: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "title": self.title, "type": self.type,
                "revision": self.revision, "owner": self.owner, "path": self.path,
                "status": self.status}


def _ref(doc: Document, statuses: dict[str, str] | None) -> DocRef:
    return DocRef(doc.id, doc.title, doc.type, doc.revision,
                  (statuses or {}).get(doc.id))


def trace_matrix(catalog: Catalog, documents: Iterable[Document],
                 statuses: dict[str, str] | None = None) -> list[TraceRow]:
    """Every clause of ``catalog`` in order, with the documents whose :satisfies: name it."""
    by_clause: dict[str, list[Document]] = {}
    for doc in documents:
        for ref in doc.satisfies:
            by_clause.setdefault(ref, []).append(doc)
    return [
        TraceRow(clause, tuple(_ref(d, statuses) for d in sorted(by_clause.get(clause.need_id, []),
                                                                 key=lambda d: d.id)))
        for clause in catalog.clauses
    ]


def coverage(catalog: Catalog, documents: Iterable[Document]) -> Coverage:
    """Requirement clauses (leaves) covered by at least one document."""
    rows = [row for row in trace_matrix(catalog, documents) if row.clause.is_leaf]
    uncovered = tuple(row.clause for row in rows if not row.covered)
    return Coverage(catalog.standard, len(rows), len(rows) - len(uncovered), uncovered)


def master_list(config: Config, documents: Iterable[Document],
                statuses: dict[str, str] | None = None) -> list[MasterRow]:
    """Every document, ordered by type (as qms.toml lists them) and id."""
    order = {name: index for index, name in enumerate(config.types)}
    rows = []
    for doc in sorted(documents, key=lambda d: (order.get(d.type, 99), d.id)):
        policy = config.types.get(doc.type)
        rows.append(MasterRow(
            id=doc.id, title=doc.title, type=doc.type,
            type_title=policy.title if policy else doc.type,
            revision=doc.revision, owner=doc.owner,
            owner_title=config.roles.get(doc.owner or "", None),
            path=doc.path, status=(statuses or {}).get(doc.id)))
    return rows


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
