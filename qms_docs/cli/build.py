"""``qms build``: the site and the PDFs, preview or controlled."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..text import plural
from ._common import Project, checked_output_folder, pass_project

if TYPE_CHECKING:  # publish loads Sphinx's side only when a command builds
    from ..publish import PendingRecord, Tree


@click.command()
@click.argument("target", type=click.Choice(["html", "pdf"]))
@click.option("--controlled", is_flag=True,
              help="Publish only what is in force: each document's approved text from git, "
                   "drafts and retired documents left out. Default: preview of the working "
                   "tree, with banners on everything not in force.")
@click.option("--out", "out", type=click.Path(path_type=Path), default=None,
              callback=checked_output_folder,
              help="Output folder (default: _build/<target> or _build/controlled-<target>).")
@click.option("--allow-warnings", is_flag=True,
              help="Do not fail on warnings (by default a warning fails the build: in a QMS "
                   "a warning is a nonconformity).")
@click.option("--jobs", "-j", default="auto", show_default=True,
              help="Parallel processes of the Sphinx build and of the PDF rendering (a "
                   "number, or 'auto': one per core).")
@click.option("--allow-uncommitted", is_flag=True,
              help="With --controlled: build from HEAD even though the working tree holds "
                   "records HEAD does not (they are left out, with a warning). By default "
                   "the build refuses (exit 1): it would publish the QMS without them.")
@pass_project
def build(project: Project, target: str, controlled: bool, out: Path | None, allow_warnings: bool,
          jobs: str, allow_uncommitted: bool) -> None:
    """Build the QMS site or its PDFs.

    \b
    Example:
      qms build html                      # preview of the working tree
      qms build html --controlled         # what readers may use: effective revisions only
      qms build pdf --controlled --out dist/pdf

    A controlled build publishes HEAD: records not committed (an approval just made) are
    not in it, and it refuses to build until they are, unless --allow-uncommitted.
    """
    from .. import publish  # Sphinx and Jinja load only for a build

    ws = project.ws
    _ = ws.config  # validate qms.toml before starting Sphinx
    name = f"controlled-{target}" if controlled else target
    out = (out or ws.root / "_build" / name).resolve()
    mode = "controlled" if controlled else "preview"
    if controlled:
        refuse_uncommitted(publish.uncommitted_records(ws), allow_uncommitted,
                           "a controlled build")
    click.echo(f"Building the {mode} {target} of {ws.config.organization} ...", err=True)
    if target == "html":
        tree = publish.build_site(ws, out, controlled=controlled, strict=not allow_warnings,
                                  jobs=jobs, on_tree=warn_if_nothing_in_force)
        if controlled:
            click.echo(f"{plural(len(tree.included), 'document')} in force; "
                       f"{len(tree.excluded)} left out (never effective or retired).", err=True)
        click.echo(f"Site built: {out / 'index.html'}")
        return
    with pdf_progress() as progress:
        paths = publish.build_pdfs(ws, out, controlled=controlled, strict=not allow_warnings,
                                   jobs=jobs, on_tree=warn_if_nothing_in_force,
                                   progress=progress)
    click.echo(f"{plural(len(paths) - 1, 'document PDF')} and the whole QMS: {paths[-1]}",
               err=True)
    click.echo(f"PDFs built: {out}")


@contextmanager
def pdf_progress() -> Iterator[Callable[[int, int, int], None]]:
    """Report rendering progress on stderr: a bar (documents done / to do, time left) on
    a terminal; in CI (no terminal, or CI=true) a plain line at each tenth and at the end.
    """
    bar: list = []  # the click progress bar, made at the first report (the total is known)
    shown = [-1]  # the last tenth printed as a plain line
    started: list[float] = []  # when rendering began (the first report)

    def report(done: int, total: int, cached: int) -> None:
        if not total:
            return
        if not started:
            started.append(time.monotonic())
        if interactive() and cached < total:  # the bar counts what is rendered
            if not bar:
                bar.append(click.progressbar(
                    length=total - cached, label=f"PDFs ({cached} of {total} unchanged)",
                    show_eta=True, show_pos=True, file=sys.stderr).__enter__())
            bar[0].update(done - cached - bar[0].pos)
            return
        tenth = done * 10 // total
        if tenth == shown[0] and done != total:
            return
        shown[0] = tenth
        rendered, elapsed = done - cached, time.monotonic() - started[0]
        left = (total - done) * elapsed / rendered if rendered else 0.0
        eta = f", about {left:.0f} s left" if done < total and rendered else ""
        click.echo(f"PDFs: {done}/{total} done ({cached} unchanged, from the cache){eta}",
                   err=True)

    try:
        yield report
    finally:
        if bar:
            bar[0].__exit__(None, None, None)


def interactive() -> bool:
    """A person watching a terminal (not CI, whose log wants plain lines)."""
    return sys.stderr.isatty() and os.environ.get("CI", "").lower() not in ("true", "1")


def refuse_uncommitted(pending: Sequence[PendingRecord], allow: bool, what: str) -> None:
    """Say which records HEAD lacks, which documents they are about and how to publish
    them; exit 1 unless ``allow`` (then a warning: the build goes on from HEAD)."""
    if not pending:
        return
    lines = [f"  {p.document or '?':<9} "
             f"{f'{p.kind} by {p.person}' if p.kind else 'not a valid record (qms check)':<34} "
             f"{p.path} ({p.state})" for p in pending]
    documents = sorted({p.document for p in pending if p.document})
    about = f" about {', '.join(documents)}" if documents else ""
    head = (f"{len(pending)} record{'s' if len(pending) != 1 else ''}{about} in the working "
            f"tree {'are' if len(pending) != 1 else 'is'} not committed; {what} reads HEAD "
            "and would leave "f"{'them' if len(pending) != 1 else 'it'} out:")
    if allow:
        click.echo(f"warning: {head}\n" + "\n".join(lines) +
                   "\n  building from HEAD without them (--allow-uncommitted).", err=True)
        return
    paths = " ".join(p.path for p in pending) if len(pending) <= 3 else "records"
    click.echo(f"error: {head}\n" + "\n".join(lines) +
               f"\n  hint: commit them, then build again: git add {paths} && git commit -m "
               f"\"Records of {', '.join(documents) or 'the QMS'}\" (each person commits the "
               "records they made); or build from HEAD without them: --allow-uncommitted",
               err=True)
    raise click.exceptions.Exit(1)


def warn_if_nothing_in_force(tree: Tree) -> None:
    """A controlled tree with no document in force, of a QMS that has documents, is almost
    always a mistake (approvals not committed, effective dates still to come): say so
    before Sphinx runs, so that it is seen even when the empty build then fails."""
    documents = sorted(name for name, why in tree.excluded
                       if why in ("never effective", "retired"))
    if not tree.controlled or tree.included or not documents:
        return
    shown = ", ".join(documents[:5]) + (", ..." if len(documents) > 5 else "")
    click.echo(f"warning: the controlled build publishes no document: none of the "
               f"{plural(len(documents), 'document')} of HEAD is in force ({shown}).\n"
               "  hint: qms status shows what each awaits; an approval counts once it is "
               "committed, and from its effective date", err=True)
