"""The header changes of a transition to a new edition (``qms transition --write``).

Where a clause's mapping needs no choice (unchanged, re-numbered, changed, merged), the
document's ``:satisfies:`` gets the clause of the new edition beside the old one: during
the transition a document satisfies both editions, and the gap reports of each stay right.
Each change is a new revision with its change record ("ISO 9001:2026 transition: 6.1.1 ->
6.1.1"), made by :func:`qms_docs.actions.revise`: an approved text is never altered in
place. A document whose revision is still an unapproved draft is left to its author (the
report names what to add), and so is every split (the owner chooses).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from . import actions
from .errors import InputError, QmsError
from .model import Document
from .record_kinds import ApprovalRecord, of_kind
from .reports.transition import Transition
from .workspace import Workspace

_OPTION_START = re.compile(rb"^[ \t]*:[A-Za-z][\w-]*:")


@dataclass
class WriteResult:
    """What ``--write`` did: revisions made (id, revision, files) and documents skipped."""

    revised: list[tuple[str, int, list[Path]]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def add_satisfies(text: bytes, doc: Document, needs: tuple[str, ...]) -> bytes:
    """``text`` with ``needs`` appended to the header's ``:satisfies:`` (after its last
    continuation line); every other byte stays as it was."""
    lines = text.splitlines(keepends=True)
    start = doc.line_of("satisfies") - 1
    if "satisfies" not in doc.option_lines or not 0 <= start < len(lines):
        raise InputError(f"{doc.id} has no :satisfies: line to extend", path=doc.path,
                         line=doc.line)
    end = start
    while (end + 1 < len(lines) and lines[end + 1].strip()
           and lines[end + 1][:1] in (b" ", b"\t")
           and not _OPTION_START.match(lines[end + 1])
           and not lines[end + 1].strip().startswith((b"```", b"~~~"))):
        end += 1
    last = lines[end]
    body = last.rstrip(b"\r\n")
    ending = last[len(body):]
    lines[end] = body.rstrip() + b", " + ", ".join(needs).encode() + ending
    return b"".join(lines)


def write(ws: Workspace, result: Transition) -> WriteResult:
    """Make a new revision of each document with header changes to propose."""
    out = WriteResult()
    for doc_id, needs in sorted(result.proposals().items()):
        doc = ws.document(doc_id)
        approved = any(r.revision == doc.revision for r in
                       of_kind(ws.records.for_document(doc.id), ApprovalRecord))
        if not approved:
            out.skipped.append((doc_id, f"revision {doc.revision} is a draft: its author adds "
                                        f"{', '.join(needs)} to :satisfies:"))
            continue

        def edit(current: Document, text: bytes, needs: tuple[str, ...] = needs) -> bytes:
            return add_satisfies(text, current, needs)

        try:
            revision, record = actions.revise(
                ws, doc, result.reason(doc_id), result.review_summary(doc_id), training=False,
                edit=edit)
        except QmsError as exc:
            out.skipped.append((doc_id, str(exc)))
            continue
        out.revised.append((doc_id, revision, [ws.root / doc.path, record]))
    return out
