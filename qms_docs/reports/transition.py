"""The transition to a new edition: what each document's clauses become, and what is left.

Given a crosswalk (:mod:`qms_docs.crosswalk`) from a catalog the QMS traces to, to a new
one, the report says for each document and each clause of the older edition it satisfies
what the clause becomes (unchanged, re-number, split: choose, changed: review, ...), which
new or changed requirements of the new edition no document covers yet, and a summary per
chapter. The CLI (``qms transition``), the site (``.. qms-report:: transition``) and the
header changes ``qms transition --write`` proposes all read these rows.

It reads the documents' working headers (what the authors will revise), not only the
revisions in force: a transition is planned on the texts being written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..catalog import find_catalog, joint_note
from ..crosswalk import Crosswalk, CrosswalkRow, check_against, find_crosswalk
from ..model import Catalog, Clause, Document
from ..status import StatusInfo

#: What each kind of change asks of the document's owner.
ACTIONS = {"same": "unchanged", "changed": "changed: review", "split": "split: choose",
           "merged": "merged: re-number", "removed": "removed: re-map"}
#: Kinds whose header change needs no choice (``--write`` proposes it).
UNAMBIGUOUS = ("same", "changed", "merged")


def action_of(row: CrosswalkRow) -> str:
    if row.change == "same" and row.to_number != row.from_number:
        return "re-number"
    return ACTIONS.get(row.change, row.change)


@dataclass(frozen=True)
class TransitionRow:
    """One clause of the older edition that a document satisfies, and what it becomes."""

    document: str
    title: str
    status: str
    clause: str
    becomes: tuple[Clause, ...]
    change: str
    action: str
    note: str
    #: the document's header already names every clause it becomes
    done: bool
    #: the new-edition need ids ``--write`` adds (empty: nothing to add, or a choice)
    proposed: tuple[str, ...] = ()

    HEADERS = ("Document", "Title", "Status", "Clause", "Becomes", "Change", "Action",
               "Done", "Note")

    @property
    def becomes_text(self) -> str:
        return ", ".join(c.number for c in self.becomes) or "-"

    def cells(self) -> list[object]:
        return [self.document, self.title, self.status, self.clause, self.becomes_text,
                self.change, self.action, "yes" if self.done else "no", self.note]

    def to_dict(self) -> dict[str, object]:
        return {"document": self.document, "title": self.title, "status": self.status,
                "clause": self.clause, "becomes": [c.number for c in self.becomes],
                "change": self.change, "action": self.action, "done": self.done,
                "note": self.note, "proposed": list(self.proposed)}


@dataclass(frozen=True)
class NewGapRow:
    """A new or changed requirement clause of the new edition no document covers yet."""

    clause: Clause
    change: str
    note: str

    HEADERS = ("Clause", "Title", "Change", "Note")

    def cells(self) -> list[object]:
        return [self.clause.number, self.clause.title, self.change, self.note]

    def to_dict(self) -> dict[str, object]:
        return {"clause": self.clause.number, "title": self.clause.title,
                "change": self.change, "note": self.note}


@dataclass(frozen=True)
class ChapterRow:
    """The transition of one chapter: clauses to keep, review, choose, and gaps."""

    chapter: Clause
    documents: int
    unchanged: int
    renumber: int
    review: int
    choose: int
    gaps: int

    HEADERS = ("Chapter", "Title", "Documents", "Unchanged", "Re-number", "Review", "Choose",
               "Gaps")

    def cells(self) -> list[object]:
        return [self.chapter.number, self.chapter.title, self.documents, self.unchanged,
                self.renumber, self.review, self.choose, self.gaps]

    def to_dict(self) -> dict[str, object]:
        return {"chapter": self.chapter.number, "title": self.chapter.title,
                "documents": self.documents, "unchanged": self.unchanged,
                "renumber": self.renumber, "review": self.review, "choose": self.choose,
                "gaps": self.gaps}


@dataclass(frozen=True)
class Transition:
    """The whole report: rows per document clause, gaps of the new edition, chapters."""

    old: Catalog
    new: Catalog
    crosswalk: Crosswalk
    rows: tuple[TransitionRow, ...]
    gaps: tuple[NewGapRow, ...]
    chapters: tuple[ChapterRow, ...]

    def proposals(self) -> dict[str, tuple[str, ...]]:
        """Document id -> the new-edition need ids ``--write`` adds to its header."""
        out: dict[str, list[str]] = {}
        for row in self.rows:
            for need in row.proposed:
                mine = out.setdefault(row.document, [])
                if need not in mine:
                    mine.append(need)
        return {doc: tuple(ids) for doc, ids in out.items()}

    def reason(self, doc_id: str) -> str:
        """The change record's reason for the header change of ``doc_id``:
        ``ISO 9001:2026 transition: 6.1.1 -> 6.1.1, 7.3 -> 7.3``."""
        pairs = [f"{r.clause} -> {r.becomes_text}" for r in self.rows
                 if r.document == doc_id and r.proposed]
        return f"{self.new.short_title} transition: {', '.join(pairs)}"

    def review_summary(self, doc_id: str) -> str:
        """What the owner still has to review in the text (changed clauses), or empty."""
        notes = [f"{r.clause}: {r.note}" for r in self.rows
                 if r.document == doc_id and r.change == "changed" and r.proposed]
        return ("Review the text against the changed requirements: " + "; ".join(notes)
                if notes else "")

    def provisional_note(self) -> str | None:
        """One note naming the provisional data this report rests on (catalogs and
        crosswalk), with their sources; None when all of it is final."""
        provisional = [(f"the catalog {c.standard}", c.sources) for c in (self.old, self.new)
                       if c.edition_status == "provisional"]
        if self.crosswalk.edition_status == "provisional":
            provisional.append((f"the crosswalk {self.crosswalk.from_standard} -> "
                                f"{self.crosswalk.to_standard}", self.crosswalk.sources))
        if not provisional:
            return None
        return joint_note([name for name, _ in provisional],
                          [source for _, sources in provisional for source in sources])

    def to_dict(self) -> dict[str, object]:
        return {"from": self.old.standard, "to": self.new.standard,
                "edition_status": self.crosswalk.edition_status,
                "sources": list(self.crosswalk.sources),
                "documents": [r.to_dict() for r in self.rows],
                "gaps": [g.to_dict() for g in self.gaps],
                "chapters": [c.to_dict() for c in self.chapters]}


def for_qms(to: str, catalogs: Sequence[Catalog], root: Path, documents: Iterable[Document],
            statuses: Mapping[str, StatusInfo] | None = None,
            crosswalk_path: str | None = None) -> Transition:
    """The transition of a QMS (its ``catalogs`` of qms.toml, in order) to the catalog
    ``to``: the crosswalk found (shipped, or ``crosswalk_path`` of the QMS), checked against
    both catalogs. The CLI and the site both ask here."""
    crosswalk = find_crosswalk(to, catalogs, root, crosswalk_path)
    old = find_catalog(crosswalk.from_standard, catalogs, root)
    new = find_catalog(to, catalogs, root)
    check_against(crosswalk, old, new)
    return transition(old, new, crosswalk, documents, statuses)


def transition(old: Catalog, new: Catalog, crosswalk: Crosswalk,
               documents: Iterable[Document],
               statuses: Mapping[str, StatusInfo] | None = None) -> Transition:
    """The transition report of ``documents`` from ``old`` to ``new`` (retired documents
    are left out: they have nothing to transition)."""
    statuses = statuses or {}
    old_ids, new_by_number = old.by_need_id(), new.by_number()
    rows: list[TransitionRow] = []
    live = []
    for doc in sorted(documents, key=lambda d: d.id):
        info = statuses.get(doc.id)
        if info is not None and info.status == "obsolete":
            continue
        live.append(doc)
        named = set(doc.satisfies)
        for ref in doc.satisfies:
            clause = old_ids.get(ref)
            if clause is None:
                continue
            targets = crosswalk.targets(clause.number)
            becomes = tuple(new_by_number[r.to_number] for r in targets
                            if r.to_number is not None)
            kinds = {r.change for r in targets} or {"removed"}
            change = "split" if "split" in kinds else next(iter(sorted(kinds)))
            action = ("split: choose" if change == "split" else
                      action_of(targets[0]) if targets else ACTIONS["removed"])
            done = bool(becomes) and all(c.need_id in named for c in becomes)
            proposed = tuple(c.need_id for c in becomes if c.need_id not in named
                             ) if change in UNAMBIGUOUS and len(becomes) == 1 else ()
            note = "; ".join(f"{r.to_number}: {r.note}" if len(targets) > 1 else r.note
                             for r in targets if r.note)
            rows.append(TransitionRow(doc.id, doc.title, info.label if info else "",
                                      clause.number, becomes, change, action, note, done,
                                      proposed))
    # a clause counts as reached where the mapping needs no choice (a split's clauses stay
    # gaps until the owner names them)
    reached = {c.number for row in rows if row.change in UNAMBIGUOUS for c in row.becomes}
    reached |= {c.number for doc in live for c in new.clauses if c.need_id in doc.satisfies}
    gaps = tuple(_gaps(new, crosswalk, reached))
    return Transition(old, new, crosswalk, tuple(rows), gaps,
                      tuple(_chapters(new, rows, gaps)))


def _gaps(new: Catalog, crosswalk: Crosswalk, reached: set[str]) -> list[NewGapRow]:
    """New, changed or split-off requirement clauses no document leads to."""
    out = []
    for clause in new.leaves:
        origins = crosswalk.origins(clause.number)
        kinds = [r.change for r in origins] or ["new"]
        if clause.number in reached or all(k == "same" for k in kinds):
            continue
        change = "new" if "new" in kinds else "split" if "split" in kinds else kinds[0]
        out.append(NewGapRow(clause, change, "; ".join(r.note for r in origins if r.note)))
    return out


def _chapters(new: Catalog, rows: list[TransitionRow],
              gaps: tuple[NewGapRow, ...]) -> list[ChapterRow]:
    out = []
    for chapter in (c for c in new.clauses if c.parent is None):
        def mine(number: str, chapter: Clause = chapter) -> bool:
            return number == chapter.number or number.startswith(chapter.number + ".")

        here = [r for r in rows if mine(r.clause)]
        out.append(ChapterRow(
            chapter, len({r.document for r in here}),
            sum(r.action == "unchanged" for r in here),
            sum(r.action == "re-number" for r in here),
            sum(r.change == "changed" for r in here),
            sum(r.change == "split" for r in here),
            sum(mine(g.clause.number) for g in gaps)))
    return out
