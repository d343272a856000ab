"""The training matrix: every person against every document they must be trained on.

Who owes training on which revision is the rule of :mod:`qms_docs.training`; this
module only lays it out as rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..model import Config, Document, Person
from ..record_kinds import TrainingRecord, of_kind
from ..records import RecordSet
from ..training import audience, training_revision

STATES = ("trained", "due", "overdue", "not-required")


@dataclass(frozen=True)
class Cell:
    """One person x one document of the training matrix; once trained, how (method), by
    whom (trainer), when and what was noted, from their training record."""

    person: Person
    document: str
    state: str
    required_revision: int | None = None
    trained_revision: int | None = None
    trained_on: dt.date | None = None
    due: dt.date | None = None
    method: str = ""
    trainer: str = ""  # the trainer's name
    note: str = ""

    HEADERS = ("Person", "Email", "Document", "State", "Revision", "Due", "Trained on",
               "Method", "Trainer", "Note")
    KEYS = ("person", "email", "document", "state", "revision", "due", "trained_on",
            "method", "trainer", "note")

    def cells(self) -> list[object]:
        revision = self.trained_revision if self.state == "trained" else self.required_revision
        return [self.person.name, self.person.email, self.document, self.state, revision,
                self.due.isoformat() if self.due else "",
                self.trained_on.isoformat() if self.trained_on else "",
                self.method, self.trainer, self.note]

    def to_dict(self) -> dict[str, object]:
        return dict(zip(self.KEYS, self.cells(), strict=True))


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
        trainings = of_kind(mine, TrainingRecord)
        for person in config.people:
            held = roles & set(person.roles)
            if not held or need is None:
                cells.append(Cell(person, doc.id, "not-required"))
                continue
            revision, effective = need
            done = [r for r in trainings if r.trainee.has_email(person.email)
                    and r.revision >= revision]
            if done:
                last = max(done, key=lambda r: r.revision)
                cells.append(Cell(person, doc.id, "trained", revision, last.revision,
                                  last.date.date(), method=last.method,
                                  trainer=last.trainer.name, note=last.note))
                continue
            start = effective
            if joined:
                took = min(joined.get((person.email.lower(), role), effective) for role in held)
                start = max(effective, took)
            due = start + dt.timedelta(days=config.types[doc.type].training_days)
            cells.append(Cell(person, doc.id, "overdue" if due < today else "due", revision,
                              due=due))
    return cells
