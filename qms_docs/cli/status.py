"""What the records make of the documents: ``status`` and ``verify``."""

from __future__ import annotations

from typing import Any

import click

from ..policy import POLICY_ID, is_policy_ref
from ..record_kinds import ApprovalRecord, of_kind
from ..status import retirement_text
from ..text import plural
from ..verify import verify as run_verify
from ..verify import verify_branch
from ..workspace import Workspace
from ._common import Project, emit_json, emit_table, format_option, pass_project, report_findings


def policy_status(ws: Workspace) -> dict[str, Any]:
    """The policy item: revision in force, since when, approved by whom, and whether the
    working tree differs (and which roles still have to approve it)."""
    state = ws.judgement.policy
    if state is None or state.in_force is None:
        return {"document": POLICY_ID, "status": "not under control",
                "note": "qms.toml was never committed: commit it; that commit is the baseline"}
    approvals = of_kind(ws.records.for_document(POLICY_ID), ApprovalRecord)
    working = state.working
    pending = working is not None and working.fingerprint != state.in_force.fingerprint
    current = [a for a in approvals if working is not None
               and a.fingerprint == working.fingerprint
               and a.revision == state.open_revision]
    have = {a.role for a in current}
    changed = sorted(p for p in {*(working.files if working else {}), *state.in_force.files}
                     if working is None or state.in_force.files.get(p) != working.files.get(p))
    return {"document": POLICY_ID, "revision": state.revision,
            "status": "draft" if pending and not current else
                      "in-review" if pending else "effective",
            "in_force": {"revision": state.revision,
                         "since": state.since.isoformat() if state.since else None,
                         "approvals": [{"name": a.approver.name,
                                        "role": a.role, "date": a.stated,
                                        "record": a.path, "self_approved": a.self_approved}
                                       for a in state.approvals]},
            "open_revision": state.open_revision, "pending_files": changed if pending else [],
            "missing_roles": [r for r in ws.config.policy_approvers if r not in have]
            if pending else [], "approvers": list(ws.config.policy_approvers),
            "files": sorted(state.in_force.files)}


def print_policy(ws: Workspace) -> None:
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


@click.command()
@click.argument("doc", required=False)
@format_option("table", "json")
@pass_project
def status(project: Project, doc: str | None, fmt: str) -> None:
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
            print_policy(ws)
        return
    ws.require_readable()
    order = {name: index for index, name in enumerate(ws.config.types)}
    documents = [ws.document(doc)] if doc else sorted(
        (d for d in ws.scan.documents if d.id), key=lambda d: (order.get(d.type, 99), d.id))
    infos = [ws.status(d) for d in documents]
    if fmt == "json":
        emit_json([{"title": d.title, **i.to_dict()}
                   for d, i in zip(documents, infos, strict=True)])
        return
    rows = []
    retired = any(info.retirement is not None for info in infos)
    for d, info in zip(documents, infos, strict=True):
        force = (f"rev {info.in_force.revision} since {info.in_force.effective}"
                 if info.in_force else "none")
        waiting = ", ".join(info.missing_roles) if info.status in ("draft", "in-review") else ""
        row = [d.id, d.revision, info.label, info.effective or "", force, waiting]
        if retired:  # when, why, by whom, what replaces it
            row.append(retirement_text(info.retirement) if info.retirement else "")
        rows.append(row)
    emit_table(["Id", "Rev", "Status", "Effective", "In force", "Awaiting",
                *(["Retirement"] if retired else [])], rows)


@click.command()
@click.option("--strict", is_flag=True, help="Overdue reviews are findings, not warnings.")
@click.option("--base", metavar="REF", help="Pull-request gate: check only what changed since "
              "REF (e.g. origin/main).")
@format_option("text", "json", default="text")
@pass_project
def verify(project: Project, strict: bool, base: str | None, fmt: str) -> None:
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
        click.echo(f"verify: {plural(errors, 'finding')}, "
                   f"{plural(len(findings) - errors, 'warning')}.", err=True)
    if errors:
        raise click.exceptions.Exit(1)
