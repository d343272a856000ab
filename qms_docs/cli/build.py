"""``qms build``: the site (and, later, PDFs) through Sphinx."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click

from ._common import pass_project


@click.command()
@click.argument("target", type=click.Choice(["html"]))
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (default: _build/<target> in the repository).")
@click.option("--allow-warnings", is_flag=True,
              help="Do not fail on warnings (by default a warning fails the build: in a QMS "
                   "a warning is a nonconformity).")
@click.option("--jobs", "-j", default="auto", show_default=True,
              help="Parallel Sphinx processes (a number or 'auto').")
@pass_project
def build(project, target: str, out: Path | None, allow_warnings: bool, jobs: str) -> None:
    """Build the QMS site from the working tree (preview).

    \b
    Example:
      qms build html
      qms build html --out /tmp/site
    """
    root = project.root
    project.config  # validate qms.toml before starting Sphinx
    out = (out or root / "_build" / target).resolve()
    command = [sys.executable, "-m", "sphinx", "-b", target, "-q", "-j", str(jobs),
               str(root), str(out)]
    if not allow_warnings:
        command[3:3] = ["-W", "--keep-going"]
    click.echo(f"Building the {target} site of {project.config.organization} ...", err=True)
    completed = subprocess.run(command, cwd=root)
    if completed.returncode != 0:
        click.echo("error: the build failed (warnings above are nonconformities; fix them "
                   "or use --allow-warnings for a draft preview)", err=True)
        raise click.exceptions.Exit(1)
    click.echo(f"Site built: {out / 'index.html'}")
