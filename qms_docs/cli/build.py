"""``qms build``: the site and the PDFs, preview or controlled."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import pass_project


@click.command()
@click.argument("target", type=click.Choice(["html", "pdf"]))
@click.option("--controlled", is_flag=True,
              help="Publish only what is in force: each document's approved text from git, "
                   "drafts and retired documents left out. Default: preview of the working "
                   "tree, with banners on everything not in force.")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (default: _build/<target> or _build/controlled-<target>).")
@click.option("--allow-warnings", is_flag=True,
              help="Do not fail on warnings (by default a warning fails the build: in a QMS "
                   "a warning is a nonconformity).")
@click.option("--jobs", "-j", default="auto", show_default=True,
              help="Parallel Sphinx processes (a number or 'auto').")
@pass_project
def build(project, target: str, controlled: bool, out: Path | None, allow_warnings: bool,
          jobs: str) -> None:
    """Build the QMS site or its PDFs.

    \b
    Example:
      qms build html                      # preview of the working tree
      qms build html --controlled         # what readers may use: effective revisions only
      qms build pdf --controlled --out dist/pdf
    """
    from .. import publish  # Sphinx and Jinja load only for a build

    ws = project.ws
    ws.config  # validate qms.toml before starting Sphinx
    name = f"controlled-{target}" if controlled else target
    out = (out or ws.root / "_build" / name).resolve()
    mode = "controlled" if controlled else "preview"
    click.echo(f"Building the {mode} {target} of {ws.config.organization} ...", err=True)
    if target == "html":
        tree = publish.build_site(ws, out, controlled=controlled, strict=not allow_warnings,
                                  jobs=jobs)
        if controlled:
            click.echo(f"{len(tree.included)} documents in force; {len(tree.excluded)} left "
                       "out (never effective or retired).", err=True)
        click.echo(f"Site built: {out / 'index.html'}")
        return
    paths = publish.build_pdfs(ws, out, controlled=controlled, strict=not allow_warnings,
                               jobs=jobs)
    click.echo(f"{len(paths) - 1} document PDFs and the whole QMS: {paths[-1]}", err=True)
    click.echo(f"PDFs built: {out}")
