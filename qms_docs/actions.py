"""The acts of document control: new, revise, approve, review, retire.

Each act checks the policy first and writes nothing when it refuses (``Refused``,
exit 1). Every act leaves a record under ``records/``. Acts run one at a time in a
repository (its lock) and write all their files through the journal (journal.py): a
crash leaves the repository as before or, once the next qms command recovered, as after.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from . import authority, gitrepo, history, journal, signing, status
from .catalog import resolve_clause
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
from .records import RECORDS_DIR, inside_repository, journaled_record, new_record
from .text import checked_input
from .training import audience, training_revision
from .workspace import Workspace


def _person(person: Person) -> dict[str, str]:
    return {"name": person.name, "email": person.email}


def _slug(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", re.sub(r"['\u2019]", "", title.lower())).strip("-")
    return slug[:60].rstrip("-") or "document"


def _write(ws: Workspace, command: str, writes: list[journal.Write]) -> list[Path]:
    """Write an act's files, all or nothing (the caller holds the lock); their paths. The
    workspace reads what they change afresh on next use."""
    journal.commit(ws.root, writes, command)
    ws.refresh(documents=any(not w.path.startswith(f"{RECORDS_DIR}/") for w in writes))
    return [ws.root / w.path for w in writes]


@dataclass(frozen=True)
class NewKind:
    """What every document one act creates shares: its type, owner and clauses, checked
    against the policy in force (``qms new`` makes one document of a kind, ``qms import``
    many)."""

    type_name: str
    owner: str
    clauses: tuple[str, ...]
    prefix: str
    digits: int
    markup: str

    def id_number(self, doc_id: str) -> int | None:
        """The number of an id of this type (``SOP-012`` -> 12), None if it is none."""
        match = re.match(rf"^{re.escape(self.prefix)}-([0-9]{{1,18}})$", doc_id)
        return int(match.group(1)) if match else None

    def make_id(self, number: int) -> str:
        return f"{self.prefix}-{number:0{self.digits}d}"


def checked_type(ws: Workspace, type_name: str) -> None:
    """A type of the policy in force, in a readable repository (or why not)."""
    config = ws.config
    if type_name not in config.types:
        if type_name in ws.working_config.types:
            raise Refused(f"document type {type_name!r} is in qms.toml but not in the policy "
                          "in force", hint="it can be used once the policy change is "
                                           "approved: qms status policy")
        raise UsageError(f"unknown document type {type_name!r}",
                         hint=f"use one of: {', '.join(config.types)}")
    ws.require_readable()


def new_kind(ws: Workspace, type_name: str, owner: str | None, satisfies: tuple[str, ...],
             markup: str) -> NewKind:
    """Check the type, owner and clauses of new documents (usage error or refusal)."""
    config = ws.config
    checked_type(ws, type_name)
    actor = ws.actor()
    owner = owner or (actor.roles[0] if actor.roles else None)
    if owner not in config.roles:
        raise UsageError(f"unknown owner role {owner!r}",
                         hint=f"use one of: {', '.join(sorted(config.roles))}")
    clauses = tuple(resolve_clause(ref, ws.catalogs).need_id for ref in satisfies)
    return NewKind(type_name, owner, clauses, config.types[type_name].prefix,
                   config.id_digits, markup)


def checked_title(title: str, markup: str) -> str:
    """A new document's title on one line, or a usage error saying what is wrong."""
    title = " ".join(checked_input(title, "the title").split())
    if not title or len(title) > 200:
        raise UsageError("the title must be 1 to 200 characters on one line")
    if markup == "md" and "`" in title:
        raise UsageError("a Markdown document's title cannot hold a backtick (`)",
                         hint="the title opens a ``` fence, which a backtick would break")
    return title


def checked_id(ws: Workspace, kind: NewKind, doc_id: str) -> str:
    """An id asked for (``--id``): it fits the type and is not used."""
    doc_id = doc_id.strip().upper()
    number = kind.id_number(doc_id)
    if number is None or len(doc_id) - len(kind.prefix) - 1 < kind.digits:
        raise UsageError(f"--id {doc_id} does not fit type {kind.type_name}",
                         hint=f"use {kind.prefix}- and {kind.digits} digits")
    if any(d.id == doc_id for d in ws.scan.documents):
        raise UsageError(f"{doc_id} is already used", hint="leave out --id to get the next "
                                                           "free id")
    return doc_id


def used_ids(ws: Workspace) -> set[str]:
    """Ids a new document cannot take: those of documents, and those with records (a
    document that was moved or deleted keeps its id)."""
    records_dir = ws.root / RECORDS_DIR
    try:
        recorded = set(os.listdir(records_dir)) if records_dir.is_dir() else set()
    except OSError:
        recorded = set()
    return {d.id for d in ws.scan.documents} | recorded


def next_ids(kind: NewKind, used: set[str]) -> Iterator[str]:
    """Free ids after the highest one used, in order."""
    number = max((n for u in used if (n := kind.id_number(u)) is not None), default=0) + 1
    while True:
        candidate = kind.make_id(number)
        if candidate not in used:
            yield candidate
        number += 1


def document_path(ws: Workspace, kind: NewKind, doc_id: str, title: str) -> str:
    """Where a new document goes (relative to the root, with /)."""
    folder = inside_repository(ws.root, ws.root / ws.config.types[kind.type_name].folder)
    return (folder / f"{doc_id.lower()}-{_slug(title)}.{kind.markup}").relative_to(
        ws.root).as_posix()


def document_writes(ws: Workspace, kind: NewKind, doc_id: str, title: str, actor: Person,
                    reason: str, summary: str | None = None, body: str = "",
                    files: dict[str, bytes] | None = None) -> list[journal.Write]:
    """The files of one new document: the text (the type's template, or its header over
    ``body``), its change record to revision 1, and ``files`` (path relative to the root ->
    bytes: pictures it shows). Nothing is written here."""
    config = ws.config
    policy = config.types[kind.type_name]
    inside_repository(ws.root, ws.root / RECORDS_DIR)
    rel = document_path(ws, kind, doc_id, title)
    template = jinja2.Template(
        resources.files("qms_docs").joinpath("templates", f"document.{kind.markup}.j2")
        .read_text("utf-8"),
        keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    text = template.render(type=kind.type_name, title=title, id=doc_id, owner=kind.owner,
                           satisfies=kind.clauses, type_title=policy.title,
                           owner_title=config.roles[kind.owner], example_ref=doc_id,
                           body=body.rstrip("\n"))
    writes = [journal.new_file(ws.root, rel, text.encode("utf-8"))]
    writes += [journal.new_file(ws.root, path, data) for path, data in (files or {}).items()]
    writes.append(journaled_record(ws.root, new_record(
        "change", doc_id, from_revision=0, to_revision=1, reason=reason,
        summary=summary or f"Created {policy.title.lower()} {doc_id}", author=_person(actor),
        training=True)))
    return writes


def create_documents(ws: Workspace, command: str, plans: list[tuple[str, list[journal.Write]]]
                     ) -> list[Path]:
    """Write the files of new documents (id -> writes), all or nothing, holding the lock;
    refused when an id was taken meanwhile. The paths written."""
    with _one_at_a_time(ws, rescan=True):
        taken = used_ids(ws)
        for doc_id, _ in plans:
            if doc_id in taken:
                raise UsageError(f"{doc_id} was taken by another act meanwhile",
                                 hint="nothing was written: run the command again")
        return _write(ws, command, [w for _, writes in plans for w in writes])


def new_document(ws: Workspace, type_name: str, title: str, owner: str | None = None,
                 satisfies: tuple[str, ...] = (), doc_id: str | None = None,
                 reason: str = "New document", markup: str = "rst") -> tuple[Path, Path]:
    """Create a document from its type's template at revision 1, with a change record."""
    checked_type(ws, type_name)
    title = checked_title(title, markup)
    kind = new_kind(ws, type_name, owner, satisfies, markup)
    actor = ws.actor()
    if doc_id is not None:
        doc_id = checked_id(ws, kind, doc_id)
    with _one_at_a_time(ws):
        used = used_ids(ws)
        if doc_id is not None:
            if doc_id in used:
                raise UsageError(f"{doc_id} is already used (records/{doc_id} exists)",
                                 hint="leave out --id to get the next free id")
        else:
            doc_id = next(next_ids(kind, used))
        writes = document_writes(ws, kind, doc_id, title, actor, reason)
        path, record_path = _write(ws, "new", writes)
        return path, record_path


def revise(ws: Workspace, doc: Document, reason: str, summary: str = "",
           training: bool = True,
           edit: Callable[[Document, bytes], bytes] | None = None) -> tuple[int, Path]:
    """Raise the revision by one in the header and write the change record. ``edit``
    (``qms transition --write``) changes the new revision's text further, in the same act:
    a text changes only together with its new revision and change record."""
    if not checked_input(reason, "--reason").strip():
        raise UsageError("--reason must say why the document changes")
    checked_input(summary, "--summary")
    with _one_at_a_time(ws, rescan=True):
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
        _write(ws, "revise", [header])
        return new_revision, ws.root / pending.path
    record = journaled_record(ws.root, new_record(
        "change", doc.id, from_revision=doc.revision, to_revision=new_revision,
        reason=reason.strip(), summary=summary.strip(), author=_person(actor), training=training))
    return new_revision, _write(ws, "revise", [record, header])[0]


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
def _one_at_a_time(ws: Workspace, rescan: bool = False) -> Iterator[None]:
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
    with _one_at_a_time(ws):
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
        approver=_person(actor), role=role, meaning=meaning,
        effective=(effective or ws.today).isoformat(), commit=gitrepo.head_commit(ws.repo))
    if sign:
        _sign(ws, record, key, actor)
    return _write(ws, "approve", [journaled_record(ws.root, record)])[0]


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
    with _one_at_a_time(ws):
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
        _write(ws, "keys add", [file])
        return True, ws.root / rel
    revision = state.revision if state is not None else 1
    record = journaled_record(ws.root, new_record(
        "change", POLICY_ID, from_revision=revision, to_revision=revision + 1,
        reason=f"Add the signing key of {person.name}", summary=f"{person.email}: {key[:60]}",
        author=_person(actor), training=False))
    return True, _write(ws, "keys add", [file, record])[1]


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
    with _one_at_a_time(ws):
        actor = ws.actor()
        state = _policy_state(ws)
        if state.open_revision > state.revision:
            raise Refused(f"policy revision {state.open_revision} is already open (revision "
                          f"{state.revision} is in force): change the files and approve it",
                          hint="qms approve policy --role ROLE once the change is committed")
        new = state.revision + 1
        record = journaled_record(ws.root, new_record(
            "change", POLICY_ID, from_revision=state.revision, to_revision=new,
            reason=reason.strip(), summary=summary.strip(), author=_person(actor),
            training=False))
        return new, _write(ws, "revise policy", [record])[0]


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

    with _one_at_a_time(ws):
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
            approver=_person(actor), role=role, meaning=meaning,
            effective=(effective or ws.today).isoformat(), commit=head)
        if sign:
            _sign(ws, record, key, actor)
        return _write(ws, "approve policy", [journaled_record(ws.root, record)])[0]


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
    with _one_at_a_time(ws):
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
    return _write(ws, "review", [journaled_record(ws.root, new_record(
        "review", doc.id, revision=force.revision, fingerprint=force.fingerprint,
        reviewer=_person(actor), outcome=outcome.strip()))])[0]


def retire(ws: Workspace, doc: Document, reason: str, superseded_by: str | None = None) -> Path:
    """Make the document obsolete from now on."""
    with _one_at_a_time(ws):
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
                                 "approver": _person(actor)}
    if superseded_by:
        successor = ws.document(superseded_by)
        if successor.id == doc.id:
            raise UsageError("a document cannot supersede itself")
        fields["superseded_by"] = successor.id
    return _write(ws, "retire", [journaled_record(ws.root, new_record("retirement", doc.id,
                                                                    **fields))])[0]


def train(ws: Workspace, doc: Document, person_email: str | None = None, method: str = "read",
          note: str = "") -> Path:
    """Record that a person was trained on the document's effective revision.

    Without ``person_email`` the acting person records their own training; with it, the
    acting person signs as the trainer.
    """
    with _one_at_a_time(ws):
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
                                 "trainee": _person(trainee), "trainer": _person(actor),
                                 "method": method}
    if note.strip():
        fields["note"] = note.strip()
    return _write(ws, "train", [journaled_record(ws.root, new_record("training", doc.id,
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
    with _one_at_a_time(ws):
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
                                     "author": _person(actor), "role": role}
        if paths:
            fields["record"] = ", ".join(paths)[:500]
        return _write(ws, "deviation", [journaled_record(ws.root, new_record(
            "deviation", document, **fields))])[0]
