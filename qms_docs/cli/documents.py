"""Commands that read the documents without git: ``check`` and ``list``."""

from __future__ import annotations

import os
from pathlib import Path

import click

from ..checks import check_documents
from ..errors import UsageError
from ..records import RECORDS_DIR
from ..reports import registers
from ..text import decode_utf8, plural
from ._common import Project, emit, format_option, output_option, pass_project, report_findings


@click.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@format_option("text", "json", default="text")
@pass_project
def check(project: Project, files: tuple[Path, ...], fmt: str) -> None:
    """Static checks: headers, ids, owners, clause links, records, qms.toml. Needs no git.

    With FILES, their bodies are parsed too, as the build reads them (reStructuredText
    with docutils, MyST Markdown with its parser): a malformed table or an unclosed
    emphasis is reported at its line, with the fix. Fast enough for a pre-commit hook,
    which passes the changed files. Exit 1 when anything is wrong.

    \b
    Example:
      qms check
      qms check procedures/sop-005-purchasing.rst
      qms check --format json
    """
    ws = project.ws
    result = ws.scan
    bodies = _read_bodies(project, files)
    findings = check_documents(result, ws.working_config, ws.catalogs,
                               _record_folders(ws.root)) + ws.raw_records.findings
    if bodies:
        from .markup import check_markup

        types = tuple(ws.working_config.types)
        for rel, text in bodies:
            findings += check_markup(rel, text, types)
    report_findings(findings, fmt)
    errors = sum(f.severity == "error" for f in findings)
    if fmt != "json":
        click.echo(f"{plural(len(result.documents), 'document')} checked: "
                   f"{plural(errors, 'error')}, {plural(len(findings) - errors, 'warning')}.",
                   err=True)
    if errors:
        raise click.exceptions.Exit(1)


def _read_bodies(project: Project, files: tuple[Path, ...]) -> list[tuple[str, str]]:
    """The text of each page of the QMS among ``files`` (path relative to the QMS root); a
    file outside the QMS, or none, is refused with exit 2 before anything is checked."""
    from ..policy import CONF_NAME, Frame

    conf = project.root / CONF_NAME
    frame = Frame.from_conf(conf.read_text(encoding="utf-8", errors="replace")
                            if conf.is_file() else None)
    out = []
    for file in files:
        path = file if file.is_absolute() else Path.cwd() / file
        if not path.exists() and not file.is_absolute():
            path = project.root / file  # with --repo: a path of the repository
        try:
            rel = path.resolve().relative_to(project.root.resolve()).as_posix()
        except ValueError:
            raise UsageError(f"{file} is not inside the QMS at {project.root}",
                             hint="give files of this QMS (pre-commit passes them)") from None
        if not path.is_file():
            raise UsageError(f"{file}: no such file", hint="give the path of a .rst or .md "
                                                           "page of the QMS")
        if rel not in project.ws.scan.pages or not frame.reads(rel):
            continue  # pre-commit passes any changed file: only the site's pages are parsed
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise UsageError(f"{file}: cannot be read ({exc.strerror})") from None
        out.append((rel, decode_utf8(raw, rel)))
    return out


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
