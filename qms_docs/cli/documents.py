"""Commands that read the documents without git: ``check`` and ``list``."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .. import glossary
from ..catalog import catalog_note
from ..checks import check_documents
from ..errors import UsageError
from ..records import RECORDS_DIR
from ..reports import registers
from ..text import decode_utf8, plural

if TYPE_CHECKING:
    from ..federation import UpstreamExport as FederatedExport
from ._common import Project, emit, format_option, output_option, pass_project, report_findings
from .reports import as_of_option, qms_state


@click.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--bodies", "bodies_of_all", is_flag=True,
              help="Read the body of every page, as FILE... does for the files given (CI).")
@format_option("text", "json", default="text")
@pass_project
def check(project: Project, files: tuple[Path, ...], bodies_of_all: bool, fmt: str) -> None:
    """Static checks: headers, ids, owners, clause links, records, qms.toml. Needs no git.

    With FILES (or --bodies: every page), their bodies are read too: parsed as the build
    reads them (reStructuredText with docutils, MyST Markdown with its parser), so a
    malformed table or an unclosed emphasis is reported at its line with the fix, and
    checked for wordings the glossary does not prefer. Fast enough for a pre-commit hook,
    which passes the changed files. Exit 1 when anything is wrong.

    \b
    Example:
      qms check
      qms check procedures/sop-005-purchasing.rst
      qms check --bodies --format json
    """
    ws = project.ws
    result = ws.scan
    if bodies_of_all:
        files = (*files, *(project.root / p for p in sorted(result.pages)))
    bodies = _read_bodies(project, files)
    exports = _upstreams(project)
    findings = check_documents(result, ws.working_config, ws.catalogs,
                               _record_folders(ws.root), exports) + ws.raw_records.findings
    if exports:
        from ..federation import stale_findings

        findings += stale_findings(exports, ws.today)
    if bodies:
        from .markup import check_markup

        types = tuple(ws.working_config.types)
        words = glossary.load(ws.root, ws.working_config.organization)
        ids = {d.path: d.id for d in result.documents}
        for rel, text in bodies:
            findings += check_markup(rel, text, types)
            findings += glossary.term_findings(text, rel, words, ids.get(rel) or None)
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


def _upstreams(project: Project) -> list[FederatedExport] | None:
    """The exports of the upstreams qms.toml names (None: it names none)."""
    config = project.ws.working_config
    if not config.upstreams:
        return None
    from ..federation import load_upstreams

    return load_upstreams(config, project.root)


def _read_bodies(project: Project, files: tuple[Path, ...]) -> list[tuple[str, str]]:
    """The text of each page of the QMS among ``files`` (path relative to the QMS root); a
    file outside the QMS, or none, is refused with exit 2 before anything is checked."""
    from ..policy import CONF_NAME, Frame

    conf = project.root / CONF_NAME
    frame = Frame.from_conf(conf.read_text(encoding="utf-8", errors="replace")
                            if conf.is_file() else None)
    out: dict[str, str] = {}
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
        out[rel] = decode_utf8(raw, rel)  # a file given twice is read once
    return list(out.items())


def _record_folders(root: Path) -> list[str]:
    """Ids that have records (a document since deleted keeps its id taken)."""
    try:
        return [e.name for e in os.scandir(root / RECORDS_DIR) if e.is_dir()]
    except OSError:
        return []


@click.command("list")
@click.option("--upstream", "upstream", is_flag=True,
              help="The upstream documents this QMS depends on ([[federation.upstream]]): "
                   "those their exports hold in force, and any other a document links to.")
@as_of_option()
@format_option("table", "csv", "json", "md", "xlsx")
@output_option()
@pass_project
def list_documents(project: Project, upstream: bool, as_of: dt.datetime | None, fmt: str,
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
      qms list --upstream               # the corporate documents a site depends on
    """
    ws = project.ws
    if upstream:
        if as_of is not None:
            raise click.UsageError("give one of --upstream and --as-of")
        _upstream_list(project, fmt, output)
        return
    with qms_state(ws, as_of, coverage=False) as state:
        documents = (state.documents if as_of is not None
                     else [d for d in ws.scan.documents if d.id])
        rows = registers.master_list(state.config, documents, state.statuses)
        emit(fmt, registers.MasterRow.HEADERS, [r.cells() for r in rows],
             [r.to_dict() for r in rows], output, "Master list",
             empty=(f"No document was in force on {state.as_of}." if state.as_of else
                    "No documents yet: qms new TYPE \"Title\" creates one."))


def _upstream_list(project: Project, fmt: str, output: Path | None) -> None:
    from .. import federation

    ws = project.ws
    config = ws.working_config
    if not config.upstreams:
        raise UsageError("this QMS names no upstream",
                         hint="add [[federation.upstream]] (name, export, base_url) to "
                              "qms.toml, or qms init --upstream for a new site")
    exports = federation.load_upstreams(config, ws.root)
    rows = registers.upstream_list(exports, [d for d in ws.scan.documents if d.id])
    emit(fmt, registers.UpstreamRow.HEADERS, [r.cells() for r in rows],
         [r.to_dict() for r in rows], output, "Upstream documents",
         empty="No upstream document is in force, and none is linked to.")
