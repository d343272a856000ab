"""Acts commit themselves with --commit (exactly their files, as the acting person, with a
message saying what was done); without it they print the next step with the exact paths."""

from __future__ import annotations

import pytest

from qms_docs.cli import cli
from tests.helpers import QmsRepo, new_repo


@pytest.fixture
def qms(runner, tmp_path) -> QmsRepo:
    return QmsRepo(new_repo(tmp_path / "qms"), runner)


def _last(qms: QmsRepo) -> tuple[str, str, list[str]]:
    """Author "name <email>", subject and files of HEAD."""
    who = qms.git("log", "-1", "--format=%an <%ae>|%cn <%ce>").strip()
    author, committer = who.split("|")
    assert author == committer
    subject = qms.git("log", "-1", "--format=%s").strip()
    files = qms.git("show", "--name-only", "--format=", "HEAD").split()
    return author, subject, sorted(files)


def test_new_and_approve_commit_exactly_the_act(qms):
    (qms.root / "notes.txt").write_text("staged, not part of the act\n")
    qms.git("add", "notes.txt")
    (qms.root / "index.rst").write_text((qms.root / "index.rst").read_text() + "\nedit\n")
    result = qms("ash", "new", "sop", "Goods In", "--owner", "production-manager", "--commit")
    path = result.output.strip().splitlines()[-1]
    assert path == "procedures/sop-003-goods-in.rst"
    author, subject, files = _last(qms)
    assert author == "Ash Author <ash@example.com>"
    assert subject == "SOP-003 rev 1 created by Ash Author: Goods In"
    assert files[0] == path and files[1].startswith("records/SOP-003/") and len(files) == 2
    status = qms.git("status", "--porcelain")
    assert "A  notes.txt" in status and " M index.rst" in status  # left as they were

    result = qms("quinn", "approve", "SOP-003", "--role", "quality-manager", "--commit")
    author, subject, files = _last(qms)
    assert author == "Quinn Quality <quinn@example.com>"
    assert subject == "SOP-003 rev 1 approved by Quinn Quality as quality-manager"
    assert len(files) == 1 and files[0].startswith("records/SOP-003/")
    assert "Committed " in result.output
    qms("pat", "approve", "SOP-003", "--role", "production-manager", "--commit")
    assert qms.status("SOP-003")["status"] == "effective"
    assert "A  notes.txt" in qms.git("status", "--porcelain")
    qms.git("reset", "-q", "notes.txt")
    (qms.root / "notes.txt").unlink()
    qms.git("checkout", "index.rst")
    assert qms("quinn", "verify").exit_code == 0

    qms("ash", "revise", "SOP-003", "--reason", "New portal", "--commit")
    author, subject, files = _last(qms)
    assert subject == "SOP-003 rev 2 opened by Ash Author: New portal"
    assert path in files and len(files) == 2


def test_without_commit_the_next_step_names_the_paths(qms):
    result = qms("ash", "new", "sop", "Goods In", "--owner", "production-manager")
    record = next(line.split(": ", 1)[1] for line in result.output.splitlines()
                  if line.startswith("Change record: "))
    assert (f"Next: git add procedures/sop-003-goods-in.rst {record} && git commit -m "
            "'SOP-003 rev 1 created by Ash Author: Goods In'") in result.output
    qms.commit("Draft")
    result = qms("quinn", "approve", "SOP-003", "--role", "quality-manager")
    assert "Next: git add records/SOP-003/" in result.output
    assert "'SOP-003 rev 1 approved by Quinn Quality as quality-manager'" in result.output
    assert qms.git("status", "--porcelain").startswith("?? records/SOP-003/")


def test_a_committed_act_is_judged_like_any_other(qms):
    """Segregation of duties: the author's own commit does not make them an approver."""
    qms("dana@example.com", "new", "sop", "Goods In", code=None)  # not a person: refused
    qms("ash", "new", "sop", "Goods In", "--owner", "production-manager", "--commit")
    refused = qms("ash", "approve", "SOP-003", "--role", "production-manager", "--commit",
                  code=1)
    assert "cannot approve" in refused.output and "Traceback" not in refused.output
    assert _last(qms)[1].startswith("SOP-003 rev 1 created")  # nothing committed


def test_review_train_retire_commit(qms):
    path = qms.root / qms("ash", "new", "sop", "Goods In", "--owner", "production-manager"
                          ).output.strip().splitlines()[-1]
    path.write_text(path.read_text().replace("   :owner:", "   :audience: production-manager"
                                                             "\n   :owner:"))
    qms.commit("Draft")
    qms("quinn", "approve", "SOP-003", "--role", "quality-manager", "--commit")
    qms("pat", "approve", "SOP-003", "--role", "production-manager", "--commit")
    qms("pat", "train", "SOP-003", "--commit")
    assert _last(qms)[1] == "Training of Pat Production on SOP-003 recorded (read)"
    qms("quinn", "review", "SOP-003", "--outcome", "Still right", "--commit")
    assert _last(qms)[1] == "SOP-003 rev 1 periodically reviewed by Quinn Quality: Still right"
    qms("quinn", "retire", "SOP-003", "--reason", "Merged", "--yes", "--commit")
    author, subject, files = _last(qms)
    assert (author, subject) == ("Quinn Quality <quinn@example.com>",
                                 "SOP-003 retired by Quinn Quality: Merged")
    assert qms.git("status", "--porcelain") == ""


@pytest.mark.parametrize("command", [["new"], ["revise"], ["approve"], ["review"], ["retire"],
                                     ["train"], ["keys", "add"], ["deviation"]])
def test_every_act_takes_commit(runner, command):
    assert "--commit" in runner.invoke(cli, [*command, "--help"]).output


def test_keys_add_commits_the_signers_file_and_its_record(qms, tmp_path):
    from tests.helpers import keygen

    key = keygen(tmp_path, "quinn")
    qms("quinn", "keys", "add", "quinn@example.com", f"{key}.pub", "--commit")
    author, subject, files = _last(qms)
    assert author == "Quinn Quality <quinn@example.com>"
    assert subject.startswith("Signing key of Quinn Quality added to ")
    assert len(files) == 2 and any(f.startswith("records/QMS-POLICY/") for f in files)
    assert qms.git("status", "--porcelain") == ""


def test_deviation_commits_its_record(qms):
    qms("quinn", "approve", "SOP-001", "--role", "quality-manager", "--commit")
    record = _last(qms)[2][0]
    (qms.root / record).unlink()
    qms.commit("Removed a record by mistake", who="ash")
    qms("quinn", "deviation", "record-altered", "SOP-001", "--reason", "Deleted by mistake",
        "--commit")
    author, subject, files = _last(qms)
    assert (author, subject) == ("Quinn Quality <quinn@example.com>",
                                 "Deviation record-altered on SOP-001 accepted by Quinn Quality "
                                 "as quality-manager")
    assert len(files) == 1 and "deviation" in files[0]


def test_a_refused_commit_says_the_act_is_recorded_and_how_to_commit(qms):
    hook = qms.root / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'hook says no' >&2\nexit 1\n")
    hook.chmod(0o755)
    result = qms("ash", "new", "sop", "Goods In", "--owner", "production-manager", "--commit",
                 code=2)
    assert "git commit failed: hook says no" in result.output
    assert ("the act is recorded but not committed: git add procedures/sop-003-goods-in.rst "
            "records/SOP-003/") in result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert (qms.root / "procedures" / "sop-003-goods-in.rst").exists()
