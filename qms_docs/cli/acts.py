"""Acts of document control: ``new``, ``revise``, ``approve``, ``review``, ``retire``,
``deviation``.

Each act takes ``--commit``: its files, and nothing else, are committed as the acting
person with a message saying what was done. Without it the act says how to commit."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from .. import actions, creation
from ..policy import is_policy_ref
from ._common import Project, commit_option, finish_act, pass_project
from .status import print_policy


@click.command()
@click.argument("type_name", metavar="TYPE")
@click.argument("title")
@click.option("--owner", help="Role that owns the document (default: your first role).")
@click.option("--satisfies", "satisfies", multiple=True, metavar="CLAUSE",
              help="Clause it satisfies, e.g. 7.5.3 (repeatable).")
@click.option("--id", "doc_id", help="Use this id instead of the next free one.")
@click.option("--format", "markup", type=click.Choice(["rst", "md"]), default="rst",
              show_default=True, help="reStructuredText or MyST Markdown.")
@commit_option()
@pass_project
def new(project: Project, type_name: str, title: str, owner: str | None, satisfies: tuple[str, ...],
        doc_id: str | None, markup: str, commit: bool) -> None:
    """Create a document from its type's template, at revision 1, with a change record.

    Prints the new file's path.

    \b
    Example:
      qms new sop "Control of Monitoring Equipment" --owner quality-manager --satisfies 7.1.5.1
      qms new wi "Packing of Valves" --format md
    """
    path, record = creation.new_document(project.ws, type_name, title, owner, satisfies, doc_id,
                                        markup=markup)
    click.echo(f"Change record: {project.relative(record)}", err=True)
    finish_act(project, [path, record], f"{record.parent.name} rev 1 created by "
               f"{_name(project)}: {' '.join(title.split())}", commit)
    click.echo(project.relative(path))  # last: scripts read the path from the last line


def _name(project: Project) -> str:
    """The acting person's name, for commit messages."""
    return project.ws.actor().name


@click.command()
@click.argument("doc")
@click.option("--reason", required=True, help="Why the document changes.")
@click.option("--summary", default="", help="What changes, in a sentence or two.")
@click.option("--no-training", is_flag=True, help="An editorial change: no training needed.")
@commit_option()
@pass_project
def revise(project: Project, doc: str, reason: str, summary: str, no_training: bool,
           commit: bool) -> None:
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
                   f"record: {project.relative(record)}")
        finish_act(project, [record], f"Policy rev {revision} opened by {_name(project)}: "
                   f"{reason.strip()}", commit)
        return
    document = ws.document(doc)
    revision, record = actions.revise(ws, document, reason, summary, not no_training)
    click.echo(f"{document.id} is now at revision {revision} (draft). "
               f"Change record: {project.relative(record)}")
    finish_act(project, [record, project.root / document.path],
               f"{document.id} rev {revision} opened by {_name(project)}: {reason.strip()}",
               commit)


@click.command()
@click.argument("doc")
@click.option("--role", default=None, help="The role you approve for (default: the one "
              "required role you hold; needed when you hold several).")
@click.option("--meaning", type=click.Choice(["approval", "review", "responsibility"]),
              default="approval", show_default=True, help="What your signature means.")
@click.option("--effective", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Date from which it takes effect, YYYY-MM-DD (default: today).")
@click.option("--sign", is_flag=True, help="Sign the approval with your SSH key "
              "(git's user.signingkey, or --key).")
@click.option("--key", "key", type=click.Path(dir_okay=False), default=None,
              help="SSH key to sign with (default: git config user.signingkey).")
@commit_option()
@pass_project
def approve(project: Project, doc: str, role: str | None, meaning: str,
            effective: dt.datetime | None, sign: bool, key: str | None, commit: bool) -> None:
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
        role = role or _record_role(record)
        click.echo(f"Approved the policy as {role}: {project.relative(record)}")
        finish_act(project, [record], f"Policy {_approved(meaning)} by {_name(project)} as "
                   f"{role}", commit)
        print_policy(ws)
        return
    document = ws.document(doc)
    record = actions.approve(ws, document, role, meaning,
                             effective.date() if effective else None, sign, key)
    ws.refresh()
    role = role or _record_role(record)
    info = ws.status(document)
    mark = (", self-approved: you wrote or committed this revision ([policy] self_approval "
            "in qms.toml)" if any(a.self_approved and project.root / a.path == record
                                  for a in info.approvals) else "")
    click.echo(f"Approved {document.id} revision {document.revision} as {role}{mark}: "
               f"{project.relative(record)}")
    finish_act(project, [record], f"{document.id} rev {document.revision} "
               f"{_approved(meaning)} by {_name(project)} as {role}", commit)
    if info.missing_roles:
        click.echo(f"{document.id} is {info.status}; still needed: {', '.join(info.missing_roles)}")
    else:
        click.echo(f"{document.id} is {info.status} (effective {info.effective}).")


def _approved(meaning: str) -> str:
    """What a signature of this meaning did, in a commit message."""
    return {"approval": "approved", "review": "reviewed"}.get(meaning, "signed as responsible")


@click.command()
@click.argument("doc")
@click.option("--outcome", required=True, help="What the review found.")
@commit_option()
@pass_project
def review(project: Project, doc: str, outcome: str, commit: bool) -> None:
    """Record a periodic review of the revision in force that needs no change.

    The review applies to the revision in force, also while a newer revision is a draft.

    \b
    Example:
      qms review SOP-004 --outcome "Still accurate; no change needed"
    """
    ws = project.ws
    document = ws.document(doc)
    record = actions.review(ws, document, outcome)
    force = ws.status(ws.document(document.id)).reviewed_revision
    revision = force.revision if force else document.revision
    open_note = (f" (revision {document.revision} stays open)"
                 if document.revision != revision else "")
    click.echo(f"Reviewed {document.id} revision {revision}{open_note}: "
               f"{project.relative(record)}")
    finish_act(project, [record], f"{document.id} rev {revision} periodically "
               f"reviewed by {_name(project)}: {outcome.strip()}", commit)


@click.command()
@click.argument("doc")
@click.option("--reason", required=True, help="Why the document is withdrawn.")
@click.option("--superseded-by", "superseded_by", metavar="DOC",
              help="The document that replaces it.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@commit_option()
@pass_project
def retire(project: Project, doc: str, reason: str, superseded_by: str | None, yes: bool,
           commit: bool) -> None:
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
    click.echo(f"{document.id} is obsolete: {project.relative(record)}")
    finish_act(project, [record], f"{document.id} retired by {_name(project)}: "
               f"{reason.strip()}", commit)


@click.command()
@click.argument("code")
@click.argument("doc")
@click.option("--reason", required=True, help="What happened and why it is accepted.")
@click.option("--role", default=None, help="Your role of [policy] approvers (default: the "
              "first you hold).")
@commit_option()
@pass_project
def deviation(project: Project, code: str, doc: str, reason: str, role: str | None,
              commit: bool) -> None:
    """Accept, on the record, a finding about a past event that cannot be undone.

    Every role of [policy] approvers records one; then qms verify lists the finding as an
    accepted deviation and exits 0. Only findings about events before the deviation are
    covered; a false finding is a bug, not a deviation.

    \b
    Example:
      qms deviation record-altered SOP-004 --reason "Record edited by mistake in 2025; restored"
    """
    record = actions.record_deviation(project.ws, code, doc, reason, role)
    click.echo(f"Deviation recorded: {project.relative(record)}. The finding is accepted once "
               "it is committed and every role of [policy] approvers has recorded one.")
    held = role or _record_role(record)
    finish_act(project, [record], f"Deviation {code} on {record.parent.name} accepted by "
               f"{_name(project)}{f' as {held}' if held else ''}", commit)


def _record_role(record: Path) -> str | None:
    """The role an approval or deviation record names (the act chose it when --role was
    left out)."""
    import yaml

    data = yaml.safe_load(record.read_text(encoding="utf-8"))
    return data.get("role") if isinstance(data, dict) else None
