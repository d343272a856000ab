"""Auditor reports: exact rows (golden files), gates, mandatory information, due list,
change log, spreadsheets, a second standard, the audit pack."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
import zipfile

import pytest

from qms_docs.reports.mandatory import MandatoryRow
from qms_docs.reports.traceability import GapRow, TraceRow
from tests.helpers import ASH, REPO, ROOTS, QmsRepo, run_qms, sphinx_build


@pytest.fixture
def project(tmp_path, runner, monkeypatch) -> QmsRepo:
    """basic + a quality manual (QM-001): SOP-001 and QM-001 effective, SOP-002 draft."""
    root = tmp_path / "qms"
    shutil.copytree(ROOTS / "basic", root)
    with open(root / "qms.toml", "a", encoding="utf-8") as handle:
        handle.write(ASH)
    (root / "manual").mkdir()
    (root / "manual" / "qm-001.rst").write_text(
        ".. manual:: Quality Manual\n   :id: QM-001\n   :revision: 1\n"
        "   :owner: quality-manager\n   :satisfies: ISO9001-4-3, ISO9001-4-4-1, ISO9001-4-4-2\n\n"
        "Scope\n=====\n\nValves.\n\nRecords\n=======\n\n* Works orders, 10 years.\n",
        encoding="utf-8")
    conf = root / "conf.py"
    conf.write_text(conf.read_text().replace('"procedures/**"', '"procedures/**", "manual/**"'))
    (root / "index.rst").write_text((root / "index.rst").read_text() + "   manual/qm-001\n")
    p = QmsRepo(root, runner, monkeypatch).at("2025-01-10")
    p.git("init", "-q", "-b", "main")
    p.commit("initial")
    p.qms("quinn", "approve", "SOP-001", "--role", "quality-manager")
    p.qms("quinn", "approve", "QM-001", "--role", "quality-manager")
    p.commit("approvals", who="quinn")
    return p


def test_trace_matrix_rows_in_every_text_format(project, golden):
    for fmt in ("csv", "md", "json"):
        out = project.qms("quinn", "trace", "--format", fmt).stdout
        golden(f"trace-basic.{fmt}", out)
    rows = list(csv.reader(io.StringIO(project.qms("quinn", "trace", "--format", "csv").stdout)))
    assert rows[0] == ["Clause", "Clause title", "Document", "Document title", "Revision",
                       "Status"]
    assert ["7.5.2", "Creating and updating", "SOP-002", "Production Planning", "1",
            "pending: SOP-002 rev 1"] in rows  # never in force: its clauses are pending
    assert len(rows) == 1 + 91 - 6 + 7  # 91 clauses; 6 of them have 7 document rows


def test_status_effective_leaves_out_drafts(project):
    rows = list(csv.reader(io.StringIO(project.qms(
        "quinn", "trace", "--status", "effective", "--format", "csv").stdout)))
    assert not any(r[2] == "SOP-002" for r in rows)
    assert ["8.1", "Operational planning and control", "", "", "", ""] in rows


def test_gaps_lists_clauses_without_effective_document_and_exits_1(project, golden):
    result = project.qms("quinn", "trace", "--gaps", "--format", "csv", code=1)
    golden("gaps-basic.csv", result.stdout)
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["Clause", "Title", "Pending"]
    assert ["8.1", "Operational planning and control",
            "pending: SOP-002 rev 1"] in rows  # only a draft covers it
    assert ["7.5.1", "General", ""] not in rows
    assert len(rows) == 1 + 65 - 5
    assert "60 requirement clauses of ISO 9001:2015 have no effective document" in result.stderr


def test_gaps_pass_on_the_example_qms(runner):
    result = run_qms(runner, ["--repo", str(REPO), "trace", "--gaps"])
    assert result.exit_code == 0 and "No gaps" in result.stdout  # said instead of an empty table
    result = run_qms(runner, ["--repo", str(REPO), "trace", "--mandatory", "--format", "json"])
    rows = json.loads(result.stdout)["rows"]
    assert result.exit_code == 0 and rows and all(r["met"] for r in rows)
    # the summary counts each record once, however many clauses name it
    names = [n for r in rows if r.get("records")
             for n in (*r["records"]["in_records"], *r["records"]["elsewhere"])]
    assert len(names) > len(set(names))  # the example names some records for two clauses
    table = run_qms(runner, ["--repo", str(REPO), "trace", "--mandatory"]).stderr
    assert f"({len(set(names))} records named)" in table


def test_mandatory_finds_the_missing_quality_policy(project):
    result = project.qms("quinn", "trace", "--mandatory", "--format", "json", code=1)
    rows = {(r["clause"], r["kind"]): r for r in json.loads(result.stdout)["rows"]}
    assert not rows[("5.2.2", "maintained")]["met"]
    assert rows[("5.2.2", "maintained")]["detail"] == "no effective document satisfies this clause"
    assert rows[("4.3", "maintained")]["met"]
    assert rows[("4.4.2", "retained")]["met"]
    assert rows[("4.4.2", "retained")]["documents"] == ["QM-001"]
    # the table says it in the same words as the site and the audit pack (one row model)
    table = list(csv.reader(io.StringIO(project.qms("quinn", "trace", "--mandatory", "--format",
                                                    "csv", code=1).stdout)))
    assert table[0] == list(MandatoryRow.HEADERS) == ["Clause", "Title", "Kind", "Met",
                                                      "Evidence"]
    assert ["5.2.2", "Communicating the quality policy", "maintained", "MISSING",
            "no effective document satisfies this clause"] in table
    assert any(r[:3] == ["4.4.2", r[1], "retained"] and r[3] == "records named in QM-001"
               for r in table)  # a retained clause is named records, not a bare "yes"


def test_mandatory_retained_needs_named_records(project):
    path = project.root / "manual" / "qm-001.rst"
    project.qms("ash", "revise", "QM-001", "--reason", "drop records")
    path.write_text(path.read_text().replace("Records\n=======\n\n* Works orders, 10 years.\n", ""))
    project.commit("r2")
    project.qms("quinn", "approve", "QM-001", "--role", "quality-manager")
    rows = {(r["clause"], r["kind"]): r for r in json.loads(project.qms(
        "quinn", "trace", "--mandatory", "--format", "json", code=1).stdout)["rows"]}
    assert not rows[("4.4.2", "retained")]["met"]
    assert "names its records" in rows[("4.4.2", "retained")]["detail"]


@pytest.mark.parametrize("today, within, expected", [
    ("2026-12-01", 30, []),                      # SOP-001 due 2027-01-10: 40 days away
    ("2026-12-01", 60, [("SOP-001", 40)]),
    ("2027-01-10", 0, [("SOP-001", 0)]),          # due today
    ("2027-02-01", 0, [("SOP-001", -22)]),        # overdue
])
def test_due_list_around_the_review_date(project, today, within, expected):
    project.qms("quinn", "review", "QM-001", "--outcome", "fine")  # 2025-01-10: QM due 2026
    project.at(today)
    rows = json.loads(project.qms("quinn", "due", "--within", str(within), "--format",
                                  "json").stdout)
    got = [(r["id"], r["days_left"]) for r in rows if r["id"] == "SOP-001"]
    assert got == expected
    qm = [r for r in rows if r["id"] == "QM-001"]
    assert qm and qm[0]["overdue"]  # manual: 12 months from 2025-01-10


def test_change_log_in_a_period(project):
    project.at("2025-03-01").qms("ash", "revise", "SOP-001", "--reason", "New gauge")
    rows = json.loads(project.qms("quinn", "changes", "--since", "2025-02-01", "--format",
                                  "json").stdout)
    assert [(r["kind"], r["document"], r["revision"]) for r in rows] == [("change", "SOP-001", 2)]
    assert "revision 1 -> 2: New gauge" in rows[0]["detail"]
    everything = json.loads(project.qms("quinn", "changes", "--format", "json").stdout)
    assert [r["kind"] for r in everything] == ["approval", "approval", "change"]
    none = json.loads(project.qms("quinn", "changes", "--until", "2025-01-09", "--format",
                                  "json").stdout)
    assert none == []


def test_csv_and_xlsx_open_with_expected_header_and_rows(project, tmp_path):
    from openpyxl import load_workbook

    from qms_docs.reports.export import HEADER_ROW

    out = tmp_path / "matrix.xlsx"
    project.qms("quinn", "trace", "--format", "xlsx", "-o", str(out))
    sheet = load_workbook(out).active
    rows = list(sheet.iter_rows(values_only=True))[HEADER_ROW - 1:]
    assert rows[0] == ("Clause", "Clause title", "Document", "Document title", "Revision",
                       "Status")
    assert len(rows) == 1 + 91 - 6 + 7
    assert sheet.freeze_panes == f"A{HEADER_ROW + 1}"
    master = tmp_path / "master.xlsx"
    project.qms("quinn", "list", "--format", "xlsx", "-o", str(master))
    rows = list(load_workbook(master).active.iter_rows(values_only=True))[HEADER_ROW - 1:]
    assert rows[0][:5] == ("Id", "Title", "Type", "Revision", "Status") and len(rows) == 4
    result = project.qms("quinn", "trace", "--format", "xlsx", code=2)
    assert "--format xlsx needs -o FILE.xlsx" in result.output


def test_second_standard_and_an_own_catalog(project):
    toml = project.root / "qms.toml"
    (project.root / "catalogs").mkdir()
    (project.root / "catalogs" / "acme.yaml").write_text(
        "standard: acme-1\ntitle: ACME customer requirements\nneed_prefix: ACME\nclauses:\n"
        "  - {number: '1', title: Packaging, parent: null, maintain: true, retain: false}\n",
        encoding="utf-8")
    toml.write_text(toml.read_text().replace('[organization]', '[qms]\nstandards = '
                    '["iso9001-2015", "iso13485-2016", "catalogs/acme.yaml"]\n\n[organization]'))
    sop = project.root / "procedures" / "sop-002.rst"
    sop.write_text(sop.read_text().replace("ISO9001-8-1,", "ISO9001-8-1, ISO13485-4-2-4, ACME-1,"))
    assert project.qms("quinn", "check").exit_code == 0
    rows = list(csv.reader(io.StringIO(project.qms(
        "quinn", "trace", "--standard", "iso13485-2016", "--format", "csv").stdout)))
    assert ["4.2.4", "Control of documents", "SOP-002", "Production Planning", "1",
            "pending: SOP-002 rev 1"] in rows
    assert {r[0] for r in rows[1:]} >= {"7.5.9.2", "8.5.3"}
    acme = project.qms("quinn", "trace", "--standard", "acme-1", "--gaps", "--format", "csv",
                       code=1)
    assert acme.stdout.splitlines() == ["Clause,Title,Pending",
                                        "1,Packaging,pending: SOP-002 rev 1"]


@pytest.mark.sphinx
def test_audit_pack_as_of_a_date(project, tmp_path):
    sop = project.root / "procedures" / "sop-001.rst"
    project.at("2025-04-01").qms("ash", "revise", "SOP-001", "--reason", "Rev 2")
    sop.write_text(sop.read_text() + "\nREVISION-TWO-TEXT\n")
    project.commit("r2")
    project.at("2025-04-02").qms("quinn", "approve", "SOP-001", "--role", "quality-manager")
    project.commit("approve r2", who="quinn")
    project.at("2025-06-01")
    pack = tmp_path / "audit.zip"
    project.qms("quinn", "audit-pack", "--as-of", "2025-03-01", "-o", str(pack))
    with zipfile.ZipFile(pack) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
        for entry in manifest["files"]:
            assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"]
        assert {f["path"] for f in manifest["files"]} | {"manifest.json"} == names - {
            "MANIFEST.sha256"}
        assert {"master-list.csv", "traceability-matrix.csv", "gaps.csv",
                "mandatory-information.csv", "change-log.csv", "README.txt",
                "documents/SOP-001.pdf", "documents/QM-001.pdf"} <= names
        assert "documents/SOP-002.pdf" not in names  # never effective
        master = list(csv.reader(io.StringIO(archive.read("master-list.csv").decode())))
        sop_row = next(r for r in master if r[0] == "SOP-001")
        assert sop_row[3] == "1" and sop_row[4] == "effective"  # revision 2 came later
        log = archive.read("change-log.csv").decode()
        assert "Rev 2" not in log and "approval" in log
        # the same headers and words as qms trace (one row model per report)
        for name, headers in (("traceability-matrix.csv", TraceRow.HEADERS),
                              ("gaps.csv", GapRow.HEADERS),
                              ("mandatory-information.csv", MandatoryRow.HEADERS)):
            table = list(csv.reader(io.StringIO(archive.read(name).decode())))
            assert table[0] == list(headers), name
        mandatory = list(csv.reader(io.StringIO(
            archive.read("mandatory-information.csv").decode())))
        assert {r[2] for r in mandatory[1:]} == {"maintained", "retained"}
        assert {r[3] for r in mandatory[1:] if r[2] == "maintained"} <= {"yes", "MISSING"}
        assert all(r[3] == "MISSING" or r[3].startswith("records named in ")
                   for r in mandatory[1:] if r[2] == "retained")
        from pypdf import PdfReader

        text = " ".join(p.extract_text() for p in PdfReader(
            io.BytesIO(archive.read("documents/SOP-001.pdf"))).pages)
        assert "REVISION-TWO-TEXT" not in text and "Revision 1" in text
    assert manifest["as_of"] == "2025-03-01"


# --- coverage counts only what is in force --------------------------------------------------

def _draft_adding_and_dropping_clauses(project) -> None:
    """SOP-001 revision 2, a draft: adds 8.7.1 and 5.2.2 (maintained information), drops
    7.5.2; revision 1 (7.5.1, 7.5.2) stays in force."""
    path = project.root / "procedures" / "sop-001.rst"
    project.at("2025-02-01").qms("ash", "revise", "SOP-001", "--reason", "Nonconforming output")
    path.write_text(path.read_text().replace(
        ":satisfies: ISO9001-7-5-1, ISO9001-7-5-2",
        ":satisfies: ISO9001-7-5-1, ISO9001-8-7-1, ISO9001-5-2-2"), encoding="utf-8")
    project.commit("SOP-001 r2 draft")


def _csv(result) -> list[list[str]]:
    return list(csv.reader(io.StringIO(result.stdout)))


def test_a_draft_adding_a_clause_does_not_close_the_gap(project):
    _draft_adding_and_dropping_clauses(project)
    gaps = _csv(project.qms("quinn", "trace", "--gaps", "--format", "csv", code=1))
    nonconforming = ["8.7.1", "Identifying and controlling nonconforming outputs",
                     "pending: SOP-001 rev 2"]
    assert nonconforming in gaps
    assert not any(r[0] in ("7.5.1", "7.5.2") for r in gaps)  # revision 1 names them
    as_json = json.loads(project.qms("quinn", "trace", "--gaps", "--format", "json",
                                     code=1).stdout)
    assert {"clause": "8.7.1", "title": nonconforming[1],
            "pending": [{"document": "SOP-001", "revision": 2}]} in as_json["gaps"]
    for fmt in ("table", "md"):
        out = project.qms("quinn", "trace", "--gaps", "--format", fmt, code=1).stdout
        line = next(line for line in out.splitlines() if "8.7.1" in line)
        assert "pending: SOP-001 rev 2" in line
    matrix = _csv(project.qms("quinn", "trace", "--format", "csv"))
    assert ["7.5.2", "Creating and updating", "SOP-001", "Control of Documented Information",
            "1", "effective"] in matrix  # in force: revision 1 names it
    assert ["8.7.1", nonconforming[1], "SOP-001", "Control of Documented Information", "2",
            "pending: SOP-001 rev 2"] in matrix
    effective = _csv(project.qms("quinn", "trace", "--status", "effective", "--format", "csv"))
    assert ["8.7.1", nonconforming[1], "", "", "", ""] in effective
    rows = {(r["clause"], r["kind"]): r for r in json.loads(project.qms(
        "quinn", "trace", "--mandatory", "--format", "json", code=1).stdout)["rows"]}
    policy = rows[("5.2.2", "maintained")]
    assert not policy["met"] and policy["pending"] == [{"document": "SOP-001", "revision": 2}]
    assert policy["detail"] == ("no effective document satisfies this clause; "
                                "pending: SOP-001 rev 2")
    # once revision 2 is in force, it counts, and 7.5.2 (dropped) is a gap
    project.qms("quinn", "approve", "SOP-001", "--role", "quality-manager")
    project.commit("approve r2", who="quinn")
    gaps = _csv(project.qms("quinn", "trace", "--gaps", "--format", "csv", code=1))
    assert not any(r[0] == "8.7.1" for r in gaps)
    assert ["7.5.2", "Creating and updating", "pending: SOP-002 rev 1"] in gaps


def test_coverage_reads_git_only_for_documents_with_a_newer_text(project, monkeypatch):
    from qms_docs import history

    calls = {"log": 0, "blobs": 0}
    build, read = history.HistoryIndex.build, history.read_blobs

    def counted_build(*args, **kwargs):
        calls["log"] += 1
        return build(*args, **kwargs)

    def counted_read(repo_dir, blobs):
        calls["blobs"] += 1
        return read(repo_dir, blobs)

    monkeypatch.setattr(history.HistoryIndex, "build", counted_build)
    monkeypatch.setattr(history, "read_blobs", counted_read)
    project.qms("quinn", "trace", "--gaps", "--format", "csv", code=1)
    assert calls == {"log": 0, "blobs": 0}  # every text in force is the working text
    _draft_adding_and_dropping_clauses(project)
    qm = project.root / "manual" / "qm-001.rst"
    project.qms("ash", "revise", "QM-001", "--reason", "Scope")
    qm.write_text(qm.read_text().replace("ISO9001-4-3, ", ""), encoding="utf-8")
    project.commit("QM-001 r2 draft")
    gaps = _csv(project.qms("quinn", "trace", "--gaps", "--format", "csv", code=1))
    # both texts in force in one batch, found in the history the judgement already read
    assert calls == {"log": 0, "blobs": 1}
    assert not any(r[0] in ("4.3", "7.5.2") for r in gaps)


def _gap_table(page: str) -> list[list[str]]:
    table = page[page.index('class="qms-gaps'):]
    table = table[: table.index("</table>")]
    return [[re.sub(r"<[^>]+>", "", cell).strip()
             for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)]


@pytest.mark.sphinx
def test_preview_site_gaps_agree_with_the_command_line(project, tmp_path):
    _draft_adding_and_dropping_clauses(project)
    with open(project.root / "reports.rst", "a", encoding="utf-8") as handle:
        handle.write("\nGaps\n----\n\n.. qms-report:: gaps\n")
    cli = _csv(project.qms("quinn", "trace", "--gaps", "--format", "csv", code=1))
    built = sphinx_build(project.root, outdir=tmp_path / "site")
    assert built.returncode == 0, built.warnings
    page = (built.outdir / "reports.html").read_text(encoding="utf-8")
    assert _gap_table(page) == cli
    coverage = page[: page.index("qms-trace-matrix")]
    assert "5 of 65 requirement clauses covered" in coverage  # 4.3, 4.4.1-2, 7.5.1-2
    assert "nonconforming outputs (pending: SOP-001 rev 2)" in re.sub(r"<[^>]+>", "",
                                                                        coverage)
    matrix = page[page.index("qms-trace-matrix"):]
    row = matrix[matrix.index(">8.7.1<"):]
    assert "(pending: SOP-001 rev 2)" in re.sub(r"<[^>]+>", "", row[: row.index("</tr>")])


@pytest.mark.sphinx
def test_preview_site_without_git_counts_working_headers_with_a_note(project, tmp_path):
    _draft_adding_and_dropping_clauses(project)
    copy = tmp_path / "no-git"
    shutil.copytree(project.root, copy, ignore=shutil.ignore_patterns(".git"))
    built = sphinx_build(copy, outdir=tmp_path / "site")
    assert built.returncode == 0, built.warnings
    page = re.sub(r"<[^>]+>", "", (built.outdir / "reports.html").read_text(encoding="utf-8"))
    assert ("Note: SOP-001: the text of revision 1, in force, could not be read" in page
            and "the clauses of the working header (revision 2) count instead" in page)


@pytest.mark.sphinx
def test_controlled_site_gaps_agree_with_the_command_line(project, tmp_path):
    """The controlled tree holds revision 1 of SOP-001 and no SOP-002; its reports still
    name the revisions pending (from HEAD's headers), without a link to what it leaves out."""
    from qms_docs import publish
    from qms_docs.workspace import Workspace

    _draft_adding_and_dropping_clauses(project)
    with open(project.root / "reports.rst", "a", encoding="utf-8") as handle:
        handle.write("\nGaps\n----\n\n.. qms-report:: gaps\n")
    project.change_policy("A gaps page")  # a page of the site's frame: approved to publish
    cli = _csv(project.qms("quinn", "trace", "--gaps", "--format", "csv", code=1))
    tree = publish.controlled_tree(Workspace(project.root), tmp_path / "tree")
    assert ":satisfies: ISO9001-7-5-1, ISO9001-7-5-2\n" in (
        tree.root / "procedures" / "sop-001.rst").read_text()  # revision 1, in force
    built = sphinx_build(tree.root)
    assert built.returncode == 0, built.warnings
    page = (built.outdir / "reports.html").read_text(encoding="utf-8")
    assert _gap_table(page) == cli
    assert "5 of 65 requirement clauses covered" in page
    matrix = re.sub(r"<[^>]+>", "", page[page.index("qms-trace-matrix"):])
    assert "SOP-002 Production Planning (pending: SOP-002 rev 1)" in matrix
    assert "Unknown need" not in page
