"""One clause asked about: which documents cover it (or its sub-clauses), and how.

``qms trace --clause 8.4 [--as-of DATE]`` answers the auditor's question "which documents
covered 8.4, and were they in force on 12 June?" in one table: for each clause at or
below the one asked, each document whose revision in force names it, with that revision,
its effective date and its approvers (and, unless only revisions in force are asked for,
revisions pending that would name it). The rows come from the traceability matrix
(:func:`~qms_docs.reports.traceability.trace_matrix`), so this answer and the matrix agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .. import catalog as catalogs
from ..errors import UsageError
from ..model import Catalog, Clause, Document, UpstreamDocument
from ..record_kinds import ApprovalRecord
from ..signing import shown_time
from .traceability import Basis, DocRef, Statuses, trace_matrix


def asked_clause(text: str, catalog: Catalog) -> Clause:
    """A clause of ``catalog`` by number (``8.4``), need id (``ISO9001-8-4``) or
    ``9001:8.4``; headings are welcome here (their sub-clauses are asked about too)."""
    found = catalogs.find_clause(text, [catalog])  # the one mapping of references to clauses
    if found is not None:
        return found[1]
    near = catalogs.nearest_clauses(text.strip(), catalog)
    raise UsageError(f"no clause {text!r} in {catalog.short_title}"
                     + (f"; did you mean {catalogs.clause_names(near)}?" if near else ""),
                     hint="give a clause number such as 8.4 or 7.5.3.1 (see qms trace)")


def below(clause: Clause, catalog: Catalog) -> list[Clause]:
    """``clause`` and every clause under it, in catalog order."""
    return [c for c in catalog.clauses
            if c.number == clause.number or c.number.startswith(clause.number + ".")]


def approver_text(record: ApprovalRecord) -> str:
    """``Quinn Quality (quality-manager, 2026-01-10 09:00:00 +01:00)``."""
    return f"{record.approver.name} ({record.role}, {shown_time(record.stated)})"


@dataclass(frozen=True)
class ClauseRow:
    """A document naming a clause: the revision in force (or pending), since when, and
    who approved it."""

    clause: Clause
    document: DocRef
    effective: dt.date | None
    approvals: tuple[ApprovalRecord, ...]
    # a document of an upstream QMS: its effective date and approvals as its export
    # states them (derived upstream, never here)
    upstream: UpstreamDocument | None = None

    HEADERS = ("Clause", "Clause title", "Document", "Document title", "Revision", "Status",
               "Effective", "Approved by")

    @property
    def effective_text(self) -> str:
        if self.upstream is not None:
            return self.upstream.effective or ""
        return self.effective.isoformat() if self.effective else ""

    def approval_dicts(self) -> list[dict[str, object]]:
        """Who approved the revision in force: name, email, role, meaning, date."""
        if self.upstream is not None:
            return [{key: a.get(key) for key in ("name", "email", "role", "meaning", "date")}
                    for a in self.upstream.approvals]
        return [{"name": a.approver.name, "email": a.approver.email, "role": a.role,
                 "meaning": a.meaning, "date": a.stated} for a in self.approvals]

    def cells(self) -> list[object]:
        approved = "; ".join(approver_text(a) for a in self.approvals)
        if self.upstream is not None:
            approved = "; ".join(f"{a['name']} ({a['role']}, {shown_time(str(a['date']))})"
                                 for a in self.approval_dicts())
        return [self.clause.number, self.clause.title, self.document.id,
                self.document.title, self.document.revision, self.document.status,
                self.effective_text, approved]

    def to_dict(self) -> dict[str, object]:
        return {"clause": self.clause.number, "title": self.clause.title,
                "document": self.document.id, "document_title": self.document.title,
                "revision": self.document.revision, "status": self.document.status,
                "in_force": self.document.effective, "pending": self.document.pending,
                "effective": self.effective_text or None,
                "approvals": self.approval_dicts()}


def clause_rows(catalog: Catalog, clause: Clause, documents: Iterable[Document],
                statuses: Statuses, only_effective: bool = False,
                basis: Basis | None = None,
                upstream: Sequence[UpstreamDocument] = ()) -> list[ClauseRow]:
    """The documents that name ``clause`` or a clause below it, clause by clause (an
    ``upstream`` document in force with its status in the export: its approvals are the
    upstream's, in its export)."""
    wanted = {c.need_id for c in below(clause, catalog)}
    upstream_by_id = {u.id: u for u in upstream}
    rows = []
    for row in trace_matrix(catalog, documents, statuses, only_effective, basis, upstream):
        if row.clause.need_id not in wanted:
            continue
        for ref in row.documents:
            if ref.source:
                rows.append(ClauseRow(row.clause, ref, None, (), upstream_by_id.get(ref.id)))
                continue
            info = statuses.get(ref.id)
            current = info.in_force if info is not None and ref.effective else None
            rows.append(ClauseRow(row.clause, ref, current.effective if current else None,
                                  current.approvals if current else ()))
    return rows
