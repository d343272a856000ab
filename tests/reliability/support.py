"""The repositories the reliability tests (tests/reliability/test_*.py) start from. No tests
here; git, people, snapshots and counters are in tests/helpers.py.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import PEOPLE, QmsRepo, new_repo

#: everyone a reliability repository lists (the basic root lists Quinn and Pat)
ACTORS = ("quinn", "pat", "ash", "dana", "tom")
PEOPLE = {short: PEOPLE[short] for short in ACTORS}


def reliability_repo(root: Path) -> Path:
    """The basic scenario with Ash, Dana (both manager roles) and Tom (top management),
    committed, in a new git repository."""
    return new_repo(root, people=("ash", "dana", "tom"))


def approved_repo(root: Path) -> Path:
    """SOP-001 effective at revision 1 (approved by Quinn); SOP-002 effective at revision 2
    (revision 1 and 2 each approved by Quinn and Pat, revision 2 written by Ash); all
    committed; qms verify passes."""
    reliability_repo(root)
    act = QmsRepo(root)
    act("quinn", "approve", "SOP-001", "--role", "quality-manager")
    act("quinn", "approve", "SOP-002", "--role", "quality-manager")
    act.commit("Approve SOP-001 and SOP-002", who="quinn")  # each commits their own records
    act("pat", "approve", "SOP-002", "--role", "production-manager")
    act.commit("Approve SOP-002", who="pat")
    act("ash", "revise", "SOP-002", "--reason", "New planning board", "--summary", "Step 2")
    path = root / "procedures" / "sop-002.rst"
    path.write_bytes(path.read_bytes() + b"\nThe planning board is updated daily.\n")
    act.commit("SOP-002 revision 2", who="ash")
    act("quinn", "approve", "SOP-002", "--role", "quality-manager")
    act.commit("Approve SOP-002 revision 2", who="quinn")
    act("pat", "approve", "SOP-002", "--role", "production-manager")
    act.commit("Approve SOP-002 revision 2", who="pat")
    result = act("quinn", "verify", "--format", "json")
    assert json.loads(result.stdout)["errors"] == 0, result.output
    return root


def revise_sop_001(act: QmsRepo, root: Path) -> None:
    """Ash revises SOP-001 to revision 2 and edits its text (not committed)."""
    act("ash", "revise", "SOP-001", "--reason", "Clearer")
    path = root / "procedures" / "sop-001.rst"
    path.write_bytes(path.read_bytes() + b"\nA clearer text.\n")


def change_policy(act: QmsRepo, reason: str = "Change the policy", author: str = "ash") -> None:
    """Commit the working tree's qms.toml (and frame) and put it in force: a policy revision
    opened by ``author``, approved by the quality manager (Quinn) and top management (Tom),
    the [policy] approvers of this QMS."""
    act.change_policy(reason, author, approvers=(("quinn", "quality-manager"),
                                                 ("tom", "top-management")))
