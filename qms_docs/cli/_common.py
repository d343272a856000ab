"""Shared plumbing of the commands: the project context, output formats, findings."""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
import shutil
import sys
import textwrap
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import click

from ..config import find_root
from ..model import Catalog, Config, Finding
from ..reports import export
from ..workspace import Workspace
from ._table import table_lines

F = TypeVar("F", bound=Callable[..., Any])

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class Project:
    """The QMS repository a command works on, loaded lazily."""

    def __init__(self, repo: str | None, debug: bool = False) -> None:
        self._repo = repo
        self.debug = debug

    @cached_property
    def root(self) -> Path:
        if self._repo is not None:
            path = Path(self._repo)
            if not path.is_dir():
                raise click.UsageError(f"--repo {self._repo}: no such folder")
            return find_root(path) if not (path / "qms.toml").is_file() else path.resolve()
        return find_root(Path.cwd())

    @cached_property
    def ws(self) -> Workspace:
        """The workspace, once an act a crash interrupted is completed (or reported)."""
        ws = Workspace(self.root)
        note = ws.recover()
        if note:
            click.echo(f"warning: {note}", err=True)
        return ws

    @property
    def config(self) -> Config:
        return self.ws.config

    @property
    def catalogs(self) -> list[Catalog]:
        return self.ws.catalogs

    def relative(self, path: Path) -> str:
        """A path as the user should read it: relative to the QMS root where it is inside."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)


pass_project = click.make_pass_decorator(Project)


def commit_option() -> Callable[[F], F]:
    return click.option("--commit", "commit", is_flag=True,
                        help="Commit the files of this act (and nothing else) as you, with a "
                             "message saying what was done.")


def finish_act(project: Project, paths: Sequence[Path], message: str, commit: bool) -> None:
    """Commit an act's files as the acting person (``--commit``), or say on stderr how to:
    an act left uncommitted is not on the controlled site."""
    root = project.root
    rel = list(dict.fromkeys(project.relative(p) for p in paths))
    if commit:
        from .. import gitrepo  # here: qms check loads no git (tests/test_layering.py)

        actor = project.ws.actor()
        sha = gitrepo.commit_act(root, rel, message, actor.name, actor.email)
        click.echo(f"Committed {sha[:12]}: {message}", err=True)
        return
    quoted = " ".join(shlex.quote(p) for p in rel)
    click.echo(f"Next: git add {quoted} && git commit -m {shlex.quote(message)} "
               "(or run the act with --commit)", err=True)


def format_option(*choices: str, default: str = "table") -> Callable[[F], F]:
    """``--format``; a command that prints tables also gets ``--wide``."""
    option = click.option("--format", "fmt", type=click.Choice(list(choices)), default=default,
                          show_default=True, help="Output format.")
    if "table" not in choices:
        return option
    return lambda f: option(wide_option()(f))


def wide_option() -> Callable[[F], F]:
    """``--wide``: tables print each row on one line, however long (no wrapping to the
    terminal's width). Read by :func:`emit_table` from the context, so commands take no
    argument for it."""
    def remember(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
        if value:
            ctx.meta[WIDE] = True
        return value

    return click.option("--wide", is_flag=True, expose_value=False, callback=remember,
                        help="Tables: one line per row, however wide (default: long cells "
                             "wrap to fit the terminal).")


WIDE = "qms.wide"


def output_option() -> Callable[[F], F]:
    return click.option("-o", "--output", "output", type=click.Path(path_type=Path),
                        default=None, callback=checked_output_file,
                        help="Write to this file instead of the terminal (required for xlsx).")


def _nearest_existing(path: Path) -> Path:
    """``path`` or the nearest of its parents that exists."""
    path = Path(os.path.abspath(path))
    while not os.path.lexists(path) and path.parent != path:
        path = path.parent
    return path


def _bad_output(path: Path, why: str, fix: str) -> click.BadParameter:
    return click.BadParameter(f"{path}: {why}; {fix}. Nothing was written.")


def _check_folder_above(path: Path, what: str) -> None:
    """The nearest existing folder above ``path`` must be a folder one can write in."""
    existing = _nearest_existing(path.parent)
    if not existing.is_dir():
        raise _bad_output(path, f"{existing} is a file, not a folder",
                          f"choose {what} outside it")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise _bad_output(path, f"the folder {existing} cannot be written to",
                          f"choose {what} in a folder you can write to")


def checked_output_file(ctx: click.Context | None, param: click.Parameter | None,
                        value: Path | None) -> Path | None:
    """An output file, checked before any work starts (a click callback): not a folder,
    its folder there and writable; otherwise exit 2 naming the path and the fix."""
    if value is None:
        return None
    _check_folder_above(value, "a file")
    if value.is_dir():
        raise _bad_output(value, "is a folder, not a file",
                          f"name a file in it, e.g. {value / 'report.csv'}")
    if not value.parent.is_dir():
        raise _bad_output(value, f"the folder {value.parent} does not exist",
                          f"create it first (mkdir -p {shlex.quote(str(value.parent))}) or "
                          "choose a file in an existing folder")
    if value.exists() and not os.access(value, os.W_OK):
        raise _bad_output(value, "the file cannot be written to", "choose another file")
    return value


def checked_output_folder(ctx: click.Context | None, param: click.Parameter | None,
                          value: Path | None) -> Path | None:
    """An output folder, checked before any work starts (a click callback): not a file, and
    no file where one of its parents should be (missing folders are created)."""
    if value is None:
        return None
    if os.path.lexists(value) and not value.is_dir():
        raise _bad_output(value, "is a file, not a folder",
                          "name a folder (a new one is created)")
    _check_folder_above(value, "a folder")
    return value


def emit(fmt: str, headers: Sequence[str], rows: Sequence[Sequence[Any]], json_data: Any,
         output: Path | None = None, sheet: str = "Report", empty: str | None = None,
         as_of: dt.date | None = None) -> None:
    """Print (or write to ``output``) a report in the format asked for. An empty report in
    table format is the sentence ``empty`` (csv, json, md and xlsx stay machine-readable).
    An xlsx names the organization, ``as_of`` (default: today) and the export time."""
    if fmt == "table" and not rows and empty is not None:
        if output is None:
            click.echo(empty)
            return
        rows_text = f"{empty}\n"
        try:
            output.write_text(rows_text, encoding="utf-8")
        except OSError as exc:
            raise click.UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
        click.echo(f"Written: {output}", err=True)
        return
    if fmt == "xlsx":
        if output is None:
            raise click.UsageError("--format xlsx needs -o FILE.xlsx")
        try:
            export.write_xlsx(output, [(sheet, headers, rows)], provenance(sheet, as_of))
        except OSError as exc:
            raise click.UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
        click.echo(f"Written: {output}", err=True)
        return
    if fmt == "table" and output is None:
        emit_table(headers, rows)
        return
    text = {"csv": lambda: export.to_csv(headers, rows),
            "md": lambda: export.to_markdown(headers, rows),
            "json": lambda: export.to_json(json_data),
            "table": lambda: export.to_markdown(headers, rows)}[fmt]()
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise click.UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
        click.echo(f"Written: {output}", err=True)


def provenance(title: str, as_of: dt.date | None = None) -> export.Provenance:
    """What an exported sheet says of itself: the organization (qms.toml), the report, the
    day it shows (default: today), the export time."""
    from ..records import now

    ctx = click.get_current_context(silent=True)
    project = ctx.find_object(Project) if ctx else None
    organization = project.config.organization if project is not None else ""
    today = project.ws.today if project is not None else now().date()
    return export.Provenance(organization, title, as_of or today, now())


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def emit_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A plain text table sized to its content; on a terminal, long cells wrap so that it
    fits the terminal's width. ``--wide``, and output to a pipe or file, keep every row on
    one line (for grep)."""
    for line in table_lines(headers, rows, output_width()):
        click.echo(line)


def emit_sentence(text: str) -> None:
    """A sentence under a table, wrapped like the table (to the terminal, unless ``--wide``
    or not a terminal)."""
    width = output_width()
    click.echo(text if width is None else textwrap.fill(text, width, break_long_words=False,
                                                        break_on_hyphens=False))


def output_width() -> int | None:
    """The width to fit: None with ``--wide``, else :func:`terminal_width`."""
    ctx = click.get_current_context(silent=True)
    return None if ctx and ctx.meta.get(WIDE) else terminal_width()


def terminal_width() -> int | None:
    """The width tables must fit: the terminal's (``COLUMNS`` if set), or None when
    standard output is no terminal."""
    isatty = getattr(sys.stdout, "isatty", None)
    if not (isatty and isatty()):
        return None
    return shutil.get_terminal_size((100, 24)).columns


def report_findings(findings: Sequence[Finding], fmt: str) -> None:
    """Findings as ``file:line: [code] message`` lines on stderr, or JSON on stdout."""
    if fmt == "json":
        emit_json({"findings": [f.to_dict() for f in findings],
                   "errors": sum(f.severity == "error" for f in findings),
                   "warnings": sum(f.severity == "warning" for f in findings)})
        return
    for finding in findings:
        where = f"{finding.location}: " if finding.location else ""
        label = "warning" if finding.severity == "warning" else "error"
        click.echo(f"{where}{label}: [{finding.code}] {finding.message}", err=True)
        if finding.hint:
            click.echo(f"  hint: {finding.hint}", err=True)
