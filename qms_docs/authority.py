"""Who may make what effective: every record judged against the policy in force when it
was made. The one place of these rules: ``qms status``, the site, the controlled build,
every report, the audit pack, ``qms verify`` and ``qms verify --base`` all take their
records from :func:`judge`, and a record that fails counts nowhere.

The rules, for a record that took effect at time *t* (its stated date, but never before
the commit of HEAD's first-parent line that brought it in) under the policy *P* in force
at *t* (policy.py; the first commit holding qms.toml is in force without approvals):

- **approval**: the approver is a person of *P* holding the role, the role is one *P*
  requires of the document's type, the signature verifies against *P*'s signers file
  (and is present where *P* requires one), the content was committed before
  (``approval-of-unknown-content``) and not after the stated date
  (``record-predates-content``), the revision number was not already used for other
  content (``revision-reused``), and the approver had no hand in the text since the
  revision in force then: author, committer or co-author of a commit that changed it, or
  author of its change record (``self-approval``). Only the meaning ``approval``
  satisfies a required approval.
- **retirement**: by a person of *P* holding a role that approves the type.
- **review**: by a person of *P* holding the owner role or an approving role.
- **training**: the trainee is a person of *P* in the document's audience, the trainer a
  person of *P*.
- **change** and **deviation**: by a person of *P* (a deviation: holding a role of
  ``[policy] approvers``).
- the **policy**'s own approvals: roles of *P*'s ``[policy] approvers``, the same rules.

Without git history (a copy of the files, a shallow clone) records are judged against the
working tree's qms.toml without the rules that need history; the judgement says so.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import policy as policy_item
from . import records as records_module
from . import signing
from .model import Config, Document, Finding, Person
from .record_kinds import (
    ApprovalRecord,
    ChangeRecord,
    DeviationRecord,
    Record,
    RetirementRecord,
    ReviewRecord,
    TrainingRecord,
    parse_datetime,
)
from .records import RecordSet
from .status import COUNTING_MEANINGS
from .status import required_roles as required_of

if TYPE_CHECKING:
    from .gitrepo import Change
    from .history import HistoryIndex

@dataclass(frozen=True)
class Completion:
    """A (revision, fingerprint) that got every approval required of it."""

    revision: int
    fingerprint: str
    effective: dt.date
    made: dt.datetime  # when the last of its approvals was made


@dataclass
class PolicyState:
    """The policy item: which version is in force, since when, and the working tree's."""

    in_force: policy_item.Version | None
    revision: int = 1  # the revision in force
    since: dt.datetime | None = None
    approvals: tuple[ApprovalRecord, ...] = ()
    working: policy_item.Version | None = None
    open_revision: int = 1  # the newest revision a change record opened
    #: (revision, version, in force since), oldest first
    versions: list[tuple[int, policy_item.Version, dt.datetime]] = field(default_factory=list)

    def at(self, when: dt.datetime) -> policy_item.Version | None:
        """The version in force at ``when``."""
        found = None
        for _revision, version, since in self.versions:
            if since <= when:
                found = version
        return found

    @property
    def pending(self) -> bool:
        """The working tree's policy differs from the policy in force."""
        return (self.in_force is not None and self.working is not None
                and self.working.fingerprint != self.in_force.fingerprint)


@dataclass
class Judgement:
    """The records that count, the findings about those that do not, and the policy."""

    records: RecordSet
    findings: list[Finding]
    config: Config  # the policy in force now
    policy: PolicyState | None = None
    notes: list[str] = field(default_factory=list)
    rejected: dict[str, Finding] = field(default_factory=dict)  # record path -> why
    index: HistoryIndex | None = field(default=None, repr=False)  # judged with (not saved)

    def to_dict(self) -> dict[str, object]:
        """What a build outside git needs to apply this judgement to the same records."""
        return {"counted": {r.path: {"added": r.added, "required": list(r.required)
                                     if r.required is not None else None,
                                     "self_approved": r.self_approved}
                            for r in self.records.records},
                "rejected": {path: f.to_dict() for path, f in self.rejected.items()}}


def apply(records: RecordSet, data: dict[str, Any]) -> RecordSet:
    """A judgement made elsewhere (:meth:`Judgement.to_dict`) applied to these records: a
    record it did not count does not count."""
    counted = data.get("counted", {})
    kept = []
    for record in records.records:
        entry = counted.get(record.path)
        if entry is None:
            continue
        required = entry.get("required")
        kept.append(replace(record, added=entry.get("added"),
                            required=tuple(required) if required is not None else None,
                            self_approved=bool(entry.get("self_approved"))))
    kept.sort(key=lambda r: (r.stated, r.path))
    return RecordSet(records=kept, findings=list(records.findings))


def _finding(code: str, record: Record, message: str, hint: str) -> Finding:
    return Finding(code, message, record.path, None, hint, record.document,
                   when=record.date.isoformat())


class _Judge:
    """One pass over every record in the order they took effect."""

    def __init__(self, root: Path, raw: RecordSet, documents: list[Document],
                 working: Config, index: HistoryIndex | None, prefix: str,
                 today: dt.datetime) -> None:
        self.root, self.raw, self.working, self.index = root, raw, working, index
        self.prefix = prefix
        self.now = today
        self.docs: dict[str, Document] = {}
        for doc in documents:
            if doc.id:
                self.docs.setdefault(doc.id, doc)
        self.signers = signing.Signers()
        self.adding: dict[str, Change] = {}  # record path -> the change that added it
        self._held: dict[str, dict[str, Change]] = {}  # per file: fingerprints it ever had
        self._positions: dict[str, tuple[list[Change], dict[str, list[int]]]] = {}
        self.counted: list[Record] = []
        self.findings: list[Finding] = []
        self.rejected: dict[str, Finding] = {}
        self.groups: dict[tuple[str, int, str], dict[str, ApprovalRecord]] = {}
        self.completions: dict[str, list[Completion]] = {}
        self.changes: dict[tuple[str, int], list[ChangeRecord]] = {}
        self.notes: list[str] = []
        self.policy: PolicyState | None = None
        self.pending_switches: list[tuple[dt.datetime, int, policy_item.Version,
                                          tuple[ApprovalRecord, ...]]] = []
        self._counted: Record | None = None

    # --- git facts --------------------------------------------------------------------

    def git_path(self, path: str) -> str:
        return f"{self.prefix}/{path}" if self.prefix else path

    def times(self) -> list[Record]:
        """Every record with the time git says it took effect. A record not committed yet
        counts, for this working copy only, from the date it states (once committed, from
        its commit)."""
        out: list[Record] = []
        if self.index is None:
            return list(self.raw.records)
        landings = self.index.landings()
        commits = self.index.commits
        dirty = self._changed_in_working_tree()
        for record in self.raw.records:
            added = None
            history = self.index.commits_of(self.git_path(record.path))
            for change in history:
                if change.status == "A" and change.commit in landings:
                    added = commits[landings[change.commit]].committer_date
                    self.adding[record.path] = change
                    last = history[-1]
                    if (last.status == "D" or last.new_blob != change.new_blob
                            or record.path in dirty) and self._altered(record, change.new_blob):
                        self.rejected[record.path] = _finding(
                            "record-altered", record, "the record's bytes are not those it "
                            f"was committed with (commit {change.commit[:10]})", "restore it "
                            "(git revert, git checkout) and add a new record for a new fact")
                    break
            out.append(replace(record, added=added))
        return out

    def _changed_in_working_tree(self) -> set[str]:
        """Record files the working tree holds otherwise than HEAD (one git process)."""
        from .gitrepo import record_states

        states = record_states(self.root, self.prefix)
        if states is None:
            return {r.path for r in self.raw.records}  # cannot tell: read every one
        return {path for code, path in states if code != "??"}

    def _altered(self, record: Record, blob: str) -> bool:
        """A committed record counts only with the bytes it was added with: one edited
        since (in a later commit, inside a merge, or in the working tree) does not (verify
        reports it as record-altered); one restored to those bytes does."""
        return records_module.holds_added_bytes(self.root, record.path, blob) is False

    # --- the policy -------------------------------------------------------------------

    def start_policy(self) -> None:
        """The baseline: the first commit of HEAD's history holding qms.toml."""
        if self.index is None:
            return
        from .config import CONFIG_NAME

        landings = self.index.landings()
        first = next((c for c in self.index.commits_of(self.git_path(CONFIG_NAME))
                      if c.status != "D" and c.commit in landings), None)
        if first is None:
            return
        version = policy_item.version_at(self.index.repo_dir, self.prefix, first.commit,
                                         self.root)
        if version is None:
            self.notes.append(f"the qms.toml of commit {first.commit[:10]} cannot be read: "
                              "records are judged against the working tree's policy")
            return
        since = parse_datetime(self.index.commits[landings[first.commit]].committer_date)
        self.policy = PolicyState(in_force=version, since=since,
                                  versions=[(1, version, since)])

    def policy_at(self, when: dt.datetime) -> tuple[Config, policy_item.Version | None]:
        """The policy in force at ``when`` (the working tree's without history)."""
        while self.pending_switches and self.pending_switches[0][0] <= when:
            at, revision, version, approvals = self.pending_switches.pop(0)
            state = self.policy
            if state is not None and revision >= state.revision:
                state.in_force, state.revision, state.since = version, revision, at
                state.approvals = approvals
                state.versions.append((revision, version, at))
        if self.policy is None or self.policy.in_force is None:
            return self.working, None
        return self.policy.in_force.config, self.policy.in_force

    # --- the pass ---------------------------------------------------------------------

    def run(self) -> None:
        if self.index is not None:  # every version of every document, in one git process
            self.index.preload([self.git_path(d.path) for d in self.docs.values()])
        self.start_policy()
        records = sorted(self.times(), key=lambda r: (r.date, r.path))
        for record in records:
            config, version = self.policy_at(record.date)
            if record.path in self.rejected:  # altered since committed (times): verify
                continue                      # reports it, it counts nowhere
            problem = self.judge(record, config, version)
            if problem is None:
                self.counted.append(self._counted or record)  # approvals: with required
            else:
                self.rejected[record.path] = problem
                self.findings.append(problem)
        if self.policy is not None:  # switches that come due by now
            self.policy_at(self.now)
        self.signers.close()

    def judge(self, record: Record, config: Config,
              version: policy_item.Version | None) -> Finding | None:
        """None if the record counts; otherwise the finding saying why not."""
        self._counted = None
        maker = record.maker()
        person = config.person_by_email(maker.email)
        who = f"{maker.name} <{maker.email}>"
        adding = self.adding.get(record.path)
        if (config.identity == "commit" and adding is not None
                and not maker.has_email(adding.author_email)
                and not (isinstance(record, ApprovalRecord) and record.signature)):
            return _finding("identity-not-proven", record, f"the {record.kind} record names "
                            f"{who}, but commit {adding.commit[:10]} that added it was "
                            f"authored by {adding.author_email}", "each person commits the "
                            "records they make (git config user.email), or signs them "
                            "(qms approve --sign)")
        if record.document == policy_item.POLICY_ID:
            return self.judge_policy(record, config, version, person, who)
        doc = self.docs.get(record.document)
        if doc is None or doc.type not in config.types:
            return None  # no such document: verify reports the records (invalid-record)
        required = required_of(doc, config)
        if isinstance(record, ChangeRecord):
            self.changes.setdefault((doc.id, record.to_revision), []).append(record)
            if person is None:
                return _finding("unauthorized-change", record, f"{who} is not a person of the "
                                "policy in force when the change was recorded",
                                "changes are recorded with qms revise by a person of qms.toml")
            return None
        if isinstance(record, RetirementRecord):
            if person is None or not set(required) & set(person.roles):
                return _finding("unauthorized-retirement", record,
                                f"{who} retired {doc.id} without holding a role that approves "
                                f"it ({', '.join(required)})",
                                f"a person holding one of {', '.join(required)} retires it "
                                "with qms retire")
            return None
        if isinstance(record, ReviewRecord):
            allowed = set(required) | ({doc.owner} if doc.owner else set())
            if person is None or not allowed & set(person.roles):
                return _finding("unauthorized-review", record,
                                f"{who} reviewed {doc.id} without holding its owner role or "
                                "a role that approves it",
                                f"a person holding one of {', '.join(sorted(allowed))} "
                                "reviews it with qms review")
            return None
        if isinstance(record, TrainingRecord):
            from .training import audience

            trainee = config.person_by_email(record.trainee.email)
            roles = set(audience(doc, config))
            if person is None or trainee is None or not roles & set(trainee.roles):
                why = ("the trainer is not a person of the policy in force" if person is None
                       else f"{record.trainee.name} is not in the audience of "
                            f"{doc.id}")
                return _finding("unauthorized-training", record, f"training record on "
                                f"{doc.id}: {why}", "training records are made with qms train "
                                "for a person of the audience, by a person of qms.toml")
            return None
        if isinstance(record, DeviationRecord):
            return self.judge_deviation(record, config, person, who)
        if not isinstance(record, ApprovalRecord):
            return None
        return self.judge_approval(record, doc, config, version, person, who, required)

    def judge_deviation(self, record: DeviationRecord, config: Config, person: Person | None,
                        who: str) -> Finding | None:
        role = record.role
        if person is None or role not in person.roles or role not in config.policy_approvers:
            return _finding("unauthorized-deviation", record, f"{who} accepted a deviation "
                            f"as {role} without holding a role of [policy] approvers",
                            f"a person holding one of {', '.join(config.policy_approvers)} "
                            "records it with qms deviation")
        return None

    def _signature(self, record: ApprovalRecord, version: policy_item.Version | None,
                   required_signature: bool, who: str) -> Finding | None:
        fallback = (self.root / self.working.signers_file) if version is None else None
        check = self.signers.check(record, version, fallback)
        if check.state == "invalid":
            return _finding("bad-signature", record, f"the signature of {who} on "
                            f"{record.document} revision {record.revision} does not "
                            f"verify: {check.detail}", "the record or the signature was "
                            "altered, or the key was not listed for this person in the signers "
                            "file of the policy in force when it was made")
        if check.state == "unsigned" and required_signature:
            return _finding("missing-signature", record, f"approvals of {record.document} "
                            f"had to be signed when {who} approved, and this one is not",
                            "approve again with --sign (in a new revision)")
        return None

    def judge_approval(self, record: ApprovalRecord, doc: Document, config: Config,
                       version: policy_item.Version | None, person: Person | None, who: str,
                       required: tuple[str, ...]) -> Finding | None:
        role, revision, digest = record.role, record.revision, record.fingerprint
        if person is None or role not in person.roles or role not in required:
            why = ("is not a person of the policy in force" if person is None else
                   f"does not hold the role {role}" if role not in person.roles else
                   f"approved as {role}, which {doc.type} does not require")
            return _finding("unauthorized-approval", record, f"{who} {why} (when the approval "
                            "was made)", "approvals come from 'qms approve' by a person "
                            "holding a required role")
        problem = self._signature(record, version,
                                  config.types[doc.type].require_signature, who)
        if problem:
            return problem
        problem = self._content(record, doc)
        if problem:
            return problem
        done = self.completions.get(doc.id, [])
        approved = {c.fingerprint for c in done if c.revision == revision}
        if approved and digest not in approved:
            return _finding("revision-reused", record, f"{doc.id} revision {revision} was "
                            "already approved with other content: a revision number names "
                            "one text", f"raise the revision first: qms revise {doc.id} "
                            "--reason \"...\", then approve")
        wrote = self._wrote(record, doc)
        if wrote and config.self_approval != "recorded":
            return _finding("self-approval", record, f"{record.approver.name} approved "
                            f"revision {revision} of {doc.id}, which they wrote or committed",
                            "segregation of duties: another person holding the role approves")
        counted = self._counted = replace(record, required=required, self_approved=wrote)
        if record.meaning in COUNTING_MEANINGS:
            group = self.groups.setdefault((doc.id, revision, digest), {})
            group.setdefault(role, counted)
            if all(r in group for r in required) and digest not in approved:
                chosen = [group[r] for r in required]
                effective = max(max(a.effective for a in chosen),
                                max(a.date.date() for a in chosen))
                self.completions.setdefault(doc.id, []).append(
                    Completion(revision, digest, effective, record.date))
        return None

    def _content(self, record: ApprovalRecord, doc: Document) -> Finding | None:
        """The approved content was committed, and not after the approval's stated date."""
        if self.index is None:
            return None
        path = self.git_path(doc.path)
        if path not in self._held:
            self._held[path] = self.index.fingerprints_along_moves(path, self.prefix)
        held = self._held[path]
        first = held.get(record.fingerprint)
        if first is None:
            return _finding("approval-of-unknown-content", record, f"approves content of "
                            f"{doc.id} that no commit ever held (fingerprint "
                            f"{record.fingerprint[:12]}...)", "approve committed "
                            "content only: commit, then qms approve")
        if record.claimed < parse_datetime(first.date):
            return _finding("record-predates-content", record, f"the approval is dated "
                            f"{record.stated}, before the content it approves was "
                            f"written ({first.date}, commit {first.commit[:10]})",
                            "a record cannot be dated back: approve again with qms approve")
        return None

    def _wrote(self, record: ApprovalRecord, doc: Document) -> bool:
        """The approver wrote or committed what they approve: the change record of the
        revision, or a commit that changed the file after the revision in force when the
        approval was made and up to the first commit holding the approved content.
        Restoring approved bytes later (git revert) is not authorship of them."""
        email = record.approver.email.lower()
        revision, digest = record.revision, record.fingerprint
        if any(change.author.has_email(email)
               for change in self.changes.get((doc.id, revision), [])):
            return True
        if self.index is None:
            return False
        path = self.git_path(doc.path)
        if path not in self._positions:
            timeline = self.index.timeline(path, self.prefix)
            found: dict[str, list[int]] = {}
            for position, (_, fp) in enumerate(timeline):  # the text and the files it shows
                if fp is not None:
                    found.setdefault(fp, []).append(position)
            self._positions[path] = ([change for change, _ in timeline], found)
        history, positions = self._positions[path]
        mine = positions.get(digest)
        if not mine:
            return False
        day = record.date.date()
        in_force = None
        for done in self.completions.get(doc.id, []):
            if done.effective <= day and (done.revision, done.fingerprint) != (revision, digest):
                in_force = done
        start = -1
        if in_force is not None:
            spots = positions.get(in_force.fingerprint, [])
            before = bisect.bisect_left(spots, mine[-1])
            start = spots[before - 1] if before else -1
        after = bisect.bisect_right(mine, start)
        end = mine[after] if after < len(mine) else mine[-1]
        return any(email in change.people for change in history[start + 1:end + 1])

    # --- the policy's own records -----------------------------------------------------

    def judge_policy(self, record: Record, config: Config, version: policy_item.Version | None,
                     person: Person | None, who: str) -> Finding | None:
        state = self.policy
        if isinstance(record, ChangeRecord):
            if person is None:
                return _finding("unauthorized-change", record, f"{who} is not a person of the "
                                "policy in force", "policy changes are recorded with qms revise "
                                "policy by a person of qms.toml")
            if state is not None:
                state.open_revision = max(state.open_revision, record.to_revision)
                self.changes.setdefault((policy_item.POLICY_ID, record.to_revision),
                                        []).append(record)
            return None
        if isinstance(record, DeviationRecord):
            return self.judge_deviation(record, config, person, who)
        if not isinstance(record, ApprovalRecord):
            return None
        role, revision, digest = record.role, record.revision, record.fingerprint
        required = config.policy_approvers
        if person is None or role not in person.roles or role not in required:
            why = ("is not a person of the policy in force" if person is None else
                   f"does not hold the role {role}" if role not in person.roles else
                   f"approved as {role}, which is not a role of [policy] approvers")
            return _finding("unauthorized-approval", record, f"{who} {why}",
                            "the policy is approved with qms approve policy by the roles of "
                            "[policy] approvers in the policy in force")
        problem = self._signature(record, version, config.policy_require_signature, who)
        if problem:
            return problem
        if state is None or self.index is None:
            self._counted = replace(record, required=required)
            return None
        approved = policy_item.version_at(self.index.repo_dir, self.prefix, record.commit,
                                          self.root) if record.commit in self.index.commits \
            else None
        if approved is None or approved.fingerprint != digest:
            return _finding("approval-of-unknown-content", record, "approves a policy that "
                            f"commit {record.commit[:10]} does not hold", "approve the "
                            "committed policy: commit it, then qms approve policy")
        written = policy_item.changes_since(self.index, self.prefix, state.in_force,
                                            record.commit, approved.files)
        last = max((parse_datetime(c.date) for c in written), default=None)
        if last is not None and record.claimed < last:
            return _finding("record-predates-content", record, f"the approval is dated "
                            f"{record.stated}, before the policy it approves was written "
                            f"({last.isoformat()})", "a record cannot be dated back: approve "
                            "again with qms approve policy")
        done = [(r, v.fingerprint) for r, v, _ in state.versions]
        if any(r == revision and fp != digest for r, fp in done):
            return _finding("revision-reused", record, f"policy revision {revision} was "
                            "already in force with other content", "raise the revision "
                            "first: qms revise policy --reason \"...\", then approve")
        email = record.approver.email.lower()
        wrote = any(c.author.has_email(email)
                    for c in self.changes.get((policy_item.POLICY_ID, revision), []))
        wrote = wrote or any(email in c.people for c in written)
        if wrote and config.self_approval != "recorded":
            return _finding("self-approval", record, f"{record.approver.name} approved "
                            "a policy change they wrote or committed", "segregation of "
                            "duties: another person holding the role approves")
        counted = self._counted = replace(record, required=required, self_approved=wrote)
        if record.meaning not in COUNTING_MEANINGS or any(
                r == revision and fp == digest for r, fp in done):
            return None
        group = self.groups.setdefault((policy_item.POLICY_ID, revision, digest), {})
        group.setdefault(role, counted)
        if all(r in group for r in required):
            chosen = tuple(group[r] for r in required)
            effective = max(a.effective for a in chosen)
            at = max(record.date, dt.datetime.combine(effective, dt.time(),
                                                      record.date.tzinfo))
            if not any(s[1] == revision for s in self.pending_switches):
                self.pending_switches.append((at, revision, approved, chosen))
                self.pending_switches.sort(key=lambda s: s[0])
        return None


def judge(root: Path, raw: RecordSet, documents: list[Document], working: Config,
          index: HistoryIndex | None = None, prefix: str = "",
          at: dt.datetime | None = None, working_policy: policy_item.Version | None = None
          ) -> Judgement:
    """Judge every record of ``raw``. ``index``: HEAD's whole history (None: no git, the
    rules that need it are skipped and a note says so); ``prefix``: the QMS root inside
    the repository; ``at``: the moment of the judgement (now)."""
    judge_ = _Judge(root, raw, documents, working, index, prefix, at or records_module.now())
    judge_.run()
    if index is None:
        judge_.notes.append("no git history here: records are judged against the working "
                            "tree's qms.toml, without the dates and authorship git gives")
    state = judge_.policy
    config = working
    if state is not None and state.in_force is not None:
        config = state.in_force.config
        state.working = working_policy
    counted = RecordSet(records=sorted(judge_.counted, key=lambda r: (r.stated, r.path)),
                        findings=list(raw.findings))
    return Judgement(counted, judge_.findings, config, state, judge_.notes, judge_.rejected,
                     index)


def judge_tree(root: Path, raw: RecordSet, documents: list[Document], working: Config,
               at: dt.datetime | None = None) -> Judgement:
    """:func:`judge` with the history of the git repository holding ``root``, if any (the
    Sphinx extension's way in; Workspace.judgement is the same for the CLI)."""
    from . import gitrepo, history
    from .errors import GitError

    try:
        repo = gitrepo.open_repo(root)
        gitrepo.require_history(repo)
    except GitError:
        return judge(root, raw, documents, working, None, at=at)
    index = history.HistoryIndex.start(repo).result()
    top = gitrepo.work_tree(repo).resolve()
    rel = root.resolve().relative_to(top).as_posix()
    try:
        working_policy = policy_item.working_version(root)
    except Exception:  # an unreadable file: nothing pending can be shown
        working_policy = None
    return judge(root, raw, documents, working, index, "" if rel == "." else rel, at=at,
                 working_policy=working_policy)
