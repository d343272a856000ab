"""Terminal and JSON output (issue 20, point 7): tables fit the terminal (long cells wrap;
``--wide`` keeps the raw line), and every command's JSON is clean: it parses, and no value
holds a control character (the NUL that ended commit dates in ``qms history --format
json`` came from reading git's log)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import pytest

from qms_docs.cli import _common, cli
from qms_docs.cli._table import table_lines
from qms_docs.gitrepo import parse_log
from tests.auditors import records_story
from tests.helpers import REPO, run_qms

#: Control characters no JSON value may hold (line breaks and tabs may be text).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: Arguments for commands that need some; any other command is run without, and with a
#: document id if it asks for one.
ARGUMENTS = {"status": [[], ["SOP-002"], ["policy"]],
             "history": [["SOP-001"], ["SOP-002"], ["policy"]],
             "show": [["SOP-001", "--as-of", "2024-06-01"]],
             "trace": [[], ["--gaps"], ["--mandatory"]],
             "changes": [[], ["--since", "2024-01-12"]]}

story_template = records_story.story_template  # the fixtures of the story
story = records_story.story


def json_commands() -> list[str]:
    """Every command (and subcommand) whose ``--format`` offers json."""
    ctx = click.Context(cli)
    found = []

    def walk(group: click.Group, prefix: list[str]) -> None:
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            if isinstance(command, click.Group):
                walk(command, [*prefix, name])
                continue
            for param in getattr(command, "params", []):
                choices = getattr(param.type, "choices", ())
                if "--format" in getattr(param, "opts", ()) and "json" in choices:
                    found.append(" ".join([*prefix, name]))
    walk(cli, [])
    return sorted(found)


def control_characters(value: object, where: str = "") -> list[str]:
    """Where a value of ``value`` (parsed JSON) holds a control character."""
    if isinstance(value, dict):
        return [bad for k, v in value.items()
                for bad in control_characters(k, where) + control_characters(v, f"{where}.{k}")]
    if isinstance(value, list):
        return [bad for i, v in enumerate(value) for bad in control_characters(v, f"{where}[{i}]")]
    if isinstance(value, str) and CONTROL.search(value):
        return [f"{where}: {value!r}"]
    return []


def scan(runner, root: Path) -> dict[str, int]:
    """Run every JSON command on the QMS at ``root``; the number of outputs checked each."""
    checked: dict[str, int] = {}
    for name in json_commands():
        for args in ARGUMENTS.get(name, [[]]):
            command = ["--repo", str(root), *name.split(), *args, "--format", "json"]
            result = run_qms(runner, command)
            if result.exit_code == 2 and "Missing argument" in result.output and not args:
                command = ["--repo", str(root), *name.split(), "SOP-001", "--format", "json"]
                result = run_qms(runner, command)
            assert result.exit_code in (0, 1), (command, result.output)
            assert not CONTROL.search(result.stdout), (command, result.stdout[:500])
            data = json.loads(result.stdout)
            assert control_characters(data) == [], command
            checked[name] = checked.get(name, 0) + 1
    return checked


def test_every_commands_json_is_clean_on_a_scripted_history(story):
    """The story has a merge with a co-author trailer and an empty last commit: the cases
    where git's separators sit next to the header fields."""
    checked = scan(story.runner, story.root)
    assert checked["status"] == checked["history"] == checked["trace"] == 3
    assert {"status", "list", "check", "verify", "history", "show", "trace", "due",
            "changes", "training"} <= set(checked), checked
    dates = [c["date"] for r in json.loads(story("quinn", "history", "SOP-001", "--format",
                                                  "json").stdout)["revisions"]
             for c in r["commits"]]
    assert dates and all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", d)
                         for d in dates), dates


def test_history_json_of_the_example_qms_is_clean(runner):
    for doc in ("SOP-005", "QM-001", "policy"):
        result = run_qms(runner, ["--repo", str(REPO), "history", doc, "--format", "json"])
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert control_characters(data) == [], doc
        assert all(c["date"].endswith("+00:00") or c["date"][-6] in "+-"
                   for r in data["revisions"] for c in r["commits"])


HEAD = ("\x1eabc\x1f\x1fa@x\x1fA\x1f2026-01-01T10:00:00+00:00\x1fa@x\x1f"
        "2026-01-01T10:00:00+00:00\x1fB <b@x>\x1f")
RAW = ":000000 100644 " + "0" * 40 + " " + "1" * 40 + " A\x00a.txt\x00"


@pytest.mark.parametrize("between", ["\x00\n", "\x00", "\n", "\x00\x00\n", ""])
def test_log_header_fields_never_keep_gits_separators(between):
    """However git separates the header from the raw lines (or ends an empty commit), no
    field holds a NUL or a line break and the files are read."""
    for output in (HEAD + between + RAW, HEAD + between):
        [entry] = parse_log(output)
        fields = [entry[i] for i in (0, 1, 2, 3, 4, 6, 7)]
        assert not [f for f in fields if CONTROL.search(f) or "\n" in f], entry
        assert entry[4] == entry[7] == "2026-01-01T10:00:00+00:00"
        assert entry[8] == ["b@x"]
        assert entry[5] == ([["A", "a.txt", "0" * 40, "1" * 40]] if RAW in output else [])


# --- tables ------------------------------------------------------------------------------

HEADERS = ("Rev", "Date", "Reason / summary", "Approved by", "Commits")
ROWS = [[1, "2026-01-10", "initial issue", "Quinn Quality (quality-manager, approval, "
         "2026-01-10 09:00:00 +01:00; signature verified); Pat Production "
         "(production-manager, approval, 2026-01-10 10:00:00 +01:00; not signed)",
         "96019c4c e746c248 a9a8b26b"],
        [2, "2026-03-02", "Name the audience that must be trained on this procedure - "
         "Header gains :audience:; text unchanged", "Quinn Quality (quality-manager)", ""]]


@pytest.mark.parametrize("width", [60, 80, 120])
def test_wrapped_tables_fit_and_keep_every_word_and_date_whole(width):
    lines = table_lines(HEADERS, ROWS, width)
    assert max(len(line) for line in lines) <= width
    words = " ".join(lines).split()
    for row in ROWS:
        for cell in row:
            for word in str(cell).split():
                assert word in words, word  # no word cut (all are under 25 characters)
    first = next(i for i, line in enumerate(lines) if line.startswith("---")) + 1
    assert lines[first].split()[:2] == ["1", "2026-01-10"] and "2026-03-02" in words


def test_without_a_width_each_row_is_one_line():
    lines = table_lines(HEADERS, ROWS, None)
    assert len(lines) == 2 + len(ROWS)
    assert lines[2].split()[:2] == ["1", "2026-01-10"]


def test_a_table_narrower_than_its_words_breaks_them_to_fit():
    lines = table_lines(("Date", "Who"), [["2026-01-10T10:00:00+00:00",
                                           "Quinn Quality <quinn@example.com>"]], 30)
    assert max(len(line) for line in lines) <= 30
    assert "".join(line.split("  ")[0].strip() for line in lines[2:]) == \
        "2026-01-10T10:00:00+00:00"


def test_cells_are_one_line_each_whatever_they_hold():
    lines = table_lines(("A", "B"), [["x\ny", "z\x1b[31m"]], None)
    assert len(lines) == 3 and "\x1b" not in lines[2] and "x y" in lines[2]


def test_commands_wrap_to_the_terminal_and_wide_keeps_the_line(story, monkeypatch):
    monkeypatch.setattr(_common, "terminal_width", lambda: 80)
    for args in (["history", "SOP-002"], ["changes"], ["status"], ["training"]):
        out = story("quinn", *args).stdout
        assert max(len(line) for line in out.splitlines()) <= 80, (args, out)
    wide = story("quinn", "history", "SOP-002", "--wide").stdout.splitlines()
    assert max(len(line) for line in wide) > 80
    assert sum(line.startswith("1 ") for line in wide) == 1
    assert len(wide) == 5  # title, header, dashes, the one revision, the retirement


def test_piped_output_is_not_wrapped(story):
    """Output to a pipe or a file (the CliRunner here) keeps each row on one line."""
    assert _common.terminal_width() is None
    lines = story("quinn", "changes").stdout.splitlines()
    assert len(lines) == 2 + 6
