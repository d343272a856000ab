"""The qms command line: help, exit codes, messages (no tracebacks)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from qms_docs.cli import cli, main
from tests.helpers import REPO, ROOTS, run_qms


def all_commands():
    return cli.list_commands(None)


def test_every_listed_command_is_found_under_its_own_name():
    names = all_commands()
    assert len(names) == 26 and "check" in names and "audit-pack" in names and "diff" in names
    assert "export" in names and "federation" in names
    for name in names:
        assert cli.get_command(None, name).name == name
    assert cli.get_command(None, "no-such-command") is None


def test_a_mistyped_command_gets_a_suggestion_and_exit_2():
    assert main(["chek"]) == 2
    done = subprocess.run([sys.executable, "-m", "qms_docs", "aprove"], capture_output=True,
                          text=True)
    assert done.returncode == 2
    assert "No such command 'aprove'. Did you mean 'approve'?" in done.stderr


def test_group_help_has_an_example(runner):
    result = run_qms(runner, ["--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output


@pytest.mark.parametrize("name", all_commands())
def test_every_command_has_help_with_an_example(runner, name):
    result = run_qms(runner, [name, "-h"])
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output
    command = cli.get_command(None, name)
    assert command.help and len(command.help.split()) > 5


def test_check_on_the_example_qms_passes(runner):
    result = run_qms(runner, ["--repo", str(REPO), "check"])
    assert result.exit_code == 0, result.output
    assert "0 errors" in result.output


def test_check_reports_findings_with_location_and_exit_1(runner, tmp_path):
    root = tmp_path / "p"
    shutil.copytree(ROOTS / "basic", root)
    path = root / "procedures" / "sop-002.rst"
    path.write_text(path.read_text().replace("ISO9001-8-1", "ISO9001-8-99"))
    result = run_qms(runner, ["--repo", str(root), "check"])
    assert result.exit_code == 1
    assert "procedures/sop-002.rst:5: error: [unknown-clause]" in result.output
    result = run_qms(runner, ["--repo", str(root), "check", "--format", "json"])
    data = json.loads(result.stdout)
    assert data["errors"] == 1 and data["findings"][0]["code"] == "unknown-clause"
    path.write_text(path.read_text().replace("ISO9001-8-99", "ISO9001-8-7-3"))
    result = run_qms(runner, ["--repo", str(root), "check", "--format", "json"])
    [finding] = json.loads(result.stdout)["findings"]
    assert finding["hint"] == "did you mean 8.7.1 or 8.7.2?"


def test_check_validates_records(runner, tmp_path):
    root = tmp_path / "p"
    shutil.copytree(ROOTS / "basic", root)
    (root / "records" / "SOP-001").mkdir(parents=True)
    (root / "records" / "SOP-001" / "x.yaml").write_text(
        "kind: review\ndocument: SOP-001\nid: 0123\n", encoding="utf-8")
    result = run_qms(runner, ["--repo", str(root), "check"])
    assert result.exit_code == 1
    assert "records/SOP-001/x.yaml: error: [invalid-record] invalid review record" in result.output


def test_list_formats(runner):
    result = run_qms(runner, ["--repo", str(REPO), "list", "--format", "json"])
    rows = json.loads(result.output)
    ids = [r["id"] for r in rows]
    assert ids[0] == "QM-001" and "SOP-014" in ids and "FRM-009" in ids
    csv_out = run_qms(runner, ["--repo", str(REPO), "list", "--format", "csv"]).output
    assert csv_out.splitlines()[0] == ("Id,Title,Type,Revision,Status,Effective,Owner,Last review,"
                                        "Next review due")
    assert len(csv_out.splitlines()) == len(rows) + 1


def test_bad_config_is_exit_2_with_one_located_line(tmp_path):
    (tmp_path / "qms.toml").write_text("[organization]\nname = 'x'\n[[people]]\nname = 'Q'\n"
                                       "email = 'q@x'\nroles = ['quality-manager']\n"
                                       "[types.sop]\napprovers = ['boss']\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "qms_docs", "--repo", str(tmp_path), "check"],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error: qms.toml:8: types.sop.approvers: unknown role 'boss'")
    assert "hint:" in done.stderr


def test_outside_a_qms_is_exit_2(tmp_path, capsys):
    assert main(["--repo", str(tmp_path), "list"]) == 2
    assert "no qms.toml found" in capsys.readouterr().err


def test_unknown_command_is_usage_error(capsys):
    assert main(["frobnicate"]) == 2


def test_unexpected_errors_have_no_traceback_without_debug(monkeypatch, capsys):
    import qms_docs.workspace as workspace

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(workspace, "scan", boom)
    assert main(["--repo", str(REPO), "check"]) == 3
    err = capsys.readouterr().err
    assert "disk on fire" in err and "Traceback" not in err and "--debug" in err
    with pytest.raises(RuntimeError):
        main(["--debug", "--repo", str(REPO), "check"])
