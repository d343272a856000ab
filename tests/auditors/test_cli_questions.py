"""The auditor's questions of issue 20 (trace by clause and date, diff, retained records,
the audit pack), each answered by one command, on the example QMS and on a repository
with two years of scripted history (tests/auditors/conftest.py). No Sphinx: the audit
packs asked for here hold no document PDF, or skip the PDF step where only their tables
are compared."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import zipfile

import pytest
from click.testing import CliRunner

from tests.auditors.conftest import DAYS, TEXTS
from tests.helpers import NEEDS_SSH_KEYGEN, REPO, copy_repo, git, keygen, run_qms


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


def qms(runner, root, *args, code=0):
    result = run_qms(runner, ["--repo", str(root), *args])
    assert result.exit_code == code, (args, result.output)
    return result


def as_json(runner, root, *args, code=0):
    return json.loads(qms(runner, root, *args, "--format", "json", code=code).stdout)


# --- "Which documents covered 8.4, and were they in force on 12 June last year?" ----------

def test_clause_on_the_day_of_the_last_audit(runner, history_qms):
    day = DAYS["last audit"]
    answer = as_json(runner, history_qms, "trace", "--clause", "8.4", "--as-of", day)
    assert answer["clause"] == "8.4" and answer["as_of"] == day
    got = [(d["clause"], d["document"], d["revision"], d["effective"],
            [(a["name"], a["role"]) for a in d["approvals"]]) for d in answer["documents"]]
    approvers = [("Quinn Quality", "quality-manager"), ("Pat Production", "production-manager")]
    # SOP-003 revision 1 then, 8.4.3 not yet named (revision 2 came in September)
    assert got == [("8.4.1", "SOP-003", 1, DAYS["SOP-003 r1 effective"], approvers),
                   ("8.4.2", "SOP-003", 1, DAYS["SOP-003 r1 effective"], approvers)]
    table = qms(runner, history_qms, "trace", "--clause", "8.4", "--as-of", day)
    line = next(x for x in table.stdout.splitlines() if x.startswith("8.4.1"))
    assert "SOP-003" in line and "2025-01-20" in line and "Pat Production" in line
    assert "1 document in force on 2025-06-12 (SOP-003)" in table.stderr


def test_clause_today_and_on_other_days(runner, history_qms):
    now = as_json(runner, history_qms, "trace", "--clause", "ISO9001-8-4")
    assert {(d["clause"], d["document"], d["revision"]) for d in now["documents"]} == {
        ("8.4.1", "SOP-003", 2), ("8.4.2", "SOP-003", 2), ("8.4.3", "SOP-003", 2),
        ("8.4.1", "SOP-004", 1)}  # SOP-004's open revision 2 names no other 8.4 clause
    retired = as_json(runner, history_qms, "trace", "--clause", "8.1", "--as-of",
                      DAYS["SOP-002 retired"], code=1)  # SOP-002 retired that day
    assert retired["documents"] == []
    before = as_json(runner, history_qms, "trace", "--clause", "8.1", "--as-of",
                     DAYS["SOP-004 effective"])
    assert [(d["document"], d["revision"]) for d in before["documents"]] == [("SOP-002", 1)]
    # nothing was in force yet: exit 1 and a sentence
    empty = qms(runner, history_qms, "trace", "--clause", "8.4", "--as-of",
                DAYS["nothing in force"], code=1)
    assert "No document names 8.4" in empty.stdout
    unknown = qms(runner, history_qms, "trace", "--clause", "8.4.9", code=2)
    assert "no clause '8.4.9'" in unknown.output and "8.4.1" in unknown.output


def test_as_of_before_the_first_record_is_refused(runner, history_qms, tmp_path):
    for args in (("trace", "--clause", "8.4"), ("trace",), ("trace", "--gaps"),
                 ("trace", "--mandatory"), ("list",)):
        result = qms(runner, history_qms, *args, "--as-of", "2024-11-05", code=2)
        assert "the QMS has no history before 2024-11-06" in result.output, args
    pack = tmp_path / "pack.zip"
    result = qms(runner, history_qms, "audit-pack", "--as-of", "2024-11-05", "-o", str(pack),
                 code=2)
    assert "the QMS has no history before 2024-11-06" in result.output
    assert not pack.exists() and list(tmp_path.iterdir()) == []


def test_list_as_of(runner, history_qms):
    def listed(day):
        return [(r["id"], r["revision"], r["status"], r["effective"])
                for r in as_json(runner, history_qms, "list", "--as-of", day)]

    assert listed(DAYS["last audit"]) == [
        ("SOP-001", 1, "effective", "2024-11-11"), ("SOP-002", 1, "effective", "2024-11-11"),
        ("SOP-003", 1, "effective", "2025-01-20")]
    assert listed(DAYS["SOP-002 retired"]) == [
        ("SOP-001", 1, "effective", "2024-11-11"), ("SOP-003", 2, "effective", "2025-09-15"),
        ("SOP-004", 1, "effective", "2026-02-16")]
    assert listed(DAYS["nothing in force"]) == []


def _without_pdfs(monkeypatch):
    """The audit pack's tables only: its PDF step (Sphinx, WeasyPrint) is not the point."""
    from qms_docs import publish

    monkeypatch.setattr(publish, "tree_pdfs", lambda *args, **kwargs: None)


@pytest.mark.parametrize("day", [DAYS["last audit"], DAYS["SOP-002 retired"],
                                 DAYS["SOP-004 r2 opened"]])
def test_as_of_answers_are_the_audit_packs(runner, history_qms, tmp_path, monkeypatch, day):
    """trace, --gaps, --mandatory and list --as-of give the audit pack's tables, byte for
    byte: one machinery, one answer."""
    _without_pdfs(monkeypatch)
    pack = tmp_path / "pack.zip"
    qms(runner, history_qms, "audit-pack", "--as-of", day, "-o", str(pack))
    asked = {"traceability-matrix.csv": ("trace",), "gaps.csv": ("trace", "--gaps"),
             "mandatory-information.csv": ("trace", "--mandatory"),
             "master-list.csv": ("list",)}
    with zipfile.ZipFile(pack) as archive:
        for name, args in asked.items():
            out = tmp_path / name
            result = run_qms(runner, ["--repo", str(history_qms), *args, "--as-of", day,
                                      "--format", "csv", "-o", str(out)])
            assert result.exit_code in (0, 1), result.output  # gaps and missing: exit 1
            assert out.read_bytes() == archive.read(name), (name, day)


# --- "What exactly changed in SOP-003 since the last audit?" ------------------------------

def test_diff_since_the_last_audit(runner, history_qms):
    answer = as_json(runner, history_qms, "diff", "SOP-003", DAYS["last audit"])
    assert answer["from"]["revision"] == 1 and answer["from"]["label"].endswith(
        "in force on 2025-06-12")
    assert answer["from"]["effective"] == DAYS["SOP-003 r1 effective"]
    assert [a["name"] for a in answer["from"]["approvals"]] == ["Quinn Quality",
                                                                "Pat Production"]
    assert answer["to"]["revision"] == 2 and answer["to"]["state"] == "effective"
    assert {a["date"][:10] for a in answer["to"]["approvals"]} == {"2025-09-15"}
    assert f"+{TEXTS['SOP-003 r2']}" in answer["diff"].splitlines()
    assert "-   :revision: 1" in answer["diff"] and "+   :revision: 2" in answer["diff"]
    assert not any(line.startswith(("+", "-")) and TEXTS["SOP-003 r1"] in line
                   for line in answer["diff"].splitlines())
    # the same two texts named by their numbers; the terminal says who approved each side
    text = qms(runner, history_qms, "diff", "SOP-003", "1", "2").stdout
    assert text.splitlines()[1].startswith("from: revision 1 (approved, effective 2025-01-20")
    assert "Pat Production (production-manager, approval, 2025-01-20" in text
    assert f"+{TEXTS['SOP-003 r2']}" in text


def test_diff_defaults_to_in_force_against_the_working_text(runner, history_qms):
    answer = as_json(runner, history_qms, "diff", "SOP-004")
    assert answer["from"]["label"] == "revision 1 in force"
    assert answer["to"]["label"] == "working text (revision 2, draft)"
    assert answer["to"]["approvals"] == []
    assert f"+{TEXTS['SOP-004 r2']}" in answer["diff"].splitlines()
    same = qms(runner, history_qms, "diff", "SOP-003").stdout
    assert "The two texts are the same." in same
    for bad in (("SOP-003", "7"), ("SOP-003", "2024-11-07"), ("SOP-003", "1", "2", "3")):
        assert qms(runner, history_qms, "diff", *bad, code=2).output.startswith("error:")


def test_diff_as_a_side_by_side_page(runner, history_qms, tmp_path):
    page = tmp_path / "sop-003.html"
    qms(runner, history_qms, "diff", "SOP-003", "1", "2", "--format", "html", "-o", str(page))
    text = page.read_text(encoding="utf-8")
    assert "<title>SOP-003 Purchasing: revision 1 and revision 2</title>" in text
    assert "<h1>SOP-003 Purchasing: changes from revision 1 to revision 2</h1>" in text
    inserted = re.findall(r'<tr class="insert">.*?</tr>', text)
    assert any(TEXTS["SOP-003 r2"] in row for row in inserted)
    changed = re.findall(r'<tr class="replace">.*?</tr>', text)
    assert any(":revision: 1" in row and ":revision: 2" in row for row in changed)
    assert "Quinn Quality (quality-manager, approval, 2025-01-20" in text
    assert len(inserted) == 1  # the one line revision 2 added; the rest are changes


# --- the example QMS -------------------------------------------------------------------

def test_example_clause_as_of_and_diff(runner, tmp_path):
    answer = as_json(runner, REPO, "trace", "--clause", "8.4", "--as-of", "2026-11-23")
    sop5 = [d for d in answer["documents"] if d["document"] == "SOP-005"]
    assert {d["clause"] for d in sop5} == {"8.4.1", "8.4.2", "8.4.3"}
    assert {d["revision"] for d in sop5} == {2}
    assert {a["name"] for a in sop5[0]["approvals"]} == {"Quinn Harlow", "Sam Reyes"}
    for args in (("trace", "--clause", "8.4"), ("audit-pack", "-o", str(tmp_path / "a.zip"))):
        result = qms(runner, REPO, *args, "--as-of", "2026-11-21", code=2)
        assert "the QMS has no history before 2026-11-22" in result.output
    assert not (tmp_path / "a.zip").exists()
    listed = as_json(runner, REPO, "list", "--as-of", "2026-11-23")
    assert ("SOP-005", 2) in {(r["id"], r["revision"]) for r in listed}
    diff = as_json(runner, REPO, "diff", "SOP-005", "1", "2")
    assert diff["from"]["approvals"] and diff["to"]["approvals"]
    assert "+   :revision: 2" in diff["diff"]


def test_example_retained_records_are_named_not_met(runner):
    rows = as_json(runner, REPO, "trace", "--mandatory")["rows"]
    supplier = next(r for r in rows if r["clause"] == "8.4.1" and r["kind"] == "retained")
    assert supplier["met_text"] == "records named in SOP-005"
    assert supplier["records"]["count"] == 6 and len(supplier["records"]["elsewhere"]) == 6
    assert supplier["detail"] == "6 records: 0 in records/, 6 kept elsewhere"
    manual = next(r for r in rows if r["clause"] == "4.4.2" and r["kind"] == "retained")
    assert [x for x in manual["records"]["in_records"] if "records/" in x]  # QM-001's table
    table = qms(runner, REPO, "trace", "--mandatory", "--format", "csv").stdout
    lines = list(csv.reader(io.StringIO(table)))
    assert {r[3] for r in lines[1:] if r[2] == "retained"} == {
        r["met_text"] for r in rows if r["kind"] == "retained"}
    assert "yes" not in {r[3] for r in lines[1:] if r[2] == "retained"}


def test_retained_records_in_the_two_year_history(runner, history_qms):
    """The procedures qms new made name one record (the template's line): counted once,
    as kept elsewhere, by the procedures in force on the day asked."""
    for day, named in (((), "records named in SOP-003, SOP-004"),
                       (("--as-of", DAYS["last audit"]), "records named in SOP-003")):
        result = qms(runner, history_qms, "trace", "--mandatory", "--format", "json", *day,
                     code=1)  # no policy: the maintained documents are missing
        rows = json.loads(result.stdout)["rows"]
        supplier = next(r for r in rows if r["clause"] == "8.4.1" and r["kind"] == "retained")
        assert supplier["met_text"] == named
        assert supplier["detail"] == "1 record: 0 in records/, 1 kept elsewhere"
        production = next(r for r in rows if r["clause"] == "8.5.2")  # nobody names 8.5.2
        assert production["met_text"] == "MISSING"
        assert "1 of 22 clauses with records to retain named in a procedure" in result.stderr


def test_retained_records_not_found_are_not_counted(tmp_path):
    from qms_docs.config import load_config
    from qms_docs.documents import scan
    from qms_docs.reports.mandatory import named_records_of
    from tests.helpers import basic_copy

    root = basic_copy(tmp_path / "qms")
    sop = root / "procedures" / "sop-001.rst"
    sop.write_text(sop.read_text() + "\nRecords\n=======\n\n* Calibration certificates - "
                   "``records/calibration/``\n* Audit reports - ``records/audits/``,\n  kept "
                   "10 years\n* Training records - HR system; 5 years.\n\nScope\n=====\n\n"
                   "* not a record\n", encoding="utf-8")
    (root / "records" / "calibration").mkdir(parents=True)
    doc = next(d for d in scan(root, load_config(root)).documents if d.id == "SOP-001")
    assert doc.records_named == ("Calibration certificates - records/calibration/",
                                 "Audit reports - records/audits/, kept 10 years",
                                 "Training records - HR system; 5 years.")
    named = named_records_of([doc], root)
    assert named.count == 2 and named.not_found == ("records/audits/",)
    assert named.text() == ("2 records: 1 in records/, 1 kept elsewhere; not found: "
                            "records/audits/")


# --- the audit pack: signed, and its README's commands check it --------------------------

@NEEDS_SSH_KEYGEN
def test_signed_audit_pack_checks_with_the_readme_commands(runner, history_qms, tmp_path):
    repo = copy_repo(history_qms, tmp_path / "qms")
    git(repo, "config", "user.email", "auditor@example.org")  # an auditor, not in qms.toml
    key = keygen(tmp_path, "auditor")
    pack = tmp_path / "signed.zip"
    qms(runner, repo, "audit-pack", "--as-of", DAYS["nothing in force"], "-o", str(pack),
        "--sign", "--key", str(key))
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(pack) as archive:
        archive.extractall(unpacked)
        approvals = archive.read("approvals.csv").decode().splitlines()[0]
    assert approvals.split(",")[6] == "Date and time"
    readme = (unpacked / "README.txt").read_text(encoding="utf-8")
    commands = re.findall(r"^ {7}(sha256sum .*|ssh-keygen .*\\\n.*)$", readme, re.MULTILINE)
    assert len(commands) == 2, readme
    for command in commands:
        done = subprocess.run(command.replace("\\\n", " "), shell=True, cwd=unpacked,
                              capture_output=True, text=True)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
    assert "Good" in done.stderr + done.stdout
    assert (unpacked / "signer.allowed_signers").read_text().startswith(
        'auditor@example.org namespaces="qms-docs-audit-pack" ssh-ed25519 ')
    # a changed file fails the first command; a changed manifest the second
    (unpacked / "gaps.csv").write_text("Clause,Title,Pending\n")
    assert subprocess.run(commands[0], shell=True, cwd=unpacked,
                          capture_output=True).returncode != 0
    with open(unpacked / "MANIFEST.sha256", "a") as handle:
        handle.write("0" * 64 + "  extra.csv\n")
    assert subprocess.run(commands[1].replace("\\\n", " "), shell=True, cwd=unpacked,
                          capture_output=True).returncode != 0
    # the same pack again, byte for byte (an SSH signature holds no time)
    again = tmp_path / "again.zip"
    qms(runner, repo, "audit-pack", "--as-of", DAYS["nothing in force"], "-o", str(again),
        "--key", str(key))
    assert again.read_bytes() == pack.read_bytes()


def test_unsigned_pack_says_how_to_check_it(runner, history_qms, tmp_path):
    pack = tmp_path / "pack.zip"
    qms(runner, history_qms, "audit-pack", "--as-of", DAYS["nothing in force"], "-o",
        str(pack))
    with zipfile.ZipFile(pack) as archive:
        readme = archive.read("README.txt").decode()
        assert "MANIFEST.sha256.sig" not in archive.namelist()
    assert "sha256sum -c MANIFEST.sha256" in readme and "is not signed" in readme


def test_as_of_leaves_uncommitted_records_out_with_a_warning(runner, history_qms, tmp_path):
    import datetime as dt

    from tests.helpers import QmsRepo

    repo = QmsRepo(copy_repo(history_qms, tmp_path / "qms"), runner)
    repo.qms("quinn", "review", "SOP-003", "--outcome", "Fine")  # today, not committed
    today = dt.date.today().isoformat()
    result = repo.qms("quinn", "trace", "--clause", "8.4", "--as-of", today)
    assert "warning: 1 record of " in result.stderr and "is not committed" in result.stderr
    assert "records/SOP-003/" in result.stderr


def test_diff_follows_a_moved_document(runner, history_qms, tmp_path):
    repo = copy_repo(history_qms, tmp_path / "qms")
    git(repo, "mv", "procedures/sop-003-purchasing.rst", "procedures/sop-003-suppliers.rst")
    git(repo, "commit", "-q", "-m", "Rename the file of SOP-003")
    answer = as_json(runner, repo, "diff", "SOP-003", "1", "2")
    assert f"+{TEXTS['SOP-003 r2']}" in answer["diff"].splitlines()
    assert as_json(runner, repo, "diff", "SOP-003")["same"]  # in force = working text


def test_the_side_by_side_page_keeps_markup_literal():
    from qms_docs.diffs import Difference, Side, html_page
    from qms_docs.model import Document

    payload = '<script>alert("x")</script>'
    doc = Document("SOP-009", "sop", f"Title {payload}", 2, None, "procedures/x.rst", 1)
    page = html_page(Difference(doc, Side(f"revision 1 {payload}", 1, f"a\n{payload}\n"),
                                Side("revision 2", 2, "a\n<b>bold</b>\n")),
                     organization=payload, back=f'x.html" onload="{payload}')
    assert "<script" not in page
    assert page.count("&lt;script&gt;") >= 4 and "<b>" not in page
    assert 'onload="' not in page
