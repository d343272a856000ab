"""``qms import``: a company's Word documents as controlled documents (wordimport/)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..text import plural
from ._common import Project, commit_option, emit_table, finish_act, pass_project


@click.command("import")
@click.argument("files", nargs=-1, required=True, metavar="FILE.docx|FOLDER...",
                type=click.Path(path_type=Path))
@click.option("--type", "type_name", required=True, help="Document type of every file, e.g. sop.")
@click.option("--owner", help="Role that owns them (default: the Word header's owner when it "
                              "names a role, else your first role).")
@click.option("--satisfies", "satisfies", multiple=True, metavar="CLAUSE",
              help="Clause they satisfy, e.g. 8.4.1 (repeatable).")
@click.option("--format", "markup", type=click.Choice(["rst", "md"]), default="rst",
              show_default=True, help="reStructuredText or MyST Markdown.")
@click.option("--id", "doc_id", help="The id of the one document imported (default: the Word "
                                     "number when it fits the type, else the next free id).")
@click.option("--dry-run", is_flag=True, help="Show the plan and the warnings; write nothing.")
@click.option("--strict", is_flag=True, help="Write nothing (exit 1) if anything cannot be "
                                             "converted faithfully.")
@commit_option()
@pass_project
def import_documents(project: Project, files: tuple[Path, ...], type_name: str,
                     owner: str | None, satisfies: tuple[str, ...], markup: str,
                     doc_id: str | None, dry_run: bool, strict: bool, commit: bool) -> None:
    """Import Word (.docx) files as controlled documents at revision 1.

    Each file becomes a document of --type with a change record naming the file and its
    sha256. Word's header table and revision history leave the text for the change
    record; pictures are stored next to the document. What cannot be converted
    faithfully (text boxes, tracked changes, comments, embedded objects, fields) is
    listed with its place. Nothing is written unless every file converts.

    \b
    Example:
      qms import "SOP-12 Purchasing.docx" --type sop --satisfies 8.4.1
      qms import old-procedures/ --type sop --format md --dry-run
    """
    from ..wordimport import plan as importer  # here: the other commands never load it

    ws = project.ws
    sources = importer.word_files(files)
    importer.pandoc()  # the import extra, before the progress bar
    with click.progressbar(length=2 * len(sources), label="Converting", file=sys.stderr) as bar:

        def converted(_: Path) -> None:
            bar.update(1)

        plans = importer.plan_import(ws, sources, type_name, owner, satisfies, markup, doc_id,
                                     progress=converted)
    _summary(project, plans)
    refused = importer.refusal(plans) if strict else None
    if refused is not None:
        raise refused
    if dry_run:
        click.echo("Dry run: nothing was written.", err=True)
        return
    paths = importer.write(ws, plans)
    click.echo(f"Imported {plural(len(plans), 'document')} at revision 1 (draft).", err=True)
    ids = ", ".join(p.doc_id for p in plans)
    finish_act(project, paths, f"{ids} rev 1 imported from Word by {ws.actor().name}", commit)


def _summary(project: Project, plans: list) -> None:
    """The table file -> id, then each file's notes and warnings with their places."""
    rows = [(p.source.name, p.doc_id, p.path, len(p.pictures), len(p.problems)) for p in plans]
    emit_table(["file", "id", "document", "pictures", "warnings"], rows)
    for plan in plans:
        if not plan.notes and not plan.problems:
            continue
        click.echo(f"{plan.source.name} -> {plan.doc_id}:", err=True)
        for note in plan.notes:
            click.echo(f"  note: {note}", err=True)
        for problem in plan.problems:
            click.echo(f"  warning: {problem}", err=True)
    count = sum(len(p.problems) for p in plans)
    if count:
        click.echo(f"{plural(count, 'warning')}: the documents hold what Word showed except "
                   "where a warning says otherwise; check them before approval.", err=True)
