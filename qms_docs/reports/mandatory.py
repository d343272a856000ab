"""Mandatory documented information: per clause of a standard, the documented information
it asks an organization to maintain (documents) or retain (records), and whether the QMS
has it: a document in force naming the clause, and for records the procedures in force
that name where they are kept. The rows ``qms mandatory``, the site's page and the audit
pack all show (see traceability.py for the row conventions).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..model import Catalog, Clause, Document, UpstreamDocument
from .traceability import (
    Basis,
    DocRef,
    Statuses,
    coverage_basis,
    pending_dicts,
    pending_text,
    trace_matrix,
)

#: The two kinds of mandatory documented information, worded as ISO 9000 (3.8.6, note 2)
#: and ISO 9001 (7.5.1) word them: documented information *maintained* (a document) and
#: *retained* (records, evidence of results achieved).
Kind = Literal["maintained", "retained"]
MAINTAINED: Kind = "maintained"
RETAINED: Kind = "retained"


@dataclass(frozen=True)
class NamedRecords:
    """The records that procedures in force name for one clause, sorted by where they are:
    ``in_records`` names a path under ``records/`` that exists, ``elsewhere`` a record kept
    in another place (an ERP system, a share, a file), ``not_found`` a path under
    ``records/`` that does not exist (named, but not there: not counted)."""

    in_records: tuple[str, ...] = ()
    elsewhere: tuple[str, ...] = ()
    not_found: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        """The records counted: those that exist in records/ or are kept elsewhere."""
        return len(self.in_records) + len(self.elsewhere)

    def text(self) -> str:
        """``6 records: 1 in records/, 5 kept elsewhere`` (and what was not found)."""
        out = (f"{self.count} record{'s' if self.count != 1 else ''}: "
               f"{len(self.in_records)} in records/, {len(self.elsewhere)} kept elsewhere")
        return out + (f"; not found: {', '.join(self.not_found)}" if self.not_found else "")

    def to_dict(self) -> dict[str, object]:
        return {"count": self.count, "in_records": list(self.in_records),
                "elsewhere": list(self.elsewhere), "not_found": list(self.not_found)}


_RECORDS_PATH = re.compile(r"(?<![\w/.-])records/[^\s,;`'\"]*")


def named_records_of(documents: Iterable[Document], root: Path | None) -> NamedRecords:
    """What ``documents`` name as their records (a ``:records:`` option, the list of a
    Records section), each once; a path under ``records/`` is looked for under ``root``
    (without a root it is taken as there)."""
    places: dict[str, list[str]] = {"in": [], "elsewhere": [], "missing": []}
    seen = set()
    for doc in documents:
        for item in (*doc.records, *doc.records_named):
            if item in seen:
                continue
            seen.add(item)
            path = _RECORDS_PATH.search(item)
            if path is None:
                places["elsewhere"].append(item)
            elif root is None or (root / path.group(0).rstrip(".")).exists():
                places["in"].append(item)
            else:
                places["missing"].append(path.group(0).rstrip("."))
    return NamedRecords(tuple(places["in"]), tuple(places["elsewhere"]),
                        tuple(places["missing"]))


@dataclass(frozen=True)
class MandatoryRow:
    """Documented information the standard asks for at one clause, and whether it is there.

    Maintained: met when a revision in force satisfies the clause. Retained: met when a
    procedure in force satisfying it names records that exist in ``records/`` or are kept
    elsewhere; the row says "records named in SOP-005" (the records themselves are the
    company's to keep: qms counts what is named, not what is in the ERP system)."""

    clause: Clause
    kind: Kind  # MAINTAINED (a document) or RETAINED (records)
    met: bool
    documents: tuple[DocRef, ...]
    detail: str
    pending: tuple[DocRef, ...] = ()
    records: NamedRecords | None = None  # retained: the records named

    HEADERS = ("Clause", "Title", "Kind", "Met", "Evidence")

    @property
    def met_text(self) -> str:
        """``yes`` (maintained), ``records named in SOP-005`` (retained), or ``MISSING``."""
        if not self.met:
            return "MISSING"
        if self.kind == RETAINED:
            return "records named in " + ", ".join(d.id for d in self.documents)
        return "yes"

    def cells(self) -> list[object]:
        return [self.clause.number, self.clause.title, self.kind, self.met_text, self.detail]

    def to_dict(self) -> dict[str, object]:
        out = {"clause": self.clause.number, "title": self.clause.title, "kind": self.kind,
               "met": self.met, "met_text": self.met_text,
               "documents": [d.id for d in self.documents], "detail": self.detail,
               "pending": pending_dicts(self.pending)}
        if self.records is not None:
            out["records"] = self.records.to_dict()
        return out


def mandatory(catalog: Catalog, documents: Iterable[Document],
              statuses: Statuses, basis: Basis | None = None,
              root: Path | None = None,
              upstream: Sequence[UpstreamDocument] = ()) -> list[MandatoryRow]:
    """Mandatory documented information: maintained documents and retained records.

    Maintained: the revision in force of a document satisfies the clause. Retained: the
    revision in force of a document satisfying the clause names its records (a
    ``:records:`` option or a "Records" section listing them), and at least one of them
    exists in ``records/`` (under ``root``) or is named as kept elsewhere. What only a
    revision not yet in force would meet is missing, with that revision named as pending.
    An ``upstream`` document in force meets a maintained clause; retained records are the
    site's own to keep (an upstream's named records are not counted here).
    """
    documents = list(documents)
    basis = basis if basis is not None else coverage_basis(documents, statuses)
    keepers_all = _record_keepers(basis.in_force.values())
    rows = []
    for row in trace_matrix(catalog, documents, statuses, False, basis, upstream):
        clause = row.clause
        effective = tuple(d for d in row.documents if d.effective)
        pending = row.pending
        if clause.maintain:
            met = bool(effective)
            detail = ("effective document: " + ", ".join(d.id for d in effective) if met
                      else _with_pending("no effective document satisfies this clause",
                                         pending))
            rows.append(MandatoryRow(clause, MAINTAINED, met, effective, detail,
                                     () if met else pending))
        if clause.retain:
            keepers = tuple(d for d in effective if d.id in keepers_all and not d.source)
            named = named_records_of((basis.in_force[d.id] for d in keepers), root)
            met = named.count > 0
            detail = (named.text() if met else
                      "the Records section of " + ", ".join(d.id for d in keepers)
                      + " lists no record that exists in records/ or is kept elsewhere"
                      + (f" ({named.text()})" if named.not_found else "") if keepers else
                      "no effective document satisfying this clause names its records "
                      "(a :records: option or a Records section)" if effective else
                      "no effective document satisfies this clause")
            rows.append(MandatoryRow(clause, RETAINED, met, keepers,
                                     detail if met else _with_pending(detail, pending),
                                     () if met else pending, named))
    return rows


def mandatory_summary(rows: Iterable[MandatoryRow], when: str = "") -> str:
    """One sentence over the rows (``when``: " on 2025-06-12" for an as-of answer): the
    command line and the site say the same."""
    rows = list(rows)
    kept = [r for r in rows if r.kind == MAINTAINED]
    retained = [r for r in rows if r.kind == RETAINED]
    # a record named for several clauses (one procedure, 8.5.2 and 8.5.6) counts once
    counted = len({name for r in retained if r.records is not None
                   for name in (*r.records.in_records, *r.records.elsewhere)})
    return (f"{sum(r.met for r in kept)} of {len(kept)} documents to maintain in force"
            f"{when}; "
            f"{sum(r.met for r in retained)} of {len(retained)} clauses with records to "
            f"retain named in a procedure ({counted} record{'s' if counted != 1 else ''} "
            "named).")


def _with_pending(detail: str, pending: tuple[DocRef, ...]) -> str:
    return f"{detail}; {pending_text(pending)}" if pending else detail


def _record_keepers(documents: Iterable[Document]) -> set[str]:
    return {d.id for d in documents if d.records or d.records_section}
