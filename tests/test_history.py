"""Git history: revisions over time, what was in force on a date, the pull-request gate."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from tests.helpers import ROOTS, QmsRepo, count_git_logs, git, run_qms, sphinx_build

SOP = "procedures/sop-001.rst"


class Timeline(QmsRepo):
    """The basic scenario where every act and commit happens at a scripted time."""

    def edit(self, text: str) -> None:
        path = self.root / SOP
        path.write_text(path.read_text() + f"\n{text}\n")


@pytest.fixture
def timeline(make_repo) -> Timeline:
    return make_repo(day="2025-01-02", cls=Timeline)


@pytest.fixture
def three_revisions(timeline) -> Timeline:
    t = timeline
    t.at("2025-01-10").qms("quinn", "approve", "SOP-001", "--role", "quality-manager",
                           "--effective", "2025-02-01")
    t.commit("Approve SOP-001 r1", who="quinn")
    for revision, (day, approve_day, effective) in enumerate(
            [("2025-05-01", "2025-05-20", "2025-06-10"),
             ("2025-08-01", "2025-08-15", "2025-08-15")], start=2):
        t.at(day).qms("ash", "revise", "SOP-001", "--reason", f"Reason {revision}",
                      "--summary", f"Summary {revision}")
        t.edit(f"Text of revision {revision}.")
        t.commit(f"SOP-001 revision {revision}")
        t.at(approve_day).qms("quinn", "approve", "SOP-001", "--role", "quality-manager",
                              "--effective", effective)
        t.commit(f"Approve SOP-001 r{revision}", who="quinn")
    t.at("2025-11-30").qms("quinn", "retire", "SOP-001", "--reason", "Replaced", "--yes")
    t.commit("Retire SOP-001", who="quinn")
    return t


def test_history_across_three_revisions_and_a_retirement(three_revisions):
    t = three_revisions
    data = json.loads(t.qms("quinn", "history", "SOP-001", "--format", "json").stdout)
    revisions = data["revisions"]
    assert [r["revision"] for r in revisions] == [1, 2, 3]
    assert [(r["effective_from"], r["effective_until"]) for r in revisions] == [
        ("2025-02-01", "2025-06-10"), ("2025-06-10", "2025-08-15"), ("2025-08-15", "2025-11-30")]
    assert revisions[1]["reason"] == "Reason 2" and revisions[1]["summary"] == "Summary 2"
    assert revisions[1]["author"]["email"] == "ash@example.com"
    assert revisions[2]["approvals"][0]["name"] == "Quinn Quality"
    assert revisions[2]["approvals"][0]["date"].startswith("2025-08-15")
    assert all(r["commits"] for r in revisions)
    table = t.qms("quinn", "history", "SOP-001").output
    assert "Reason 3 - Summary 3" in table and "2025-11-30" in table
    # the row of the site's revision table (one model), with the commits and signatures
    assert table.splitlines()[1].split() == ["Rev", "Date", "Reason", "/", "summary", "Author",
                                             "Approved", "by", "Effective", "Until", "Commits"]
    assert "Quinn Quality (quality-manager, approval, 2025-08-15" in table
    assert "; not signed)" in table


@pytest.mark.parametrize("day, revision, text", [
    ("2025-01-20", None, "no revision had been approved"),  # approved, not yet effective
    ("2025-03-01", 1, None),
    ("2025-06-09", 1, None),
    ("2025-06-10", 2, "Text of revision 2."),  # the exact effective date
    ("2025-09-01", 3, "Text of revision 3."),
    ("2025-11-30", None, "retired on 2025-11-30"),
    ("2026-03-01", None, "retired on 2025-11-30"),
])
def test_show_as_of(three_revisions, day, revision, text):
    t = three_revisions
    result = t.qms("quinn", "show", "SOP-001", "--as-of", day, "--format", "json",
                   code=None)
    if revision is None:
        assert result.exit_code == 1
        assert text in result.output
        return
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["revision"] == revision
    assert f":revision: {revision}" in data["text"]
    if text:
        assert text in data["text"]
    assert "Text of revision 3." not in data["text"] or revision == 3


def test_show_prints_rst_with_approvals(three_revisions):
    result = three_revisions.qms("quinn", "show", "SOP-001", "--as-of", "2025-07-01")
    assert result.stdout.startswith(".. sop:: Control of Documented Information")
    assert "SOP-001 revision 2, in force on 2025-07-01" in result.stderr
    assert "approved by Quinn Quality" in result.stderr


@pytest.fixture
def branch(timeline) -> Timeline:
    t = timeline
    t.at("2025-01-10").qms("quinn", "approve", "SOP-001", "--role", "quality-manager")
    t.commit("Approve SOP-001", who="quinn")
    t.git("checkout", "-q", "-b", "change")
    return t


def gate(t: Timeline) -> set[str]:
    result = t.qms("quinn", "verify", "--base", "main", "--format", "json", code=None)
    return {f["code"] for f in json.loads(result.stdout)["findings"]}


def test_gate_passes_a_controlled_change(branch):
    branch.at("2025-02-01").qms("ash", "revise", "SOP-001", "--reason", "Clarify")
    branch.edit("Clarified.")
    branch.commit("SOP-001 r2")
    branch.at("2025-02-03").qms("quinn", "approve", "SOP-001", "--role", "quality-manager")
    branch.commit("Approve r2", who="quinn")
    assert gate(branch) == set()
    assert branch.qms("quinn", "verify", "--base", "main").exit_code == 0


def test_gate_edit_without_revision(branch):
    branch.edit("Unannounced change.")
    branch.commit("sneaky")
    assert gate(branch) == {"edited-after-approval"}


def test_gate_editing_an_unapproved_draft_is_fine(branch):
    path = branch.root / "procedures" / "sop-002.rst"
    path.write_text(path.read_text() + "\nDraft work.\n")
    branch.commit("draft work")
    assert gate(branch) == set()


def test_gate_revision_bump_without_change_record(branch):
    path = branch.root / SOP
    path.write_text(path.read_text().replace(":revision: 1", ":revision: 2") + "\nNew.\n")
    branch.commit("bump by hand")
    assert gate(branch) == {"missing-change-record"}


def test_gate_modified_record(branch):
    record = next((branch.root / "records").rglob("*.yaml"))
    record.write_text(record.read_text() + "# note\n")
    branch.commit("touch record")
    assert "record-altered" in gate(branch)


def test_gate_approval_of_content_not_in_branch(branch):
    from qms_docs.records import new_record, write_record

    write_record(branch.root, new_record(
        "approval", "SOP-002", revision=1, fingerprint="ab" * 32,
        approver={"name": "Quinn Quality", "email": "quinn@example.com"},
        role="quality-manager", meaning="approval", effective="2025-03-01",
        commit=branch.git("rev-parse", "HEAD").strip()))
    branch.commit("forged approval", who="quinn")
    assert gate(branch) == {"approval-of-unknown-content"}


def test_gate_unknown_base_is_exit_2(branch):
    result = branch.qms("quinn", "verify", "--base", "origin/nope", code=2)
    assert "unknown git revision 'origin/nope'" in result.output


@pytest.mark.sphinx
def test_shallow_clone_degrades_clearly(three_revisions, tmp_path, runner):
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{three_revisions.root}", str(clone))
    for args in (["verify"], ["history", "SOP-001"], ["verify", "--base", "HEAD"]):
        result = run_qms(runner, ["--repo", str(clone), *args])
        assert result.exit_code == 2, result.output
        assert "git fetch --unshallow" in result.output and "Traceback" not in result.output
    assert run_qms(runner, ["--repo", str(clone), "check"]).exit_code == 0
    assert sphinx_build(clone).returncode == 0


def test_not_a_repository_degrades_clearly(tmp_path, runner):
    root = tmp_path / "plain"
    shutil.copytree(ROOTS / "basic", root)
    for args in (["verify"], ["history", "SOP-001"], ["approve", "SOP-001", "--role", "x"]):
        result = run_qms(runner, ["--repo", str(root), *args])
        assert result.exit_code == 2, result.output
        assert "is not in a git repository" in result.output
    assert run_qms(runner, ["--repo", str(root), "check"]).exit_code == 0
    assert run_qms(runner, ["--repo", str(root), "status"]).exit_code == 0


def test_unborn_branch_degrades_clearly(tmp_path, runner):
    root = tmp_path / "unborn"
    shutil.copytree(ROOTS / "basic", root)
    git(root, "init", "-q")
    result = run_qms(runner, ["--repo", str(root), "verify"])
    assert result.exit_code == 2 and "no commits yet" in result.output


def test_detached_head_still_works(three_revisions):
    t = three_revisions
    t.git("checkout", "-q", "--detach", "HEAD~2")
    data = json.loads(t.qms("quinn", "history", "SOP-001", "--format", "json").stdout)
    assert [r["revision"] for r in data["revisions"]] == [1, 2, 3]


@pytest.mark.parametrize("extra", [0, 12])
def test_verify_reads_the_log_once_whatever_the_number_of_documents(timeline, monkeypatch,
                                                                    extra):
    t = timeline
    for number in range(3, 3 + extra):
        (t.root / "procedures" / f"sop-{number:03d}.rst").write_text(
            f".. sop:: Extra {number}\n   :id: SOP-{number:03d}\n   :revision: 1\n"
            "   :owner: quality-manager\n\nText.\n", encoding="utf-8")
    t.qms("quinn", "approve", "SOP-001", "--role", "quality-manager")
    t.commit("more documents")
    for number in range(3, 3 + extra):
        t.qms("quinn", "approve", f"SOP-{number:03d}", "--role", "quality-manager")
    t.git("add", "-A")
    t.git("commit", "-q", "--allow-empty", "-m", "approvals", who="quinn")
    calls = count_git_logs(monkeypatch)
    assert t.qms("quinn", "verify").exit_code == 0
    assert len(calls) == 1


@pytest.mark.sphinx
def test_revision_history_on_the_document_page(three_revisions):
    result = sphinx_build(three_revisions.root)
    assert result.returncode == 0, result.warnings
    page = (result.outdir / "procedures" / "sop-001.html").read_text(encoding="utf-8")
    table = page[page.index("qms-revision-history"):]
    assert table.index("Reason 3") < table.index("Reason 2")  # newest first
    assert "2025-06-10" in table and "2025-11-30" in table and "Quinn Quality" in table
    # as qms history, with the role's title (the date kept on one line: a nowrap span)
    assert "Quinn Quality (Quality Manager, approval, 2025-08-15" in re.sub(r"<[^>]+>", "",
                                                                            table)
    assert "OBSOLETE" in page
