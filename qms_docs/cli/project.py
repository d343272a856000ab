"""Setting up a QMS: ``init`` (a new repository) and ``keys`` (signing keys)."""

from __future__ import annotations

from pathlib import Path

import click

from .. import actions
from ..text import plural
from ._common import (
    Project,
    checked_output_folder,
    commit_option,
    finish_act,
    pass_project,
)


@click.command()
@click.argument("directory", type=click.Path(path_type=Path), callback=checked_output_folder)
@click.option("--org", required=True, help="Name of the organization.")
@click.option("--ci", type=click.Choice(["github", "gitlab", "none"]), default="github",
              show_default=True, help="CI workflow to add.")
@click.option("--standard", default="iso9001-2015", show_default=True,
              help="Standard the QMS is traced to.")
@click.option("--qms-source", "source", metavar="SPEC", default=None,
              help="What requirements-qms.txt installs: a requirement, a URL or a folder of "
                   "qms-docs (default: where this qms-docs was installed from).")
def init(directory: Path, org: str, ci: str, standard: str, source: str | None) -> None:
    """Create a new QMS repository that checks and builds straight away.

    Writes conf.py, qms.toml, a quality manual skeleton, a quality policy, starter SOPs,
    report pages, a README for authors and a CI workflow; runs git init if needed.

    \b
    Example:
      qms init acme-qms --org "Acme Widgets Ltd" --ci gitlab
    """
    from ..scaffold import init_repository

    files = init_repository(directory, org, ci, standard, source)  # makes the folder
    click.echo(f"Created {plural(len(files), 'file')} in {directory}.", err=True)
    click.echo("The first commit holding qms.toml is the policy in force: add your "
               "colleagues under [[people]] in qms.toml and amend that commit (git commit "
               "--amend -a) before you share it; later policy changes need approval by "
               "[policy] approvers (qms status policy).", err=True)
    click.echo("Next: qms check and "
               "qms build html; qms trace --gaps lists what is still to write.", err=True)
    click.echo(str(directory))


@click.group()
def keys() -> None:
    """Signing keys of approvers (the allowed_signers file of the QMS).

    \b
    Example:
      qms keys add quinn@example.com ~/.ssh/id_ed25519.pub
    """


@keys.command("add")
@click.argument("email")
@click.argument("pubkey")
@commit_option()
@pass_project
def keys_add(project: Project, email: str, pubkey: str, commit: bool) -> None:
    """Add a person's SSH public key (a .pub file or the key text), with a change record.

    \b
    Example:
      qms keys add quinn@example.com ~/.ssh/id_ed25519.pub
    """
    ws = project.ws
    added, record = actions.add_key(ws, email, pubkey)
    if not added or record is None:
        click.echo(f"That key of {email} is already listed in {ws.config.signers_file}.")
        return
    click.echo(f"Added to {ws.config.signers_file} ({project.relative(record)}). The key "
               "counts once it is committed and the policy is approved (qms approve policy).")
    signers = project.root / ws.config.signers_file
    actor = ws.actor()
    finish_act(project, [signers, record], f"Signing key of {actor.name} added to "
               f"{ws.config.signers_file}", commit)


