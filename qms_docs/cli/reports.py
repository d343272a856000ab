"""Commands for auditors: trace, due, changes, audit-pack."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import click

from ..catalog import catalog_note, find_catalog
from ..model import Catalog, Clause, Config, Document, UpstreamDocument
from ..reports import clauses, mandatory, registers, traceability
from ..text import plural
from ..workspace import Workspace
from ._common import (
    Project,
    checked_output_file,
    emit,
    format_option,
    output_option,
    pass_project,
)

F = TypeVar("F", bound=Callable[..., Any])


def as_of_option() -> Callable[[F], F]:
    """``--as-of DATE``: answer from history, as the audit pack of that date does."""
    return click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), default=None,
                        help="Answer as the QMS stood on this date (YYYY-MM-DD), from git "
                             "history, exactly as the audit pack of that date does.")


@dataclass(frozen=True)
class State:
    """What a report reads: today's QMS, or the QMS as it stood on ``as_of``."""

    config: Config
    documents: list[Document]
    statuses: traceability.Statuses
    basis: traceability.Basis | None  # None: each document is its revision in force
    root: Path  # where records/ is looked into (the mandatory report)
    as_of: dt.date | None
    #: the documents upstream QMSs hold in force, as their exports kept here state them
    upstream: tuple[UpstreamDocument, ...] = ()


def upstream_in_force(config: Config, root: Path) -> tuple[UpstreamDocument, ...]:
    """The upstream documents in force, from the exports the repository at ``root`` holds
    (none without ``[[federation.upstream]]``)."""
    if not config.upstreams:
        return ()
    from .. import federation

    return tuple(federation.in_force_documents(federation.load_upstreams(config, root)))


@contextmanager
def qms_state(ws: Workspace, as_of: dt.datetime | None, coverage: bool = True
              ) -> Iterator[State]:
    """The documents, their statuses, the basis of coverage and the root to read: today's
    (the working tree, texts in force from git), or, with ``as_of``, the QMS as it stood
    that day (the audit pack's machinery: asof.py). Without ``coverage``, no basis
    is read (a report that does not count coverage)."""
    ws.require_readable()
    documents = [d for d in ws.scan.documents if d.id and d.type in ws.config.types]
    if as_of is None:
        statuses = ws.statuses
        basis = (traceability.load_basis(ws.root, documents, statuses, index=ws.history_index,
                                         catalogs=ws.catalogs) if coverage else None)
        for note in basis.notes if basis is not None else ():
            click.echo(f"note: {note}", err=True)
        yield State(ws.config, documents, statuses, basis, ws.root, None,
                    upstream_in_force(ws.working_config, ws.root))
        return
    from .. import asof
    from ..publish import uncommitted_records

    day = as_of.date()
    asof.check_day(ws, day)
    pending = uncommitted_records(ws, day)
    if pending:  # the audit pack refuses them; a question is answered, with a warning
        click.echo(f"warning: {plural(len(pending), 'record')} of {day} or before "
                   f"{'is' if len(pending) == 1 else 'are'} not committed and left out "
                   "(the answer reads HEAD, as the audit pack does): "
                   + ", ".join(p.path for p in pending), err=True)
    with asof.state_on(ws, day) as then:
        yield State(then.config, then.documents, then.statuses, None, then.root, day,
                    upstream_in_force(then.config, then.root))


@click.command()
@click.option("--standard", default=None, help="Standard to trace (default: the first one in "
              "qms.toml), e.g. iso9001-2015, iso13485-2016 or your own catalog file.")
@click.option("--status", "status", type=click.Choice(["effective", "any"]), default="any",
              show_default=True, help="List only revisions in force, or also those pending "
              "(coverage counts only what is in force).")
@click.option("--clause", "clause", default=None, metavar="CLAUSE",
              help="Only this clause and its sub-clauses (8.4, 7.5.3.1), each document with "
                   "the revision in force, its effective date and its approvers; exit 1 "
                   "when no revision in force names any of them.")
@click.option("--gaps", is_flag=True, help="Only requirement clauses that no revision in "
              "force names (with the revisions pending that do); exit 1 when there are any.")
@click.option("--mandatory", is_flag=True, help="Mandatory documented information: maintained "
              "documents and retained records, met or missing; exit 1 when any is missing.")
@click.option("--local-only", "local_only", is_flag=True,
              help="Count only this QMS's own documents, not those of its upstreams "
                   "([[federation.upstream]] in qms.toml): the site's own coverage.")
@as_of_option()
@format_option("table", "csv", "json", "md", "xlsx")
@output_option()
@pass_project
def trace(project: Project, standard: str | None, status: str, clause: str | None, gaps: bool,
          mandatory: bool, local_only: bool, as_of: dt.datetime | None, fmt: str,
          output: Path | None) -> None:
    """The clause traceability matrix: each clause with the documents that satisfy it.

    \b
    Example:
      qms trace                         # clause -> documents, with status
      qms trace --clause 8.4 --as-of 2026-06-12   # who covered 8.4 then, approved by whom
      qms trace --gaps                  # CI gate: exit 1 if a clause has no effective document
      qms trace --gaps --local-only     # a site: what it covers without its upstreams
      qms trace --mandatory --as-of 2026-06-12
      qms trace --format xlsx -o matrix.xlsx
    """
    if sum(map(bool, (clause, gaps, mandatory))) > 1:
        raise click.UsageError("give one of --clause, --gaps and --mandatory")
    ws = project.ws
    catalog = find_catalog(standard, ws.catalogs, ws.root)
    if (note := catalog_note(catalog)) is not None:
        click.echo(f"note: {note}", err=True)
    asked = clauses.asked_clause(clause, catalog) if clause else None
    with qms_state(ws, as_of) as state:
        if local_only:
            state = replace(state, upstream=())
        if asked is not None:
            _clause(state, catalog, asked, status == "effective", fmt, output)
        elif gaps:
            _gaps(state, catalog, fmt, output)
        elif mandatory:
            _mandatory(state, catalog, fmt, output)
        else:
            only = status == "effective" or state.as_of is not None
            matrix = traceability.trace_matrix(catalog, state.documents, state.statuses,
                                               only, state.basis, state.upstream)
            emit(fmt, traceability.TraceRow.HEADERS, traceability.trace_lines(matrix),
                 {"standard": catalog.standard, "status": "effective" if only else status,
                  **_day(state),
                  "clauses": [r.to_dict() for r in matrix]}, output, "Traceability")


def _day(state: State) -> dict[str, str]:
    """The date answered for, in JSON (only when asked with --as-of)."""
    return {"as_of": state.as_of.isoformat()} if state.as_of else {}


def _when(state: State) -> str:
    return f" on {state.as_of}" if state.as_of else ""


def _clause(state: State, catalog: Catalog, asked: Clause, only_effective: bool, fmt: str,
            output: Path | None) -> None:
    rows = clauses.clause_rows(catalog, asked, state.documents, state.statuses,
                               only_effective or state.as_of is not None, state.basis,
                               state.upstream)
    in_force = sorted({r.document.id for r in rows if r.document.effective})
    emit(fmt, clauses.ClauseRow.HEADERS, [r.cells() for r in rows],
         {"standard": catalog.standard, "clause": asked.number, "title": asked.title,
          **_day(state), "documents": [r.to_dict() for r in rows]}, output,
         f"Clause {asked.number}",
         empty=f"No document names {asked.number} {asked.title} or a clause below it"
               f"{' in a revision in force' + _when(state) if state.as_of else ''}.")
    click.echo(f"{asked.number} {asked.title}: {plural(len(in_force), 'document')} in force"
               f"{_when(state)}" + (f" ({', '.join(in_force)})" if in_force else "") + ".",
               err=True)
    if not in_force:
        raise click.exceptions.Exit(1)


def _gaps(state: State, catalog: Catalog, fmt: str, output: Path | None) -> None:
    matrix = traceability.trace_matrix(catalog, state.documents, state.statuses, False,
                                       state.basis, state.upstream)
    gap_rows = [traceability.GapRow(r.clause, r.pending) for r in matrix
                if r.clause.is_leaf and not r.covered]
    through = traceability.upstream_covered(matrix)
    none = (f"No gaps: every requirement clause of {catalog.short_title} has an effective "
            f"document{_when(state)}.")
    extra = {"upstream": [{"clause": r.clause.number, "title": r.clause.title,
                           "documents": [d.to_dict() for d in r.documents if d.source]}
                          for r in through]} if state.upstream else {}
    emit(fmt, traceability.GapRow.HEADERS, [r.cells() for r in gap_rows],
         {"standard": catalog.standard, **_day(state),
          "gaps": [r.to_dict() for r in gap_rows], **extra}, output, "Gaps", empty=none)
    if through:
        click.echo(f"{plural(len(through), 'requirement clause')} covered only through "
                   "upstream documents in force: " + "; ".join(
                       f"{r.clause.number} by " + ", ".join(
                           f"{d.id} ({d.source})" for d in r.documents if d.source)
                       for r in through) + ".", err=True)
    if gap_rows:
        pending = sum(1 for r in gap_rows if r.pending)
        have = "has" if len(gap_rows) == 1 else "have"
        click.echo(f"{plural(len(gap_rows), 'requirement clause')} of {catalog.short_title} "
                   f"{have} no effective document{_when(state)}" + (
                       f" ({pending} with a revision pending that names it)" if pending
                       else "") + ".", err=True)
        raise click.exceptions.Exit(1)
    if fmt != "table" or output is not None:  # else emit said so
        click.echo(none, err=True)


def _mandatory(state: State, catalog: Catalog, fmt: str, output: Path | None) -> None:
    rows = mandatory.mandatory(catalog, state.documents, state.statuses, state.basis,
                               state.root, state.upstream)
    emit(fmt, mandatory.MandatoryRow.HEADERS, [r.cells() for r in rows],
         {"standard": catalog.standard, **_day(state), "rows": [r.to_dict() for r in rows]},
         output, "Mandatory information")
    missing = [r for r in rows if not r.met]
    click.echo(mandatory.mandatory_summary(rows, _when(state)), err=True)
    if missing:
        raise click.exceptions.Exit(1)


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
    """The change log: every change, approval, review, retirement, training and deviation
    in a period (both dates included).

    \b
    Example:
      qms changes --since 2026-01-01
      qms changes --since 2026-01-01 --until 2026-06-30 --format xlsx -o changes.xlsx
    """
    if since and until and since > until:
        raise click.BadParameter(f"--since {since.date()} is after --until {until.date()}: no "
                                 "day falls between them; swap the two dates",
                                 param_hint="'--since'")
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
@click.option("--sign", "sign", is_flag=True,
              help="Sign MANIFEST.sha256 with your SSH key (git's user.signingkey, or "
                   "--key), in the audit packs' own namespace.")
@click.option("--key", "key", default=None, metavar="PATH",
              help="The SSH key to sign with (implies --sign).")
@pass_project
def audit_pack(project: Project, as_of: dt.datetime, output: Path, allow_uncommitted: bool,
               sign: bool, key: str | None) -> None:
    """Everything as it stood on a date, in one zip, with a SHA-256 manifest.

    Master list, traceability matrix, gaps, mandatory documented information, the change
    log of the 12 months before, and every document then in force as PDF. Built from
    HEAD: records of that date or before that are not committed stop it (exit 1) unless
    --allow-uncommitted.

    \b
    Example:
      qms audit-pack --as-of 2026-06-12 -o audit-2026-06-12.zip
      qms audit-pack --as-of 2026-06-12 -o audit.zip --sign --key ~/.ssh/id_ed25519
    """
    from .. import asof, gitrepo, signing
    from ..auditpack import PackSigner, build_audit_pack
    from ..publish import uncommitted_records
    from .build import pdf_progress, refuse_uncommitted

    ws = project.ws
    ws.require_readable()
    asof.check_day(ws, as_of.date())
    signer = None
    if sign or key:
        # the packer, named by git's user.email (an auditor need not be a person of the QMS)
        signer = PackSigner(gitrepo.acting_email(ws.repo).lower(),
                            signing.signing_key(ws.root, key))
    refuse_uncommitted(uncommitted_records(ws, as_of.date()), allow_uncommitted,
                       "the audit pack")
    click.echo(f"Building the audit pack as of {as_of.date()} ...", err=True)
    with pdf_progress() as progress:
        manifest = build_audit_pack(ws, as_of.date(), output, signer=signer,
                                    progress=progress)
    documents = sum(1 for f in manifest["files"] if f["path"].startswith("documents/")
                    and f["path"] != "documents/qms-manual.pdf")
    click.echo(f"{plural(len(manifest['files']), 'file')}, "
               f"{plural(documents, 'document PDF')}.", err=True)
    click.echo(f"Audit pack written: {output}" + (f" (manifest signed by {signer.email})"
                                                  if signer else ""))
