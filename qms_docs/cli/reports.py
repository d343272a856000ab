"""Commands for auditors: trace, due, changes, audit-pack."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from ..catalog import find_catalog
from ..reports import registers, traceability
from ..text import plural
from ._common import (
    Project,
    checked_output_file,
    emit,
    format_option,
    output_option,
    pass_project,
)


@click.command()
@click.option("--standard", default=None, help="Standard to trace (default: the first one in "
              "qms.toml), e.g. iso9001-2015, iso13485-2016 or your own catalog file.")
@click.option("--status", "status", type=click.Choice(["effective", "any"]), default="any",
              show_default=True, help="List only revisions in force, or also those pending "
              "(coverage counts only what is in force).")
@click.option("--gaps", is_flag=True, help="Only requirement clauses that no revision in "
              "force names (with the revisions pending that do); exit 1 when there are any.")
@click.option("--mandatory", is_flag=True, help="Mandatory documented information: maintained "
              "documents and retained records, met or missing; exit 1 when any is missing.")
@format_option("table", "csv", "json", "md", "xlsx")
@output_option()
@pass_project
def trace(project: Project, standard: str | None, status: str, gaps: bool, mandatory: bool,
          fmt: str, output: Path | None) -> None:
    """The clause traceability matrix: each clause with the documents that satisfy it.

    \b
    Example:
      qms trace                         # clause -> documents, with status
      qms trace --gaps                  # CI gate: exit 1 if a clause has no effective document
      qms trace --mandatory
      qms trace --format xlsx -o matrix.xlsx
    """
    ws = project.ws
    ws.require_readable()
    catalog = find_catalog(standard, ws.catalogs, ws.root)
    documents = [d for d in ws.scan.documents if d.id and d.type in ws.config.types]
    statuses = ws.statuses
    basis = traceability.load_basis(ws.root, documents, statuses, index=ws.history_index)
    for note in basis.notes:
        click.echo(f"note: {note}", err=True)
    if gaps:
        gap_rows = traceability.gap_rows(catalog, documents, statuses, basis)
        emit(fmt, traceability.GapRow.HEADERS, [r.cells() for r in gap_rows],
             {"standard": catalog.standard, "gaps": [r.to_dict() for r in gap_rows]}, output,
             "Gaps", empty=f"No gaps: every requirement clause of {catalog.short_title} has an "
                           "effective document.")
        if gap_rows:
            pending = sum(1 for r in gap_rows if r.pending)
            have = "has" if len(gap_rows) == 1 else "have"
            click.echo(f"{plural(len(gap_rows), 'requirement clause')} of {catalog.short_title} "
                       f"{have} no effective document" + (
                           f" ({pending} with a revision pending that names it)" if pending
                           else "") + ".", err=True)
            raise click.exceptions.Exit(1)
        if fmt != "table" or output is not None:  # else emit said so
            click.echo(f"No gaps: every requirement clause of {catalog.short_title} has an "
                       "effective document.", err=True)
        return
    if mandatory:
        rows = traceability.mandatory(catalog, documents, statuses, basis)
        emit(fmt, traceability.MandatoryRow.HEADERS, [r.cells() for r in rows],
             {"standard": catalog.standard, "rows": [r.to_dict() for r in rows]}, output,
             "Mandatory information")
        missing = [r for r in rows if not r.met]
        click.echo(f"{len(rows) - len(missing)} of {len(rows)} met.", err=True)
        if missing:
            raise click.exceptions.Exit(1)
        return
    matrix = traceability.trace_matrix(catalog, documents, statuses, status == "effective", basis)
    emit(fmt, traceability.TraceRow.HEADERS, traceability.trace_lines(matrix),
         {"standard": catalog.standard, "status": status,
          "clauses": [r.to_dict() for r in matrix]}, output, "Traceability")


@click.command()
@click.option("--within", "within", type=click.IntRange(0, 3650), default=30, show_default=True,
              help="Days ahead to look.")
@format_option("table", "csv", "json", "md", "xlsx")
@output_option()
@pass_project
def due(project: Project, within: int, fmt: str, output: Path | None) -> None:
    """Documents whose periodic review falls due within DAYS, or is overdue.

    \b
    Example:
      qms due
      qms due --within 90 --format csv
    """
    ws = project.ws
    ws.require_readable()
    rows = registers.reviews_due([d for d in ws.scan.documents if d.id], ws.statuses, ws.today,
                                 within)
    emit(fmt, registers.DueRow.HEADERS, [r.cells() for r in rows],
         [r.to_dict() for r in rows], output, "Reviews due",
         empty=f"No reviews due within {plural(within, 'day')}, and none overdue.")


@click.command()
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None, help="YYYY-MM-DD")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None, help="YYYY-MM-DD")
@format_option("table", "csv", "json", "md", "xlsx")
@output_option()
@pass_project
def changes(project: Project, since: dt.datetime | None, until: dt.datetime | None, fmt: str,
            output: Path | None) -> None:
    """The change log: every change, approval, review, retirement and deviation in a period.

    \b
    Example:
      qms changes --since 2026-01-01
      qms changes --since 2026-01-01 --until 2026-06-30 --format xlsx -o changes.xlsx
    """
    ws = project.ws
    ws.require_readable()
    rows = registers.change_log(ws.records.records, since.date() if since else None,
                                until.date() if until else None)
    emit(fmt, registers.ChangeEntry.HEADERS, [r.cells() for r in rows],
         [r.to_dict() for r in rows], output, "Change log",
         empty=_no_changes(since.date() if since else None, until.date() if until else None))


def _no_changes(since: dt.date | None, until: dt.date | None) -> str:
    """An empty change log, in a sentence."""
    if since and until:
        return f"No changes between {since} and {until}."
    if since or until:
        return f"No changes {'since' if since else 'until'} {since or until}."
    return "No changes recorded yet."


@click.command("audit-pack")
@click.option("--as-of", "as_of", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="The date, YYYY-MM-DD.")
@click.option("-o", "--output", "output", required=True,
              type=click.Path(path_type=Path), callback=checked_output_file,
              help="The .zip to write.")
@click.option("--allow-uncommitted", is_flag=True,
              help="Build from HEAD even though the working tree holds records of that date "
                   "or before that HEAD does not (left out, with a warning). By default the "
                   "pack is refused (exit 1): it would show the QMS without them.")
@pass_project
def audit_pack(project: Project, as_of: dt.datetime, output: Path, allow_uncommitted: bool) -> None:
    """Everything as it stood on a date, in one zip, with a SHA-256 manifest.

    Master list, traceability matrix, gaps, mandatory documented information, the change
    log of the 12 months before, and every document then in force as PDF. Built from
    HEAD: records of that date or before that are not committed stop it (exit 1) unless
    --allow-uncommitted.

    \b
    Example:
      qms audit-pack --as-of 2026-06-12 -o audit-2026-06-12.zip
    """
    from ..publish import uncommitted_records
    from ..reports.auditpack import build_audit_pack
    from .build import pdf_progress, refuse_uncommitted

    ws = project.ws
    ws.require_readable()
    refuse_uncommitted(uncommitted_records(ws, as_of.date()), allow_uncommitted,
                       "the audit pack")
    click.echo(f"Building the audit pack as of {as_of.date()} ...", err=True)
    with pdf_progress() as progress:
        manifest = build_audit_pack(ws, as_of.date(), output, progress=progress)
    documents = sum(1 for f in manifest["files"] if f["path"].startswith("documents/")
                    and f["path"] != "documents/qms-manual.pdf")
    click.echo(f"{plural(len(manifest['files']), 'file')}, "
               f"{plural(documents, 'document PDF')}.", err=True)
    click.echo(f"Audit pack written: {output}")
