"""The rules of document control: required approvals and derived status.

For a document at revision r with fingerprint f, from its records:

- a retirement record -> ``obsolete``
- every approval the policy requires exists for (r, f) -> ``approved``; once its
  effective date has come -> ``effective``
- some but not all -> ``in-review``; none -> ``draft`` (the last effective revision
  stays in force); the text of an older revision that a later one superseded (a file
  rolled back) -> ``draft`` too
- a revision in force whose last approval or review is older than the review interval
  -> also ``review-overdue``, whatever the working text is: an open draft never hides
  the periodic review of the revision in force (``qms review`` reviews that revision,
  ``qms due`` lists it, ``qms verify --strict`` reports it). :func:`review_overdue` is
  the one rule; :attr:`StatusInfo.review_overdue` holds its answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .config import OWNER
from .model import Config, Document
from .record_kinds import (
    ApprovalRecord,
    Record,
    RetirementRecord,
    ReviewRecord,
    of_kind,
    retirement_of,
)
from .records import RecordSet, current_date

STATUSES = ("draft", "in-review", "approved", "effective", "obsolete")
#: Meanings of an approval that satisfy a required approval (a review signature does not).
COUNTING_MEANINGS = ("approval",)


@dataclass(frozen=True)
class InForce:
    """A revision that became effective: which, since when, approved by whom."""

    revision: int
    fingerprint: str
    effective: dt.date
    approvals: tuple[ApprovalRecord, ...]


@dataclass(frozen=True)
class StatusInfo:
    """Everything derived about one document at one moment."""

    document: str
    revision: int | None
    status: str
    required_roles: tuple[str, ...]
    approvals: tuple[ApprovalRecord, ...]  # of the current revision and content
    missing_roles: tuple[str, ...]
    effective: dt.date | None  # of the current revision, once fully approved
    in_force: InForce | None  # the revision in force today (may be an older one)
    last_review: dt.date | None = None
    next_review: dt.date | None = None
    review_overdue: bool = False
    retirement: RetirementRecord | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def label(self) -> str:
        """The status as a reader sees it: ``effective, review overdue``; while a revision
        that is not the working one is in force, ``draft, review of revision 1 overdue``."""
        if not self.review_overdue:
            return self.status
        if self.status == "effective" or self.in_force is None:
            return f"{self.status}, review overdue"
        return f"{self.status}, review of revision {self.in_force.revision} overdue"

    @property
    def in_force_label(self) -> str:
        """The status of the revision in force as a reader sees it (the matrix's cell of
        that revision while a newer one is open): ``effective`` or ``effective, review
        overdue`` (the periodic review is always the in-force revision's)."""
        return "effective, review overdue" if self.review_overdue else "effective"

    @property
    def reviewed_revision(self) -> InForce | None:
        """The revision a periodic review applies to: the one in force (also while a
        newer revision is a draft, in review or approved but not yet effective)."""
        return self.in_force

    def to_dict(self) -> dict[str, object]:
        return {
            "document": self.document, "revision": self.revision, "status": self.status,
            "review_overdue": self.review_overdue,
            "effective": self.effective.isoformat() if self.effective else None,
            "required_roles": list(self.required_roles),
            "missing_roles": list(self.missing_roles),
            "approvals": [approval_dict(a) for a in self.approvals],
            "in_force": None if self.in_force is None else {
                "revision": self.in_force.revision,
                "effective": self.in_force.effective.isoformat(),
                "approvals": [approval_dict(a) for a in self.in_force.approvals]},
            "last_review": self.last_review.isoformat() if self.last_review else None,
            "next_review": self.next_review.isoformat() if self.next_review else None,
            "retirement": retirement_dict(self.retirement),
        }


def retirement_dict(record: RetirementRecord | None) -> dict[str, object] | None:
    """A retirement as ``qms status`` and ``qms history`` give it in JSON: date, reason,
    successor, by whom, the record."""
    if record is None:
        return None
    return {"date": record.date.date().isoformat(), "at": record.stated,
            "reason": record.reason, "superseded_by": record.superseded_by,
            "name": record.approver.name, "email": record.approver.email,
            "record": record.path}


def retirement_text(record: RetirementRecord) -> str:
    """A retirement in one sentence, as the CLI and the obsolete page say it:
    ``retired on 2026-05-02 by Quinn Quality: merged into SOP-009; superseded by SOP-009``."""
    text = (f"retired on {record.date.date().isoformat()} by {record.approver.name}: "
            f"{record.reason}")
    return text + (f"; superseded by {record.superseded_by}" if record.superseded_by else "")


def approval_dict(record: ApprovalRecord) -> dict[str, object]:
    return {"name": record.approver.name, "email": record.approver.email,
            "role": record.role, "meaning": record.meaning, "date": record.stated,
            "effective": record.effective.isoformat(), "record": record.path,
            "self_approved": record.self_approved}


def required_roles(doc: Document, config: Config) -> tuple[str, ...]:
    """Roles whose approval the document's type requires (``owner`` -> its owner role)."""
    if doc.type not in config.types:
        return ()
    roles: list[str] = []
    for role in config.types[doc.type].approvers:
        actual = doc.owner if role == OWNER else role
        if actual and actual not in roles:
            roles.append(actual)
    return tuple(roles)


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover


def complete_approvals(records: list[Record], required: tuple[str, ...]) -> list[InForce]:
    """Every (revision, fingerprint) that got all required approvals, oldest first.

    Only the meaning ``approval`` counts. An approval judged by authority.py carries the
    roles the policy in force required when it was made (``Record.required``): a set of
    approvals is complete by the rules of its own time, whatever the policy says now.
    """
    groups: dict[tuple[int, str], list[ApprovalRecord]] = {}
    for record in of_kind(records, ApprovalRecord):
        if record.meaning in COUNTING_MEANINGS:
            groups.setdefault((record.revision, record.fingerprint), []).append(record)
    complete = []
    for (revision, digest), approvals in groups.items():
        by_role: dict[str, ApprovalRecord] = {}
        for approval in sorted(approvals, key=lambda a: (a.date, a.path)):
            by_role.setdefault(approval.role, approval)
            needed = approval.required if approval.required is not None else required
            if needed and all(role in by_role for role in needed):
                chosen = tuple(by_role[role] for role in needed)
                effective = max(max(a.effective for a in chosen),
                                max(a.date.date() for a in chosen))
                complete.append(InForce(revision, digest, effective, chosen))
                break
    # On the same day and revision (a text edited and approved again), the set completed
    # last is the one in force.
    return sorted(complete, key=lambda f: (f.effective, f.revision,
                                           max(a.date for a in f.approvals)))


def in_force_on(complete: list[InForce], retirement: RetirementRecord | None,
                day: dt.date) -> InForce | None:
    """The rule of what is in force on ``day``: of the revisions whose approvals were
    complete (``complete``, oldest first), the newest whose effective date had come; none
    once the document was retired. Status, ``qms show --as-of`` and ``qms diff DATE`` ask
    it."""
    if retirement is not None and retirement.date.date() <= day:
        return None
    return next((f for f in reversed(complete) if f.effective <= day), None)


def derive_status(doc: Document, records: list[Record], config: Config,
                  today: dt.date | None = None) -> StatusInfo:
    """The status of ``doc`` as it is in the working tree, from its records."""
    today = today or current_date()
    if doc.type not in config.types:  # a type the policy in force does not know (yet)
        return StatusInfo(document=doc.id, revision=doc.revision, status="draft",
                          required_roles=(), approvals=(), missing_roles=(), effective=None,
                          in_force=None, notes=(f"the policy in force has no document type "
                                                f"{doc.type!r}: approve the policy first",))
    required = required_roles(doc, config)
    retirement = retirement_of(records)
    complete = complete_approvals(records, required)
    in_force = in_force_on(complete, retirement, today)
    current = [r for r in of_kind(records, ApprovalRecord)
               if r.revision == doc.revision and r.fingerprint == doc.fingerprint]
    approved_roles = {r.role for r in current  # a reviewer's signature: still missing
                      if r.meaning in COUNTING_MEANINGS}
    missing = tuple(role for role in required if role not in approved_roles)
    mine = next((f for f in complete if f.revision == doc.revision
                 and f.fingerprint == doc.fingerprint), None)
    # The text of a revision that a later effective one superseded (a file rolled back).
    superseded = (mine is not None and mine.effective <= today and in_force is not None
                  and (in_force.effective, in_force.revision) > (mine.effective, mine.revision))
    if superseded:
        mine = None
    if retirement is not None:
        status = "obsolete"
        in_force = None
    elif superseded:
        status = "draft"
    elif mine is not None:
        status = "effective" if mine.effective <= today else "approved"
    elif current:
        status = "in-review"
    else:
        status = "draft"
    last_review = next_review = None
    if in_force is not None:
        reviews = [r.date.date() for r in of_kind(records, ReviewRecord)
                   if r.fingerprint == in_force.fingerprint]
        last_review = max([max(a.date.date() for a in in_force.approvals), *reviews])
        next_review = add_months(last_review, config.types[doc.type].review_months)
    return StatusInfo(
        document=doc.id, revision=doc.revision, status=status, required_roles=required,
        approvals=tuple(current), missing_roles=missing,
        effective=mine.effective if mine else None, in_force=in_force,
        last_review=last_review, next_review=next_review,
        review_overdue=review_overdue(next_review, today), retirement=retirement)


def review_overdue(next_review: dt.date | None, today: dt.date) -> bool:
    """The rule of periodic review: a revision in force (``next_review`` is only set for
    one; a retired document has none) is overdue once its next review date has passed,
    whether or not a newer revision is open. Status, ``qms due``, ``verify`` and the site
    all take this answer."""
    return next_review is not None and next_review < today


def derive_all(documents: list[Document], records: RecordSet, config: Config,
               today: dt.date | None = None) -> dict[str, StatusInfo]:
    """Status of every document with an id, keyed by id."""
    return StatusCache(documents, records, config, today).all()


class StatusCache:
    """The statuses of one scan's documents under one set of records, each derived once.

    The command line's :class:`~qms_docs.workspace.Workspace` and the Sphinx build's state
    both hold one: new documents or records (an act wrote files, a new build) make a new
    cache, so nothing is ever cleared.
    """

    def __init__(self, documents: list[Document], records: RecordSet, config: Config,
                 today: dt.date | None = None) -> None:
        self._documents = documents
        self._records = records
        self._config = config
        self._today = today or current_date()
        self._all: dict[str, StatusInfo] | None = None
        self._derived: dict[str, tuple[Document, StatusInfo]] = {}

    def all(self) -> dict[str, StatusInfo]:
        """Status of every document with an id of a type of the policy, keyed by id (of
        two documents with one id, the later one's)."""
        if self._all is None:
            grouped = self._records.by_document()
            self._all = {doc.id: self._derive(doc, grouped.get(doc.id, []))
                         for doc in self._documents if doc.id and doc.type in self._config.types}
        return self._all

    def of(self, doc: Document) -> StatusInfo:
        """The status of ``doc``, derived once."""
        return self._derive(doc, None)

    def _derive(self, doc: Document, records: list[Record] | None) -> StatusInfo:
        known = self._derived.get(doc.id)
        if known is not None and known[0] is doc:
            return known[1]
        if records is None:
            records = self._records.for_document(doc.id)
        info = derive_status(doc, records, self._config, self._today)
        self._derived[doc.id] = (doc, info)
        return info
