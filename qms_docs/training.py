"""Training on change: who must be trained on which revision, and the training matrix.

When a revision becomes effective and its change record says training is needed (the
default; ``qms revise --no-training`` for editorial changes), every person holding one of
the document's audience roles owes a training record on a revision at least that new.
It is due ``training_days`` after the effective date, or after the day the person took
the role, whichever is later.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass

from .control import complete_approvals, required_roles
from .model import Config, Document, Person
from .records import Record, RecordSet

STATES = ("trained", "due", "overdue", "not-required")


def audience(doc: Document, config: Config) -> tuple[str, ...]:
    """Roles the document concerns: its ``:audience:``, else its type's default."""
    return doc.audience or config.types[doc.type].audience


@dataclass(frozen=True)
class Cell:
    """One person x one document of the training matrix."""

    person: Person
    document: str
    state: str
    required_revision: int | None = None
    trained_revision: int | None = None
    trained_on: dt.date | None = None
    due: dt.date | None = None

    HEADERS = ("Person", "Email", "Document", "State", "Revision", "Trained on", "Due")

    def cells(self) -> list[object]:
        revision = self.trained_revision if self.state == "trained" else self.required_revision
        return [self.person.name, self.person.email, self.document, self.state, revision,
                self.trained_on.isoformat() if self.trained_on else "",
                self.due.isoformat() if self.due else ""]

    def to_dict(self) -> dict[str, object]:
        return dict(zip(("person", "email", "document", "state", "revision", "trained_on",
                         "due"), self.cells()))


def training_revision(doc: Document, records: list[Record], config: Config,
                      today: dt.date) -> tuple[int, dt.date] | None:
    """(revision, effective date) of the newest effective revision that needs training, or
    None when no revision is in force."""
    complete = [f for f in complete_approvals(records, required_roles(doc, config))
                if f.effective <= today]
    if not complete or any(r.kind == "retirement" for r in records):
        return None
    in_force = complete[-1]
    effective_of = {}
    for entry in complete:
        effective_of.setdefault(entry.revision, entry.effective)
    for revision in range(in_force.revision, 0, -1):
        change = next((r for r in reversed(records) if r.kind == "change"
                       and r.data["to_revision"] == revision), None)
        needs = change is None or change.data.get("training", True)
        if needs and revision in effective_of:
            return revision, effective_of[revision]
    return in_force.revision, in_force.effective


def matrix(documents: list[Document], records: RecordSet, config: Config, today: dt.date,
           joined: dict[tuple[str, str], dt.date] | None = None) -> list[Cell]:
    """The training matrix: every person x every document with an audience."""
    grouped = records.by_document()
    cells = []
    for doc in documents:
        roles = set(audience(doc, config))
        if not roles or doc.type not in config.types:
            continue
        mine = grouped.get(doc.id, [])
        need = training_revision(doc, mine, config, today)
        trainings = [r for r in mine if r.kind == "training"]
        for person in config.people:
            held = roles & set(person.roles)
            if not held or need is None:
                cells.append(Cell(person, doc.id, "not-required"))
                continue
            revision, effective = need
            done = [r for r in trainings if r.data["trainee"]["email"].lower()
                    == person.email.lower() and r.data["revision"] >= revision]
            if done:
                last = max(done, key=lambda r: r.data["revision"])
                cells.append(Cell(person, doc.id, "trained", revision, last.data["revision"],
                                  last.date.date()))
                continue
            start = effective
            if joined:
                took = min((joined.get((person.email.lower(), role), effective) for role in held))
                start = max(effective, took)
            due = start + dt.timedelta(days=config.types[doc.type].training_days)
            cells.append(Cell(person, doc.id, "overdue" if due < today else "due", revision,
                              due=due))
    return cells


def role_start_dates(versions: list[tuple[dt.date, bytes]]) -> dict[tuple[str, str], dt.date]:
    """From the committed versions of qms.toml (oldest first): the first day each
    (email, role) appears. Versions that do not parse are skipped."""
    first: dict[tuple[str, str], dt.date] = {}
    for day, content in versions:
        try:
            data = tomllib.loads(content.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        for person in data.get("people", []) if isinstance(data.get("people"), list) else []:
            if not isinstance(person, dict):
                continue
            email = str(person.get("email", "")).lower()
            for role in person.get("roles", []) if isinstance(person.get("roles"), list) else []:
                first.setdefault((email, str(role)), day)
    return first
