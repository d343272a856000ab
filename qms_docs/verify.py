"""Full verification with git history: is every document controlled?

Reads the history once (:class:`~qms_docs.history.HistoryIndex`) and relies on
fingerprints, not commit ids, so a rebase before merge does not break it.
"""

from __future__ import annotations

import bisect

from .checks import check_documents
from .control import complete_approvals, required_roles
from .documents import fingerprint, parse_revision, read_header
from .history import HistoryIndex, changed_paths, files_at, require_history, resolve
from .model import Document, Finding
from .records import RECORDS_DIR, Record
from . import signing
from .workspace import Workspace


def verify(ws: Workspace, strict: bool = False) -> list[Finding]:
    """Every finding about the QMS: static checks, records, approvals, history."""
    repo = ws.repo
    require_history(repo)
    pending = HistoryIndex.start(repo)  # git reads the history while we read the files
    findings = check_documents(ws.scan, ws.config, ws.catalogs)
    findings += ws.records.findings
    index = pending.result()
    documents = [d for d in ws.scan.documents if d.id and d.type in ws.config.types]
    index.preload([d.path for d in documents])
    grouped = ws.records.by_document()
    known_ids = {d.id for d in documents}
    signers = signing.check_signers_path(ws.root, ws.config.signers_file)
    for doc in documents:
        findings += _document_findings(ws, doc, grouped.get(doc.id, []), index, strict,
                                       signers)
    for doc_id, records in sorted(grouped.items()):
        if doc_id not in known_ids and doc_id != signing.SIGNERS_ID:
            findings.append(Finding("invalid-record", f"records name {doc_id}, which is no "
                                    "document", records[0].path, None,
                                    "restore the document, or retire it instead of deleting it",
                                    doc_id))
    findings += _altered_records(ws, index)
    findings += references_not_in_force(ws, index, strict)
    for cell in ws.training_matrix(index):
        if cell.state == "overdue":
            findings.append(Finding(
                "training-overdue", f"{cell.person.name} was due to be trained on "
                f"{cell.document} revision {cell.required_revision} by {cell.due}", None, None,
                f"after the training: qms train {cell.document} --person {cell.person.email}",
                cell.document, "error" if strict else "warning"))
    return findings


def _document_findings(ws: Workspace, doc: Document, records: list[Record],
                       index: HistoryIndex, strict: bool, signers) -> list[Finding]:
    out: list[Finding] = []
    approvals = [r for r in records if r.kind == "approval"]
    changes = [r for r in records if r.kind == "change"]
    if any(a.data["revision"] == doc.revision and a.data["fingerprint"] != doc.fingerprint
           for a in approvals) and not any(a.data["revision"] == doc.revision
                                           and a.data["fingerprint"] == doc.fingerprint
                                           for a in approvals):
        out.append(Finding("edited-after-approval",
                           f"{doc.id} revision {doc.revision} was changed after it was "
                           "approved, without a new revision", doc.path, doc.line,
                           f"run: qms revise {doc.id} --reason \"...\" (or restore the "
                           "approved text)", doc.id))
    if doc.revision and doc.revision > 1 and not any(
            c.data["to_revision"] == doc.revision for c in changes):
        out.append(Finding("missing-change-record",
                           f"{doc.id} is at revision {doc.revision} but no change record "
                           f"leads to it", doc.path, doc.line_of("revision"),
                           f"raise revisions with: qms revise {doc.id} --reason \"...\"",
                           doc.id))
    later = max([*(c.data["to_revision"] for c in changes),
                 *(a.data["revision"] for a in approvals)], default=0)
    if doc.revision and later > doc.revision:
        out.append(Finding("revision-behind-records",
                           f"{doc.id} is at revision {doc.revision}, but its records go up to "
                           f"revision {later}", doc.path, doc.line_of("revision"),
                           f"if qms revise was interrupted, run it again to complete it; "
                           f"otherwise restore the text of revision {later} (git checkout)",
                           doc.id))
    history_fps = index.fingerprints_of(doc.path)
    required = required_roles(doc, ws.config)
    path_changes = index.commits_of(doc.path)
    self_approved = _self_approvals(changes, approvals, path_changes, index, required)
    for approval in approvals:
        data = approval.data
        person = ws.config.person_by_email(data["approver"]["email"])
        if person is None or data["role"] not in person.roles or data["role"] not in required:
            why = ("is not a person in qms.toml" if person is None else
                   f"does not hold the role {data['role']}" if data["role"] not in person.roles
                   else f"approved as {data['role']}, which {doc.type} does not require")
            out.append(Finding("unauthorized-approval",
                               f"{data['approver']['name']} <{data['approver']['email']}> {why}",
                               approval.path, None, "approvals come from 'qms approve' by a "
                               "person holding a required role", doc.id))
        if data["fingerprint"] not in history_fps:
            out.append(Finding("approval-of-unknown-content",
                               f"approves content of {doc.id} that no commit ever held "
                               f"(fingerprint {data['fingerprint'][:12]}...)", approval.path,
                               None, "approve committed content only: commit, then qms approve",
                               doc.id))
        elif approval.path in self_approved:
            out.append(Finding("self-approval",
                               f"{data['approver']['name']} approved revision "
                               f"{data['revision']} of {doc.id}, which they wrote",
                               approval.path, None,
                               "segregation of duties: another person holding the role "
                               "approves; remove this approval in a new revision", doc.id))
    out += _signature_findings(ws, doc, approvals, signers)
    info = ws.status(doc)
    if info.review_overdue:
        out.append(Finding("review-overdue",
                           f"{doc.id} was due for periodic review on {info.next_review}",
                           doc.path, doc.line,
                           f"review it: qms review {doc.id} --outcome \"...\" (or revise it)",
                           doc.id, "error" if strict else "warning"))
    return out


def _signature_findings(ws: Workspace, doc: Document, approvals: list[Record],
                        signers) -> list[Finding]:
    out = []
    required = ws.config.types[doc.type].require_signature
    for approval in approvals:
        check = signing.verify(approval.data, signers)
        if check.state == "invalid":
            out.append(Finding("bad-signature", f"the signature of "
                               f"{approval.data['approver']['name']} on {doc.id} revision "
                               f"{approval.data['revision']} does not verify: {check.detail}",
                               approval.path, None, "the record or the signature was altered, "
                               "or the key is not listed for this person in "
                               f"{ws.config.signers_file}", doc.id))
        elif check.state == "unsigned" and required:
            out.append(Finding("missing-signature", f"{doc.type} approvals must be signed; "
                               f"{approval.data['approver']['name']}'s is not",
                               approval.path, None, f"approve again with: qms approve {doc.id} "
                               f"--role {approval.data['role']} --sign (in a new revision)",
                               doc.id))
    return out


def _self_approvals(changes: list[Record], approvals: list[Record], path_changes: list,
                    index: HistoryIndex, required: tuple[str, ...]) -> set[str]:
    """Paths of the approval records whose approver wrote what they approved.

    The rule qms approve enforces: the author of the revision's change record, or of a
    commit that changed the file after the content in force when the approval was made
    (after the whole history if none was) and up to the approved content. Near-linear in
    the document's commits and approvals (hot documents have hundreds of each).
    """
    wrote = {(c.data["to_revision"], c.data["author"]["email"].lower()) for c in changes}
    positions: dict[str, list[int]] = {}  # fingerprint -> where the file had it, in order
    authors: dict[str, list[int]] = {}
    for position, change in enumerate(path_changes):
        digest = index.content_fingerprint(change)
        if digest is not None:
            positions.setdefault(digest, []).append(position)
        authors.setdefault(change.author_email.lower(), []).append(position)
    complete = sorted(((max(a.date for a in f.approvals), f)
                       for f in complete_approvals(approvals, required)), key=lambda x: x[0])
    found = set()
    for approval in approvals:
        email = approval.data["approver"]["email"].lower()
        revision, digest = approval.data["revision"], approval.data["fingerprint"]
        if (revision, email) in wrote:
            found.add(approval.path)
            continue
        if digest not in positions:
            continue
        end = positions[digest][-1]
        when = approval.date
        day = when.date()
        in_force = None  # as qms approve saw it: complete and effective by then
        for made, candidate in complete:
            if made > when:
                break
            if (candidate.effective <= day
                    and (candidate.revision, candidate.fingerprint) != (revision, digest)
                    and (in_force is None or (candidate.effective, candidate.revision)
                         >= (in_force.effective, in_force.revision))):
                in_force = candidate
        start = -1
        if in_force is not None:
            spots = positions.get(in_force.fingerprint, [])
            before = bisect.bisect_right(spots, end)
            start = spots[before - 1] if before else -1
        mine = authors.get(email, [])
        first = bisect.bisect_right(mine, start)
        if first < len(mine) and mine[first] <= end:
            found.add(approval.path)
    return found


def _altered_records(ws: Workspace, index: HistoryIndex) -> list[Finding]:
    out: list[Finding] = []
    prefix = f"{RECORDS_DIR}/"
    for change in index.changes:
        if change.path.startswith(prefix) and change.status != "A":
            what = "deleted" if change.status == "D" else "modified"
            out.append(Finding("record-altered",
                               f"committed record was {what} in commit {change.commit[:10]} by "
                               f"{change.author_email}", change.path, None,
                               "records are never edited or deleted: restore it "
                               "(git revert) and add a new record for the new fact", None))
    entries = ws.repo.git.status("--porcelain", "-z", "--", RECORDS_DIR).split("\x00")
    while entries:
        entry = entries.pop(0)
        code, path = entry[:2], entry[3:]
        if code[:1] in ("R", "C") and entries:
            original = entries.pop(0)  # -z lists a rename as: new path, then the old one
            path = original if code[0] == "R" else path
        if any(c in code for c in "MDRT"):  # T: replaced by a symlink (a type change)
            out.append(Finding("record-altered", "committed record is changed in the working "
                               "tree", path, None, f"restore it: git checkout -- {path}", None))
    return out


def references_not_in_force(ws: Workspace, index: HistoryIndex | None = None,
                            strict: bool = False) -> list[Finding]:
    """``reference-not-in-force`` (a warning; an error with ``strict``): every ``:need:``
    role and ``:links:`` entry in the text in force of a document in force that names a
    document no revision of which is in force (retired, or never effective). The
    controlled site shows such a reference as plain text with that state; the owner
    revises the referring document. Texts in force that the working tree does not hold
    are read from git (``index``: the whole history, already read)."""
    from . import references, reports
    from .history import texts_with_fingerprints

    documents = [d for d in ws.scan.documents if d.id and d.type in ws.config.types]
    statuses = ws.statuses
    states = references.reference_states(documents, statuses)
    if not states:
        return []
    live = [d for d in documents if reports.in_force(d, statuses)]
    wanted = reports.needs_in_force_text(live, statuses)
    texts = texts_with_fingerprints(ws.repo, ws.root, wanted, index) if wanted else {}
    findings: list[Finding] = []
    for doc in live:
        if doc.path in wanted:
            raw = texts.get(doc.path)
        else:
            try:
                raw = (ws.root / doc.path).read_bytes()
            except OSError:
                raw = None
        if raw is None:  # no commit holds the approved text: approval-of-unknown-content
            continue
        findings += references.reference_findings(doc, raw.decode("utf-8", "replace"), states,
                                                  statuses[doc.id].in_force.revision, strict)
    return findings


def verify_branch(ws: Workspace, base: str) -> list[Finding]:
    """The pull-request gate: is every change since ``base`` (its merge base) controlled?

    For documents changed since the merge base: each content change has a revision bump
    and its change record; records were only added; approvals added in the branch
    approve content that the branch holds.
    """
    repo = ws.repo
    require_history(repo)
    merge_base = repo.git.merge_base(resolve(repo, base), "HEAD").strip()
    changed = changed_paths(repo, merge_base)
    changed_set = {path for _, path in changed}
    findings = [f for f in check_documents(ws.scan, ws.config, ws.catalogs)
                if f.path in changed_set]
    findings += [f for f in ws.records.findings if f.path in changed_set]
    prefix = f"{RECORDS_DIR}/"
    for status, path in changed:
        if path.startswith(prefix) and status != "A":
            what = "deleted" if status == "D" else "modified"
            findings.append(Finding("record-altered", f"this branch {what} a committed record",
                                    path, None, f"restore it from {base}: git checkout "
                                    f"{merge_base[:10]} -- {path}; add a new record instead"))
    documents = {d.path: d for d in ws.scan.documents if d.id and d.type in ws.config.types}
    touched = [documents[p] for p in sorted(changed_set) if p in documents]
    before = files_at(repo, merge_base, [d.path for d in touched])
    grouped = ws.records.by_document()
    for doc in touched:
        findings += _branch_document_findings(doc, before.get(doc.path), grouped.get(doc.id, []))
    branch = HistoryIndex.build(repo, revisions=f"{merge_base}..HEAD")
    base_files = files_at(repo, merge_base, [d.path for d in documents.values()])
    new_records = {path for status, path in changed if status == "A" and path.startswith(prefix)}
    by_id = {d.id: d for d in documents.values()}
    for record in ws.records.records:
        if record.kind != "approval" or record.path not in new_records:
            continue
        doc = by_id.get(record.document)
        if doc is None:
            continue
        known = set(branch.fingerprints_of(doc.path))
        if base_files.get(doc.path) is not None:
            known.add(fingerprint(base_files[doc.path]))
        if record.data["fingerprint"] not in known:
            findings.append(Finding("approval-of-unknown-content",
                                    f"approves content of {doc.id} that this branch does not "
                                    "hold", record.path, None,
                                    "commit the document first, then approve it (qms approve)",
                                    doc.id))
    return findings


def _branch_document_findings(doc: Document, old: bytes | None,
                              records: list[Record]) -> list[Finding]:
    if old is None or fingerprint(old) == doc.fingerprint:
        return []  # new in this branch, or unchanged content
    header = read_header(old.decode("utf-8", errors="replace"), doc.path)
    old_revision = (parse_revision(header.options.get("revision", "")) or 0) if header else 0
    if doc.revision == old_revision:
        approved = any(r.kind == "approval" and r.data["revision"] == old_revision
                       for r in records)
        if not approved:
            return []  # editing a draft that nobody has approved yet
        return [Finding("edited-after-approval",
                        f"{doc.id} revision {doc.revision} changed in this branch without a new "
                        "revision", doc.path, doc.line_of("revision"),
                        f"run: qms revise {doc.id} --reason \"...\" before changing the text",
                        doc.id)]
    if not any(r.kind == "change" and r.data["to_revision"] == doc.revision for r in records):
        return [Finding("missing-change-record",
                        f"{doc.id} went from revision {old_revision} to {doc.revision} without a "
                        "change record", doc.path, doc.line_of("revision"),
                        f"raise revisions with qms revise {doc.id} --reason \"...\" (restore "
                        f":revision: {old_revision} first)", doc.id)]
    return []
