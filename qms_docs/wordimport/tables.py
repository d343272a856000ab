"""Word's own control tables: the header table and the revision-history table.

A Word SOP opens with a table saying its number, title, revision, owner and approvers, and
often ends with a table of its past revisions. In a controlled document those facts are the
header (id, revision, owner) and the records (approvals, changes), so the import takes both
tables out of the text and keeps what they said in the change record's summary. The tables
are recognized by their labels, in the forms Word templates use: label | value rows, a row
of labels over a row of values, or "Label: value" in one cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: canonical field -> the labels Word templates give it (lower case, without . : #)
LABELS: dict[str, tuple[str, ...]] = {
    "number": ("document no", "document number", "doc no", "doc number", "document id",
               "doc id", "document ref", "document reference", "reference", "ref", "ref no",
               "number", "no", "sop no", "sop number", "procedure no", "procedure number",
               "document code", "doc code", "id"),
    "title": ("title", "document title", "procedure title", "document name", "sop title",
              "name"),
    "revision": ("revision", "rev", "revision no", "rev no", "revision number", "version",
                 "version no", "ver", "issue", "issue no", "edition", "revision level",
                 "rev level", "revision status"),
    "owner": ("owner", "document owner", "process owner", "responsible",
              "responsible person"),
    "approved": ("approved by", "approval", "approved", "approver", "authorised by",
                 "authorized by", "released by", "approved by signature"),
    "prepared": ("prepared by", "author", "written by", "created by", "originator",
                 "prepared"),
    "reviewed": ("reviewed by", "checked by", "reviewer", "reviewed"),
    "effective": ("effective date", "date effective", "issue date", "date of issue",
                  "release date", "approval date", "date approved", "effective", "date"),
    "page": ("page", "page no", "pages"),
}
_BY_LABEL = {label: key for key, labels in LABELS.items() for label in labels}
#: Fields that, two of them together, make a table Word's header table.
_HEADER_KEYS = {"number", "title", "revision", "owner", "approved", "prepared", "effective"}
#: The first row of a revision history names a revision and one of these.
_HISTORY_OTHER = ("date", "description", "change", "changes", "details", "reason", "summary",
                  "amendment", "nature of change", "description of change",
                  "change description", "comments", "author", "approved by", "changed by")
_HISTORY_HEADING = re.compile(r"^(document |revision |change |amendment |version )?"
                              r"(history|record|log)( of (changes|revisions|amendments))?$"
                              r"|^(revision|change|amendment|version) (history|record|log)"
                              r"|^(revisions|changes|amendments)$")


def _norm(text: str) -> str:
    text = re.sub(r"[.:#*()]", " ", text.lower().replace("\u00a0", " "))
    return " ".join(text.split())


def label_of(text: str) -> str | None:
    """The canonical field a cell's text names (``"Document No."`` -> ``number``)."""
    return _BY_LABEL.get(_norm(text))


@dataclass
class WordHeader:
    """What Word's header table said: (field, label as written, value), in order."""

    entries: list[tuple[str, str, str]] = field(default_factory=list)

    def get(self, key: str) -> str:
        return next((value for k, _, value in self.entries if k == key and value), "")

    def add(self, key: str, label: str, value: str) -> None:
        value = " ".join(value.split())
        if key != "page" and value and not any(k == key for k, _, _ in self.entries):
            self.entries.append((key, " ".join(label.split()).rstrip(":"), value))

    def merge(self, other: WordHeader) -> None:
        for entry in other.entries:
            self.add(*entry)


def header_fields(rows: list[list[str]]) -> WordHeader | None:
    """Word's header table read from its rows of cell texts, None if it is not one."""
    found = WordHeader()
    for index, row in enumerate(rows):
        for cell in row:  # "Label: value" in one cell
            label, colon, value = cell.partition(":")
            key = label_of(label) if colon and value.strip() else None
            if key:
                found.add(key, label, value)
        keys = [label_of(c) for c in row]
        below = rows[index + 1] if index + 1 < len(rows) else []
        if (sum(k is not None for k in keys) >= 2 and len(below) == len(row)
                and not any(label_of(c) for c in below)):  # labels over values
            for key, label, value in zip(keys, row, below, strict=True):
                if key:
                    found.add(key, label, value)
            continue
        for position, key in enumerate(keys[:-1]):  # label | value
            if key and keys[position + 1] is None:
                found.add(key, row[position], row[position + 1])
    if len({k for k, _, _ in found.entries} & _HEADER_KEYS) < 2:
        return None
    return found


def history_rows(rows: list[list[str]]) -> list[list[str]] | None:
    """The rows of a revision-history table (its first row the labels), None if the
    table is not one."""
    if len(rows) < 2:
        return None
    first = [_norm(c) for c in rows[0]]
    if not any(_BY_LABEL.get(c) == "revision" for c in first):
        return None
    if not any(c in _HISTORY_OTHER for c in first):
        return None
    return [[" ".join(c.split()) for c in row] for row in rows]


def is_history_heading(text: str) -> bool:
    """A heading that titles a revision history ("Revision history", "Document history")."""
    return bool(_HISTORY_HEADING.match(_norm(re.sub(r"^[\d.]+\s+", "", text))))


def summary(header: WordHeader, history: list[list[str]], limit: int = 3900) -> str:
    """What Word's control tables said, for the change record's summary."""
    parts = []
    if header.entries:
        parts.append("Word header: " + "; ".join(f"{label}: {value}"
                                                 for _, label, value in header.entries) + ".")
    if history:
        rows = ["; ".join(" | ".join(cell for cell in row) for row in history[1:])]
        parts.append(f"Word revision history ({' | '.join(history[0])}): {rows[0]}.")
    text = " ".join(parts) or "Imported from Word."
    return text if len(text) <= limit else text[:limit - 3] + "..."
