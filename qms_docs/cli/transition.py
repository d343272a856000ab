"""``qms transition``: the move of a QMS to a new edition of its standard."""

from __future__ import annotations

from pathlib import Path

import click

from ..reports import export
from ..reports import transition as report
from ..text import plural
from ._common import (
    Project,
    commit_option,
    emit,
    emit_table,
    finish_act,
    format_option,
    output_option,
    pass_project,
    provenance,
)

PARTS = ("all", "documents", "gaps", "chapters")


@click.command()
@click.option("--to", "to", required=True, help="The new edition's catalog, e.g. iso9001-2026.")
@click.option("--crosswalk", "crosswalk", default=None, metavar="FILE",
              help="Your own crosswalk file in the QMS (default: the one qms-docs ships from "
                   "a standard of qms.toml to --to).")
@click.option("--part", type=click.Choice(PARTS), default=None,
              help="Only one part: each document's clauses, the gaps of the new edition, or "
                   "the summary per chapter (default: all; documents for csv).")
@click.option("--write", is_flag=True,
              help="Propose the header changes that need no choice: a new revision of each "
                   "document concerned, with its change record.")
@commit_option()
@format_option("table", "csv", "json", "md", "xlsx")
@output_option()
@pass_project
def transition(project: Project, to: str, crosswalk: str | None, part: str | None,
               write: bool, commit: bool, fmt: str, output: Path | None) -> None:
    """The transition to a new edition: what each document's clauses become.

    For each document, each clause it satisfies and what it becomes in the new edition
    (unchanged, re-number, split: choose, changed: review), the new or changed requirements
    no document covers yet, and a summary per chapter.

    \b
    Example:
      qms transition --to iso9001-2026
      qms transition --to iso9001-2026 --format xlsx -o transition.xlsx
      qms transition --to iso9001-2026 --write --commit
    """
    ws = project.ws
    ws.require_readable()
    documents = [d for d in ws.scan.documents if d.id and d.type in ws.config.types]
    result = report.for_qms(to, ws.catalogs, ws.root, documents, ws.statuses, crosswalk)
    if (note := result.provisional_note()) is not None:
        click.echo(f"note: {note}", err=True)
    if write:
        _write(project, result, commit)
        return
    _emit(result, part or ("documents" if fmt == "csv" else "all"), fmt, output)
    todo = sum(1 for r in result.rows if r.action != "unchanged" and not r.done)
    click.echo(f"{plural(len({r.document for r in result.rows}), 'document')}, "
               f"{plural(todo, 'clause')} to act on, "
               f"{plural(len(result.gaps), 'gap')} in {result.new.short_title}.", err=True)


def _emit(result: report.Transition, part: str, fmt: str, output: Path | None) -> None:
    """The report's parts in the format asked for (several parts: one after the other,
    one sheet each in xlsx)."""
    parts = [
        ("documents", "Documents", report.TransitionRow.HEADERS,
         [r.cells() for r in result.rows]),
        ("gaps", "Gaps", report.NewGapRow.HEADERS, [g.cells() for g in result.gaps]),
        ("chapters", "Chapters", report.ChapterRow.HEADERS,
         [c.cells() for c in result.chapters])]
    chosen = [p for p in parts if part in ("all", p[0])]
    if fmt == "json":
        data = result.to_dict()
        if part != "all":
            data = {k: v for k, v in data.items() if k not in ("documents", "gaps", "chapters")
                    or k == part}
        emit(fmt, (), [], data, output)
        return
    if fmt == "xlsx" or len(chosen) == 1:
        if fmt == "xlsx" and len(chosen) > 1:
            if output is None:
                raise click.UsageError("--format xlsx needs -o FILE.xlsx")
            export.write_xlsx(output, [(sheet, headers, rows)
                                       for _, sheet, headers, rows in chosen],
                              provenance(f"Transition to {result.new.short_title}"))
            click.echo(f"Written: {output}", err=True)
            return
        _, sheet, headers, rows = chosen[0]
        emit(fmt, headers, rows, None, output, sheet)
        return
    if fmt == "csv":
        raise click.UsageError("csv holds one table: choose it with --part")
    if fmt == "table" and output is None:
        for _, sheet, headers, rows in chosen:
            click.echo(f"\n{sheet}\n")
            if rows:
                emit_table(headers, rows)
            else:
                click.echo("None.")
        return
    text = "".join(f"## {sheet}\n\n" + export.to_markdown(headers, rows) + "\n"
                   for _, sheet, headers, rows in chosen)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Written: {output}", err=True)


def _write(project: Project, result: report.Transition, commit: bool) -> None:
    """``--write``: the header changes as new revisions with change records."""
    from ..editions import write

    ws = project.ws
    if result.new.standard not in {c.standard for c in ws.catalogs}:
        raise click.UsageError(
            f"{result.new.standard} is not a standard of qms.toml: headers naming its clauses "
            f"would fail qms check. Add it to [qms] standards (a policy change: qms revise "
            f"policy, then its approval), then run --write again.")
    done = write(ws, result)
    for doc_id, reason in done.skipped:
        click.echo(f"{doc_id}: skipped: {reason}", err=True)
    for doc_id, revision, _paths in done.revised:
        click.echo(f"{doc_id}: revision {revision}: {result.reason(doc_id)}")
    if not done.revised:
        click.echo("Nothing to write: no header change needs no choice.", err=True)
        return
    paths = [p for _, _, files in done.revised for p in files]
    finish_act(project, paths, f"{result.new.short_title} transition: new revisions of "
               f"{', '.join(d for d, _, _ in done.revised)}", commit)
