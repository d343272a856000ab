"""The acts of document control on documents that exist: revise, approve, review, retire,
train, deviations, and the policy's own revision and approval (a new document:
creation.py).

Each act checks the policy first and writes nothing when it refuses (``Refused``,
exit 1). Every act leaves a record under ``records/``. Acts run one at a time in a
repository (its lock) and write all their files through the journal (journal.py): a
crash leaves the repository as before or, once the next qms command recovered, as after.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import authority, gitrepo, history, journal, signing, status
from .config import OWNER
from .errors import InputError, Refused, UsageError
from .model import REVISION_LINE, Document, Person
from .policy import POLICY_ID
from .record_kinds import (
    ApprovalRecord,
    ChangeRecord,
    DeviationRecord,
    TrainingRecord,
    make_record,
    of_kind,
)
from .records import RECORDS_DIR, journaled_record, new_record
from .text import checked_input
from .training import audience, training_revision
from .workspace import Workspace


def person_fields(person: Person) -> dict[str, str]:
    """A person as a record names them (its author, approver, trainee)."""
    return {"name": person.name, "email": person.email}


def write_act(ws: Workspace, command: str, writes: list[journal.Write]) -> list[Path]:
    """Write an act's files, all or nothing (the caller holds the lock); their paths. The
    workspace reads what they change afresh on next use."""
    journal.commit(ws.root, writes, command)
    ws.refresh(documents=any(not w.path.startswith(f"{RECORDS_DIR}/") for w in writes))
    return [ws.root / w.path for w in writes]


def revise(ws: Workspace, doc: Document, reason: str, summary: str = "",
           training: bool = True,
           edit: Callable[[Document, bytes], bytes] | None = None) -> tuple[int, Path]:
    """Raise the revision by one in the header and write the change record. ``edit``
    (``qms transition --write``) changes the new revision's text further, in the same act:
    a text changes only together with its new revision and change record."""
    if not checked_input(reason, "--reason").strip():
        raise UsageError("--reason must say why the document changes")
    checked_input(summary, "--summary")
    with one_at_a_time(ws, rescan=True):
        return _revise(ws, ws.document(doc.id), reason, summary, training, edit)


def _revise(ws: Workspace, doc: Document, reason: str, summary: str,
            training: bool, edit: Callable[[Document, bytes], bytes] | None = None
            ) -> tuple[int, Path]:
    actor = ws.actor()
    info = ws.status(doc)
    if info.status == "obsolete":
        raise Refused(f"{doc.id} is retired (obsolete) and cannot be revised")
    if doc.revision is None:
        raise InputError(f"{doc.id} has no valid :revision:", path=doc.path, line=doc.line)
    ever_approved = any(r.revision == doc.revision
                        for r in of_kind(ws.records.for_document(doc.id), ApprovalRecord))
    if not ever_approved:
        raise Refused(f"{doc.id} revision {doc.revision} is still a draft that nobody has "
                      "approved: edit it as it is", hint=f"when ready: qms approve {doc.id} "
                                                          "--role ROLE")
    raw = journal.read(ws.root, doc.path)
    if raw is None:
        raise InputError("the document file disappeared", path=doc.path, hint="run it again")
    lines = raw.splitlines(keepends=True)
    number = doc.line_of("revision")
    match = REVISION_LINE.match(lines[number - 1]) if 0 < number <= len(lines) else None
    if match is None or int(match.group("number")) != doc.revision:
        raise InputError("cannot find the :revision: line of the header", path=doc.path,
                         line=number)
    new_revision = doc.revision + 1
    lines[number - 1] = (match.group("lead") + str(new_revision).encode()
                         + lines[number - 1][match.end("number"):])
    text = b"".join(lines)
    if edit is not None:
        text = edit(doc, text)
    header = journal.Write(doc.path, text, journal.digest(raw))
    # The record and the header are written together through the journal. A repository
    # that a qms before the journal left with the change record but not the header (verify:
    # revision-behind-records) is completed with that record instead of a second one.
    pending = next((r for r in of_kind(ws.records.for_document(doc.id), ChangeRecord)
                    if r.from_revision == doc.revision and r.to_revision == new_revision), None)
    if pending is not None:
        if not pending.author.has_email(actor.email):
            raise Refused(f"{pending.path} raises {doc.id} to revision {new_revision}, but the "
                          "header was not changed (an interrupted qms revise)",
                          hint=f"{pending.author.name} runs qms revise {doc.id} "
                               "again to complete it")
        write_act(ws, "revise", [header])
        return new_revision, ws.root / pending.path
    record = journaled_record(ws.root, new_record(
        "change", doc.id, from_revision=doc.revision, to_revision=new_revision,
        reason=reason.strip(), summary=summary.strip(), author=person_fields(actor),
        training=training))
    return new_revision, write_act(ws, "revise", [record, header])[0]


def authors_since_in_force(ws: Workspace, doc: Document,
                           info: status.StatusInfo) -> dict[str, str]:
    """Emails -> names of people whose commits changed the document since its in-force
    revision (all its commits if none was ever in force)."""
    index = history.HistoryIndex.build(ws.repo, paths=[doc.path, *doc.includes])
    changes = index.timeline(doc.path)  # changes of its included files count
    start = 0
    if info.in_force is not None:
        positions = [i for i, (_, digest) in enumerate(changes)
                     if digest == info.in_force.fingerprint]
        start = positions[-1] + 1 if positions else 0
    out: dict[str, str] = {}
    for change, _ in changes[start:]:  # author, committer and co-authors of every commit
        for email in change.people:
            out.setdefault(email, change.author_name if email == change.author_email.lower()
                           else email)
    return out


@contextmanager
def one_at_a_time(ws: Workspace, rescan: bool = False) -> Iterator[None]:
    """Acts run one at a time in a repository (an exclusive lock on its folder), complete
    an interrupted act first, and read the records afresh once they hold the lock: two
    approvals at the same moment cannot both pass the 'already approved' check. The
    documents are read afresh too when ``rescan`` or when a recovery changed files."""
    with journal.locked(ws.root):
        recovered = journal.recover_locked(ws.root)
        ws.refresh(documents=rescan or bool(recovered))
        yield


def _and(items: Iterable[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    names = list(items)
    return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)


def _holds(person: Person) -> str:
    """What roles a person holds, in a sentence ending a refusal."""
    return f"{person.name} holds {_and(person.roles) if person.roles else 'no role'}"


def approval_rule(ws: Workspace, doc: Document) -> str:
    """Who must approve the document and where that rule lives, in a sentence: "SOP-005
    needs approval by quality-manager and production-manager, its owner ([types.sop]
    approvers in qms.toml)"."""
    roles = [f"{doc.owner or 'its owner'}, its owner" if r == OWNER else r
             for r in ws.config.types[doc.type].approvers]
    return (f"{doc.id} needs approval by {_and(roles)} ([types.{doc.type}] approvers in "
            "qms.toml)")


def policy_rule(ws: Workspace) -> str:
    """Who approves a change of the policy and where that rule lives, in a sentence."""
    return (f"the policy needs approval by {_and(ws.config.policy_approvers)} ([policy] "
            "approvers in qms.toml, as in force)")


def _default_role(actor: Person, required: Iterable[str], rule: str) -> str:
    """The one required role the acting person holds (``--role`` left out); refused when
    they hold none, a usage error naming them when they hold several."""
    held = [r for r in required if r in actor.roles]
    if len(held) == 1:
        return held[0]
    if not held:
        raise Refused(f"{rule}; {_holds(actor)}",
                      hint="another person holding one of those roles approves (people and "
                           "their roles: [[people]] in qms.toml)")
    raise UsageError(f"--role is needed: {actor.name} holds {_and(held)}, each of which "
                     "approves it", hint=f"add --role {held[0]} (or {_and(held[1:])})")


def approve(ws: Workspace, doc: Document, role: str | None, meaning: str = "approval",
            effective: dt.date | None = None, sign: bool = False,
            key: str | None = None) -> Path:
    """Record the acting person's approval of the document's current revision and content,
    signed with their SSH key when ``sign`` (or when the type requires it). Without
    ``role``, the one required role the acting person holds."""
    with one_at_a_time(ws):
        return _approve(ws, _current(ws, doc), role, meaning, effective, sign, key)


def _approve(ws: Workspace, doc: Document, role: str | None, meaning: str,
             effective: dt.date | None, sign: bool, key: str | None) -> Path:
    actor = ws.actor()
    info = ws.status(doc)
    if info.status == "obsolete":
        raise Refused(f"{doc.id} is retired (obsolete); there is nothing to approve")
    if role is None:
        role = _default_role(actor, info.required_roles, approval_rule(ws, doc))
    if role not in actor.roles:
        raise Refused(f"{actor.name} does not hold the role {role!r}",
                      hint=f"{_holds(actor)} ([[people]] in qms.toml)")
    if role not in info.required_roles:
        raise Refused(f"{approval_rule(ws, doc)}; {_holds(actor)}",
                      hint=f"{role} does not approve a {ws.config.types[doc.type].title}")
    if doc.revision is None or not doc.id:
        raise InputError("the header is incomplete", path=doc.path, line=doc.line,
                         hint="run qms check")
    if gitrepo.has_uncommitted_changes(ws.repo, doc.path):
        raise Refused(f"{doc.path} has uncommitted changes: approve what is committed",
                      hint="commit the document first (git add, git commit), then approve")
    for shown in doc.includes:  # what the document shows is approved with it
        if gitrepo.has_uncommitted_changes(ws.repo, shown):
            raise Refused(f"{shown}, which {doc.id} shows, has uncommitted changes: approve "
                          "what is committed", hint="commit it first (git add, git commit), "
                                                    "then approve")
    for approval in info.approvals:
        if approval.role == role and approval.meaning == meaning:
            raise Refused(f"{doc.id} revision {doc.revision} is already approved for {role} "
                          f"by {approval.approver.name} ({approval.path})")
    reused = next((f for f in status.complete_approvals(ws.records.for_document(doc.id),
                                                          info.required_roles)
                   if f.revision == doc.revision and f.fingerprint != doc.fingerprint), None)
    if reused is not None:
        raise Refused(f"{doc.id} revision {doc.revision} was already approved with other "
                      "content: a revision number names one text",
                      hint=f"run qms revise {doc.id} --reason \"...\" and approve the new "
                           "revision")
    _check_segregation(ws, doc, info, actor)
    if effective is not None and effective < ws.today:
        raise UsageError(f"--effective {effective} is in the past",
                         hint="an approval takes effect today or later")
    if ws.config.types[doc.type].require_signature and not sign:
        raise Refused(f"approvals of a {ws.config.types[doc.type].title} must be signed",
                      hint=f"qms approve {doc.id} --role {role} --sign [--key PATH]")
    record = new_record(
        "approval", doc.id, revision=doc.revision, fingerprint=doc.fingerprint,
        approver=person_fields(actor), role=role, meaning=meaning,
        effective=(effective or ws.today).isoformat(), commit=gitrepo.head_commit(ws.repo))
    if sign:
        _sign(ws, record, key, actor)
    return write_act(ws, "approve", [journaled_record(ws.root, record)])[0]


def _sign(ws: Workspace, record: dict, key: str | None, actor: Person) -> None:
    """Sign a new approval with the actor's SSH key; refused unless the signature verifies
    against the signers file of the policy in force (a key added since counts once the
    policy is approved)."""
    private = signing.signing_key(ws.root, key)
    record["signature"] = signing.signature_field(signing.sign(
        signing.payload(record, signing.PAYLOAD_VERSION), private))
    check = _signature_in_force(ws, record)
    if check.state != "verified":
        raise Refused(f"the signature does not verify against the signers file of the policy "
                      f"in force: {check.detail}", hint=f"add your public key first: qms keys "
                      f"add {actor.email} ~/.ssh/id_ed25519.pub, commit it, and have the "
                      "policy approved")


def _current(ws: Workspace, doc: Document) -> Document:
    """The document as it is once the lock is held (a recovery may have changed it)."""
    return ws.document(doc.id) if doc.id else doc


def add_key(ws: Workspace, email: str, public_key: str) -> tuple[bool, Path | None]:
    """Add a person's public key to allowed_signers, with a change record."""
    with one_at_a_time(ws):
        return _add_key(ws, email, public_key)


def _add_key(ws: Workspace, email: str, public_key: str) -> tuple[bool, Path | None]:
    actor = ws.actor()
    person = ws.config.person_by_email(email)
    if person is None:
        raise Refused(f"{email} is not a person in qms.toml", hint="add them under [[people]]")
    if person.email.lower() != actor.email.lower():
        raise Refused(f"{actor.name} cannot add a key for {person.name}: each person adds "
                      "their own key", hint=f"{person.name} runs: qms keys add {person.email} "
                                            "~/.ssh/id_ed25519.pub")
    key = signing.read_public_key(public_key)
    signers = signing.check_signers_path(ws.root, ws.config.signers_file)
    rel = signers.relative_to(ws.root.resolve()).as_posix()
    current = journal.read(ws.root, rel)
    content = signing.with_signer(current, person.email, key, rel)
    if content is None:
        return False, None
    file = journal.Write(rel, content, None if current is None else journal.digest(current))
    # The signers file is part of the policy: a new key takes effect once the policy is
    # approved. A policy revision already open covers it; otherwise this opens one.
    state = ws.judgement.policy
    if state is not None and state.open_revision > state.revision:
        write_act(ws, "keys add", [file])
        return True, ws.root / rel
    revision = state.revision if state is not None else 1
    record = journaled_record(ws.root, new_record(
        "change", POLICY_ID, from_revision=revision, to_revision=revision + 1,
        reason=f"Add the signing key of {person.name}", summary=f"{person.email}: {key[:60]}",
        author=person_fields(actor), training=False))
    return True, write_act(ws, "keys add", [file, record])[1]


def _signature_in_force(ws: Workspace, record: dict[str, Any]) -> signing.Check:
    """A new approval's signature checked against the signers file of the policy in force."""
    state = ws.judgement.policy
    approval = make_record("approval", "<new>", record)
    assert isinstance(approval, ApprovalRecord)
    return signing.signature_check(approval,
                           state.in_force if state else None,
                           signing.check_signers_path(ws.root, ws.config.signers_file))


# --- the policy item --------------------------------------------------------------------

def _policy_state(ws: Workspace) -> authority.PolicyState:
    state = ws.judgement.policy
    if state is None or state.in_force is None:
        raise Refused("the policy has no version in force: qms.toml was never committed",
                      hint="commit qms.toml first (git add qms.toml && git commit): the first "
                           "commit holding it is the policy in force")
    return state


def revise_policy(ws: Workspace, reason: str, summary: str = "") -> tuple[int, Path]:
    """Open a new revision of the policy: a change record (qms.toml has no header)."""
    if not checked_input(reason, "--reason").strip():
        raise UsageError("--reason must say why the policy changes")
    checked_input(summary, "--summary")
    with one_at_a_time(ws):
        actor = ws.actor()
        state = _policy_state(ws)
        if state.open_revision > state.revision:
            raise Refused(f"policy revision {state.open_revision} is already open (revision "
                          f"{state.revision} is in force): change the files and approve it",
                          hint="qms approve policy --role ROLE once the change is committed")
        new = state.revision + 1
        record = journaled_record(ws.root, new_record(
            "change", POLICY_ID, from_revision=state.revision, to_revision=new,
            reason=reason.strip(), summary=summary.strip(), author=person_fields(actor),
            training=False))
        return new, write_act(ws, "revise policy", [record])[0]


def policy_writers(ws: Workspace, until: str, paths: Iterable[str] = ()) -> set[str]:
    """Emails of everyone who authored, committed or co-authored a change of the policy's
    files since the version in force, up to commit ``until``."""
    from .policy import changes_since

    state = _policy_state(ws)
    return {e for c in changes_since(ws.history_index, ws.prefix, state.in_force, until, paths)
            for e in c.people}


def approve_policy(ws: Workspace, role: str | None, meaning: str = "approval",
                   effective: dt.date | None = None, sign: bool = False,
                   key: str | None = None) -> Path:
    """Approve the committed policy (qms.toml, signers file, the site's frame) as ``role``."""
    from . import policy as policy_item

    with one_at_a_time(ws):
        actor = ws.actor()
        state = _policy_state(ws)
        config = ws.config
        if role is None:
            role = _default_role(actor, config.policy_approvers, policy_rule(ws))
        if role not in actor.roles:
            raise Refused(f"{actor.name} does not hold the role {role!r}",
                          hint=f"{_holds(actor)} ([[people]] in qms.toml)")
        if role not in config.policy_approvers:
            raise Refused(f"{policy_rule(ws)}; {_holds(actor)}",
                          hint=f"{role} does not approve a change of the policy")
        head = gitrepo.head_commit(ws.repo)
        committed = policy_item.version_at(gitrepo.work_tree(ws.repo), ws.prefix, head, ws.root)
        working = state.working
        if committed is None or working is None or working.fingerprint != committed.fingerprint:
            raise Refused("the policy has uncommitted changes: approve what is committed",
                          hint="commit qms.toml and the other policy files, then approve")
        in_force = state.in_force
        assert in_force is not None  # _policy_state refused otherwise
        if committed.fingerprint == in_force.fingerprint:
            raise Refused(f"this policy is the one in force (revision {state.revision}); "
                          "there is nothing to approve")
        if state.open_revision <= state.revision:
            raise Refused(f"the policy differs from revision {state.revision} in force, and no "
                          "new revision was opened", hint="qms revise policy --reason \"...\" "
                                                          "first")
        revision = state.open_revision
        policy_records = ws.records.for_document(POLICY_ID)
        for approval in of_kind(policy_records, ApprovalRecord):
            if (approval.revision == revision and approval.fingerprint == committed.fingerprint
                    and approval.role == role):
                raise Refused(f"policy revision {revision} is already approved for {role} by "
                              f"{approval.approver.name} ({approval.path})")
        email = actor.email.lower()
        wrote = any(r.to_revision == revision and r.author.has_email(email)
                    for r in of_kind(policy_records, ChangeRecord))
        if (wrote or email in policy_writers(ws, head, committed.files)) and \
                config.self_approval != "recorded":
            raise Refused(f"{actor.name} wrote or committed this change of the policy and "
                          "cannot approve it",
                          hint="segregation of duties: another person holding the role approves")
        if effective is not None and effective < ws.today:
            raise UsageError(f"--effective {effective} is in the past",
                             hint="an approval takes effect today or later")
        if config.policy_require_signature and not sign:
            raise Refused("approvals of the policy must be signed",
                          hint=f"qms approve policy --role {role} --sign [--key PATH]")
        record = new_record(
            "approval", POLICY_ID, revision=revision, fingerprint=committed.fingerprint,
            approver=person_fields(actor), role=role, meaning=meaning,
            effective=(effective or ws.today).isoformat(), commit=head)
        if sign:
            _sign(ws, record, key, actor)
        return write_act(ws, "approve policy", [journaled_record(ws.root, record)])[0]


def _check_segregation(ws: Workspace, doc: Document, info: status.StatusInfo,
                       actor: Person) -> None:
    """Refuse an approval by the person who wrote or committed the revision, unless the
    policy in force records such approvals as self-approved (``[policy] self_approval``)."""
    if ws.config.self_approval == "recorded":
        return
    email = actor.email.lower()
    for record in of_kind(ws.records.for_document(doc.id), ChangeRecord):
        if record.to_revision == doc.revision and record.author.has_email(email):
            raise Refused(f"{actor.name} wrote revision {doc.revision} of {doc.id} "
                          f"({record.path}) and cannot approve it",
                          hint="segregation of duties: another person holding the role approves")
    if email in authors_since_in_force(ws, doc, info):
        raise Refused(f"{actor.name} committed changes to {doc.id} since its last effective "
                      "revision and cannot approve it",
                      hint="segregation of duties: another person holding the role approves")


def review(ws: Workspace, doc: Document, outcome: str) -> Path:
    """Record a periodic review of the revision in force that found no change needed.

    The review applies to the revision in force (its number and approved fingerprint), also
    while a newer revision is open: a draft must not keep the text people work to from its
    periodic review."""
    if not checked_input(outcome, "--outcome").strip():
        raise UsageError("--outcome must say what the review found")
    with one_at_a_time(ws):
        return _review(ws, _current(ws, doc), outcome)


def _review(ws: Workspace, doc: Document, outcome: str) -> Path:
    actor = ws.actor()
    info = ws.status(doc)
    force = info.reviewed_revision
    if force is None:
        raise Refused(f"{doc.id} is {info.status} and no revision of it is in force: only a "
                      "revision in force is reviewed", hint="if it must change, use qms revise")
    allowed = set(info.required_roles) | ({doc.owner} if doc.owner else set())
    if not allowed & set(actor.roles):
        raise Refused(f"{doc.id} is reviewed by a person holding {_and(sorted(allowed))} "
                      f"(its approvers, [types.{doc.type}] approvers in qms.toml, or its "
                      f"owner, :owner: in its header); {_holds(actor)}",
                      hint="one of them runs qms review")
    return write_act(ws, "review", [journaled_record(ws.root, new_record(
        "review", doc.id, revision=force.revision, fingerprint=force.fingerprint,
        reviewer=person_fields(actor), outcome=outcome.strip()))])[0]


def retire(ws: Workspace, doc: Document, reason: str, superseded_by: str | None = None) -> Path:
    """Make the document obsolete from now on."""
    with one_at_a_time(ws):
        return _retire(ws, _current(ws, doc), reason, superseded_by)


def _retire(ws: Workspace, doc: Document, reason: str, superseded_by: str | None) -> Path:
    if not checked_input(reason, "--reason").strip():
        raise UsageError("--reason must say why the document is retired")
    actor = ws.actor()
    info = ws.status(doc)
    if info.status == "obsolete":
        where = f" ({info.retirement.path})" if info.retirement else ""
        raise Refused(f"{doc.id} is already retired{where}")
    if not set(info.required_roles) & set(actor.roles):
        raise Refused(f"{doc.id} is retired by a person holding {_and(info.required_roles)} "
                      f"(its approvers, [types.{doc.type}] approvers in qms.toml); "
                      f"{_holds(actor)}", hint="one of them runs qms retire")
    fields: dict[str, object] = {"revision": doc.revision or 1, "reason": reason.strip(),
                                 "approver": person_fields(actor)}
    if superseded_by:
        successor = ws.document(superseded_by)
        if successor.id == doc.id:
            raise UsageError("a document cannot supersede itself")
        fields["superseded_by"] = successor.id
    return write_act(ws, "retire", [journaled_record(ws.root, new_record("retirement", doc.id,
                                                                    **fields))])[0]


def train(ws: Workspace, doc: Document, person_email: str | None = None, method: str = "read",
          note: str = "") -> Path:
    """Record that a person was trained on the document's effective revision.

    Without ``person_email`` the acting person records their own training; with it, the
    acting person signs as the trainer.
    """
    with one_at_a_time(ws):
        return _train(ws, _current(ws, doc), person_email, method, note)


def _train(ws: Workspace, doc: Document, person_email: str | None, method: str,
           note: str) -> Path:
    checked_input(note, "--note")
    actor = ws.actor()
    trainee = actor
    if person_email:
        found = ws.config.person_by_email(person_email)
        if found is None:
            raise Refused(f"{person_email} is not a person in qms.toml",
                          hint="add them under [[people]] first")
        trainee = found
    records = ws.records.for_document(doc.id)
    need = training_revision(doc, records, ws.config, ws.today)
    info = ws.status(doc)
    if need is None or info.in_force is None:
        raise Refused(f"{doc.id} has no effective revision to be trained on",
                      hint="training records are made for the revision in force")
    roles = set(audience(doc, ws.config))
    if not roles & set(trainee.roles):
        raise Refused(f"{trainee.name} is not in the audience of {doc.id}",
                      hint=f"the audience is: {', '.join(sorted(roles)) or 'nobody'} "
                           "(:audience: in the header, or audience under [types] in qms.toml)")
    revision = info.in_force.revision
    for record in of_kind(records, TrainingRecord):
        if record.revision == revision and record.trainee.has_email(trainee.email):
            raise Refused(f"{trainee.name} is already trained on {doc.id} revision {revision} "
                          f"({record.path})")
    fields: dict[str, object] = {"revision": revision, "fingerprint": info.in_force.fingerprint,
                                 "trainee": person_fields(trainee), "trainer": person_fields(actor),
                                 "method": method}
    if note.strip():
        fields["note"] = note.strip()
    return write_act(ws, "train", [journaled_record(ws.root, new_record("training", doc.id,
                                                                   **fields))])[0]


def record_deviation(ws: Workspace, code: str, doc_ref: str, reason: str,
                     role: str | None = None) -> Path:
    """Record the acting person's acceptance of a finding about a past event (verify then
    lists it as an accepted deviation once every role of [policy] approvers did)."""
    from .policy import is_policy_ref
    from .verify import verify

    if not checked_input(reason, "--reason").strip():
        raise UsageError("--reason must say what happened and why it is accepted")
    document = POLICY_ID if is_policy_ref(doc_ref) else ws.document(doc_ref).id
    with one_at_a_time(ws):
        actor = ws.actor()
        approvers = ws.config.policy_approvers
        roles = [r for r in actor.roles if r in approvers]
        if role is None and roles:
            role = roles[0]
        if role is None or role not in roles:
            raise Refused(f"{actor.name} holds no role of [policy] approvers"
                          + (f" named {role!r}" if role else "")
                          + f": deviations are accepted by {_and(approvers)} ([policy] "
                            f"approvers in qms.toml); {_holds(actor)}",
                          hint="each of those roles records one")
        findings = [f for f in verify(ws) if f.code == code and f.document == document]
        if not findings:
            raise Refused(f"qms verify reports no {code} finding about {document}",
                          hint="see qms verify for the findings and their codes")
        if not any(f.when for f in findings):
            raise Refused(f"the {code} finding about {document} is about the present state, "
                          "not a past event: fix it instead",
                          hint=findings[0].hint or "see qms verify")
        if any(r.code == code and r.role == role and r.author.has_email(actor.email)
               for r in of_kind(ws.records.for_document(document), DeviationRecord)):
            raise Refused(f"{actor.name} already recorded this deviation as {role}")
        paths = sorted({f.path for f in findings if f.path})
        fields: dict[str, object] = {"code": code, "reason": reason.strip(),
                                     "author": person_fields(actor), "role": role}
        if paths:
            fields["record"] = ", ".join(paths)[:500]
        return write_act(ws, "deviation", [journaled_record(ws.root, new_record(
            "deviation", document, **fields))])[0]
