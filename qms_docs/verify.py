"""Full verification with git history: is every document controlled?

Reads the history once (:class:`~qms_docs.history.HistoryIndex`) and relies on
fingerprints, not commit ids, so a rebase before merge does not break it.
"""

from __future__ import annotations

from . import gitrepo, signing
from .checks import check_documents
from .documents import Header, fingerprint, parse_revision, read_header
from .gitrepo import changed_paths, files_at, record_states, require_history, resolve
from .history import HistoryIndex, fingerprint_at
from .model import Document, Finding
from .policy import POLICY_ID
from .record_kinds import ApprovalRecord, ChangeRecord, DeviationRecord, Record, of_kind
from .records import RECORDS_DIR, holds_added_bytes
from .workspace import Workspace


def verify(ws: Workspace, strict: bool = False) -> list[Finding]:
    """Every finding about the QMS: static checks, records, approvals, history."""
    from . import federation

    repo = ws.repo
    require_history(repo)
    exports = (federation.load_upstreams(ws.working_config, ws.root)
               if ws.working_config.upstreams else None)
    findings = check_documents(ws.scan, ws.working_config, ws.catalogs, upstreams=exports)
    findings += federation.stale_findings(exports or [], ws.today)
    if exports:
        index_of = federation.upstream_index(exports)
        for doc in ws.scan.documents:
            text = (ws.root / doc.path).read_text(encoding="utf-8", errors="replace")
            findings += federation.reference_findings(doc, text, index_of,
                                                      ws.working_config.upstreams)
    findings += ws.records.findings
    index = ws.history_index
    assert index is not None  # require_history passed: there is one
    documents = [d for d in ws.scan.documents if d.id and d.type in ws.config.types]
    index.preload([_git(ws, d.path) for d in documents])
    findings += ws.judgement.findings
    grouped = ws.records.by_document()
    known_ids = {d.id for d in documents}
    for doc in documents:
        findings += _document_findings(ws, doc, grouped.get(doc.id, []), strict)
    for doc_id, records in sorted(ws.raw_records.by_document().items()):
        if doc_id not in known_ids and doc_id not in (signing.SIGNERS_ID, POLICY_ID):
            findings.append(Finding("invalid-record", f"records name {doc_id}, which is no "
                                    "document", records[0].path, None,
                                    "restore the document, or retire it instead of deleting it",
                                    doc_id))
    findings += _altered_records(ws, index)
    findings += policy_findings(ws, gate=False)
    findings += references_not_in_force(ws, index, strict)
    for cell in ws.training_matrix(index):
        if cell.state == "overdue":
            findings.append(Finding(
                "training-overdue", f"{cell.person.name} was due to be trained on "
                f"{cell.document} revision {cell.required_revision} by {cell.due}", None, None,
                f"after the training: qms train {cell.document} --person {cell.person.email}",
                cell.document, "error" if strict else "warning"))
    return accept_deviations(ws, findings)


def _git(ws: Workspace, path: str) -> str:
    return f"{ws.prefix}/{path}" if ws.prefix else path


def policy_findings(ws: Workspace, gate: bool) -> list[Finding]:
    """An unapproved change of the policy: a warning of verify, a finding of the gate."""
    state = ws.judgement.policy
    if state is None or not state.pending or state.in_force is None or state.working is None:
        return []
    working, in_force = state.working.files, state.in_force.files
    changed = sorted(set(working) ^ set(in_force) | {
        p for p in working if in_force.get(p) != working[p]})
    return [Finding("policy-not-approved", f"the policy differs from the policy in force "
                    f"(revision {state.revision}): {', '.join(changed[:5])}"
                    f"{' ...' if len(changed) > 5 else ''}; until approved, the policy in "
                    "force judges every record", changed[0] if changed else "qms.toml", None,
                    "qms revise policy --reason \"...\", commit, then qms approve policy "
                    "--role ROLE by the roles of [policy] approvers", POLICY_ID,
                    "error" if gate else "warning")]


def accept_deviations(ws: Workspace, findings: list[Finding]) -> list[Finding]:
    """Findings about past events that deviation records accept (every role of [policy]
    approvers recorded one for that code and document) become ``accepted``."""
    from dataclasses import replace

    from .record_kinds import parse_datetime

    needed = set(ws.config.policy_approvers)
    accepted: dict[tuple[str, str], tuple[str, list[str]]] = {}
    groups: dict[tuple[str, str], list[DeviationRecord]] = {}
    for record in of_kind(ws.records.records, DeviationRecord):
        groups.setdefault((record.code, record.document), []).append(record)
    for key, records in groups.items():
        roles = {r.role for r in records}
        if needed and needed <= roles:
            accepted[key] = (max(r.date for r in records).isoformat(),
                             [r.path for r in records])
    if not accepted:
        return findings
    out = []
    for finding in findings:
        key = (finding.code, finding.document or "")
        if key in accepted and finding.when and finding.severity != "accepted" and (
                parse_datetime(finding.when) <= parse_datetime(accepted[key][0])):
            out.append(replace(finding, severity="accepted",
                               message=f"{finding.message} (accepted deviation: "
                                       f"{', '.join(accepted[key][1])})"))
        else:
            out.append(finding)
    return out


def _document_findings(ws: Workspace, doc: Document, records: list[Record],
                       strict: bool) -> list[Finding]:
    out: list[Finding] = []
    approvals = of_kind(records, ApprovalRecord)
    changes = of_kind(records, ChangeRecord)
    if any(a.revision == doc.revision and a.fingerprint != doc.fingerprint
           for a in approvals) and not any(a.revision == doc.revision
                                           and a.fingerprint == doc.fingerprint
                                           for a in approvals):
        out.append(Finding("edited-after-approval",
                           f"{doc.id} revision {doc.revision} was changed after it was "
                           "approved, without a new revision", doc.path, doc.line,
                           f"run: qms revise {doc.id} --reason \"...\" (or restore the "
                           "approved text)", doc.id))
    if doc.revision and doc.revision > 1 and not any(
            c.to_revision == doc.revision for c in changes):
        out.append(Finding("missing-change-record",
                           f"{doc.id} is at revision {doc.revision} but no change record "
                           f"leads to it", doc.path, doc.line_of("revision"),
                           f"raise revisions with: qms revise {doc.id} --reason \"...\"",
                           doc.id))
    later = max([*(c.to_revision for c in changes),
                 *(a.revision for a in approvals)], default=0)
    if doc.revision and later > doc.revision:
        out.append(Finding("revision-behind-records",
                           f"{doc.id} is at revision {doc.revision}, but its records go up to "
                           f"revision {later}", doc.path, doc.line_of("revision"),
                           f"if qms revise was interrupted, run it again to complete it; "
                           f"otherwise restore the text of revision {later} (git checkout)",
                           doc.id))
    info = ws.status(doc)
    if info.review_overdue and info.in_force is not None:
        force = info.in_force
        opened = (f" (revision {doc.revision} is {info.status}: the review of revision "
                  f"{force.revision}, in force, is still due)"
                  if info.status != "effective" else "")
        out.append(Finding("review-overdue",
                           f"{doc.id} revision {force.revision} was due for periodic review "
                           f"on {info.next_review}{opened}", doc.path, doc.line,
                           f"review it: qms review {doc.id} --outcome \"...\" (or make a new "
                           "revision effective)", doc.id, "error" if strict else "warning"))
    return out


def _record_document(path: str) -> str | None:
    parts = path.split("/")
    return parts[1] if len(parts) > 2 and parts[0] == RECORDS_DIR else None


def _altered_records(ws: Workspace, index: HistoryIndex) -> list[Finding]:
    """Committed records modified or deleted: in any commit (merges read against each
    parent), and in the working tree. A record whose current bytes are those it was added
    with (restored, e.g. by git revert) is a warning: the record stands, the event is shown
    (the same answer as authority's: :func:`~qms_docs.records.holds_added_bytes`)."""
    out: list[Finding] = []
    prefix = f"{_git(ws, RECORDS_DIR)}/"
    lead = f"{ws.prefix}/" if ws.prefix else ""
    seen: set[tuple[str, str]] = set()
    for change in index.changes:
        if not change.path.startswith(prefix) or change.status == "A":
            continue
        if (change.commit, change.path) in seen:
            continue
        seen.add((change.commit, change.path))
        history = index.commits_of(change.path)
        first = next((c for c in history if c.status == "A"), None)
        path = change.path[len(lead):]
        restored = (first is not None
                    and holds_added_bytes(ws.root, path, first.new_blob) is True)
        what = "deleted" if change.status == "D" else "modified"
        when = index.commits[change.commit].committer_date if change.commit in index.commits \
            else change.date
        out.append(Finding("record-altered",
                           f"committed record was {what} in commit {change.commit[:10]} by "
                           f"{change.author_email}" + (" (restored since: the record stands)"
                                                       if restored else ""), path, None,
                           "records are never edited or deleted: restore it "
                           "(git revert) and add a new record for the new fact; a past event is "
                           "accepted on the record with qms deviation", _record_document(path),
                           "warning" if restored else "error", when=when))
    for code, path in record_states(ws.root, ws.prefix) or []:
        if any(c in code for c in "MDT"):  # T: replaced by a symlink (a type change)
            out.append(Finding("record-altered", "committed record is changed in the working "
                               "tree", path, None, f"restore it: git checkout -- {path}",
                               _record_document(path)))
    return out


def references_not_in_force(ws: Workspace, index: HistoryIndex | None = None,
                            strict: bool = False) -> list[Finding]:
    """``reference-not-in-force`` (a warning; an error with ``strict``): every ``:need:``
    role and ``:links:`` entry in the text in force of a document in force that names a
    document no revision of which is in force (retired, or never effective). The
    controlled site shows such a reference as plain text with that state; the owner
    revises the referring document. Texts in force that the working tree does not hold
    are read from git (``index``: the whole history, already read)."""
    from . import references
    from .history import texts_with_fingerprints
    from .reports import traceability

    documents = [d for d in ws.scan.documents if d.id and d.type in ws.config.types]
    statuses = ws.statuses
    states = references.reference_states(documents, statuses)
    if not states:
        return []
    live = [d for d in documents if traceability.in_force(d, statuses)]
    wanted = traceability.needs_in_force_text(live, statuses)
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
        in_force = statuses[doc.id].in_force
        assert in_force is not None  # live: a revision of it is in force
        findings += references.reference_findings(doc, raw.decode("utf-8", "replace"), states,
                                                  in_force.revision, strict)
    return findings


def verify_branch(ws: Workspace, base: str) -> list[Finding]:
    """The pull-request gate: is every change since ``base`` (its merge base) controlled?

    Reads every commit of the branch, not only the net difference (a squash merge would
    hide a record added and then edited): records were only added, each by a commit
    authored by the person it names (or signed); documents were neither deleted nor
    changed without a revision bump and its change record; approvals approve content the
    branch holds; every record added counts under the policy in force; the policy itself
    is unchanged or approved.
    """
    repo = ws.repo
    require_history(repo)
    merge_base = gitrepo.merge_base(gitrepo.work_tree(repo), resolve(repo, base), "HEAD")
    changed = changed_paths(repo, merge_base)
    lead = f"{ws.prefix}/" if ws.prefix else ""
    changed = [(status, path[len(lead):]) for status, path in changed if path.startswith(lead)]
    changed_set = {path for _, path in changed}
    from . import federation

    exports = (federation.load_upstreams(ws.working_config, ws.root)
               if ws.working_config.upstreams else None)
    findings = [f for f in check_documents(ws.scan, ws.working_config, ws.catalogs,
                                           upstreams=exports)
                if f.path in changed_set]
    findings += [f for f in ws.records.findings if f.path in changed_set]
    prefix = f"{RECORDS_DIR}/"
    branch = HistoryIndex.build(repo, revisions=f"{merge_base}..HEAD")
    altered: set[str] = set()
    for change in branch.changes:  # every commit of the branch, merges against each parent
        path = change.path[len(lead):] if change.path.startswith(lead) else None
        if path and path.startswith(prefix) and change.status != "A" and path not in altered:
            altered.add(path)
            what = "deleted" if change.status == "D" else "modified"
            findings.append(Finding("record-altered", f"commit {change.commit[:10]} of this "
                                    f"branch {what} a record", path, None,
                                    "records are only ever added: restore it and add a new "
                                    "record instead", _record_document(path)))
    for status, path in changed:
        if path.startswith(prefix) and status != "A" and path not in altered:
            what = "deleted" if status == "D" else "modified"
            findings.append(Finding("record-altered", f"this branch {what} a committed record",
                                    path, None, f"restore it from {base}: git checkout "
                                    f"{merge_base[:10]} -- {path}; add a new record instead",
                                    _record_document(path)))
    documents = {d.path: d for d in ws.scan.documents if d.id and d.type in ws.config.types}
    gone = [p for s, p in changed if s == "D"]
    base_files = files_at(repo, merge_base, [_git(ws, p) for p in [*documents, *gone]])
    base_ids: dict[str, str] = {}  # document id -> its path at the merge base
    for path in [*documents, *gone]:
        old = base_files.get(_git(ws, path))
        header = _header_of(old, path)
        if header is not None and header.options.get("id"):
            base_ids.setdefault(header.options["id"].strip(), path)
    grouped = ws.records.by_document()
    raw_grouped = ws.raw_records.by_document()
    by_id = {d.id: d for d in documents.values()}
    for doc_id, base_path in sorted(base_ids.items()):
        if doc_id not in by_id and grouped.get(doc_id):
            findings.append(Finding("invalid-record", f"this branch deletes {doc_id} "
                                    f"({base_path}), whose records stay", base_path, None,
                                    f"retire it instead: qms retire {doc_id} --reason "
                                    "\"...\"", doc_id))
    for doc in sorted(documents.values(), key=lambda d: d.path):
        old_path = base_ids.get(doc.id)
        # a document is touched by a change of its text or of a file it shows
        if (doc.path not in changed_set and old_path == doc.path
                and not changed_set.intersection(doc.includes)):
            continue
        old = base_files.get(_git(ws, old_path)) if old_path else None
        old_fingerprint = (fingerprint_at(repo, merge_base, _git(ws, old_path), ws.prefix)
                           if old_path else None)
        # every record, counted or not: a move that changes the text also makes the
        # approvals of the old text stop counting (their content is not this file's)
        findings += _branch_document_findings(doc, old, raw_grouped.get(doc.id, []),
                                              old_fingerprint)
    new_records = {path for status, path in changed if status == "A"
                   and path.startswith(prefix)}
    for record in of_kind(ws.records.records, ApprovalRecord):
        if record.path not in new_records:
            continue
        approved = by_id.get(record.document)
        if approved is None:
            continue
        known = set(branch.held_fingerprints(_git(ws, approved.path), ws.prefix))
        old_path = base_ids.get(approved.id)
        base_fingerprint = (fingerprint_at(repo, merge_base, _git(ws, old_path), ws.prefix)
                            if old_path else None)
        if base_fingerprint is not None:
            known.add(base_fingerprint)
        if record.fingerprint not in known:
            findings.append(Finding("approval-of-unknown-content",
                                    f"approves content of {approved.id} that this branch does not "
                                    "hold", record.path, None,
                                    "commit the document first, then approve it (qms approve)",
                                    approved.id))
    findings += [f for f in ws.judgement.findings if f.path in new_records]
    if ws.config.identity == "gate":  # otherwise the judgement above reports them
        findings += _identity_findings(ws, branch, new_records, lead)
    findings += policy_findings(ws, gate=True)
    return findings


def _header_of(content: bytes | None, path: str) -> Header | None:
    if content is None:
        return None
    try:
        return read_header(content.decode("utf-8", errors="replace"), path)
    except Exception:  # an unreadable old header: nothing to compare with
        return None


def _identity_findings(ws: Workspace, branch: HistoryIndex, new_records: set[str],
                       lead: str) -> list[Finding]:
    """Each record added in the branch was added by a commit authored by the person it
    names, unless its signature verifies (identity without signatures rests on this gate
    and the hosting platform)."""
    raw = {r.path: r for r in ws.raw_records.records}
    out = []
    for path in sorted(new_records):
        record = raw.get(path)
        if record is None:
            continue
        adding = next((c for c in branch.commits_of(f"{lead}{path}") if c.status == "A"), None)
        if adding is None:
            continue  # not committed yet: verify again once it is
        email = record.maker().email.lower()
        if adding.author_email.lower() == email:
            continue
        if isinstance(record, ApprovalRecord) and record.signature:
            state = ws.judgement.policy
            version = state.in_force if state else None
            if signing.signature_check(record, version, ws.root / ws.config.signers_file
                               ).state == "verified":
                continue
        out.append(Finding("identity-not-proven", f"the {record.kind} record names "
                           f"{record.maker().name} <{email}>, but commit "
                           f"{adding.commit[:10]} that adds it was authored by "
                           f"{adding.author_email}", path, None,
                           "each person commits the records they make (git config user.email), "
                           "or signs them (qms approve --sign)", record.document))
    return out


def _branch_document_findings(doc: Document, old: bytes | None, records: list[Record],
                              old_fingerprint: str | None = None) -> list[Finding]:
    if old is None or (old_fingerprint or fingerprint(old)) == doc.fingerprint:
        return []  # new in this branch, or unchanged content (moved as it was)
    header = read_header(old.decode("utf-8", errors="replace"), doc.path)
    old_revision = (parse_revision(header.options.get("revision", "")) or 0) if header else 0
    if doc.revision == old_revision:
        approved = any(r.revision == old_revision for r in of_kind(records, ApprovalRecord))
        if not approved:
            return []  # editing a draft that nobody has approved yet
        return [Finding("edited-after-approval",
                        f"{doc.id} revision {doc.revision} changed in this branch without a new "
                        "revision", doc.path, doc.line_of("revision"),
                        f"run: qms revise {doc.id} --reason \"...\" before changing the text",
                        doc.id)]
    if not any(r.to_revision == doc.revision for r in of_kind(records, ChangeRecord)):
        return [Finding("missing-change-record",
                        f"{doc.id} went from revision {old_revision} to {doc.revision} without a "
                        "change record", doc.path, doc.line_of("revision"),
                        f"raise revisions with qms revise {doc.id} --reason \"...\" (restore "
                        f":revision: {old_revision} first)", doc.id)]
    return []
