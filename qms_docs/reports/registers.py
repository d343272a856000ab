"""Registers of document control: master document list, reviews due, change log.

Plain rows for the CLI, the site and the audit pack alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from ..model import Config, Document, UpstreamExport
from ..record_kinds import (
    ApprovalRecord,
    ChangeRecord,
    DeviationRecord,
    Record,
    RetirementRecord,
    ReviewRecord,
    TrainingRecord,
)
from ..status import StatusInfo


@dataclass(frozen=True)
class MasterRow:
    id: str
    title: str
    type: str
    type_title: str
    revision: int | None
    status: str | None
    effective: dt.date | None
    owner: str | None
    owner_title: str | None
    last_review: dt.date | None
    next_review: dt.date | None
    path: str

    HEADERS = ("Id", "Title", "Type", "Revision", "Status", "Effective", "Owner",
               "Last review", "Next review due")

    def cells(self, titles: bool = False) -> list[object]:
        """The cells under :attr:`HEADERS`: type and owner by name (for a spreadsheet), or,
        with ``titles``, by their titles in qms.toml (for a reader: the site)."""
        return [self.id, self.title, self.type_title if titles else self.type, self.revision,
                self.status, _iso(self.effective),
                (self.owner_title or self.owner) if titles else self.owner,
                _iso(self.last_review), _iso(self.next_review)]

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "title": self.title, "type": self.type,
                "revision": self.revision, "status": self.status,
                "effective": _iso(self.effective), "owner": self.owner,
                "last_review": _iso(self.last_review), "next_review": _iso(self.next_review),
                "path": self.path}


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def master_list(config: Config, documents: Iterable[Document],
                statuses: dict[str, StatusInfo] | None = None) -> list[MasterRow]:
    """Every document, ordered by type (as qms.toml lists them) and id."""
    order = {name: index for index, name in enumerate(config.types)}
    rows = []
    for doc in sorted(documents, key=lambda d: (order.get(d.type, 99), d.id)):
        policy = config.types.get(doc.type)
        info = (statuses or {}).get(doc.id)
        effective = info.effective or (info.in_force.effective if info and info.in_force
                                       else None) if info else None
        rows.append(MasterRow(
            id=doc.id, title=doc.title, type=doc.type,
            type_title=policy.title if policy else doc.type, revision=doc.revision,
            status=info.label if info else None, effective=effective, owner=doc.owner,
            owner_title=config.roles.get(doc.owner or "", None),
            last_review=info.last_review if info else None,
            next_review=info.next_review if info else None, path=doc.path))
    return rows


@dataclass(frozen=True)
class DueRow:
    id: str
    title: str
    owner: str | None
    last_review: dt.date
    next_review: dt.date
    days_left: int
    overdue: bool  # the rule of status.review_overdue, as qms status and verify answer it
    revision: int | None = None  # the revision in force, which the review applies to

    HEADERS = ("Id", "Title", "Owner", "Last review", "Due", "Days left")

    def cells(self) -> list[object]:
        return [self.id, self.title, self.owner, self.last_review.isoformat(),
                self.next_review.isoformat(), self.days_left]

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "title": self.title, "owner": self.owner,
                "last_review": self.last_review.isoformat(),
                "next_review": self.next_review.isoformat(), "days_left": self.days_left,
                "overdue": self.overdue, "revision": self.revision}


def reviews_due(documents: Iterable[Document], statuses: dict[str, StatusInfo], today: dt.date,
                within_days: int = 30) -> list[DueRow]:
    """Documents in force whose periodic review falls due within ``within_days`` (or is
    overdue), soonest first: the review of the revision in force, also while a newer
    revision is open (the status holds the one rule, :func:`~qms_docs.status.review_overdue`)."""
    horizon = today + dt.timedelta(days=within_days)
    rows = []
    for doc in documents:
        info = statuses.get(doc.id)
        if (info is None or info.next_review is None or info.last_review is None
                or info.status == "obsolete"):  # (a next review comes from a last one)
            continue
        if info.next_review <= horizon:
            rows.append(DueRow(doc.id, doc.title, doc.owner, info.last_review,
                               info.next_review, (info.next_review - today).days,
                               info.review_overdue,
                               info.in_force.revision if info.in_force else None))
    return sorted(rows, key=lambda r: (r.next_review, r.id))


@dataclass(frozen=True)
class ChangeEntry:
    date: str
    kind: str
    document: str
    revision: int | None
    person: str
    detail: str
    record: str

    HEADERS = ("Date", "Kind", "Document", "Revision", "Who", "What", "Record")

    def cells(self) -> list[object]:
        return [self.date, self.kind, self.document, self.revision, self.person, self.detail,
                self.record]

    def to_dict(self) -> dict[str, object]:
        return dict(zip(("date", "kind", "document", "revision", "person", "detail", "record"),
                        self.cells(), strict=True))


def change_log(records: Iterable[Record], since: dt.date | None = None,
               until: dt.date | None = None) -> list[ChangeEntry]:
    """Every change, approval, review, retirement (with reason and successor), training
    and accepted deviation recorded in the period, oldest first."""
    out = []
    for record in records:
        day = record.date.date()
        if (since and day < since) or (until and day > until):
            continue
        person = record.person()
        revision = record.about_revision
        if isinstance(record, ChangeRecord):
            detail = (f"revision {record.from_revision} -> {revision}: {record.reason}"
                      + (f" ({record.summary})" if record.summary else ""))
        elif isinstance(record, ApprovalRecord):
            detail = f"{record.meaning} as {record.role}, effective {record.effective}"
        elif isinstance(record, ReviewRecord):
            detail = f"periodic review: {record.outcome}"
        elif isinstance(record, RetirementRecord):
            detail = f"retired: {record.reason}" + (
                f" (superseded by {record.superseded_by})" if record.superseded_by else "")
        elif isinstance(record, TrainingRecord):
            detail = (f"trained ({record.method}) by {record.trainer.name}"
                      + (f": {record.note}" if record.note else ""))
        elif isinstance(record, DeviationRecord):
            detail = f"deviation accepted ({record.code}): {record.reason}"
        else:  # a kind this register does not know yet: say so rather than guess
            detail = f"{record.kind} record"
        out.append(ChangeEntry(record.stated, record.kind, record.document, revision,
                               f"{person.name} <{person.email}>", detail, record.path))
    return sorted(out, key=lambda e: (e.date, e.document, e.record))


@dataclass(frozen=True)
class UpstreamRow:
    """An upstream document the QMS depends on (``qms list --upstream``): as its export
    states it, with the local documents that link to it."""

    source: str
    id: str
    title: str
    type: str
    revision: int | None
    status: str
    effective: str | None
    satisfies: tuple[str, ...]
    linked_from: tuple[str, ...]
    url: str

    HEADERS = ("Upstream", "Id", "Title", "Type", "Revision", "Status", "Effective",
               "Clauses", "Linked from")

    def cells(self) -> list[object]:
        return [self.source, self.id, self.title, self.type, self.revision, self.status,
                self.effective or "", len(self.satisfies), ", ".join(self.linked_from)]

    def to_dict(self) -> dict[str, object]:
        return {"upstream": self.source, "id": self.id, "title": self.title, "type": self.type,
                "revision": self.revision, "status": self.status, "effective": self.effective,
                "satisfies": list(self.satisfies), "linked_from": list(self.linked_from),
                "url": self.url}


def upstream_list(exports: Iterable[UpstreamExport], documents: Iterable[Document]
                  ) -> list[UpstreamRow]:
    """The upstream documents a site depends on: every document an upstream export holds in
    force (its clauses count for the site's coverage), and any other one a local document
    links to (not in force: ``upstream-not-in-force``), by upstream and id."""
    linked: dict[str, list[str]] = {}
    for doc in documents:
        for ref in doc.links:
            linked.setdefault(ref, []).append(doc.id)
    rows = []
    for export in exports:
        for up in export.documents.values():
            if not up.in_force and up.id not in linked:
                continue
            rows.append(UpstreamRow(export.name, up.id, up.title, up.type, up.revision,
                                    "effective" if up.in_force else up.status, up.effective,
                                    up.satisfies, tuple(sorted(linked.get(up.id, ()))),
                                    export.url_of(up)))
    return sorted(rows, key=lambda r: (r.source, r.id))
