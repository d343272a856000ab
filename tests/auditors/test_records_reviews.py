"""Reviews are never hidden (issue 20, point 4): an open draft does not keep the revision in
force from its periodic review. Status, ``qms due``, ``verify --strict`` and the document
page give one answer, and ``qms review`` reviews the revision in force."""

from __future__ import annotations

import json

import yaml

from qms_docs.sphinxext.control_block import control_data
from qms_docs.workspace import Workspace
from tests.auditors import records_story
from tests.auditors.records_story import REVIEW_DUE, TODAY

OVERDUE_DAYS = -50  # from 2026-01-10 to 2026-03-01

story_template = records_story.story_template  # the fixtures of the story
story = records_story.story


def _findings(story, *args: str) -> tuple[int, list[dict]]:
    result = story("quinn", "verify", *args, "--format", "json", code=None)
    return result.exit_code, json.loads(result.stdout)["findings"]


def test_an_open_draft_does_not_hide_an_overdue_review(story):
    status = story.status("SOP-001")
    assert status["status"] == "draft" and status["revision"] == 2
    assert status["in_force"]["revision"] == 1
    assert status["review_overdue"] is True
    assert status["next_review"] == REVIEW_DUE.isoformat()
    table = story("quinn", "status").stdout
    assert "draft, review of revision 1 overdue" in table
    trace = json.loads(story("quinn", "trace", "--format", "json").stdout)
    cells = [c for row in trace["clauses"] for c in row["documents"] if c["id"] == "SOP-001"]
    assert cells and {(c["revision"], c["status"]) for c in cells} == {
        (1, "effective, review overdue")}  # the matrix shows the revision in force

    due = json.loads(story("quinn", "due", "--format", "json").stdout)
    assert [(r["id"], r["overdue"], r["revision"], r["days_left"]) for r in due] == [
        ("SOP-001", True, 1, OVERDUE_DAYS)]

    code, findings = _findings(story, "--strict")
    overdue = [f for f in findings if f["code"] == "review-overdue"]
    assert code == 1 and len(overdue) == 1 and overdue[0]["severity"] == "error"
    assert "SOP-001 revision 1 was due for periodic review on 2026-01-10" in overdue[0]["message"]
    assert "revision 2 is draft" in overdue[0]["message"]
    code, findings = _findings(story)
    assert code == 0 and [f["severity"] for f in findings
                          if f["code"] == "review-overdue"] == ["warning"]


def test_the_document_page_shows_the_review_due_of_the_revision_in_force(story):
    ws = Workspace(story.root)
    doc = ws.document("SOP-001")
    block = control_data(doc, ws.status(doc), ws.config)
    rows = {label: text for label, text, _ in block.rows}
    assert rows["Next review due"] == "2026-01-10 (overdue), of revision 1 (in force)"
    assert "Revision 1 (effective 2024-01-10) remains in force." in (block.banner or "")


def test_review_is_accepted_while_a_draft_is_open_and_applies_to_the_revision_in_force(story):
    in_force = story.status("SOP-001")["in_force"]
    story.git("checkout", "-q", "-b", "review")  # in a pull request, as in real life
    refused = story("olly", "review", "SOP-001", "--outcome", "Fine", code=1)
    assert "reviewed by a person holding quality-manager" in refused.output
    result = story("quinn", "review", "SOP-001", "--outcome", "Still right; r2 continues")
    assert "Reviewed SOP-001 revision 1 (revision 2 stays open)" in result.output
    records = list((story.root / "records" / "SOP-001").glob("*-review-*.yaml"))
    assert len(records) == 1
    record = yaml.safe_load(records[0].read_text())
    ws = Workspace(story.root)
    approved = ws.status(ws.document("SOP-001")).in_force
    assert approved is not None and in_force["revision"] == 1
    assert (record["revision"], record["fingerprint"]) == (1, approved.fingerprint)
    assert record["fingerprint"] != ws.document("SOP-001").fingerprint  # not the draft's
    story.commit("Periodic review of SOP-001", who="quinn")
    gate = story("quinn", "verify", "--base", "main", code=None)
    assert gate.exit_code == 0, gate.output  # the pull-request gate takes the review

    status = story.status("SOP-001")
    assert status["status"] == "draft" and status["review_overdue"] is False
    assert (status["last_review"], status["next_review"]) == (TODAY, "2028-03-01")
    assert json.loads(story("quinn", "due", "--format", "json").stdout) == []
    code, findings = _findings(story, "--strict")
    assert code == 0 and not [f for f in findings if f["code"] == "review-overdue"], findings
    log = json.loads(story("quinn", "changes", "--since", TODAY, "--format", "json").stdout)
    assert [(e["kind"], e["revision"]) for e in log] == [("review", 1)]


def test_review_of_a_document_never_in_force_is_refused(story):
    story.root.joinpath("procedures", "sop-003.rst").write_text(
        ".. sop:: Brand new\n   :id: SOP-003\n   :revision: 1\n   :owner: quality-manager\n\n"
        "Text.\n")
    story.commit("SOP-003 drafted")
    result = story("quinn", "review", "SOP-003", "--outcome", "Fine", code=1)
    assert "SOP-003 is draft and no revision of it is in force" in result.output
    assert not (story.root / "records" / "SOP-003").exists()
