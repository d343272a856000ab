"""Revision history of a document, and what was in force on a given date.

Derived from records (approvals, changes, retirement) and, where a git history index is
given, the commits involved. ``qms history``, ``qms show --as-of`` and the revision table
on every page of the site all call these functions; ``qms history`` and the site show a
revision as the same :class:`RevisionRow`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from . import status
from .gitrepo import Change
from .history import HistoryIndex
from .model import Config, Document
from .record_kinds import ApprovalRecord, ChangeRecord, Record, of_kind, retirement_of
from .signing import manifestation, shown_meaning, shown_time
from .status import InForce, complete_approvals, required_roles


@dataclass(frozen=True)
class RevisionEntry:
    """One revision of a document: why it was made, who approved it, when it was in force."""

    revision: int
    change: ChangeRecord | None
    approvals: tuple[ApprovalRecord, ...]
    fingerprint: str | None
    effective_from: dt.date | None
    effective_until: dt.date | None
    commits: tuple[Change, ...] = ()

    def to_dict(self, signers: Path | None = None) -> dict[str, object]:
        change = self.change.data if self.change else None
        return {
            "revision": self.revision,
            "reason": change["reason"] if change else None,
            "summary": change.get("summary") if change else None,
            "author": change["author"] if change else None,
            "date": change["date"] if change else None,
            "approvals": [{**manifestation(a.data, signers, a.self_approved),
                           "date": a.data["date"], "record": a.path,
                           "self_approved": a.self_approved} for a in self.approvals],
            "fingerprint": self.fingerprint,
            "effective_from": self.effective_from.isoformat() if self.effective_from else None,
            "effective_until": self.effective_until.isoformat() if self.effective_until else None,
            "commits": [{"commit": c.commit, "author": c.author_email, "date": c.date,
                         "path": c.path} for c in self.commits],
        }


@dataclass(frozen=True)
class RevisionRow:
    """One line of a revision history table, as ``qms history`` and each document page
    show it. ``approvals``: one text per approval (name, role, meaning, date and time;
    with the signature's state where it was checked)."""

    revision: int
    date: str
    reason: str
    author: str
    approvals: tuple[str, ...]
    effective_from: str
    effective_until: str  # a date, "in force", or empty when never in force
    commits: tuple[str, ...] = ()

    HEADERS = ("Rev", "Date", "Reason / summary", "Author", "Approved by", "Effective",
               "Until")
    #: With the commits of each revision (``qms history``; the site has no room for them).
    HEADERS_WITH_COMMITS = (*HEADERS, "Commits")

    def cells(self, commits: bool = False) -> list[str]:
        out = [str(self.revision), self.date, self.reason, self.author,
               "; ".join(self.approvals) or "not approved", self.effective_from,
               self.effective_until]
        return out + [" ".join(c[:8] for c in self.commits)] if commits else out


def approval_text(record: Record, signers: Path | None, check: bool,
                  roles: Mapping[str, str] | None = None) -> str:
    """``Quinn Quality (quality-manager, approval, 2026-01-10 09:00 +01:00)``, and, when
    ``check``, the state of its signature (``; signature verified``). With ``roles``
    (role key -> title), the role by its title (``Quality Manager``), as pages show it."""
    if check:
        return manifestation(record.data, signers, record.self_approved, roles)["text"]
    data = record.data
    role = (roles or {}).get(data["role"], data["role"])
    return (f"{data['approver']['name']} ({role}, "
            f"{shown_meaning(data['meaning'], record.self_approved)}, "
            f"{shown_time(data['date'])})")


def revision_row(entry: RevisionEntry, signers: Path | None = None,
                 check_signatures: bool = False,
                 roles: Mapping[str, str] | None = None) -> RevisionRow:
    """The table line of ``entry``. Checking signatures runs ssh-keygen once per signed
    approval: ``qms history`` does, a page of the site does not (its control block shows
    the approvals in force with their signatures)."""
    change = entry.change.data if entry.change else None
    reason = " - ".join(x for x in ((change["reason"], change.get("summary")) if change
                                    else ()) if x)
    start = entry.effective_from.isoformat() if entry.effective_from else ""
    until = (entry.effective_until.isoformat() if entry.effective_until
             else "in force" if start else "")
    return RevisionRow(entry.revision, str(change["date"])[:10] if change else "",
                       reason or "initial issue",
                       change["author"]["name"] if change and change.get("author") else "",
                       tuple(approval_text(a, signers, check_signatures, roles)
                             for a in entry.approvals),
                       start, until, tuple(c.commit for c in entry.commits))


def revision_history(doc: Document, records: list[Record], config: Config,
                     index: HistoryIndex | None = None) -> list[RevisionEntry]:
    """Every revision from 1 to the latest, oldest first."""
    complete = complete_approvals(records, required_roles(doc, config))
    retired = retirement_of(records)
    retired_on = retired.date.date() if retired else None
    numbers = {doc.revision or 1, *(r.about_revision or 0 for r in records)}
    latest = max(n for n in numbers if n)
    entries = []
    for number in range(1, latest + 1):
        change = next((r for r in reversed(of_kind(records, ChangeRecord))
                       if r.to_revision == number), None)
        # Every text approved under this number: one, unless a revision number was reused
        # before qms refused it (verify: revision-reused); each is listed.
        texts: list[InForce | None] = [f for f in complete if f.revision == number] or [None]
        commits: tuple[Change, ...] = ()
        if index is not None:
            commits = _commits_of_revision(index, doc, number, records)
        for in_force in texts:
            approvals = (in_force.approvals if in_force else
                         tuple(r for r in of_kind(records, ApprovalRecord)
                               if r.revision == number))
            until = None
            if in_force is not None:
                order = complete.index(in_force)  # a newer revision, or the same number
                later = [f.effective for i, f in enumerate(complete)  # approved again later
                         if f.effective >= in_force.effective
                         and (f.revision > number or f.revision == number and i > order)]
                until = min(later) if later else None
                if retired_on and (until is None or retired_on < until):
                    until = retired_on
            entries.append(RevisionEntry(number, change, approvals,
                                         in_force.fingerprint if in_force else None,
                                         in_force.effective if in_force else None, until,
                                         commits))
    return entries


def _commits_of_revision(index: HistoryIndex, doc: Document, number: int,
                         records: list[Record]) -> tuple[Change, ...]:
    found = [c for c in index.commits_of(doc.path) if index.header_revision(c) == number]
    for record in records:
        if record.about_revision == number:
            found += [c for c in index.commits_of(record.path) if c.status == "A"
                      and len(getattr(index.commits.get(c.commit), "parents", ())) < 2]
    unique = {c.commit: c for c in sorted(found, key=lambda c: c.date)}
    return tuple(unique.values())


def in_force_on(doc: Document, records: list[Record], config: Config,
                day: dt.date) -> InForce | None:
    """The revision that was effective on ``day`` (None if none was, or it was retired):
    status.in_force_on over the document's records."""
    return status.in_force_on(complete_approvals(records, required_roles(doc, config)),
                              retirement_of(records), day)
