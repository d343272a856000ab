"""Commands that read the documents without git: ``check`` and ``list``."""

from __future__ import annotations

import click

from .. import reports
from ..checks import check_documents
from ._common import emit_csv, emit_json, emit_table, format_option, pass_project, report_findings


@click.command()
@format_option("text", "json", default="text")
@pass_project
def check(project, fmt: str) -> None:
    """Static checks: headers, ids, owners, clause links, records, qms.toml. Needs no git.

    Fast enough for a pre-commit hook. Exit 1 when anything is wrong.

    \b
    Example:
      qms check
      qms check --format json
    """
    ws = project.ws
    result = ws.scan
    findings = check_documents(result, ws.config, ws.catalogs) + ws.records.findings
    report_findings(findings, fmt)
    errors = sum(f.severity == "error" for f in findings)
    if fmt != "json":
        click.echo(f"{len(result.documents)} documents checked: "
                   f"{errors} error(s), {len(findings) - errors} warning(s).", err=True)
    if errors:
        raise click.exceptions.Exit(1)


@click.command("list")
@format_option("table", "csv", "json")
@pass_project
def list_documents(project, fmt: str) -> None:
    """The master document list: id, title, type, revision, status, owner.

    \b
    Example:
      qms list
      qms list --format csv > master-list.csv
    """
    ws = project.ws
    ws.require_readable()
    statuses = {k: v.label for k, v in ws.statuses.items()}
    rows = reports.master_list(ws.config, [d for d in ws.scan.documents if d.id], statuses)
    if fmt == "json":
        emit_json([row.to_dict() for row in rows])
        return
    headers = ["Id", "Title", "Type", "Revision", "Status", "Owner", "Path"]
    data = [[r.id, r.title, r.type, r.revision, r.status, r.owner, r.path] for r in rows]
    (emit_csv if fmt == "csv" else emit_table)(headers, data)
