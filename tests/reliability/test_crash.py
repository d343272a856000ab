"""Guarantee 2, crash safety: the real ``qms new``, ``revise``, ``approve``, ``review`` and
``retire``, killed with SIGKILL at random moments, never leave a partial or empty record or
document file, and, observed through any qms command, leave the repository exactly as before
or as after the command.

Two ways of choosing the moment. A tracer in the child process counts the lines of qms_docs
it executes and sends itself SIGKILL at a drawn line (just before and after each file the
journal writes, then random lines, half of them in the part of the run that writes files);
and the parent kills the child after a drawn wall-clock delay (interpreter start, imports
and git calls included).

After each kill the raw tree is checked first: every visible file complete and valid, hidden
files only qms's ``.tmp-*`` files and a complete journal (``.qms-journal.json``). Then one
read command (``qms status``) runs, which completes an interrupted act from the journal,
and the tree must be the one before or the one after, with nothing hidden left. A second
set of trials kills that recovery itself at random moments: the next command completes it.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from qms_docs.config import load_config
from qms_docs.documents import scan
from qms_docs.journal import JOURNAL
from qms_docs.records import load_records
from tests.helpers import THOROUGH, QmsRepo, counters, examples, git, hidden, snapshot, visible
from tests.reliability.support import PEOPLE, approved_repo, revise_sop_001

TRACER = r"""
import os, signal, sys
target = int(sys.argv[1])
import qms_docs
from qms_docs.cli import main
package = os.path.dirname(qms_docs.__file__)
WRITERS = {"commit", "create_file", "replace_file", "_roll_forward", "_remove_temporaries",
           "_finish", "recover_locked"}
count, writing, returns = 0, -1, []

def local(frame, event, arg):
    global count
    if event == "line":
        count += 1
        if count == target:
            os.kill(os.getpid(), signal.SIGKILL)
    elif event == "return" and frame.f_code.co_name in WRITERS:
        returns.append(count)
    return local

def tracer(frame, event, arg):
    global writing
    if frame.f_code.co_filename.startswith(package):
        if writing < 0 and frame.f_code.co_name in WRITERS:
            writing = count
        return local
    return None

sys.settrace(tracer)
code = main(sys.argv[2:])
sys.settrace(None)
sys.stderr.write(f"\nQMS-TRACE {count} {writing} {','.join(map(str, returns))}\n")
sys.exit(code)
"""

COMMANDS = {  # name -> (person, arguments)
    "new": ("ash", ["new", "sop", "Crash Test", "--owner", "production-manager"]),
    "revise": ("ash", ["revise", "SOP-002", "--reason", "Crash test"]),
    "approve": ("quinn", ["approve", "SOP-001", "--role", "quality-manager"]),
    "review": ("quinn", ["review", "SOP-002", "--outcome", "Still right"]),
    "retire": ("quinn", ["retire", "SOP-002", "--reason", "Crash test", "--yes"]),
    "status": ("quinn", ["status"]),
}
KIND = {"new": "change", "revise": "change", "approve": "approval", "review": "review",
        "retire": "retirement"}
TEMP = re.compile(r"\.tmp-[0-9a-f]{16}")
IN_PROCESS = threading.Lock()


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """SOP-002 effective at revision 2; SOP-001 revised by Ash to a committed draft."""
    root = approved_repo(tmp_path_factory.mktemp("crash") / "qms")
    act = QmsRepo(root)
    revise_sop_001(act, root)
    act.commit("SOP-001 revision 2", who="ash")
    return root


def _child(root: Path, command: str, target: int) -> subprocess.Popen:
    who, args = COMMANDS[command]
    git(root, "config", "user.email", PEOPLE[who].email)
    return subprocess.Popen([sys.executable, "-c", TRACER, str(target), "--repo", str(root),
                             *args], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _fresh(template: Path, scratch: Path) -> Path:
    root = Path(tempfile.mkdtemp(dir=scratch)) / "qms"
    shutil.copytree(template, root, symlinks=True)
    return root


def _calibrate(template: Path, scratch: Path, command: str):
    """Lines executed, the line where writing starts, the lines where each file writer
    returns, and the time of a (traced) run."""
    root = _fresh(template, scratch)
    started = time.monotonic()
    child = _child(root, command, -1)
    _, err = child.communicate(timeout=120)
    seconds = time.monotonic() - started
    assert child.returncode == 0, err
    found = re.search(r"QMS-TRACE (\d+) (-?\d+) ([\d,]*)", err)
    count, writing = int(found.group(1)), int(found.group(2))
    returns = sorted({int(n) for n in found.group(3).split(",") if n})
    assert 0 < writing < count and returns
    return count, writing, returns, seconds


def _check_raw(root: Path) -> bool:
    """The tree a kill left, before any qms command ran: no partial or empty file, hidden
    files only qms's temporary files and a complete journal. True if a journal is there."""
    after = snapshot(root)
    for name in hidden(after):
        assert TEMP.fullmatch(Path(name).name), f"unexpected hidden file {name}"
    files = visible(after)
    assert all(files.values()), "an empty file"
    config = load_config(root)
    documents, records = scan(root, config), load_records(root)
    assert not documents.findings and not records.findings, (documents.findings,
                                                             records.findings)
    for name in (p.name for p in root.iterdir() if p.name.startswith(".")):
        assert name in (".git", ".gitignore", JOURNAL) or TEMP.fullmatch(name), name
    journal = root / JOURNAL
    if journal.exists():
        data = json.loads(journal.read_bytes())  # complete: it was written atomically
        assert data["writes"], data
        return True
    return False


def _classify(root: Path, before: dict[str, bytes], command: str) -> str:
    """'before' or 'after', as a qms command sees the tree; fails on anything else."""
    after = snapshot(root)
    assert not hidden(after), sorted(hidden(after))
    assert not [p.name for p in root.iterdir() if p.name == JOURNAL or TEMP.fullmatch(p.name)]
    config = load_config(root)
    documents = scan(root, config)
    records = load_records(root)
    assert not documents.findings and not records.findings, (documents.findings,
                                                             records.findings)
    files = visible(after)
    assert all(files.values()), "an empty file"
    old = visible(before)
    added = sorted(set(files) - set(old))
    removed = sorted(set(old) - set(files))
    changed = sorted(p for p in set(files) & set(old) if files[p] != old[p])
    assert not removed, removed
    if not added and not changed:
        return "before"
    new_records = [r for r in records.records if r.path in added]
    added_docs = [p for p in added if not p.startswith("records/")]
    assert len(new_records) == len([p for p in added if p.startswith("records/")])
    assert len(new_records) == 1 and new_records[0].kind == KIND[command], new_records
    record = new_records[0]
    if command in ("approve", "review", "retire"):
        assert not changed and not added_docs
    elif command == "revise":
        assert not added_docs
        assert (record.data["from_revision"], record.data["to_revision"]) == (2, 3)
        assert changed == ["procedures/sop-002.rst"], changed
        assert files[changed[0]] == old[changed[0]].replace(b":revision: 2", b":revision: 3")
    else:  # new
        assert not changed and len(added_docs) == 1
        doc = next(d for d in documents.documents if d.path == added_docs[0])
        assert (doc.id, doc.revision, doc.title) == ("SOP-003", 1, "Crash Test")
        assert record.document == "SOP-003"
        assert (record.data["from_revision"], record.data["to_revision"]) == (0, 1)
    return "after"


def _read_command(root: Path) -> None:
    """One qms read command, as a person would run next (it recovers first)."""
    with IN_PROCESS:  # click's runner swaps sys.stdout: one at a time
        result = QmsRepo(root)("quinn", "status", code=None)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and "warning" not in result.output, result.output


def _plan(calibration, random_trials: int, seed: str) -> list[tuple[str, float]]:
    """The kill moments: just before and just after each file writer returns (the windows
    between two writes), then ``random_trials`` random lines (half of them where files are
    written) and random wall-clock delays."""
    count, writing, returns, seconds = calibration
    plan = [("line", n + delta) for n in returns for delta in (0, 1)]
    rng = random.Random(seed)
    trials = len(plan) + random_trials
    while len(plan) < trials:
        if rng.random() < 2 / 3:
            low = writing if rng.random() < 0.5 else 1
            plan.append(("line", rng.randint(low, count)))
        else:
            plan.append(("clock", rng.uniform(0, seconds * 1.3)))
    return plan


def _kill(root: Path, command: str, moment: tuple[str, float]) -> tuple[bool, str]:
    """Run the command and kill it at the moment; (killed, stderr)."""
    how, when = moment
    if how == "line":
        child = _child(root, command, int(when))
    else:
        child = _child(root, command, -1)
        time.sleep(when)
        child.send_signal(signal.SIGKILL)
    _, err = child.communicate(timeout=120)
    killed = child.returncode == -signal.SIGKILL
    if not killed:
        assert child.returncode == 0, err
    return killed, err


def _trial(template: Path, scratch: Path, command: str, moment: tuple[str, float]) -> str:
    root = _fresh(template, scratch)
    before = snapshot(root)
    try:
        killed, _ = _kill(root, command, moment)
        journal = _check_raw(root)
        leftovers = len(hidden(snapshot(root)))
        _read_command(root)
        state = _classify(root, before, command)
        if not killed:
            assert state == "after" and not journal, state
        if journal:
            assert state == "after", "a journal is written only once the act is decided"
            state = "after (recovered)"
        return f"{moment[0]}|{'killed' if killed else 'completed'}|{state}|{leftovers}"
    finally:
        shutil.rmtree(root.parent, ignore_errors=True)


@pytest.mark.parametrize("command", sorted(KIND))
def test_sigkill_at_random_moments_leaves_before_or_after(template, tmp_path, command):
    calibration = _calibrate(template, tmp_path, command)
    seed = f"{command}-{time.time() if THOROUGH else 0}"
    plan = _plan(calibration, examples(4, 200), seed)
    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(lambda m: _trial(template, tmp_path, command, m), plan))
    counts = counters(f"crash {command}")
    counts["lines_per_run"] = calibration[0]
    for outcome in outcomes:
        how, fate, state, leftovers = outcome.split("|")
        counts["trials"] += 1
        counts[f"at a {how}"] += 1
        counts[fate] += 1
        counts[state] += 1
        counts["temporary files left"] += int(leftovers)
    assert counts["trials"] == len(plan)
    assert counts["before"] + counts["after"] + counts["after (recovered)"] == len(plan)


@pytest.fixture(scope="module")
def interrupted(template, tmp_path_factory) -> Path:
    """The template with a qms revise killed right after its journal was written: both
    files still to write."""
    scratch = tmp_path_factory.mktemp("interrupted")
    count, writing, returns, _ = _calibrate(template, scratch, "revise")
    for line in returns:  # the first writer to return is create_file, with the journal
        root = _fresh(template, scratch)
        killed, _ = _kill(root, "revise", ("line", line + 1))
        if killed and (root / JOURNAL).exists() and len(visible(snapshot(root))) == len(
                visible(snapshot(template))):
            return root
        shutil.rmtree(root.parent)
    raise AssertionError("no kill left the journal with nothing written yet")


def test_a_recovery_killed_at_random_moments_is_completed_by_the_next_command(
        template, interrupted, tmp_path):
    """Roll-forward is idempotent: qms status, killed while it completes an interrupted
    revise, leaves a tree the next qms command completes to exactly 'after'."""
    before = snapshot(template)
    calibration = _calibrate(interrupted, tmp_path, "status")
    plan = _plan(calibration, examples(4, 100), f"recovery-{time.time() if THOROUGH else 0}")
    counts = counters("crash recovery")
    counts["lines_per_run"] = calibration[0]
    for moment in plan:
        root = _fresh(interrupted, tmp_path)
        try:
            killed, _ = _kill(root, "status", moment)
            journal = _check_raw(root)
            _read_command(root)
            assert _classify(root, before, "revise") == "after"
            counts["trials"] += 1
            counts["killed" if killed else "completed"] += 1
            counts["journal left for the next command" if journal else "recovered"] += 1
        finally:
            shutil.rmtree(root.parent, ignore_errors=True)
    assert counts["trials"] == len(plan)
