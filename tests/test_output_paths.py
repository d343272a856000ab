"""Every output path is checked before any work starts: a missing folder, a file where a
folder is needed, a folder where a file is needed: exit 2, a message naming the path and
the fix, nothing written, no "internal error", no traceback."""

from __future__ import annotations

import os
from pathlib import Path

import click
import pytest

from qms_docs.cli import cli
from tests.helpers import new_repo, run_qms

#: Every command with an output option: (command words, option, what it takes).
OUTPUTS: dict[tuple[str, ...], tuple[list[str], str, str]] = {
    ("trace",): (["trace"], "-o", "file"),
    ("list",): (["list"], "-o", "file"),
    ("due",): (["due"], "-o", "file"),
    ("changes",): (["changes"], "-o", "file"),
    ("training",): (["training"], "-o", "file"),
    ("transition",): (["transition", "--to", "iso9001-2026"], "-o", "file"),
    ("audit-pack",): (["audit-pack", "--as-of", "2026-01-01"], "-o", "file"),
    ("diff",): (["diff", "SOP-001", "--format", "html"], "-o", "file"),
    ("build",): (["build", "html"], "--out", "folder"),
    ("init",): (["init", "--org", "Acme"], "", "folder"),
    ("export",): (["export"], "--out", "file"),
}


def _output_options() -> set[tuple[str, ...]]:
    """The commands that take a path to write to: every click.Path but the paths read
    (approve's --key, check's FILEs, those that must exist)."""
    found: set[tuple[str, ...]] = set()
    ctx = click.Context(cli)

    def walk(group: click.Group, words: tuple[str, ...]) -> None:
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            if isinstance(command, click.Group):
                walk(command, (*words, name))
            elif command is not None and any(isinstance(p.type, click.Path)
                                             and p.name not in ("key", "files")
                                             and not p.type.exists for p in command.params):
                found.add((*words, name))

    walk(cli, ())
    return found


def test_every_output_option_is_driven():
    assert _output_options() == set(OUTPUTS)


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    root = new_repo(tmp_path_factory.mktemp("out") / "qms")
    (root.parent / "a-file.txt").write_text("in the way\n")
    return root


def _bad_paths(root: Path, kind: str) -> list[tuple[Path, str]]:
    top = root.parent
    bad = [(top / "a-file.txt" / "x", "a-file.txt is a file, not a folder")]
    if kind == "file":
        bad += [(top / "no" / "such" / "x.csv", "does not exist"),
                (top, "is a folder, not a file")]
    else:
        bad += [(top / "a-file.txt", "is a file, not a folder")]
    return bad


@pytest.mark.parametrize("key", sorted(OUTPUTS))
def test_bad_output_paths_stop_before_work(runner, repo, key):
    words, option, kind = OUTPUTS[key]
    before = sorted(os.listdir(repo.parent)), sorted(os.listdir(repo))
    for path, why in _bad_paths(repo, kind):
        args = [*words, *([option] if option else []), str(path)]
        result = run_qms(runner, ["--repo", str(repo), *args])
        assert result.exit_code == 2, (args, result.output)
        assert str(path) in result.output and why in result.output, result.output
        assert "Nothing was written" in result.output
        assert "internal error" not in result.output and "Traceback" not in result.output
        assert "Building" not in result.output  # refused before the work started
        assert (sorted(os.listdir(repo.parent)), sorted(os.listdir(repo))) == before


def test_missing_folder_names_the_fix(runner, repo):
    path = repo.parent / "no" / "such" / "gaps.csv"
    result = run_qms(runner, ["--repo", str(repo), "trace", "--gaps", "-o", str(path)])
    assert result.exit_code == 2
    assert f"mkdir -p {path.parent}" in result.output
