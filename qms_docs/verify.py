"""Full verification with git history: is every document controlled?

Reads the history once (:class:`~qms_docs.history.HistoryIndex`) and relies on
fingerprints, not commit ids, so a rebase before merge does not break it.
"""

from __future__ import annotations

from .checks import check_documents
from .control import required_roles
from .history import HistoryIndex, is_shallow
from .errors import GitError
from .model import Document, Finding
from .records import RECORDS_DIR, Record
from .workspace import Workspace


def verify(ws: Workspace, strict: bool = False) -> list[Finding]:
    """Every finding about the QMS: static checks, records, approvals, history."""
    repo = ws.repo
    if is_shallow(repo):
        raise GitError("this is a shallow clone: verification needs the whole history",
                       hint="fetch it: git fetch --unshallow (in CI: fetch-depth: 0)")
    findings = check_documents(ws.scan, ws.config, ws.catalogs)
    findings += ws.records.findings
    index = HistoryIndex.build(repo)
    documents = [d for d in ws.scan.documents if d.id and d.type in ws.config.types]
    index.preload([d.path for d in documents])
    grouped = ws.records.by_document()
    known_ids = {d.id for d in documents}
    for doc in documents:
        findings += _document_findings(ws, doc, grouped.get(doc.id, []), index, strict)
    for doc_id, records in sorted(grouped.items()):
        if doc_id not in known_ids:
            findings.append(Finding("invalid-record", f"records name {doc_id}, which is no "
                                    "document", records[0].path, None,
                                    "restore the document, or retire it instead of deleting it",
                                    doc_id))
    findings += _altered_records(ws, index)
    return findings


def _document_findings(ws: Workspace, doc: Document, records: list[Record],
                       index: HistoryIndex, strict: bool) -> list[Finding]:
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
    history_fps = index.fingerprints_of(doc.path)
    required = required_roles(doc, ws.config)
    path_changes = index.commits_of(doc.path)
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
        elif _is_self_approval(approval, changes, approvals, path_changes, index, required):
            out.append(Finding("self-approval",
                               f"{data['approver']['name']} approved revision "
                               f"{data['revision']} of {doc.id}, which they wrote",
                               approval.path, None,
                               "segregation of duties: another person holding the role "
                               "approves; remove this approval in a new revision", doc.id))
    info = ws.status(doc)
    if info.review_overdue:
        out.append(Finding("review-overdue",
                           f"{doc.id} was due for periodic review on {info.next_review}",
                           doc.path, doc.line,
                           f"review it: qms review {doc.id} --outcome \"...\" (or revise it)",
                           doc.id, "error" if strict else "warning"))
    return out


def _is_self_approval(approval: Record, changes: list[Record], approvals: list[Record],
                      path_changes: list, index: HistoryIndex,
                      required: tuple[str, ...]) -> bool:
    email = approval.data["approver"]["email"].lower()
    revision = approval.data["revision"]
    if any(c.data["to_revision"] == revision and c.data["author"]["email"].lower() == email
           for c in changes):
        return True
    # Commits that changed the file after the previous approved content, up to this one.
    previous = {a.data["fingerprint"] for a in approvals if a.data["revision"] < revision}
    start, end = 0, None
    for position, change in enumerate(path_changes):
        digest = index.content_fingerprint(change)
        if digest in previous:
            start = position + 1
        if digest == approval.data["fingerprint"]:
            end = position + 1
    if end is None:
        return False
    return any(c.author_email.lower() == email for c in path_changes[start:end])


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
    status = ws.repo.git.status("--porcelain", "--", RECORDS_DIR)
    for line in status.splitlines():
        code, path = line[:2], line[3:]
        if "M" in code or "D" in code or "R" in code:
            out.append(Finding("record-altered", "committed record is changed in the working "
                               "tree", path, None, f"restore it: git checkout -- {path}", None))
    return out
