"""Commands that read the documents without git: ``check`` and ``list``."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import click

from ..checks import check_documents
from ..records import RECORDS_DIR
from ..reports import registers
from ..text import plural
from ._common import Project, emit, format_option, output_option, pass_project, report_findings
from .reports import as_of_option, qms_state


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
@as_of_option()
@format_option("table", "csv", "json", "md", "xlsx")
@output_option()
@pass_project
def list_documents(project: Project, as_of: dt.datetime | None, fmt: str,
                   output: Path | None) -> None:
    """The master document list: id, title, type, revision, status, effective date, owner,
    last review, next review due.

    With --as-of, the documents in force on that date, each at the revision then in force,
    as the audit pack of that date lists them.

    \b
    Example:
      qms list
      qms list --as-of 2026-06-12
      qms list --format csv > master-list.csv
      qms list --format xlsx -o master-list.xlsx
    """
    ws = project.ws
    with qms_state(ws, as_of, coverage=False) as state:
        documents = (state.documents if as_of is not None
                     else [d for d in ws.scan.documents if d.id])
        rows = registers.master_list(state.config, documents, state.statuses)
        emit(fmt, registers.MasterRow.HEADERS, [r.cells() for r in rows],
             [r.to_dict() for r in rows], output, "Master list",
             empty=(f"No document was in force on {state.as_of}." if state.as_of else
                    "No documents yet: qms new TYPE \"Title\" creates one."))
