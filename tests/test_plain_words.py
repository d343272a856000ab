"""Plain words: counts agree with their noun, an empty report says so in a sentence (table
format; csv and json stay machine-readable), the [missing-id] hint offers an id that is
really free."""

from __future__ import annotations

import json

import pytest

from tests.helpers import QmsRepo, new_repo


@pytest.fixture
def qms(runner, tmp_path) -> QmsRepo:
    return QmsRepo(new_repo(tmp_path / "qms"), runner)


def test_counts_agree_with_their_noun(qms):
    result = qms("quinn", "check")
    assert "2 documents checked: 0 errors, 0 warnings." in result.output
    (qms.root / "procedures" / "sop-002.rst").unlink()
    result = qms("quinn", "check")
    assert "1 document checked: 0 errors, 0 warnings." in result.output
    assert "(s)" not in result.output


def test_empty_reports_say_so(qms):
    result = qms("quinn", "changes", "--since", "2026-11-23", "--until", "2026-11-30")
    assert result.stdout == "No changes between 2026-11-23 and 2026-11-30.\n"
    assert qms("quinn", "changes", "--since", "2026-11-23", "--until", "2026-11-30",
               "--format", "csv").stdout.count("\n") == 1  # the header row only
    data = json.loads(qms("quinn", "changes", "--since", "2026-11-23", "--until",
                          "2026-11-30", "--format", "json").stdout)
    assert data == []
    assert qms("quinn", "due", "--within", "1").stdout == (
        "No reviews due within 1 day, and none overdue.\n")
    assert qms("quinn", "training").stdout == "No training to show.\n"
    out = qms.root.parent / "changes.txt"
    qms("quinn", "changes", "--since", "2026-11-23", "--until", "2026-11-30", "-o", str(out))
    assert out.read_text() == "No changes between 2026-11-23 and 2026-11-30.\n"


def test_missing_id_hint_offers_a_free_id(qms):
    sop = qms.root / "procedures" / "sop-002.rst"
    for name in ("sop-009.rst", "sop-010.rst"):
        (qms.root / "procedures" / name).write_text(
            sop.read_text().replace("   :id: SOP-002\n", ""))
    result = qms("quinn", "check", code=1)
    hints = [line for line in result.output.splitlines() if "add ':id:" in line]
    assert hints == ["  hint: add ':id: SOP-003' (the next free id of its type)",
                     "  hint: add ':id: SOP-004' (the next free id of its type)"]


def test_missing_id_hint_skips_ids_whose_records_remain(qms):
    """SOP-003 was deleted but its records remain: qms new skips it, and so does the hint."""
    (qms.root / "records" / "SOP-003").mkdir(parents=True)
    sop = qms.root / "procedures" / "sop-002.rst"
    (qms.root / "procedures" / "sop-009.rst").write_text(
        sop.read_text().replace("   :id: SOP-002\n", ""))
    result = qms("quinn", "check", code=1)
    assert "  hint: add ':id: SOP-004' (the next free id of its type)" in result.output
