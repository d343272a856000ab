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
@click.option("--person", "people", multiple=True, metavar='"NAME <EMAIL>"',
              help="A person of the QMS (repeat for each); their git email tells qms who "
                   "acts. Default: asked on a terminal, else you (git config) alone.")
@click.option("--role", "roles", multiple=True, metavar="ROLE[,ROLE]",
              help="The roles of the person given before it (one --role per --person): "
                   "quality-manager, top-management, process-owner, internal-auditor or "
                   "your own.")
@click.option("--upstream", "upstream",
              type=click.Path(path_type=Path, dir_okay=False, exists=True),
              default=None, metavar="EXPORT.json",
              help="Federate with an upstream QMS (a corporate one): the file its "
                   "`qms export` wrote, kept in the new repository and named in qms.toml.")
@click.option("--upstream-name", "upstream_name", default=None, metavar="NAME",
              help="The upstream's name in qms.toml (default: from its organization).")
@click.option("--upstream-base-url", "upstream_base_url", default=None, metavar="URL",
              help="Where the upstream's site is published (default: the base URL its "
                   "export names).")
def init(directory: Path, org: str, ci: str, standard: str, source: str | None,
         people: tuple[str, ...], roles: tuple[str, ...], upstream: Path | None,
         upstream_name: str | None, upstream_base_url: str | None) -> None:
    """Create a new QMS repository that checks and builds straight away.

    Writes conf.py, qms.toml (the policy: people, roles, approvals), a quality manual
    skeleton, a quality policy, starter SOPs, report pages, a README for authors and a CI
    workflow; runs git init and commits the baseline (the policy in force).

    \b
    Example:
      qms init acme-qms --org "Acme Widgets Ltd" \\
        --person "Quinn Harlow <quinn@acme.example>" --role quality-manager \\
        --person "Hans Weber <hans@acme.example>" --role top-management,process-owner
      qms init acme-site --org "Acme Plant Leeds" --upstream corporate-export.json
    """
    from ..scaffold import init_repository, parse_people, read_upstream

    if (upstream_name or upstream_base_url) and upstream is None:
        raise click.UsageError("--upstream-name and --upstream-base-url go with --upstream")
    linked = (read_upstream(upstream, upstream_name, upstream_base_url)
              if upstream is not None else None)

    if not people and not roles and _interactive():
        people, roles = _ask_people()
    found = parse_people(people, roles)
    files = init_repository(directory, org, ci, standard, source, found,  # makes the folder
                            linked)
    click.echo(f"Created {plural(len(files), 'file')} in {directory}.", err=True)
    config = directory / "qms.toml"
    if len(found) == 1 or not found:
        click.echo(f"One person in {config}: approvals of what you wrote yourself count, "
                   "marked self-approved ([policy] self_approval = \"recorded\"). Colleagues "
                   "join through a policy change: add them under [[people]], qms revise "
                   "policy, commit, qms approve policy.", err=True)
    else:
        click.echo(f"{plural(len(found), 'person', 'people')} in {config}; nobody approves "
                   "what they wrote ([policy] self_approval = \"forbidden\").", err=True)
    click.echo("The first commit is the policy in force; later changes of qms.toml need "
               "approval by [policy] approvers (qms status policy).", err=True)
    click.echo("Next: qms new sop \"TITLE\" --satisfies 8.7.1 --commit; "
               "qms trace --gaps lists what is still to write.", err=True)
    click.echo(str(directory))


def _interactive() -> bool:
    import sys

    return sys.stdin.isatty() and sys.stdout.isatty()


def _ask_people() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The people of a new QMS, asked one by one on a terminal (an empty name ends)."""
    people: list[str] = []
    roles: list[str] = []
    click.echo("Who works in the QMS? One person at a time; an empty name ends "
               "(none: you alone).", err=True)
    while True:
        person = click.prompt("  Name <email>", default="", show_default=False, err=True)
        if not person.strip():
            return tuple(people), tuple(roles)
        role = click.prompt("  Roles (quality-manager, top-management, process-owner, "
                            "internal-auditor; comma-separated)", err=True)
        people.append(person)
        roles.append(role)


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


