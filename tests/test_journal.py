"""The write-ahead journal: roll-forward, refusal of hand edits, stale temporary files, and
files qms cannot read. Crashes of the real commands are in reliability/test_crash.py."""

from __future__ import annotations

import errno
import threading
from pathlib import Path

import pytest

import qms_docs.journal as journal
from qms_docs.errors import InputError, UsageError
from tests.helpers import QmsRepo
from tests.reliability.support import reliability_repo


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs, not even an except clause for Exception."""


def _kill_on_call(monkeypatch, name: str, after: int = 0) -> None:
    """Make journal.<name> 'kill' the process on its call number ``after`` + 1."""
    real = getattr(journal, name)
    calls = []

    def fake(*args, **kwargs):
        calls.append(1)
        if len(calls) > after:
            raise Killed()
        return real(*args, **kwargs)

    monkeypatch.setattr(journal, name, fake)


@pytest.fixture
def tree(tmp_path) -> Path:
    root = tmp_path / "qms"
    (root / "procedures").mkdir(parents=True)
    (root / "procedures" / "sop.rst").write_bytes(b":revision: 1\n")
    return root


def _writes(root: Path) -> list[journal.Write]:
    return [journal.new_file(root, "records/SOP-001/change.yaml", b"kind: change\n"),
            journal.replacement(root, "procedures/sop.rst", b":revision: 2\n")]


def _final(root: Path) -> bool:
    return (journal.read(root, "records/SOP-001/change.yaml") == b"kind: change\n"
            and journal.read(root, "procedures/sop.rst") == b":revision: 2\n"
            and not (root / journal.JOURNAL).exists())


@pytest.mark.parametrize("where, after", [("create_file", 1), ("replace_file", 0),
                                          ("_remove_temporaries", 0)])
def test_roll_forward_completes_an_interrupted_act_and_is_idempotent(tree, monkeypatch,
                                                                     where, after):
    writes = _writes(tree)
    with monkeypatch.context() as patch:
        _kill_on_call(patch, where, after)  # killed once the journal is written
        with pytest.raises(Killed):
            journal.commit(tree, writes, "revise")
    assert (tree / journal.JOURNAL).exists() and not _final(tree)
    with monkeypatch.context() as patch:  # the recovery itself is killed half way
        _kill_on_call(patch, "_roll_forward", 1)
        with pytest.raises(Killed):
            journal.recover_locked(tree)
    assert (tree / journal.JOURNAL).exists()
    assert journal.recover_locked(tree) is True
    assert _final(tree)
    assert journal.recover_locked(tree) is False  # nothing more to do
    assert _final(tree)
    assert sorted(p.name for p in tree.rglob("*") if p.is_file()) == ["change.yaml", "sop.rst"]


def test_an_act_that_was_not_interrupted_leaves_no_journal(tree):
    journal.commit(tree, _writes(tree), "revise")
    assert _final(tree)
    assert journal.recover(tree) is None


def test_a_record_is_never_overwritten(tree):
    (tree / "records/SOP-001").mkdir(parents=True)
    (tree / "records/SOP-001/change.yaml").write_bytes(b"someone else's\n")
    with pytest.raises(UsageError, match="already exists"):
        journal.commit(tree, [journal.Write("records/SOP-001/change.yaml", b"mine\n", None)],
                       "review")
    assert (tree / "records/SOP-001/change.yaml").read_bytes() == b"someone else's\n"
    assert not (tree / journal.JOURNAL).exists()


def test_recovery_refuses_a_target_edited_in_between(tree, monkeypatch):
    with monkeypatch.context() as patch:
        _kill_on_call(patch, "replace_file")
        with pytest.raises(Killed):
            journal.commit(tree, _writes(tree), "revise")
    (tree / "procedures/sop.rst").write_bytes(b":revision: 1\nA hand edit.\n")
    with pytest.raises(InputError) as caught:
        journal.recover_locked(tree)
    assert caught.value.path == "procedures/sop.rst"
    assert journal.JOURNAL in caught.value.hint
    assert (tree / "procedures/sop.rst").read_bytes() == b":revision: 1\nA hand edit.\n"
    assert (tree / journal.JOURNAL).exists()  # kept: a person decides
    (tree / "procedures/sop.rst").write_bytes(b":revision: 1\n")  # restored
    assert journal.recover_locked(tree) is True and _final(tree)


def test_a_journal_altered_by_hand_is_refused(tree, monkeypatch):
    with monkeypatch.context() as patch:
        _kill_on_call(patch, "replace_file")
        with pytest.raises(Killed):
            journal.commit(tree, _writes(tree), "revise")
    path = tree / journal.JOURNAL
    path.write_bytes(path.read_bytes().replace(b"procedures/sop.rst", b"../outside.rst"))
    with pytest.raises(InputError, match="not a journal written by qms"):
        journal.recover_locked(tree)
    assert not (tree.parent / "outside.rst").exists()


def test_the_cli_recovers_and_refuses_a_hand_edit_with_exit_2(tmp_path, monkeypatch):
    root = reliability_repo(tmp_path / "qms")
    act = QmsRepo(root)
    sop = root / "procedures" / "sop-001.rst"
    original = sop.read_bytes()
    final = original.replace(b":revision: 1", b":revision: 2")
    with monkeypatch.context() as patch:
        _kill_on_call(patch, "replace_file")
        with pytest.raises(Killed):
            journal.commit(root, [journal.replacement(root, "procedures/sop-001.rst", final)],
                           "revise")
    sop.write_bytes(original + b"\nEdited by hand.\n")
    result = act("quinn", "status", code=2)
    assert "procedures/sop-001.rst" in result.output and journal.JOURNAL in result.output
    assert "Traceback" not in result.output
    sop.write_bytes(original)
    act("quinn", "status")
    assert sop.read_bytes() == final and not (root / journal.JOURNAL).exists()


def test_stale_temporary_files_are_removed_by_the_next_command(tmp_path, monkeypatch):
    root = reliability_repo(tmp_path / "qms")
    stale = [root / ".tmp-0123456789abcdef", root / "procedures" / ".tmp-fedcba9876543210"]
    kept = [root / ".tmp-notours", root / "procedures" / ".tmp-0123"]
    final = (root / "procedures" / "sop-002.rst").read_bytes() + b"\nMore.\n"
    with monkeypatch.context() as patch:  # killed after the write, before the clean-up
        _kill_on_call(patch, "_remove_temporaries")
        with pytest.raises(Killed):
            journal.commit(root, [journal.replacement(root, "procedures/sop-002.rst", final)],
                           "revise")
    for path in stale + kept:
        path.write_bytes(b"half a file")
    QmsRepo(root)("quinn", "status")
    assert not any(p.exists() for p in stale)
    assert all(p.exists() for p in kept)
    assert not (root / journal.JOURNAL).exists()
    (root / ".tmp-00112233445566ff").write_bytes(b"")  # no journal: the root is still swept
    QmsRepo(root)("quinn", "check", code=None)
    assert not (root / ".tmp-00112233445566ff").exists()


def test_reads_go_on_when_the_recovery_cannot_write(tmp_path, monkeypatch):
    root = reliability_repo(tmp_path / "qms")
    final = (root / "procedures" / "sop-002.rst").read_bytes() + b"\nMore.\n"
    with monkeypatch.context() as patch:
        _kill_on_call(patch, "replace_file")
        with pytest.raises(Killed):
            journal.commit(root, [journal.replacement(root, "procedures/sop-002.rst", final)],
                           "revise")

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    with monkeypatch.context() as patch:
        patch.setattr(journal, "replace_file", read_only)
        result = QmsRepo(root)("quinn", "status")
    assert "warning:" in result.output and journal.JOURNAL in result.output
    assert "Read-only file system" in result.output and "SOP-002" in result.output
    assert (root / journal.JOURNAL).exists()
    result = QmsRepo(root)("quinn", "status")
    assert "warning" not in result.output and not (root / journal.JOURNAL).exists()


def test_a_reader_does_not_wait_forever_for_the_lock(tree, monkeypatch):
    (tree / ".tmp-0123456789abcdef").write_bytes(b"")
    held, release = threading.Event(), threading.Event()

    def writer():
        with journal.locked(tree):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        held.wait(10)
        note = journal.recover(tree, wait=0.2)
        assert note and "lock" in note
    finally:
        release.set()
        thread.join()
    assert journal.recover(tree, wait=0.2) is None
    assert not (tree / ".tmp-0123456789abcdef").exists()


# Files qms cannot read: a clear message naming the file, exit 2, no traceback. We run as
# root, where chmod 000 does not stop reads: the read itself is made to fail.

def _denied(monkeypatch, module, name: str, path: Path) -> None:
    real = getattr(module, name)

    def fake(self_or_file, *args, **kwargs):
        if (isinstance(self_or_file, (str, Path))
                and Path(self_or_file).resolve() == path.resolve()):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(self_or_file, *args, **kwargs)

    monkeypatch.setattr(module, name, fake)


def test_an_unreadable_record_is_exit_2_naming_it(tmp_path, monkeypatch):
    root = reliability_repo(tmp_path / "qms")
    act = QmsRepo(root)
    act("quinn", "approve", "SOP-001", "--role", "quality-manager")
    record = next((root / "records" / "SOP-001").glob("*.yaml"))
    import builtins

    _denied(monkeypatch, builtins, "open", record)
    for args in (["status"], ["revise", "SOP-001", "--reason", "x"]):
        result = act("ash", *args, code=2)
        assert record.relative_to(root).as_posix() in result.output
        assert "Permission denied" in result.output and "Traceback" not in result.output


def test_an_unreadable_document_is_exit_2_naming_it(tmp_path, monkeypatch):
    import builtins

    import qms_docs.documents as documents

    root = reliability_repo(tmp_path / "qms")
    sop = root / "procedures" / "sop-002.rst"
    real_open = builtins.open

    def fake_open(file, *args, **kwargs):
        if isinstance(file, Path) and file.resolve() == sop.resolve():
            raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(documents, "open", fake_open, raising=False)
    result = QmsRepo(root)("quinn", "status", code=2)
    assert "procedures/sop-002.rst" in result.output and "Permission denied" in result.output
    assert "Traceback" not in result.output


def _folder(path: Path) -> None:
    path.mkdir()


def _not_utf8(path: Path) -> None:
    path.write_bytes(b"quinn@example.com \xff\xfe not text\n")


@pytest.mark.parametrize("make, said", [
    (_folder, ("allowed_signers", "folder")),  # a folder in place of the file
    (_not_utf8, ("allowed_signers:1", "UTF-8")),  # the line of the bad byte
], ids=["folder", "non-utf8"])
def test_an_unreadable_allowed_signers_is_exit_2_naming_it(tmp_path, make, said):
    root = reliability_repo(tmp_path / "qms")
    make(root / "allowed_signers")
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOq0nmBtdmMHX4eOPT5Y5ANeUmVJVT2tbtI6vqa0/abc"
    result = QmsRepo(root)("quinn", "keys", "add", "quinn@example.com", key, code=2)
    assert all(words in result.output for words in said), result.output
    assert "Traceback" not in result.output
    assert not (root / journal.JOURNAL).exists() and not (root / "records").exists()


def test_a_file_in_place_of_the_records_folder_is_refused_before_writing(tmp_path):
    root = reliability_repo(tmp_path / "qms")
    (root / "records").write_text("not a folder\n", encoding="utf-8")
    result = QmsRepo(root)("quinn", "approve", "SOP-001", "--role", "quality-manager", code=2)
    assert "records" in result.output and "Traceback" not in result.output
    assert not (root / journal.JOURNAL).exists()


def test_the_places_a_journal_may_write_follow_qms_toml(tree):
    """Defaults without qms.toml; a type's own folder and the signers file it names."""
    zone = journal.write_zone(tree)
    for allowed in ("records/SOP-001/x.yaml", "procedures/sop.rst", "manual/qm.md",
                    "qms.toml", "allowed_signers"):
        journal.check_allowed(tree, allowed, zone)
    (tree / "qms.toml").write_text('[types.sop]\nfolder = "sops/"\n'
                                   '[signatures]\nallowed_signers = "keys/signers"\n')
    zone = journal.write_zone(tree)
    for allowed in ("sops/a/sop-009.rst", "keys/signers", "procedures/wi-001.rst"):
        journal.check_allowed(tree, allowed, zone)
    (tree / "qms.toml").write_text('[types.sop]\nfolder = "sops/"\n'
                                   '[types.wi]\nfolder = "sops"\n'
                                   '[types.form]\nfolder = "forms"\n'
                                   '[signatures]\nallowed_signers = "keys/signers"\n')
    zone = journal.write_zone(tree)
    for refused in ("allowed_signers", "sops/sop.py", "procedures/sop.rst",
                    "records/SOP-001/x.yml", "records//x.yaml", "/etc/passwd", ".GIT/config",
                    "sops\\..\\conf.py"):
        with pytest.raises(journal.JournalRefused):
            journal.check_allowed(tree, refused, zone)


def test_a_repository_without_git_is_no_reason_to_refuse(tree, monkeypatch):
    """Outside git nothing is tracked: an interrupted act there is rolled forward."""
    assert journal.tracked_by_git(tree) is None
    with monkeypatch.context() as patch:
        _kill_on_call(patch, "replace_file")
        with pytest.raises(Killed):
            journal.commit(tree, _writes(tree), "revise")
    assert journal.recover_locked(tree) is True and _final(tree)


def test_where_git_cannot_answer_a_journal_is_not_rolled_forward(tmp_path, monkeypatch):
    """The tracked check fails closed: a repository whose index git cannot read."""
    root = reliability_repo(tmp_path / "qms")
    sop = root / "procedures" / "sop-001.rst"
    original = sop.read_bytes()
    with monkeypatch.context() as patch:
        _kill_on_call(patch, "replace_file")
        with pytest.raises(Killed):
            journal.commit(root, [journal.replacement(root, "procedures/sop-001.rst",
                                                      original + b"\nMore.\n")], "revise")
    index = root / ".git" / "index"
    saved = index.read_bytes()
    index.write_bytes(b"not an index")
    result = QmsRepo(root)("quinn", "status", code=2)
    assert "cannot ask git" in result.output and journal.JOURNAL in result.output
    assert sop.read_bytes() == original
    index.write_bytes(saved)
    QmsRepo(root)("quinn", "status")
    assert sop.read_bytes() == original + b"\nMore.\n"
