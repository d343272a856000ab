"""The ``qms`` command line: thin click commands over the qms_docs library.

Exit codes: 0 all good; 1 findings, or an act refused by policy; 2 bad usage or bad
input. Errors are printed as ``file:line: what`` plus a hint; tracebacks only with
``--debug``.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from typing import Any

import click

from ..errors import QmsError
from ._common import CONTEXT_SETTINGS, Project

#: Each command and the module of ``qms_docs.cli`` that holds it, imported when the
#: command is run or listed: ``qms check`` in a pre-commit hook loads neither GitPython
#: nor Jinja nor the acts.
COMMANDS = {
    "init": ("project", "init"), "new": ("acts", "new"), "revise": ("acts", "revise"),
    "approve": ("acts", "approve"), "review": ("acts", "review"),
    "retire": ("acts", "retire"), "status": ("status", "status"),
    "list": ("documents", "list_documents"), "check": ("documents", "check"),
    "verify": ("status", "verify"), "history": ("history", "history"),
    "show": ("history", "show"), "trace": ("reports", "trace"), "due": ("reports", "due"),
    "changes": ("reports", "changes"), "train": ("training", "train"),
    "training": ("training", "training"), "audit-pack": ("reports", "audit_pack"),
    "keys": ("project", "keys"), "build": ("build", "build"),
    "deviation": ("acts", "deviation"), "import": ("importing", "import_documents"),
    "transition": ("transition", "transition"),
    "diff": ("history", "diff"),
    "export": ("federation", "export"), "federation": ("federation", "federation_group"),
}


class QmsGroup(click.Group):
    """Maps qms-docs errors to messages and exit codes: the one place that does.

    Its commands are imported on first use (see ``COMMANDS``)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, attr = COMMANDS[cmd_name]
            command = getattr(importlib.import_module(f"{__name__}.{module}"), attr)
            self.add_command(command)
        return self.commands.get(cmd_name)

    def resolve_command(self, ctx: click.Context, args: list[str]
                        ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:  # "no such command": suggest from all, not the loaded
            name = getattr(exc, "command_name", None)
            if name is None:  # (click 8.1 has no NoSuchCommand: no suggestion there)
                raise
            no_such_command: Callable[..., click.UsageError] = type(exc)  # NoSuchCommand
            raise no_such_command(name, possibilities=self.list_commands(ctx), ctx=ctx) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except QmsError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort, KeyboardInterrupt,
                BrokenPipeError):
            raise
        except Exception as exc:  # noqa: BLE001 - unexpected: no traceback without --debug
            if isinstance(ctx.obj, Project) and ctx.obj.debug:
                raise
            click.echo(f"internal error: {type(exc).__name__}: {exc}\n"
                       "  hint: run again with --debug for the traceback and report it",
                       err=True)
            ctx.exit(3)


@click.group(cls=QmsGroup, context_settings=CONTEXT_SETTINGS)
@click.option("--repo", "repo", type=click.Path(file_okay=False, path_type=str), default=None,
              help="Root of the QMS repository (default: the folder holding qms.toml, "
                   "searched upwards from here).")
@click.option("--debug", is_flag=True, help="Show tracebacks of unexpected errors.")
@click.version_option(package_name="qms-docs", prog_name="qms")
@click.pass_context
def cli(ctx: click.Context, repo: str | None, debug: bool) -> None:
    """qms: document control for a docs-as-code quality management system.

    Controlled documents are reStructuredText files in git; approvals, changes and
    reviews are records under records/. Status is derived from those records.

    \b
    Example:
      qms check                 # headers, ids, clauses: fast, no git
      qms list                  # the master document list
      qms build html            # the site, in _build/html
    """
    ctx.obj = Project(repo, debug)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``qms`` script: run and map errors to exit codes."""
    try:
        result = cli.main(args=argv, prog_name="qms", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.Abort:
        click.echo("Aborted.", err=True)
        return 1
    except click.ClickException as exc:
        exc.show()
        return 2 if isinstance(exc, click.UsageError) else exc.exit_code
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return 130
    except BrokenPipeError:  # output piped into a reader that stopped (e.g. head)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return result if isinstance(result, int) else 0
