"""Editions: crosswalks as data, the transition report, and its header changes (--write)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qms_docs.catalog import load_catalog, parse_catalog
from qms_docs.config import load_config
from qms_docs.crosswalk import check_against, parse_crosswalk, shipped_crosswalks
from qms_docs.documents import scan
from qms_docs.errors import InputError
from qms_docs.reports import transition as report
from tests.helpers import REPO, QmsRepo, new_repo, run_qms

OLD, NEW = "iso9001-2015", "iso9001-2026"


@pytest.fixture(scope="module")
def shipped():
    (crosswalk,) = [c for c in shipped_crosswalks() if (c.from_standard, c.to_standard)
                    == (OLD, NEW)]
    return crosswalk


# --- the data ------------------------------------------------------------------------

def test_shipped_crosswalk_and_catalog_are_valid_and_provisional(shipped):
    old, new = load_catalog(OLD), load_catalog(NEW)
    check_against(shipped, old, new)  # every row's clauses exist; every 2015 leaf has a row
    assert new.edition_status == shipped.edition_status == "provisional"
    assert new.sources and shipped.sources
    assert [c.number for c in new.clauses if c.parent == "6.1"] == ["6.1.1", "6.1.2", "6.1.3"]
    assert {c.need_id for c in new.clauses}.isdisjoint({c.need_id for c in old.clauses})
    assert {(r.to_number, r.change) for r in shipped.targets("6.1.2")} == {
        ("6.1.2", "split"), ("6.1.3", "split")}
    changed = {r.from_number for r in shipped.rows if r.change == "changed"}
    assert {"4.1", "4.2", "5.1.1", "7.3"} <= changed


BAD_CROSSWALKS = {
    "unknown change kind": ("- {from: '4.1', to: '4.1', change: reworded}", "change"),
    "a new clause with a from": ("- {from: '4.1', to: '4.1', change: new}", "from"),
    "a removed clause with a to": ("- {from: '4.1', to: '4.1', change: removed}", "to"),
    "an unknown key": ("- {from: '4.1', to: '4.1', change: same, text: quoted}", "text"),
}


@pytest.mark.parametrize("name", BAD_CROSSWALKS)
def test_crosswalk_schema_refuses_bad_rows(tmp_path: Path, name: str):
    row, where = BAD_CROSSWALKS[name]
    file = tmp_path / "cw.yaml"
    file.write_text(f"from: {OLD}\nto: {NEW}\nrows:\n{row}\n", encoding="utf-8")
    with pytest.raises(InputError, match="invalid crosswalk") as refused:
        parse_crosswalk(file)
    assert where in str(refused.value) and str(file) in str(refused.value)


def test_provisional_data_needs_its_sources(tmp_path: Path):
    file = tmp_path / "cw.yaml"
    file.write_text(f"from: {OLD}\nto: {NEW}\nedition_status: provisional\nrows:\n"
                    "- {from: '4.1', to: '4.1', change: same}\n", encoding="utf-8")
    with pytest.raises(InputError, match="sources"):
        parse_crosswalk(file)
    catalog = tmp_path / "cat.yaml"
    catalog.write_text("standard: x\ntitle: X\nneed_prefix: X\nedition_status: provisional\n"
                       "clauses:\n- {number: '1', title: One, parent: null, maintain: false, "
                       "retain: false}\n", encoding="utf-8")
    with pytest.raises(InputError, match="sources"):
        parse_catalog(catalog)


def test_crosswalk_clauses_are_checked_against_both_catalogs(tmp_path: Path):
    old, new = load_catalog(OLD), load_catalog(NEW)
    file = tmp_path / "cw.yaml"
    file.write_text(f"from: {OLD}\nto: {NEW}\nrows:\n- {{from: '4.1', to: '6.1.9', "
                    "change: same}\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"6\.1\.9 is no clause of ISO 9001:2026"):
        check_against(parse_crosswalk(file), old, new)
    file.write_text(f"from: {OLD}\nto: {NEW}\nrows:\n- {{from: '4.1', to: '4.1', "
                    "change: same}\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"no row for 4\.2, 4\.3"):
        check_against(parse_crosswalk(file), old, new)


# --- the report on the example QMS -----------------------------------------------------

@pytest.fixture(scope="module")
def example():
    config = load_config(REPO)
    documents = [d for d in scan(REPO, config).documents if d.id and d.type in config.types]
    result = report.for_qms(NEW, [load_catalog(OLD)], REPO, documents)
    return documents, result


def test_every_document_clause_of_the_example_is_mapped(example):
    documents, result = example
    old_ids = load_catalog(OLD).by_need_id()
    expected = sorted((d.id, old_ids[ref].number) for d in documents for ref in d.satisfies)
    assert sorted((r.document, r.clause) for r in result.rows) == expected
    assert len(expected) > 80
    assert all(r.becomes for r in result.rows)
    assert {r.document for r in result.rows} == {d.id for d in documents}


def test_the_split_and_the_culture_changes_are_flagged(example):
    _, result = example
    rows = {(r.document, r.clause): r for r in result.rows}
    split = rows[("SOP-002", "6.1.2")]
    assert (split.change, split.action, split.becomes_text) == ("split", "split: choose",
                                                               "6.1.2, 6.1.3")
    assert split.proposed == ()  # the owner chooses
    for key in (("QM-001", "5.1.1"), ("QM-001", "7.3"), ("SOP-003", "7.3")):
        assert (rows[key].change, rows[key].action) == ("changed", "changed: review")
        assert "culture" in rows[key].note
    assert rows[("SOP-002", "6.1.1")].proposed == ("ISO9001E2026-6-1-1",)
    unchanged = rows[("SOP-005", "8.4.1")]
    assert (unchanged.action, unchanged.proposed) == ("unchanged", ("ISO9001E2026-8-4-1",))
    # the new edition's split clauses stay gaps until a document names them
    assert [(g.clause.number, g.change) for g in result.gaps] == [("6.1.2", "split"),
                                                                  ("6.1.3", "split")]
    planning = next(c for c in result.chapters if c.chapter.number == "6")
    assert (planning.review, planning.choose, planning.gaps) == (1, 1, 2)


def test_cli_prints_the_provisional_note_once_and_every_format(runner, tmp_path: Path):
    done = run_qms(runner, ["--repo", str(REPO), "transition", "--to", NEW, "--format", "json"])
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert (data["from"], data["to"], data["edition_status"]) == (OLD, NEW, "provisional")
    assert len(data["documents"]) > 80 and data["gaps"] and len(data["chapters"]) == 7
    assert done.stderr.count("provisional") == 1 and "Sources: " in done.stderr
    csv = run_qms(runner, ["--repo", str(REPO), "transition", "--to", NEW, "--format", "csv"])
    assert csv.stdout.splitlines()[0] == ",".join(report.TransitionRow.HEADERS)
    md = run_qms(runner, ["--repo", str(REPO), "transition", "--to", NEW, "--format", "md"])
    assert "## Gaps" in md.stdout and "| 6.1.3 |" in md.stdout
    out = tmp_path / "t.xlsx"
    assert run_qms(runner, ["--repo", str(REPO), "transition", "--to", NEW, "--format",
                            "xlsx", "-o", str(out)]).exit_code == 0
    from openpyxl import load_workbook

    assert load_workbook(out).sheetnames == ["Documents", "Gaps", "Chapters"]
    trace = run_qms(runner, ["--repo", str(REPO), "trace", "--standard", NEW, "--format",
                             "json"])
    assert trace.stderr.count("provisional") == 1
    assert json.loads(trace.stdout)["standard"] == NEW


# --- --write -----------------------------------------------------------------------------

@pytest.fixture
def small(runner, tmp_path: Path) -> QmsRepo:
    """tests/roots/basic with SOP-001 and SOP-002 approved (effective), SOP-003 a draft."""
    repo = QmsRepo(new_repo(tmp_path / "qms"), runner)
    (repo.root / "procedures" / "sop-003.rst").write_text(
        ".. sop:: Risks\n   :id: SOP-003\n   :revision: 1\n   :owner: quality-manager\n"
        "   :satisfies: ISO9001-6-1-1,\n      ISO9001-6-1-2\n\nText.\n", "utf-8")
    repo.commit("A draft", who="ash")
    for who, doc, role in (("quinn", "SOP-001", "quality-manager"),
                           ("quinn", "SOP-002", "quality-manager"),
                           ("pat", "SOP-002", "production-manager")):
        repo(who, "approve", doc, "--role", role)
        repo.commit(f"{doc} approved", who=who)
    return repo


def test_write_makes_revisions_that_pass_check_and_keep_approved_texts(small: QmsRepo):
    root = small.root
    refused = small("ash", "transition", "--to", NEW, "--write", code=2)
    assert "[qms] standards" in refused.output
    assert small.git("status", "--porcelain") == ""  # nothing written

    with open(root / "qms.toml", "a", encoding="utf-8") as handle:  # (the working policy)
        handle.write(f'\n[qms]\nstandards = ["{OLD}", "{NEW}"]\n')
    before = {p: (root / p).read_bytes() for p in ("procedures/sop-001.rst",
                                                   "procedures/sop-002.rst",
                                                   "procedures/sop-003.rst")}
    wrote = small("ash", "transition", "--to", NEW, "--write")
    assert wrote.stdout.splitlines() == [
        "SOP-001: revision 2: ISO 9001:2026 transition: 7.5.1 -> 7.5.1, 7.5.2 -> 7.5.2",
        "SOP-002: revision 2: ISO 9001:2026 transition: 8.1 -> 8.1, 7.5.2 -> 7.5.2"]
    assert "SOP-003: skipped: revision 1 is a draft" in wrote.stderr

    sop1 = (root / "procedures/sop-001.rst").read_text("utf-8")
    assert ":revision: 2\n" in sop1 and (
        ":satisfies: ISO9001-7-5-1, ISO9001-7-5-2, ISO9001E2026-7-5-1, ISO9001E2026-7-5-2\n"
        in sop1)
    assert sop1.split("\n", 6)[6] == before["procedures/sop-001.rst"].decode().split(
        "\n", 6)[6]  # only the header changed
    assert (root / "procedures/sop-003.rst").read_bytes() == before["procedures/sop-003.rst"]
    (record,) = [p for p in (root / "records" / "SOP-001").glob("*-change-*.yaml")]
    text = record.read_text("utf-8")
    assert "ISO 9001:2026 transition: 7.5.1 -> 7.5.1, 7.5.2 -> 7.5.2" in text
    assert "from_revision: 1" in text and "to_revision: 2" in text

    check = small("ash", "check", "--format", "json")
    assert json.loads(check.stdout)["errors"] == 0

    small.commit("Transition headers", who="ash")
    for doc in ("SOP-001", "SOP-002"):  # the approved revision stays in force, untouched
        state = small.status(doc)
        assert (state["status"], state["revision"], state["in_force"]["revision"]) == (
            "draft", 2, 1)
        path = f"procedures/{doc.lower()}.rst"
        assert small.git("show", f"HEAD~1:{path}").encode() == before[path]
    verify = json.loads(small("quinn", "verify", "--format", "json", code=None).stdout)
    assert {f["code"] for f in verify["findings"]} & {
        "edited-after-approval", "missing-change-record", "revision-behind-records"} == set()


def test_write_extends_a_satisfies_option_over_several_lines():
    from qms_docs.documents import read_header, to_document
    from qms_docs.editions import add_satisfies

    text = (".. sop:: Risks\r\n   :id: SOP-003\r\n   :satisfies: ISO9001-6-1-1,\r\n"
            "      ISO9001-6-1-2\r\n   :owner: quality-manager\r\n\r\nText.\r\n")
    doc = to_document(read_header(text, "x.rst"), "x.rst", "")
    out = add_satisfies(text.encode(), doc, ("ISO9001E2026-6-1-1",)).decode()
    assert out == text.replace("ISO9001-6-1-2\r\n", "ISO9001-6-1-2, ISO9001E2026-6-1-1\r\n")


def test_a_company_crosswalk_by_path(small: QmsRepo):
    """A crosswalk of one's own, named by path inside the QMS (as catalogs are)."""
    rows = [{"from": c.number, "to": None if c.number == "7.5.1" else c.number,
             "change": "removed" if c.number == "7.5.1" else "same"}
            for c in load_catalog(OLD).leaves]
    (small.root / "cw.yaml").write_text(json.dumps({"from": OLD, "to": NEW, "rows": rows}),
                                        encoding="utf-8")  # JSON is YAML
    done = small("ash", "transition", "--to", NEW, "--crosswalk", "cw.yaml", "--format",
                 "json")
    assert "crosswalk" not in done.stderr  # final data: only the catalog is provisional
    rows_of = {(r["document"], r["clause"]): r for r in json.loads(done.stdout)["documents"]}
    assert rows_of[("SOP-001", "7.5.1")]["action"] == "removed: re-map"
    assert rows_of[("SOP-001", "7.5.1")]["becomes"] == []
    outside = small("ash", "transition", "--to", NEW, "--crosswalk", "../cw.yaml", code=2)
    assert "outside the QMS repository" in outside.output
