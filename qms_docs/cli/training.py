"""Commands for training on change: ``train`` and ``training``."""

from __future__ import annotations

from pathlib import Path

import click

from .. import actions
from ..reports.training import Cell
from ._common import (
    Project,
    commit_option,
    emit,
    finish_act,
    format_option,
    output_option,
    pass_project,
)


@click.command()
@click.argument("doc")
@click.option("--person", "person", metavar="EMAIL",
              help="The person trained (you sign as their trainer). Default: yourself.")
@click.option("--method", type=click.Choice(["read", "briefing", "on-the-job"]), default="read",
              show_default=True, help="How the training was given.")
@click.option("--note", default="", help="What was covered, or anything worth keeping.")
@commit_option()
@pass_project
def train(project: Project, doc: str, person: str | None, method: str, note: str,
          commit: bool) -> None:
    """Record training on the effective revision of a document.

    \b
    Example:
      qms train SOP-004                                   # I have read it
      qms train WI-005 --person pat.okafor@example.com --method on-the-job
    """
    ws = project.ws
    document = ws.document(doc)
    record = actions.train(ws, document, person, method, note)
    click.echo(f"Training recorded: {record.relative_to(ws.root).as_posix()}")
    actor = ws.actor()
    trainee = (ws.config.person_by_email(person) if person else None) or actor
    by = f" by {actor.name}" if trainee.email.lower() != actor.email.lower() else ""
    finish_act(project, [record], f"Training of {trainee.name} on {document.id} recorded{by} "
               f"({method})", commit)


@click.command()
@click.option("--person", "person", metavar="EMAIL", help="Only this person.")
@click.option("--document", "document", metavar="DOC", help="Only this document.")
@click.option("--overdue", is_flag=True, help="Only overdue items; exit 1 when there are any.")
@format_option("table", "csv", "json", "md", "xlsx")
@output_option()
@pass_project
def training(project: Project, person: str | None, document: str | None, overdue: bool, fmt: str,
             output: Path | None) -> None:
    """The training matrix: each person x document trained, due, overdue or not required.

    \b
    Example:
      qms training
      qms training --overdue            # CI: exit 1 when any training is overdue
      qms training --format xlsx -o training.xlsx
    """
    ws = project.ws
    ws.require_readable()
    cells: list[Cell] = [c for c in ws.training_matrix() if c.state != "not-required"]
    if person:
        cells = [c for c in cells if c.person.email.lower() == person.lower()]
    if document:
        wanted = ws.document(document).id
        cells = [c for c in cells if c.document == wanted]
    if overdue:
        cells = [c for c in cells if c.state == "overdue"]
    scope = "".join([f" for {person}" if person else "", f" on {document}" if document else ""])
    emit(fmt, Cell.HEADERS, [c.cells() for c in cells], [c.to_dict() for c in cells], output,
         "Training", empty=f"No training {'overdue' if overdue else 'to show'}{scope}.")
    late = sum(c.state == "overdue" for c in cells)
    if fmt in ("table",) and output is None:
        click.echo(f"{sum(c.state == 'trained' for c in cells)} trained, "
                   f"{sum(c.state == 'due' for c in cells)} due, {late} overdue.", err=True)
    if overdue and late:
        raise click.exceptions.Exit(1)
