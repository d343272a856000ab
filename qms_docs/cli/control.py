"""Commands of document control: new, revise, approve, review, retire, status, verify."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from .. import actions
from ..verify import verify as run_verify
from ..verify import verify_branch
from ..policy import POLICY_ID, is_policy_ref
from ._common import emit_json, emit_table, format_option, pass_project, report_findings


def policy_status(ws) -> dict:
    """The policy item: revision in force, since when, approved by whom, and whether the
    working tree differs (and which roles still have to approve it)."""
    state = ws.judgement.policy
    if state is None or state.in_force is None:
        return {"document": POLICY_ID, "status": "not under control",
                "note": "qms.toml was never committed: commit it; that commit is the baseline"}
    approvals = [a for a in ws.records.for_document(POLICY_ID) if a.kind == "approval"]
    working = state.working
    pending = working is not None and working.fingerprint != state.in_force.fingerprint
    current = [a for a in approvals if working is not None
               and a.data["fingerprint"] == working.fingerprint
               and a.data["revision"] == state.open_revision]
    have = {a.data["role"] for a in current}
    changed = sorted(p for p in {*(working.files if working else {}), *state.in_force.files}
                     if working is None or state.in_force.files.get(p) != working.files.get(p))
    return {"document": POLICY_ID, "revision": state.revision,
            "status": "draft" if pending and not current else
                      "in-review" if pending else "effective",
            "in_force": {"revision": state.revision,
                         "since": state.since.isoformat() if state.since else None,
                         "approvals": [{"name": a.data["approver"]["name"],
                                        "role": a.data["role"], "date": a.data["date"],
                                        "record": a.path} for a in state.approvals]},
            "open_revision": state.open_revision, "pending_files": changed if pending else [],
            "missing_roles": [r for r in ws.config.policy_approvers if r not in have]
            if pending else [], "approvers": list(ws.config.policy_approvers),
            "files": sorted(state.in_force.files)}


def _print_policy(ws) -> None:
    data = policy_status(ws)
    if "in_force" not in data:
        click.echo(f"policy: {data['status']} ({data['note']})")
        return
    force = data["in_force"]
    who = "; ".join(f"{a['name']} ({a['role']}, {a['date'][:10]})" for a in force["approvals"])
    click.echo(f"policy: revision {force['revision']} in force since "
               f"{(force['since'] or '')[:10]}"
               + (f", approved by {who}" if who else " (the baseline: the first commit of "
                                                    "qms.toml)"))
    click.echo(f"  covers {len(data['files'])} files (qms.toml, the signers file, conf.py and "
               "the site's frame); approved by: " + ", ".join(data["approvers"]))
    if data["pending_files"]:
        click.echo(f"  the working tree differs ({data['status']}, revision "
                   f"{data['open_revision']}): {', '.join(data['pending_files'][:8])}")
        if data["open_revision"] <= force["revision"]:
            click.echo("  next: qms revise policy --reason \"...\", commit, then qms approve "
                       "policy --role ROLE")
        elif data["missing_roles"]:
            click.echo(f"  awaiting approval by: {', '.join(data['missing_roles'])} "
                       "(commit first, then qms approve policy --role ROLE)")


def _relative(project, path) -> str:
    try:
        return path.relative_to(project.root).as_posix()
    except ValueError:
        return str(path)


@click.command()
@click.argument("type_name", metavar="TYPE")
@click.argument("title")
@click.option("--owner", help="Role that owns the document (default: your first role).")
@click.option("--satisfies", "satisfies", multiple=True, metavar="CLAUSE",
              help="Clause it satisfies, e.g. 7.5.3 (repeatable).")
@click.option("--id", "doc_id", help="Use this id instead of the next free one.")
@click.option("--format", "markup", type=click.Choice(["rst", "md"]), default="rst",
              show_default=True, help="reStructuredText or MyST Markdown.")
@pass_project
def new(project, type_name: str, title: str, owner: str | None, satisfies: tuple[str, ...],
        doc_id: str | None, markup: str) -> None:
    """Create a document from its type's template, at revision 1, with a change record.

    Prints the new file's path.

    \b
    Example:
      qms new sop "Control of Monitoring Equipment" --owner quality-manager --satisfies 7.1.5.1
      qms new wi "Packing of Valves" --format md
    """
    path, record = actions.new_document(project.ws, type_name, title, owner, satisfies, doc_id,
                                        markup=markup)
    click.echo(f"Change record: {_relative(project, record)}", err=True)
    click.echo(_relative(project, path))


@click.command()
@click.argument("doc")
@click.option("--reason", required=True, help="Why the document changes.")
@click.option("--summary", default="", help="What changes, in a sentence or two.")
@click.option("--no-training", is_flag=True, help="An editorial change: no training needed.")
@pass_project
def revise(project, doc: str, reason: str, summary: str, no_training: bool) -> None:
    """Start a new revision: raise the header's revision by one and record the change.

    By default the change needs training of the document's audience once effective;
    --no-training marks an editorial change.

    \b
    Example:
      qms revise SOP-004 --reason "New gauge supplier" --summary "Section 5 updated"
      qms revise policy --reason "Sam joins as second quality manager"
    """
    ws = project.ws
    if is_policy_ref(doc):
        revision, record = actions.revise_policy(ws, reason, summary)
        click.echo(f"The policy is now at revision {revision} (draft): change qms.toml or the "
                   f"site's frame, commit, and have it approved (qms approve policy). Change "
                   f"record: {_relative(project, record)}")
        return
    document = ws.document(doc)
    revision, record = actions.revise(ws, document, reason, summary, not no_training)
    click.echo(f"{document.id} is now at revision {revision} (draft). "
               f"Change record: {_relative(project, record)}")


@click.command()
@click.argument("doc")
@click.option("--role", required=True, help="The role you approve for.")
@click.option("--meaning", type=click.Choice(["approval", "review", "responsibility"]),
              default="approval", show_default=True, help="What your signature means.")
@click.option("--effective", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Date from which it takes effect, YYYY-MM-DD (default: today).")
@click.option("--sign", is_flag=True, help="Sign the approval with your SSH key "
              "(git's user.signingkey, or --key).")
@click.option("--key", "key", type=click.Path(dir_okay=False), default=None,
              help="SSH key to sign with (default: git config user.signingkey).")
@pass_project
def approve(project, doc: str, role: str, meaning: str, effective: dt.datetime | None,
            sign: bool, key: str | None) -> None:
    """Approve the document's current, committed revision and content.

    \b
    Example:
      qms approve SOP-004 --role quality-manager
      qms approve SOP-004 --role production-manager --effective 2026-12-01
      qms approve SOP-004 --role quality-manager --sign
      qms approve policy --role top-management   (the policy: qms.toml, signers, site frame)
    """
    ws = project.ws
    if is_policy_ref(doc):
        record = actions.approve_policy(ws, role, meaning,
                                        effective.date() if effective else None, sign, key)
        ws.refresh()
        click.echo(f"Approved the policy as {role}: {_relative(project, record)}")
        _print_policy(ws)
        return
    document = ws.document(doc)
    record = actions.approve(ws, document, role, meaning,
                             effective.date() if effective else None, sign, key)
    ws.refresh()
    info = ws.status(document)
    click.echo(f"Approved {document.id} revision {document.revision} as {role}: "
               f"{_relative(project, record)}")
    if info.missing_roles:
        click.echo(f"{document.id} is {info.status}; still needed: {', '.join(info.missing_roles)}")
    else:
        click.echo(f"{document.id} is {info.status} (effective {info.effective}).")


@click.command()
@click.argument("doc")
@click.option("--outcome", required=True, help="What the review found.")
@pass_project
def review(project, doc: str, outcome: str) -> None:
    """Record a periodic review of an effective document that needs no change.

    \b
    Example:
      qms review SOP-004 --outcome "Still accurate; no change needed"
    """
    ws = project.ws
    document = ws.document(doc)
    record = actions.review(ws, document, outcome)
    click.echo(f"Reviewed {document.id} revision {document.revision}: {_relative(project, record)}")


@click.command()
@click.argument("doc")
@click.option("--reason", required=True, help="Why the document is withdrawn.")
@click.option("--superseded-by", "superseded_by", metavar="DOC", help="The document that replaces it.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_project
def retire(project, doc: str, reason: str, superseded_by: str | None, yes: bool) -> None:
    """Retire a document: it becomes obsolete. This cannot be undone.

    \b
    Example:
      qms retire WI-003 --reason "Merged into SOP-009" --superseded-by SOP-009 --yes
    """
    ws = project.ws
    document = ws.document(doc)
    if not yes and not click.confirm(f"Retire {document.id} {document.title}? This cannot be "
                                     "undone", default=False, err=True):
        raise click.Abort()
    record = actions.retire(ws, document, reason, superseded_by)
    click.echo(f"{document.id} is obsolete: {_relative(project, record)}")


@click.command()
@click.argument("doc", required=False)
@format_option("table", "json")
@pass_project
def status(project, doc: str | None, fmt: str) -> None:
    """Derived status of one document or of all: draft, in-review, approved, effective, obsolete.

    \b
    Example:
      qms status
      qms status SOP-004 --format json
      qms status policy
    """
    ws = project.ws
    if doc and is_policy_ref(doc):
        if fmt == "json":
            emit_json(policy_status(ws))
        else:
            _print_policy(ws)
        return
    ws.require_readable()
    order = {name: index for index, name in enumerate(ws.config.types)}
    documents = [ws.document(doc)] if doc else sorted(
        (d for d in ws.scan.documents if d.id), key=lambda d: (order.get(d.type, 99), d.id))
    infos = [ws.status(d) for d in documents]
    if fmt == "json":
        emit_json([{"title": d.title, **i.to_dict()} for d, i in zip(documents, infos)])
        return
    rows = []
    for d, info in zip(documents, infos):
        force = (f"rev {info.in_force.revision} since {info.in_force.effective}"
                 if info.in_force else "none")
        waiting = ", ".join(info.missing_roles) if info.status in ("draft", "in-review") else ""
        rows.append([d.id, d.revision, info.label, info.effective or "", force, waiting])
    emit_table(["Id", "Rev", "Status", "Effective", "In force", "Awaiting"], rows)


@click.command()
@click.option("--strict", is_flag=True, help="Overdue reviews are findings, not warnings.")
@click.option("--base", metavar="REF", help="Pull-request gate: check only what changed since "
              "REF (e.g. origin/main).")
@format_option("text", "json", default="text")
@pass_project
def verify(project, strict: bool, base: str | None, fmt: str) -> None:
    """Full verification with git history: is every document under control?

    Finds edits after approval, missing change records, unauthorized and self
    approvals, altered records, approvals of content no commit held. With --base, checks
    the changes of a branch since REF. Exit 1 on findings.

    \b
    Example:
      qms verify
      qms verify --strict --format json
      qms verify --base origin/main
    """
    findings = verify_branch(project.ws, base) if base else run_verify(project.ws, strict)
    report_findings(findings, fmt)
    errors = sum(f.severity == "error" for f in findings)
    if fmt != "json":
        click.echo(f"verify: {errors} finding(s), {len(findings) - errors} warning(s).", err=True)
    if errors:
        raise click.exceptions.Exit(1)


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--org", required=True, help="Name of the organization.")
@click.option("--ci", type=click.Choice(["github", "gitlab", "none"]), default="github",
              show_default=True, help="CI workflow to add.")
@click.option("--standard", default="iso9001-2015", show_default=True,
              help="Standard the QMS is traced to.")
def init(directory: Path, org: str, ci: str, standard: str) -> None:
    """Create a new QMS repository that checks and builds straight away.

    Writes conf.py, qms.toml, a quality manual skeleton, a quality policy, starter SOPs,
    report pages, a README for authors and a CI workflow; runs git init if needed.

    \b
    Example:
      qms init acme-qms --org "Acme Widgets Ltd" --ci gitlab
    """
    from ..init import init_repository

    directory.mkdir(parents=True, exist_ok=True)
    files = init_repository(directory, org, ci, standard)
    click.echo(f"Created {len(files)} files in {directory}.", err=True)
    click.echo("The first commit holding qms.toml is the policy in force: add your "
               "colleagues under [[people]] in qms.toml and amend that commit (git commit "
               "--amend -a) before you share it; later policy changes need approval by "
               "[policy] approvers (qms status policy).", err=True)
    click.echo("Next: qms check and "
               "qms build html; qms trace --gaps lists what is still to write.", err=True)
    click.echo(str(directory))


@click.group()
def keys() -> None:
    """Signing keys of approvers (the allowed_signers file of the QMS).

    \b
    Example:
      qms keys add quinn@example.com ~/.ssh/id_ed25519.pub
    """


@keys.command("add")
@click.argument("email")
@click.argument("pubkey")
@pass_project
def keys_add(project, email: str, pubkey: str) -> None:
    """Add a person's SSH public key (a .pub file or the key text), with a change record.

    \b
    Example:
      qms keys add quinn@example.com ~/.ssh/id_ed25519.pub
    """
    ws = project.ws
    added, record = actions.add_key(ws, email, pubkey)
    if not added:
        click.echo(f"That key of {email} is already listed in {ws.config.signers_file}.")
        return
    click.echo(f"Added to {ws.config.signers_file} ({_relative(project, record)}). Commit it: "
               "the key counts once the policy is approved (qms approve policy).")


@click.command()
@click.argument("code")
@click.argument("doc")
@click.option("--reason", required=True, help="What happened and why it is accepted.")
@click.option("--role", default=None, help="Your role of [policy] approvers (default: the "
              "first you hold).")
@pass_project
def deviation(project, code: str, doc: str, reason: str, role: str | None) -> None:
    """Accept, on the record, a finding about a past event that cannot be undone.

    Every role of [policy] approvers records one; then qms verify lists the finding as an
    accepted deviation and exits 0. Only findings about events before the deviation are
    covered; a false finding is a bug, not a deviation.

    \b
    Example:
      qms deviation record-altered SOP-004 --reason "Record edited by mistake in 2025; restored"
    """
    record = actions.record_deviation(project.ws, code, doc, reason, role)
    click.echo(f"Deviation recorded: {_relative(project, record)}. Commit it; the finding is "
               "accepted once every role of [policy] approvers has recorded one.")
