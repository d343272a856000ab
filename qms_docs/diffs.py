"""What changed in a document between two revisions, and who approved each side.

``qms diff DOC [REV [REV]]`` answers "what exactly changed in SOP-005 since the last
audit?" without git: each side is a revision (its approved text, read from git at the
commit that held its approved fingerprint; a revision never approved, its last committed
text), the revision in force on a date (the one ``qms show --as-of`` shows), or the
working text. The difference is a unified diff for the terminal and JSON, or a
side-by-side HTML page (:func:`html_page`).
"""

from __future__ import annotations

import datetime as dt
import difflib
import html
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import QmsError, UsageError
from .history import HistoryIndex
from .model import Config, Document
from .record_kinds import ApprovalRecord, Record
from .revisions import in_force_on
from .signing import shown_time
from .status import InForce, StatusInfo, complete_approvals, required_roles

WORKING = "working"
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Side:
    """One side of a difference: which text, its approvals, and the text itself."""

    label: str  # "revision 2", "working text"
    revision: int | None
    text: str
    approvals: tuple[ApprovalRecord, ...] = ()
    effective: dt.date | None = None
    commit: str | None = None
    state: str = ""  # "in force", "approved", "not approved", "draft" ...

    def describe(self) -> str:
        """``revision 1 (effective 2025-02-03, from commit 1a2b3c4d): approved by ...``."""
        state = self.state if self.state and self.state not in self.label else ""
        facts = [f for f in (state, f"effective {self.effective}" if self.effective
                             else "", f"commit {self.commit[:10]}" if self.commit else "")
                 if f]
        approvals = "; ".join(approval_text(a) for a in self.approvals) or "no approvals"
        return f"{self.label}" + (f" ({', '.join(facts)})" if facts else "") + (
            f": approved by {approvals}" if self.approvals else f": {approvals}")

    def to_dict(self) -> dict[str, object]:
        return {"label": self.label, "revision": self.revision, "state": self.state,
                "effective": self.effective.isoformat() if self.effective else None,
                "commit": self.commit,
                "approvals": [{"name": a.approver.name, "email": a.approver.email,
                               "role": a.role, "meaning": a.meaning, "date": a.stated}
                              for a in self.approvals]}


def approval_text(record: ApprovalRecord) -> str:
    return (f"{record.approver.name} ({record.role}, {record.meaning}, "
            f"{shown_time(record.stated)})")


class Texts:
    """Reads the sides of one document's differences from its records and git."""

    def __init__(self, doc: Document, records: list[Record], config: Config,
                 index: HistoryIndex, git_path: str, working: bytes | None,
                 status: StatusInfo | None) -> None:
        self.doc, self.records, self.config, self.index = doc, records, config, index
        self.git_path, self.working, self.status = git_path, working, status
        self.complete = complete_approvals(records, required_roles(doc, config))

    def latest(self) -> int:
        numbers = [self.doc.revision or 0, *(f.revision for f in self.complete),
                   *(r.about_revision or 0 for r in self.records)]
        return max(numbers) or 1

    def side(self, spec: str) -> Side:
        """A side named as a revision number, a date (the revision in force then) or
        ``working``."""
        spec = spec.strip().lower()
        if spec == WORKING:
            return self.working_side()
        if _DAY.match(spec):
            try:
                day = dt.date.fromisoformat(spec)
            except ValueError:
                raise UsageError(f"{spec} is not a date", hint="YYYY-MM-DD") from None
            current = in_force_on(self.doc, self.records, self.config, day)
            if current is None:
                raise UsageError(f"no revision of {self.doc.id} was in force on {day}",
                                 hint=f"see its revisions: qms history {self.doc.id}")
            return self.revision_side(current.revision, f"revision {current.revision}, "
                                      f"in force on {day}")
        number = spec[1:] if spec.startswith(("r", "v")) else spec
        if not number.isdigit() or not 1 <= int(number) <= self.latest():
            raise UsageError(f"{self.doc.id} has no revision {spec!r}",
                             hint=f"give 1 to {self.latest()}, a date (YYYY-MM-DD) or "
                                  "'working'")
        return self.revision_side(int(number))

    def in_force_side(self) -> Side:
        current = self.status.in_force if self.status is not None else None
        if current is None:
            raise UsageError(f"no revision of {self.doc.id} is in force",
                             hint=f"name the revisions: qms diff {self.doc.id} 1 working")
        return self.revision_side(current.revision, f"revision {current.revision} in force")

    def revision_side(self, number: int, label: str | None = None) -> Side:
        approved = [f for f in self.complete if f.revision == number]
        root = self.git_path[:-len(self.doc.path)].rstrip("/")  # the QMS folder in git
        held = self.index.fingerprints_along_moves(self.git_path, root)
        if approved:
            chosen = approved[-1]
            change = held.get(chosen.fingerprint)
            if change is None:
                raise QmsError(f"no commit holds the approved text of {self.doc.id} "
                               f"revision {number}", path=self.doc.path,
                               hint="the file may have been renamed; run qms verify")
            in_force = self.status.in_force if self.status is not None else None
            state = ("in force" if in_force is not None
                     and in_force.fingerprint == chosen.fingerprint else "approved")
            return Side(label or f"revision {number}", number, _decode(
                self.index.content(change)), chosen.approvals, chosen.effective,
                change.commit, state)
        commits = [c for c in self.index.commits_of(self.git_path)
                   if self.index.header_revision(c) == number]
        if not commits:
            raise UsageError(f"no commit holds revision {number} of {self.doc.id}",
                             hint="commit it, or compare with the working text")
        change = max(commits, key=lambda c: c.date)
        return Side(label or f"revision {number}", number,
                    _decode(self.index.content(change)), (), None, change.commit,
                    "not approved")

    def working_side(self) -> Side:
        if self.working is None:
            raise UsageError(f"{self.doc.path} is not in the working tree")
        state = self.status.label if self.status is not None else ""
        approvals = self.status.approvals if self.status is not None else ()
        return Side(f"working text (revision {self.doc.revision}"
                    + (f", {state})" if state else ")"), self.doc.revision,
                    _decode(self.working), approvals,
                    self.status.effective if self.status is not None else None, None, state)


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace").replace("\r\n", "\n")


@dataclass(frozen=True)
class Difference:
    """Two sides of one document and what differs between them."""

    document: Document
    old: Side
    new: Side

    @property
    def same(self) -> bool:
        return self.old.text == self.new.text

    def unified(self, context: int = 3) -> str:
        return "".join(difflib.unified_diff(
            self.old.text.splitlines(keepends=True), self.new.text.splitlines(keepends=True),
            f"{self.document.id} {self.old.label}", f"{self.document.id} {self.new.label}",
            n=context))

    def to_dict(self) -> dict[str, object]:
        return {"document": self.document.id, "title": self.document.title,
                "from": self.old.to_dict(), "to": self.new.to_dict(), "same": self.same,
                "diff": self.unified()}


def difference(texts: Texts, specs: tuple[str, ...]) -> Difference:
    """``()``: the revision in force against the working text; ``(A,)``: A against the
    working text; ``(A, B)``: A against B."""
    if len(specs) > 2:
        raise UsageError("give at most two revisions")
    old = texts.side(specs[0]) if specs else texts.in_force_side()
    new = texts.side(specs[1]) if len(specs) > 1 else texts.working_side()
    return Difference(texts.doc, old, new)


# --- the differences the site links from each revision -------------------------------------

#: The folder of the site that holds the pages of differences between revisions.
SITE_FOLDER = "_diffs"


def page_name(doc_id: str, old: int, new: int) -> str:
    """The site's page (without suffix) of what changed from revision ``old`` to ``new``."""
    return f"{SITE_FOLDER}/{doc_id}-{old}-{new}"


def approved_differences(root: Path, documents: Iterable[tuple[Document, list[Record]]],
                         config: Config, index: HistoryIndex | None = None
                         ) -> dict[str, list[Difference]]:
    """For each document, what each approved revision changed from the approved revision
    before it (id -> differences, oldest first). Only approved texts: a draft never
    reaches a page this way. Texts come from the git repository holding the QMS at
    ``root`` (through ``index`` when the caller read the whole history already), all with
    one ``git cat-file --batch``."""
    from . import gitrepo

    repo = gitrepo.open_repo(root)
    prefix = Path(root).resolve().relative_to(gitrepo.work_tree(repo).resolve()).as_posix()
    prefix = "" if prefix == "." else prefix
    index = index or HistoryIndex.build(repo)
    plan = []
    for doc, records in documents:
        approved: dict[int, InForce] = {}
        for current in complete_approvals(records, required_roles(doc, config)):
            approved[current.revision] = current  # the text approved last under a number
        if len(approved) < 2:
            continue
        held = index.fingerprints_along_moves(f"{prefix}/{doc.path}" if prefix else doc.path,
                                              prefix)
        sides = {number: (current, held.get(current.fingerprint))
                 for number, current in sorted(approved.items())}
        plan.append((doc, sides))
    contents = gitrepo.read_blobs(index.repo_dir, [change.new_blob for _, sides in plan
                                                   for _, change in sides.values() if change])
    out: dict[str, list[Difference]] = {}
    for doc, sides in plan:
        known = [(number, current, _decode(contents[change.new_blob]), change.commit)
                 for number, (current, change) in sides.items()
                 if change is not None and change.new_blob in contents]
        for before, after in zip(known, known[1:], strict=False):
            out.setdefault(doc.id, []).append(Difference(doc, *(
                Side(f"revision {number}", number, text, current.approvals,
                     current.effective, commit, "approved")
                for number, current, text, commit in (before, after))))
    return out


# --- the side-by-side page ----------------------------------------------------------------

@dataclass(frozen=True)
class Line:
    """One line of the side-by-side table: old and new line numbers and texts, and how
    they differ ("equal", "delete", "insert", "replace", or "skip": unchanged lines left
    out, their count in ``old_text``)."""

    kind: str
    old_number: int | None = None
    old_text: str = ""
    new_number: int | None = None
    new_text: str = ""


def side_by_side(old: str, new: str, context: int = 3) -> Iterator[Line]:
    """The lines of both texts paired, changes with ``context`` unchanged lines around."""
    a, b = old.splitlines(), new.splitlines()
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for group_number, group in enumerate(matcher.get_grouped_opcodes(context)):
        first = group[0]
        if group_number == 0 and (first[1] > 0 or first[3] > 0):
            yield Line("skip", old_text=str(first[1]))
        elif group_number > 0:
            yield Line("skip", old_text="")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                for k in range(i2 - i1):
                    yield Line("equal", i1 + k + 1, a[i1 + k], j1 + k + 1, b[j1 + k])
                continue
            for k in range(max(i2 - i1, j2 - j1)):
                left = i1 + k if i1 + k < i2 else None
                right = j1 + k if j1 + k < j2 else None
                kind = ("replace" if left is not None and right is not None
                        else "delete" if left is not None else "insert")
                yield Line(kind, None if left is None else left + 1,
                           "" if left is None else a[left],
                           None if right is None else right + 1,
                           "" if right is None else b[right])


PAGE_STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #222; }
table.sides { border-collapse: collapse; width: 100%; table-layout: fixed; }
table.sides td, table.sides th { padding: 0 .4em; vertical-align: top; font-size: 13px; }
table.sides td.text { font-family: monospace; white-space: pre-wrap; overflow-wrap: anywhere; }
table.sides td.number { width: 3em; text-align: right; color: #888; }
tr.delete td.old, tr.replace td.old { background: #fde8e8; }
tr.insert td.new, tr.replace td.new { background: #e6f6e6; }
tr.skip td { background: #f2f2f2; color: #666; text-align: center; }
dl.sides dt { font-weight: bold; margin-top: .5em; }
"""


def html_page(diff: Difference, organization: str = "", back: str | None = None) -> str:
    """A standalone page: both sides described (revision, state, approvals), then the
    texts side by side, changed lines marked; ``back``: the URI of the document's page.
    Every text is escaped."""
    def esc(value: object) -> str:
        return html.escape(str(value), quote=True)

    rows = []
    for line in side_by_side(diff.old.text, diff.new.text):
        if line.kind == "skip":
            rows.append('<tr class="skip"><td colspan="4">&#8942; unchanged lines</td></tr>')
            continue
        rows.append(
            f'<tr class="{line.kind}"><td class="number">{esc(line.old_number or "")}</td>'
            f'<td class="text old">{esc(line.old_text)}</td>'
            f'<td class="number">{esc(line.new_number or "")}</td>'
            f'<td class="text new">{esc(line.new_text)}</td></tr>')
    body = ("\n".join(rows) if rows else
            '<tr class="skip"><td colspan="4">The two texts are the same.</td></tr>')
    doc = diff.document
    title = f"{doc.id} {doc.title}: {diff.old.label} and {diff.new.label}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{esc(title)}</title>
<style>{PAGE_STYLE}</style>
</head>
<body>
<p class="organization">{esc(organization)}</p>
<h1>{esc(doc.id)} {esc(doc.title)}: changes from {esc(diff.old.label)} to \
{esc(diff.new.label)}</h1>
{f'<p><a href="{esc(back)}">{esc(doc.id)} {esc(doc.title)}</a></p>' if back else ""}
<dl class="sides">
<dt>Left: {esc(diff.old.label)}</dt><dd>{esc(diff.old.describe())}</dd>
<dt>Right: {esc(diff.new.label)}</dt><dd>{esc(diff.new.describe())}</dd>
</dl>
<table class="sides">
<colgroup><col style="width:3em"><col><col style="width:3em"><col></colgroup>
<thead><tr><th></th><th>{esc(diff.old.label)}</th><th></th><th>{esc(diff.new.label)}</th>
</tr></thead>
<tbody>
{body}
</tbody>
</table>
</body>
</html>
"""
