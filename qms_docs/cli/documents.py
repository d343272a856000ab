"""Commands that read the documents without git: ``check`` and ``list``."""

from __future__ import annotations

import os
from pathlib import Path

import click

from .. import glossary
from ..catalog import catalog_note
from ..checks import check_documents
from ..records import RECORDS_DIR
from ..reports import registers
from ..text import plural
from ._common import Project, emit, format_option, output_option, pass_project, report_findings


@click.command()
@format_option("text", "json", default="text")
@pass_project
def check(project: Project, fmt: str) -> None:
    """Static checks: headers, ids, owners, clause links, records, qms.toml. Needs no git.

    Fast enough for a pre-commit hook. Exit 1 when anything is wrong.

    \b
    Example:
      qms check
      qms check --format json
    """
    ws = project.ws
    result = ws.scan
    findings = check_documents(result, ws.working_config, ws.catalogs,
                               _record_folders(ws.root)) + ws.raw_records.findings
    # the term check of the document bodies (the company glossary as the working tree has it)
    findings += glossary.check_documents(
        ws.root, result.documents, glossary.load(ws.root, ws.working_config.organization))
    if fmt != "json":
        for catalog in ws.catalogs:
            if (note := catalog_note(catalog)) is not None:
                click.echo(f"note: {note}", err=True)
    report_findings(findings, fmt)
    errors = sum(f.severity == "error" for f in findings)
    if fmt != "json":
        click.echo(f"{plural(len(result.documents), 'document')} checked: "
                   f"{plural(errors, 'error')}, {plural(len(findings) - errors, 'warning')}.",
                   err=True)
    if errors:
        raise click.exceptions.Exit(1)


def _record_folders(root: Path) -> list[str]:
    """Ids that have records (a document since deleted keeps its id taken)."""
    try:
        return [e.name for e in os.scandir(root / RECORDS_DIR) if e.is_dir()]
    except OSError:
        return []


@click.command("list")
@format_option("table", "csv", "json", "md", "xlsx")
@output_option()
@pass_project
def list_documents(project: Project, fmt: str, output: Path | None) -> None:
    """The master document list: id, title, type, revision, status, effective date, owner,
    last review, next review due.

    \b
    Example:
      qms list
      qms list --format csv > master-list.csv
      qms list --format xlsx -o master-list.xlsx
    """
    ws = project.ws
    ws.require_readable()
    rows = registers.master_list(ws.config, [d for d in ws.scan.documents if d.id], ws.statuses)
    emit(fmt, registers.MasterRow.HEADERS, [r.cells() for r in rows],
         [r.to_dict() for r in rows], output, "Master list",
         empty="No documents yet: qms new TYPE \"Title\" creates one.")
