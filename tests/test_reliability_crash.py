"""Guarantee 2, crash safety: the real ``qms new``, ``revise``, ``approve``, ``review`` and
``retire``, killed with SIGKILL at random moments, never leave a partial or empty record or
document file, and leave the repository as before or as after the command.

Two ways of choosing the moment. A tracer in the child process counts the lines of qms_docs
it executes and sends itself SIGKILL at a drawn line (half of the draws fall in the part of
the run that writes files, where a crash matters); and the parent kills the child after a
drawn wall-clock delay (interpreter start, imports and git calls included).

``qms revise`` writes two files, the change record then the header; ``qms new`` the document
then its change record. A kill between the two leaves an interrupted state that is
accepted only as follows, and checked each time it occurs: for revise, the change record of
a revision the header does not show yet, which ``qms verify`` reports
(``revision-behind-records``) and which running ``qms revise`` again completes with that
record; for new, a complete draft document at revision 1 without its change record, which
``qms check`` and ``qms verify`` accept (a draft, like any adopted document).
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
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from qms_docs.config import load_config
from qms_docs.documents import scan
from qms_docs.records import load_records
from test_reliability_support import (PEOPLE, THOROUGH, Actor, approved_repo, examples, git,
                                      hidden, report, snapshot, visible)

TRACER = r"""
import os, signal, sys
target = int(sys.argv[1])
import qms_docs
from qms_docs.cli import main
package = os.path.dirname(qms_docs.__file__)
WRITERS = {"write_record", "_write_new_file", "_replace_file", "new_document"}
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
}
KIND = {"new": "change", "revise": "change", "approve": "approval", "review": "review",
        "retire": "retirement"}
TEMP = re.compile(r"\.tmp-[0-9a-f]{16}")
IN_PROCESS = threading.Lock()


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """SOP-002 effective at revision 2; SOP-001 revised by Ash to a committed draft."""
    root = approved_repo(tmp_path_factory.mktemp("crash") / "qms")
    act = Actor(root)
    act("ash", "revise", "SOP-001", "--reason", "Clearer")
    path = root / "procedures" / "sop-001.rst"
    path.write_bytes(path.read_bytes() + b"\nA clearer text.\n")
    act.commit("SOP-001 revision 2", who="ash")
    return root


def _child(root: Path, command: str, target: int) -> subprocess.Popen:
    who, args = COMMANDS[command]
    git(root, "config", "user.email", PEOPLE[who][1])
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


def _classify(root: Path, before: dict[str, bytes], command: str) -> str:
    """'before', 'after' or an accepted interrupted state; fails on anything else."""
    after = snapshot(root)
    for name in hidden(after):
        assert TEMP.fullmatch(Path(name).name), f"unexpected hidden file {name}"
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
    assert all(r.kind == KIND[command] for r in new_records), new_records
    if command in ("approve", "review", "retire"):
        assert len(new_records) == 1 and not changed and not added_docs
        return "after"
    if command == "revise":
        assert not added_docs and len(new_records) == 1
        record = new_records[0]
        assert (record.data["from_revision"], record.data["to_revision"]) == (2, 3)
        if not changed:
            return "interrupted: change record written, header not yet"
        assert changed == ["procedures/sop-002.rst"]
        assert files[changed[0]] == old[changed[0]].replace(b":revision: 2", b":revision: 3")
        return "after"
    # new
    assert not changed and len(added_docs) == 1 and len(new_records) <= 1
    doc = next(d for d in documents.documents if d.path == added_docs[0])
    assert (doc.id, doc.revision, doc.title) == ("SOP-003", 1, "Crash Test")
    if not new_records:
        return "interrupted: document written, change record not yet"
    assert new_records[0].document == "SOP-003"
    return "after"


def _check_interrupted(root: Path, command: str, state: str) -> None:
    """An interrupted state is consistent, reported where it must be, and recoverable."""
    act = Actor(root)
    result = act("quinn", "verify", "--format", "json", code=None)
    codes = {f["code"] for f in json.loads(result.stdout)["findings"]
             if f["severity"] == "error"}
    if command == "revise":
        assert codes == {"revision-behind-records"}, codes
        act("ash", "revise", "SOP-002", "--reason", "Crash test")  # completes it
        assert len(list((root / "records" / "SOP-002").glob("*change*.yaml"))) == 2
        assert b":revision: 3" in (root / "procedures" / "sop-002.rst").read_bytes()
    else:
        assert not codes, codes
        act("quinn", "check")
    act("quinn", "status")


def _plan(calibration, trials: int, seed: str) -> list[tuple[str, float]]:
    """The kill moments: just before and just after each file writer returns (the windows
    between two writes), then random lines (half of them where files are written) and
    random wall-clock delays."""
    count, writing, returns, seconds = calibration
    plan = [("line", n + delta) for n in returns for delta in (0, 1)]
    rng = random.Random(seed)
    while len(plan) < trials:
        if rng.random() < 2 / 3:
            low = writing if rng.random() < 0.5 else 1
            plan.append(("line", rng.randint(low, count)))
        else:
            plan.append(("clock", rng.uniform(0, seconds * 1.3)))
    return plan


def _trial(template: Path, scratch: Path, command: str, moment: tuple[str, float]) -> str:
    how, when = moment
    root = _fresh(template, scratch)
    before = snapshot(root)
    try:
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
        state = _classify(root, before, command)
        if not killed:
            assert state == "after", state
        if state.startswith("interrupted"):
            with IN_PROCESS:  # click's runner swaps sys.stdout: one at a time
                _check_interrupted(root, command, state)
        leftovers = len(hidden(snapshot(root)))
        return f"{how}|{'killed' if killed else 'completed'}|{state}|{leftovers}"
    finally:
        shutil.rmtree(root.parent, ignore_errors=True)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_sigkill_at_random_moments_leaves_before_or_after(template, tmp_path, command):
    calibration = _calibrate(template, tmp_path, command)
    seed = f"{command}-{time.time() if THOROUGH else 0}"
    plan = _plan(calibration, examples(8, 200), seed)
    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(lambda m: _trial(template, tmp_path, command, m), plan))
    counts = Counter()
    for outcome in outcomes:
        how, fate, state, leftovers = outcome.split("|")
        counts["trials"] += 1
        counts[fate] += 1
        counts[state] += 1
        counts["temporary files left"] += int(leftovers)
    report(f"crash {command}", lines_per_run=calibration[0], **counts)
    assert counts["trials"] == len(plan)
