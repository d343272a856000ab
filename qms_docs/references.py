"""References between documents, and those to documents not in force.

A document refers to another with a ``:need:`` role in its text or a ``:links:`` entry in
its header. Where no revision of the other is in force (it is retired, or was never
effective), the controlled site shows the reference as plain text with that state
("FRM-008 (withdrawn)", "SOP-016 (not yet issued)") and it is reported, by ``qms verify``
and by the controlled build alike, from :func:`reference_findings`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .model import Document, Finding
from .status import StatusInfo

Statuses = dict[str, StatusInfo]


#: Why a controlled build leaves a document out (``publish.Tree.excluded``) -> how a
#: reference to it reads there.
STATE_OF_EXCLUDED = {"retired": "withdrawn", "never effective": "not yet issued"}


def reference_state(info: StatusInfo | None) -> str | None:
    """How a reference to the document reads when no revision of it is in force
    ("withdrawn": retired; "not yet issued": never effective); None while one is."""
    if info is None:
        return None
    if info.status == "obsolete":
        return STATE_OF_EXCLUDED["retired"]
    if info.in_force is None:
        return STATE_OF_EXCLUDED["never effective"]
    return None


def reference_states(documents: Iterable[Document], statuses: Statuses) -> dict[str, str]:
    """Id -> state of every document not in force (see :func:`reference_state`)."""
    out = {}
    for doc in documents:
        state = reference_state(statuses.get(doc.id))
        if state is not None:
            out[doc.id] = state
    return out


# :need:`SOP-001`, :need:`label <SOP-001>` (reStructuredText) and {need}`SOP-001` (MyST).
_NEED_ROLE = re.compile(r"(?::need:|\{need\})`([^`]*)`")
_LINKS_OPTION = re.compile(r"^[ \t]*:links:[ \t]*(.*)$", re.MULTILINE)


@dataclass(frozen=True)
class Reference:
    """One reference of a document's text to a need: its id, line, and how it is made."""

    target: str
    line: int
    how: str  # ":need:" or ":links:"


def references(text: str) -> list[Reference]:
    """The ``:need:`` roles and ``:links:`` options of a document's text, in order."""
    out = []
    for match in _NEED_ROLE.finditer(text):
        inner = match.group(1).strip()
        if inner.endswith(">") and "<" in inner:
            inner = inner[inner.rindex("<") + 1:-1].strip()
        target = inner.split(".")[0]  # a need part: SOP-001.2
        if target:
            out.append(Reference(target, text.count("\n", 0, match.start()) + 1, ":need:"))
    for match in _LINKS_OPTION.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        out += [Reference(part.split(".")[0], line, ":links:")
                for part in re.split(r"[,;\s]+", match.group(1)) if part]
    return sorted(out, key=lambda r: r.line)


def reference_findings(doc: Document, text: str, states: Mapping[str, str],
                       revision: int | None = None, strict: bool = False) -> list[Finding]:
    """``reference-not-in-force``: each reference of ``text`` (the text of ``doc`` in
    force, at ``revision``) to a document no revision of which is in force."""
    out = []
    revision = doc.revision if revision is None else revision
    for ref in references(text):
        state = states.get(ref.target)
        if state is None or ref.target == doc.id:
            continue
        out.append(Finding(
            "reference-not-in-force",
            f"{doc.id} revision {revision}, in force, refers to {ref.target} ({ref.how}), "
            f"which is {state}: the controlled site shows it as \"{ref.target} ({state})\", "
            "not as a link", doc.path, ref.line,
            f"revise {doc.id} to remove or replace the reference: qms revise {doc.id} "
            "--reason \"...\"", doc.id, "error" if strict else "warning"))
    return out
