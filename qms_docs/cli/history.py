"""Commands that read git history: ``history``, ``show --as-of`` and ``diff``."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import click

from .. import gitrepo
from .. import history as git_history
from ..atomic import write_atomic
from ..errors import QmsError
from ..record_kinds import retirement_of
from ..revisions import RevisionRow, in_force_on, revision_history, revision_row
from ..status import retirement_dict, retirement_text
from ._common import (
    Project,
    emit_json,
    emit_sentence,
    emit_table,
    format_option,
    output_option,
    pass_project,
)


class NotInForce(QmsError):
    """Nothing of the document was effective on the date asked: exit 1."""

    exit_code = 1


@click.command()
@click.argument("doc")
@format_option("table", "json")
@pass_project
def history(project: Project, doc: str, fmt: str) -> None:
    """Every revision of a document: why, by whom, approved by whom, in force when.

    \b
    Example:
      qms history SOP-004
      qms history SOP-004 --format json
    """
    ws = project.ws
    from ..policy import is_policy_ref, policy_document

    is_policy = is_policy_ref(doc)
    document = policy_document() if is_policy else ws.document(doc)
    gitrepo.require_history(ws.repo)
    index = ws.history_index
    records = ws.records.for_document(document.id)
    entries = revision_history(document, records, ws.config, index)
    signers = ws.root / ws.config.signers_file
    retired = retirement_of(records)
    if fmt == "json":
        emit_json({"document": document.id, "title": document.title,
                   "revisions": [e.to_dict(signers) for e in entries],
                   "retirement": retirement_dict(retired)})
        return
    click.echo(f"{document.id} {document.title}")
    rows = []
    for entry in entries:
        row = revision_row(entry, signers, check_signatures=True)
        if is_policy and entry.revision == 1 and not row.approvals:  # the baseline commit
            state = ws.judgement.policy
            row = replace(row, approvals=("baseline: the first commit of qms.toml, in force "
                                          "without approvals",))
            if state is not None and state.versions:
                start = state.versions[0][2].date().isoformat()
                until = (state.versions[1][2].date().isoformat() if len(state.versions) > 1
                         else row.effective_until or "in force")
                row = replace(row, effective_from=start, effective_until=until)
        rows.append(row.cells(commits=True))
    emit_table(RevisionRow.HEADERS_WITH_COMMITS, rows)
    if retired is not None:
        emit_sentence(f"{document.id} is obsolete: {retirement_text(retired)} ({retired.path})")


@click.command()
@click.argument("doc")
@click.option("--as-of", "as_of", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="The date, YYYY-MM-DD.")
@format_option("rst", "json", default="rst")
@pass_project
def show(project: Project, doc: str, as_of: dt.datetime, fmt: str) -> None:
    """The text of the revision that was effective on a date, with its approvals.

    Exit 1 when no revision was effective then (not yet approved, or already retired).

    \b
    Example:
      qms show SOP-004 --as-of 2026-06-12
      qms show SOP-004 --as-of 2026-06-12 --format json
    """
    ws = project.ws
    document = ws.document(doc)
    day = as_of.date()
    records = ws.records.for_document(document.id)
    in_force = in_force_on(document, records, ws.config, day)
    if in_force is None:
        retired = retirement_of(records)
        why = (f"it was retired on {retired.date.date()}" if retired and retired.date.date() <= day
               else "no revision had been approved and made effective by then")
        raise NotInForce(f"{document.id} was not in force on {day}: {why}",
                         hint=f"see its revisions: qms history {document.id}")
    gitrepo.require_history(ws.repo)
    index = git_history.HistoryIndex.build(ws.repo, paths=[document.path])
    change = index.held_fingerprints(document.path).get(in_force.fingerprint)
    if change is None:
        raise QmsError(f"no commit holds the approved text of {document.id} revision "
                       f"{in_force.revision} at {document.path}",
                       hint="the file may have been renamed; run qms verify")
    text = index.content(change).decode("utf-8", errors="replace")
    approvals = [{"name": a.approver.name, "role": a.role, "meaning": a.meaning,
                  "date": a.stated, "self_approved": a.self_approved}
                 for a in in_force.approvals]
    if fmt == "json":
        emit_json({"document": document.id, "as_of": day.isoformat(),
                   "revision": in_force.revision, "effective": in_force.effective.isoformat(),
                   "fingerprint": in_force.fingerprint, "commit": change.commit,
                   "approvals": approvals, "text": text})
        return
    click.echo(f".. {document.id} revision {in_force.revision}, in force on {day} "
               f"(effective {in_force.effective}; from commit {change.commit[:10]})", err=True)
    for approval in approvals:
        click.echo(f"..   approved by {approval['name']} ({approval['role']}, "
                   f"{approval['meaning']}, {approval['date']})", err=True)
    click.echo(text, nl=False)


@click.command()
@click.argument("doc")
@click.argument("revisions", nargs=-1, metavar="[REV [REV]]")
@format_option("text", "json", "html", default="text")
@output_option()
@pass_project
def diff(project: Project, doc: str, revisions: tuple[str, ...], fmt: str,
         output: Path | None) -> None:
    """What changed in a document between two revisions, with each side's approvals.

    Without REV: the revision in force against the working text; with one: that revision
    against the working text; with two: the first against the second. A REV is a
    revision number, a date (the revision in force that day) or "working". --format html
    writes a side-by-side page.

    \b
    Example:
      qms diff SOP-005                      # in force -> working text
      qms diff SOP-005 2025-06-12           # since the audit of 12 June
      qms diff SOP-005 1 2 --format html -o sop-005-1-2.html
    """
    from .. import diffs

    ws = project.ws
    document = ws.document(doc)
    gitrepo.require_history(ws.repo)
    prefix = ws.prefix
    git_path = document.path if prefix in ("", ".") else f"{prefix}/{document.path}"
    index = ws.history_index  # the whole history: the approved texts follow git mv
    assert index is not None  # require_history passed
    working = ws.root / document.path
    texts = diffs.Texts(document, ws.records.for_document(document.id), ws.config, index,
                        git_path, working.read_bytes() if working.is_file() else None,
                        ws.status(document))
    found = diffs.difference(texts, revisions)
    if fmt == "html":
        page = diffs.html_page(found, ws.config.organization)
        if output is None:
            click.echo(page, nl=False)
        else:
            write_atomic(output, page.encode("utf-8"))
            click.echo(f"Written: {output}", err=True)
        return
    if fmt == "json":
        emit_json(found.to_dict())
        return
    lines = [f"{document.id} {document.title}", f"from: {found.old.describe()}",
             f"to:   {found.new.describe()}", ""]
    lines.append(found.unified() if not found.same else "The two texts are the same.\n")
    text = "\n".join(lines[:-1]) + "\n" + lines[-1]
    if output is None:
        click.echo(text, nl=False)
    else:
        write_atomic(output, text.encode("utf-8"))
