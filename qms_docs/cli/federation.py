"""Federation commands: ``export`` (this QMS's controlled state as needs.json) and
``federation fetch`` (an upstream's export read from its URL into the repository)."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import UsageError
from ..text import plural
from ._common import Project, checked_output_file, commit_option, finish_act, pass_project


@click.command("export")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              callback=checked_output_file, help="The .json file to write.")
@pass_project
def export(project: Project, out: Path) -> None:
    """Export the controlled state as sphinx-needs' needs.json, for sites to federate with.

    One need per document in force (id, title, type, revision in force, clauses, links,
    page), and a qms section: organization, commit, export time, and for each document
    its status, the revision in force, its effective date and approvals. Sorted and
    stable: only the export time differs between two exports of one commit. The
    controlled build writes the same file next to the site (qms-export.json).

    \b
    Example:
      qms export --out corporate-export.json
    """
    from .. import federation

    data = federation.export_data(project.ws)
    federation.write_export(out, data)
    qms = data["qms"]
    in_force = sum(1 for d in qms["documents"].values() if d["in_force"])
    click.echo(f"Exported {plural(in_force, 'document')} in force of "
               f"{plural(len(qms['documents']), 'document')} at commit {qms['commit'][:12]}: "
               f"{out}", err=True)


@click.group("federation")
def federation_group() -> None:
    """Upstream QMSs ([[federation.upstream]] in qms.toml): their exports, kept here.

    \b
    Example:
      qms federation fetch corporate
    """


@federation_group.command("fetch")
@click.argument("names", nargs=-1)
@click.option("--reason", default=None, help="Why the export is refreshed (the change record "
              "of the policy says it, with the file's sha256).")
@commit_option()
@pass_project
def fetch(project: Project, names: tuple[str, ...], reason: str | None, commit: bool) -> None:
    """Read the export of upstreams given by URL into the repository, with its sha256.

    The only command that reaches the network: builds read the copy kept under the
    repository, offline. The copy is part of the policy (what frames the controlled site):
    a change record of the policy names the URL and the sha256, and the refreshed export
    counts on the controlled site once the policy change is approved (qms approve policy).

    \b
    Example:
      qms federation fetch              # every upstream with an https:// export
      qms federation fetch corporate --commit
    """
    from .. import actions
    from .. import federation as library

    ws = project.ws
    config = ws.working_config
    known = {u.name: u for u in config.upstreams}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(f"no upstream named {', '.join(unknown)} in qms.toml",
                         hint=f"upstreams: {', '.join(known) or 'none'}; add "
                              "[[federation.upstream]] (name, export, base_url) to qms.toml")
    chosen = [known[n] for n in names] if names else [u for u in known.values() if u.url]
    remote = [u for u in chosen if u.url]
    if not remote:
        raise UsageError("no upstream to fetch: " + (
            f"{', '.join(u.name for u in chosen)} name a file, not a URL" if chosen else
            "none names an https:// export"),
            hint="an upstream given as a file is refreshed by copying its new export there")
    fetched = [library.fetch(u, ws.root) for u in remote]  # every download before any write
    what = "; ".join(f"{u.name} from {u.url} (sha256 {library.sha256(raw)})" for u, raw in fetched)
    # the change record first: a policy revision already open refuses it, nothing written
    _revision, record = actions.revise_policy(
        ws, f"{reason.strip() + ': ' if reason else ''}upstream export fetched: {what}")
    for upstream, raw in fetched:
        library.keep_fetched(upstream, raw, ws.root)
    for upstream, raw in fetched:
        click.echo(f"{upstream.name}: {upstream.path} ({len(raw)} bytes, sha256 "
                   f"{library.sha256(raw)})", err=True)
    finish_act(project, [ws.root / u.path for u, _ in fetched] + [record],
               f"Upstream export fetched: {', '.join(u.name for u, _ in fetched)}", commit)
