"""Training on change: who must be trained on which revision.

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

from .model import Config, Document
from .record_kinds import ChangeRecord, Record, of_kind, retirement_of
from .status import complete_approvals, required_roles


def audience(doc: Document, config: Config) -> tuple[str, ...]:
    """Roles the document concerns: its ``:audience:``, else its type's default."""
    return doc.audience or config.types[doc.type].audience


@dataclass(frozen=True)
class TrainingNeed:
    """Which revision's training counts for a document, and why.

    ``revision`` is the newest effective revision whose change needs training;
    ``skipped`` names each newer revision up to the one in force that does not move it,
    with the reason (``editorial``: its change record says no training is needed;
    ``never in force``: it was never effective)."""

    revision: int
    effective: dt.date
    in_force: int
    skipped: tuple[tuple[int, str], ...] = ()

    def reason(self) -> str:
        """The sentence a reader needs: "revision 2 is editorial: training on revision 1
        stands", or "training on revision 2 is required" when the revision in force is
        the one."""
        if not self.skipped:
            return f"training on revision {self.revision} is required"
        said = []
        for why in dict.fromkeys(why for _, why in self.skipped):
            numbers = [str(rev) for rev, reason in sorted(self.skipped) if reason == why]
            past = why == "never in force"
            verb = ("was" if past else "is") if len(numbers) == 1 else ("were" if past else "are")
            noun = "revision" if len(numbers) == 1 else "revisions"
            said.append(f"{noun} {_and(numbers)} {verb} {why}")
        return f"{'; '.join(said)}: training on revision {self.revision} stands"


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def training_need(doc: Document, records: list[Record], config: Config,
                  today: dt.date) -> TrainingNeed | None:
    """The revision whose training counts (the newest effective revision that needs
    training) and why no newer one does, or None when no revision is in force."""
    complete = [f for f in complete_approvals(records, required_roles(doc, config))
                if f.effective <= today]
    if not complete or retirement_of(records) is not None:
        return None
    in_force = complete[-1]
    effective_of: dict[int, dt.date] = {}
    for entry in complete:
        effective_of.setdefault(entry.revision, entry.effective)
    skipped: list[tuple[int, str]] = []
    for revision in range(in_force.revision, 0, -1):
        change = next((r for r in reversed(of_kind(records, ChangeRecord))
                       if r.to_revision == revision), None)
        needs = change is None or change.training
        if needs and revision in effective_of:
            return TrainingNeed(revision, effective_of[revision], in_force.revision,
                                tuple(skipped))
        skipped.append((revision, "never in force" if revision not in effective_of
                        else "editorial"))
    return TrainingNeed(in_force.revision, in_force.effective, in_force.revision)


def training_revision(doc: Document, records: list[Record], config: Config,
                      today: dt.date) -> tuple[int, dt.date] | None:
    """(revision, effective date) of the newest effective revision that needs training, or
    None when no revision is in force (see :func:`training_need`)."""
    need = training_need(doc, records, config, today)
    return None if need is None else (need.revision, need.effective)


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
