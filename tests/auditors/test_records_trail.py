"""The auditors' trail of records on the command line (issue 20, point 3): training with
method, trainer, date and note; the change log with training, reviews and retirements;
retirement date, reason and successor in ``qms status``, ``qms history`` and on the
obsolete page; and the xlsx exports an auditor takes away (point 9)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from openpyxl import load_workbook

from qms_docs.reports.export import DATE_FORMAT, DATETIME_FORMAT, HEADER_ROW
from qms_docs.sphinxext.control_block import control_data
from qms_docs.workspace import Workspace
from tests.auditors import records_story
from tests.auditors.records_story import TODAY
from tests.helpers import REPO, run_qms, sphinx_build

RETIRED = ("retired on 2025-09-01 by Quinn Quality: Merged into SOP-001; superseded by "
           "SOP-001")

story_template = records_story.story_template  # the fixtures of the story
story = records_story.story


def test_training_shows_method_trainer_date_and_note(story, tmp_path):
    rows = json.loads(story("quinn", "training", "--format", "json").stdout)
    assert rows == [{"person": "Olly Operator", "email": "olly@example.com",
                     "document": "SOP-001", "state": "trained", "revision": 1, "due": "",
                     "trained_on": "2024-01-15", "method": "briefing",
                     "trainer": "Pat Production", "note": "Shift B walkthrough"}]
    table = story("quinn", "training").stdout
    assert "briefing  Pat Production  Shift B walkthrough" in table

    out = tmp_path / "training.xlsx"
    story("quinn", "training", "--format", "xlsx", "-o", str(out))
    sheet = load_workbook(out).active
    values = list(sheet.iter_rows(values_only=True))
    headers = values[HEADER_ROW - 1]
    row = dict(zip(headers, values[HEADER_ROW], strict=True))
    assert (row["Method"], row["Trainer"], row["Note"]) == ("briefing", "Pat Production",
                                                            "Shift B walkthrough")
    assert row["Trained on"] == dt.datetime(2024, 1, 15)  # a date, not text
    trained_on = sheet.cell(HEADER_ROW + 1, headers.index("Trained on") + 1)
    assert trained_on.is_date and trained_on.number_format == DATE_FORMAT


def test_xlsx_names_organization_as_of_and_export_time_and_prints_landscape(story, tmp_path):
    out = tmp_path / "changes.xlsx"
    story("quinn", "changes", "--format", "xlsx", "-o", str(out))
    book = load_workbook(out)
    sheet = book.active
    assert [sheet.cell(r, 1).value for r in range(1, 5)] == [
        "Scenario Ltd", "Change log", "As of", "Exported"]
    assert sheet["B3"].value == dt.datetime(2026, 3, 1)  # the day it shows: today here
    assert sheet["B4"].value == dt.datetime(2026, 3, 1, 10, 0)  # the scripted clock, UTC
    assert sheet["B4"].number_format == DATETIME_FORMAT
    assert book.properties.creator == "Scenario Ltd"
    assert book.properties.title == "Change log as of 2026-03-01"
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.print_title_rows == f"${HEADER_ROW}:${HEADER_ROW}"  # read back absolute
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToWidth == 1
    assert sheet.freeze_panes == f"A{HEADER_ROW + 1}"
    assert "Scenario Ltd: Change log, as of 2026-03-01" in sheet.oddFooter.center.text
    headers = [c.value for c in sheet[HEADER_ROW]]
    assert headers[:3] == ["Date", "Kind", "Document"]
    first = sheet.cell(HEADER_ROW + 1, 1)
    assert first.value == dt.datetime(2024, 1, 10, 10, 0) and first.is_date


def test_change_log_lists_training_reviews_and_retirements_with_reason_and_successor(story):
    log = json.loads(story("quinn", "changes", "--since", "2024-01-01", "--format",
                           "json").stdout)
    kinds = [e["kind"] for e in log]
    assert kinds == ["approval", "approval", "approval", "training", "change", "retirement"]
    training = log[3]
    assert training["person"] == "Olly Operator <olly@example.com>"
    assert training["detail"] == "trained (briefing) by Pat Production: Shift B walkthrough"
    retirement = log[-1]
    assert retirement["detail"] == "retired: Merged into SOP-001 (superseded by SOP-001)"
    assert retirement["date"].startswith("2025-09-01")
    only = json.loads(story("quinn", "changes", "--since", "2024-01-12", "--until",
                            "2024-01-31", "--format", "json").stdout)
    assert [e["kind"] for e in only] == ["training"]


def test_changes_refuses_since_after_until(story):
    result = story("quinn", "changes", "--since", "2026-01-01", "--until", "2025-01-01",
                   code=2)
    assert "--since 2026-01-01 is after --until 2025-01-01" in result.output
    assert "swap the two dates" in result.output and "Traceback" not in result.output
    assert result.stdout == ""


def test_status_history_and_the_obsolete_page_say_when_why_and_what_replaces_it(story):
    status = story.status("SOP-002")
    assert status["status"] == "obsolete"
    assert {k: status["retirement"][k] for k in ("date", "reason", "superseded_by", "name")
            } == {"date": "2025-09-01", "reason": "Merged into SOP-001",
                  "superseded_by": "SOP-001", "name": "Quinn Quality"}
    assert story.status("SOP-001")["retirement"] is None
    table = story("quinn", "status").stdout
    assert "Retirement" in table.splitlines()[0] and RETIRED in table

    history = json.loads(story("quinn", "history", "SOP-002", "--format", "json").stdout)
    assert history["retirement"]["date"] == "2025-09-01"
    assert history["retirement"]["superseded_by"] == "SOP-001"
    assert history["revisions"][0]["effective_until"] == "2025-09-01"
    text = story("quinn", "history", "SOP-002").stdout
    assert f"SOP-002 is obsolete: {RETIRED} (records/SOP-002/" in text

    ws = Workspace(story.root)
    doc = ws.document("SOP-002")
    block = control_data(doc, ws.status(doc), ws.config)
    rows = {label: text for label, text, _ in block.rows}
    assert rows["Retired"] == "2025-09-01 by Quinn Quality"
    assert rows["Reason"] == "Merged into SOP-001"
    assert rows["Superseded by"] == "SOP-001"
    assert block.banner is not None and block.banner.startswith("OBSOLETE")
    assert "Retired on 2025-09-01; use SOP-001 instead." in block.banner
    assert "Superseded by" in block.html() and "Merged into SOP-001" in block.html()


def test_as_of_in_an_xlsx_is_the_day_the_report_shows(story, tmp_path):
    """Reports that answer for today say so; the day comes from the clock qms reads."""
    out = tmp_path / "due.xlsx"
    story.at("2026-04-02")("quinn", "due", "--format", "xlsx", "-o", str(out))
    sheet = load_workbook(out).active
    assert sheet["B3"].value == dt.datetime(2026, 4, 2)
    assert TODAY != "2026-04-02"


@pytest.mark.sphinx
def test_the_site_shows_the_retirement_and_the_review_due_behind_a_draft(story):
    """The real build: the obsolete page says when, why and what replaces it; the draft's
    page still shows the review due of the revision in force (the build's clock is the
    real one, after the story's end: both facts hold then too)."""
    result = sphinx_build(story.root)
    assert result.returncode == 0, result.warnings
    obsolete = (result.outdir / "procedures" / "sop-002.html").read_text(encoding="utf-8")
    for text in ("Retired on 2025-09-01; use SOP-001 instead.", "<strong>Superseded by</strong>",
                 "Merged into SOP-001", "2025-09-01 by Quinn Quality"):
        assert text in obsolete, text
    draft = (result.outdir / "procedures" / "sop-001.html").read_text(encoding="utf-8")
    assert "<strong>Next review due</strong>" in draft
    assert "2026-01-10 (overdue), of revision 1 (in force)" in draft


def test_the_example_qms_answers_who_was_trained_how_and_by_whom(runner):
    """On the example QMS: every trained cell names its date, method and trainer, and the
    change log holds the same training records."""
    rows = json.loads(run_qms(runner, ["--repo", str(REPO), "training", "--format",
                                       "json"]).stdout)
    trained = [r for r in rows if r["state"] == "trained"]
    assert trained and all(r["trained_on"] and r["method"] in ("read", "briefing",
                                                               "on-the-job") and r["trainer"]
                           for r in trained)
    log = json.loads(run_qms(runner, ["--repo", str(REPO), "changes", "--format",
                                      "json"]).stdout)
    training = [e for e in log if e["kind"] == "training"]
    assert training and all(e["detail"].startswith("trained (") for e in training)
    assert {(r["email"], r["document"]) for r in trained} <= {
        (e["person"].split("<")[1].rstrip(">"), e["document"]) for e in training}
