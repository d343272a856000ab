"""A small scripted history of two years, made once per test module, for the auditors'
record questions (training, reviews, retirements, the change log).

- 2024-01-05 the QMS (tests/roots/basic, with Ash and Olly) is committed; SOP-001's
  audience is the operators.
- 2024-01-10 SOP-001 and SOP-002 are approved and in force.
- 2024-01-15 Pat trains Olly on SOP-001 (briefing, with a note), on a branch merged with a
  co-author trailer.
- 2025-06-01 Ash opens revision 2 of SOP-001 (a draft, never approved).
- 2025-09-01 Quinn retires SOP-002, superseded by SOP-001.
- 2025-10-01 an empty commit (nothing changed).

SOP-001's periodic review (24 months for SOPs) fell due on 2024-01-10 + 24 months =
2026-01-10, while the draft of revision 2 is open.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.helpers import PEOPLE, QmsRepo, copy_repo, new_repo

TODAY = "2026-03-01"
REVIEW_DUE = dt.date(2026, 1, 10)


def build(root: Path) -> None:
    """Write the story into ``root`` (a new folder)."""
    with pytest.MonkeyPatch.context() as patch:
        repo = QmsRepo(root, CliRunner(), patch).at("2024-01-05")
        new_repo(root, people=("ash", "olly"), when=repo.when)
        sop = root / "procedures" / "sop-001.rst"
        sop.write_text(sop.read_text().replace("   :owner:", "   :audience: operator\n"
                                               "   :owner:"))
        repo.commit("SOP-001 concerns the operators")
        repo.at("2024-01-10")
        repo("quinn", "approve", "SOP-001", "--role", "quality-manager")
        repo("quinn", "approve", "SOP-002", "--role", "quality-manager")
        repo.commit("Approve SOP-001 and SOP-002", who="quinn")
        repo("pat", "approve", "SOP-002", "--role", "production-manager")
        repo.commit("Approve SOP-002", who="pat")
        repo.at("2024-01-15")
        repo.git("checkout", "-q", "-b", "training")
        repo("pat", "train", "SOP-001", "--person", PEOPLE["olly"].email,
             "--method", "briefing", "--note", "Shift B walkthrough")
        repo.commit("Olly trained on SOP-001", who="pat")
        repo.git("checkout", "-q", "main")
        repo.git("merge", "-q", "--no-ff", "training", "-m",
                 "Merge training\n\nCo-authored-by: Olly Operator <olly@example.com>",
                 who="pat")
        repo.at("2025-06-01")
        repo("ash", "revise", "SOP-001", "--reason", "Clarify retention",
             "--summary", "Retention periods named")
        sop.write_text(sop.read_text() + "\nRecords are kept for ten years.\n")
        repo.commit("SOP-001 revision 2 (draft)")
        repo.at("2025-09-01")
        repo("quinn", "retire", "SOP-002", "--reason", "Merged into SOP-001",
             "--superseded-by", "SOP-001", "--yes")
        repo.commit("Retire SOP-002", who="quinn")
        repo.at("2025-10-01")
        repo.git("commit", "-q", "--allow-empty", "-m", "Nothing changed")


@pytest.fixture(scope="module")
def story_template(tmp_path_factory) -> Path:
    """The story, written once per test session (the modules that use it share it; each
    test works on a copy)."""
    root = tmp_path_factory.getbasetemp() / "records-story" / "qms"
    if not (root / ".git").is_dir():
        build(root)
    return root


@pytest.fixture
def story(story_template, tmp_path, runner, monkeypatch) -> QmsRepo:
    """A copy of the story for one test, its clock on :data:`TODAY`."""
    return QmsRepo(copy_repo(story_template, tmp_path / "qms"), runner, monkeypatch).at(TODAY)
