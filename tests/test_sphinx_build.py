"""Real Sphinx builds of scenario projects: need types, links, reports, bad input."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.helpers import REPO, ROOTS, BuildResult, sphinx_build

pytestmark = pytest.mark.sphinx


@pytest.fixture(scope="module")
def basic(tmp_path_factory) -> BuildResult:
    """tests/roots/basic built once (strict) for the tests that only read what it made."""
    root = tmp_path_factory.mktemp("sphinx-build") / "basic"
    shutil.copytree(ROOTS / "basic", root)
    return sphinx_build(root)


def test_basic_scenario_builds_clean_and_exports_needs(basic):
    result = basic
    assert result.returncode == 0, result.warnings
    assert result.warnings.strip() == ""
    needs = result.needs()
    sop = needs["SOP-001"]
    assert sop["type"] == "sop"
    assert sop["revision"] == "1" and sop["owner"] == "quality-manager"
    assert sop["satisfies"] == ["ISO9001-7-5-1", "ISO9001-7-5-2"]
    clause = needs["ISO9001-7-5-2"]
    assert clause["type"] == "clause"
    assert clause["title"] == "7.5.2 Creating and updating"
    assert sorted(clause["satisfies_back"]) == ["SOP-001", "SOP-002"]
    assert sum(1 for n in needs.values() if n["type"] == "clause") == 91


def test_document_page_title_comes_from_the_header(basic):
    result = basic
    page = (result.outdir / "procedures" / "sop-001.html").read_text(encoding="utf-8")
    assert "<title>SOP-001 Control of Documented Information" in page
    assert re.search(r"<h1>SOP-001 Control of Documented Information", page)
    assert re.search(r"<h2>Purpose", page)


def test_clause_shows_satisfied_by(basic):
    result = basic
    page = (result.outdir / "standards.html").read_text(encoding="utf-8")
    block = page[page.index('id="ISO9001-8-1"'):]
    block = block[: block.index('id="ISO9001-8-2"')]
    assert "satisfied by" in block and "SOP-002" in block
    # as the traceability matrix's row says it: no record yet, so a revision pending
    assert "satisfied by: SOP-002 (pending rev 1)" in re.sub(r"<[^>]+>", "", block)
    matrix = (result.outdir / "reports.html").read_text(encoding="utf-8")
    row = matrix[matrix.index(">8.1<"):]
    assert "SOP-002" in row[: row.index("</tr>")] and "pending" in row[: row.index("</tr>")]


def test_reports_render_the_same_rows_as_the_library(basic):
    result = basic
    page = (result.outdir / "reports.html").read_text(encoding="utf-8")
    # no records: nothing is in force, so nothing is covered; the three clauses the
    # drafts name are pending
    assert "0 of 65 requirement clauses covered (0%)" in page
    assert "(pending: SOP-002 rev 1)" in re.sub(r"<[^>]+>", "", page)  # ids in a nowrap span
    matrix = page[page.index("qms-trace-matrix"):]
    # 7.5.2 row lists both documents; 4.1 has none.
    row = matrix[matrix.index(">7.5.2<"):]
    row = row[: row.index("</tr>")]
    assert "SOP-001" in row and "SOP-002" in row
    master = page[page.index("qms-master-list"):]
    assert master.index("SOP-001") < master.index("SOP-002")
    assert "Production Manager" in master


BAD_CASES = {
    "unknown_clause": ("procedures/sop-002.rst", "ISO9001-7-5-2", "ISO9001-7-5-9", 5),
    "duplicate_id": ("procedures/sop-002.rst", ":id: SOP-002", ":id: SOP-001", 2),
    "missing_revision": ("procedures/sop-002.rst", "   :revision: 1\n", "", 1),
    "missing_owner": ("procedures/sop-002.rst", "   :owner: production-manager\n", "", 1),
    "bad_id": ("procedures/sop-002.rst", ":id: SOP-002", ":id: WI-002", 2),
    "unknown_owner": ("procedures/sop-002.rst", "production-manager", "shift-boss", 4),
    "hand_typed_status": ("procedures/sop-002.rst", "   :revision: 1\n",
                          "   :revision: 1\n   :status: effective\n", 4),
}


@pytest.mark.parametrize("subtype", sorted(BAD_CASES))
def test_bad_input_fails_the_strict_build_with_location_and_subtype(scenario, subtype):
    root = scenario("basic")
    file, old, new, line = BAD_CASES[subtype]
    path = root / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = sphinx_build(root)
    assert result.returncode != 0
    expected = f"{path}:{line}: WARNING: "
    lines = [ln for ln in result.warnings.splitlines() if f"[qms.{subtype}]" in ln]
    assert lines, result.warnings
    assert any(ln.startswith(expected) for ln in lines), lines


def test_unknown_clause_message_suggests_the_right_id(scenario):
    root = scenario("basic")
    path = root / "procedures" / "sop-001.rst"
    path.write_text(path.read_text().replace("ISO9001-7-5-1", "ISO9001-7.5.1"), encoding="utf-8")
    result = sphinx_build(root)
    line = next(ln for ln in result.warnings.splitlines() if "[qms.unknown_clause]" in ln)
    assert "write clause ids with dashes: ISO9001-7-5-1" in line


def test_broken_qms_toml_stops_the_build_with_its_reason(scenario):
    root = scenario("basic")
    (root / "qms.toml").write_text("[organization\nname = 'x'\n", encoding="utf-8")
    result = sphinx_build(root)
    assert result.returncode != 0
    assert "qms.toml:1: not valid TOML" in result.warnings


def test_no_deprecation_warnings_from_sphinx_needs(basic):
    result = basic
    assert "needs.deprecated" not in result.warnings
    assert "[needs.config]" not in result.warnings


def _pages(outdir: Path) -> dict[str, str]:
    """Every HTML page, without the ids sphinx-needs draws at random for need containers."""
    return {str(p.relative_to(outdir)): re.sub(r'id="SNCB-[0-9a-f]+"', "", p.read_text("utf-8"))
            for p in outdir.rglob("*.html")}


def test_example_qms_builds_strict_with_full_coverage(tmp_path: Path):
    root = tmp_path / "example"
    shutil.copytree(REPO, root, ignore=shutil.ignore_patterns(
        ".venv", "_build", ".git", "tests", "__pycache__", "*.egg-info", ".pytest_cache"))
    edited = root / "procedures" / "sop-003-competence-training-and-awareness.rst"
    edited.write_text(edited.read_text("utf-8") + "\nAn edit not yet approved.\n", "utf-8")
    result = sphinx_build(root)
    assert result.returncode == 0, result.warnings
    assert result.warnings.strip() == ""
    coverage = (result.outdir / "reports" / "coverage.html").read_text(encoding="utf-8")
    assert "65 of 65 requirement clauses covered (100%)" in coverage
    transition = (result.outdir / "reports" / "transition.html").read_text(encoding="utf-8")
    assert "split: choose" in transition and "Provisional data." in transition
    glossary = (result.outdir / "reports" / "glossary.html").read_text(encoding="utf-8")
    assert 'id="term-NCR"' in glossary and 'id="term-first-article-inspection"' in glossary
    mandatory = re.sub(r"<[^>]+>", "", (result.outdir / "reports" / "mandatory.html"
                                        ).read_text(encoding="utf-8"))  # ids: no-wrap spans
    assert "records named in SOP-005" in mandatory  # retained: named records, not "yes"
    assert "6 records: 0 in records/, 6 kept elsewhere" in mandatory
    assert "22 of 22 clauses with records to retain named in a procedure" in mandatory
    needs = result.needs()
    kinds = {n["type"] for n in needs.values()}
    assert {"manual", "policy", "sop", "wi", "form", "clause"} <= kinds
    page = (result.outdir / edited.relative_to(root).with_suffix(".html")).read_text("utf-8")
    assert "qms-banner-draft" in page

    # Control blocks and report tables are written straight as HTML: byte for byte what
    # the docutils writer makes of their nodes (every report of the example, a banner).
    nodes = sphinx_build(root, options=("-D", "qms_direct_html=0"),
                         outdir=tmp_path / "from-nodes")
    assert nodes.returncode == 0, nodes.warnings
    direct, written = _pages(result.outdir), _pages(nodes.outdir)
    assert direct.keys() == written.keys()
    assert [name for name in direct if direct[name] != written[name]] == []


@pytest.mark.parametrize("builder", ["latex", "text"])
def test_single_file_builders_build_every_report(scenario, builder):
    """LaTeX and text have no page per document to link to: the reports, the trace
    diagram included, still build (the diagram's nodes simply carry no link)."""
    root = scenario("basic")
    with open(root / "reports.rst", "a", encoding="utf-8") as handle:
        handle.write("\nDiagram\n-------\n\n.. qms-report:: trace-diagram\n")
    result = sphinx_build(root, strict=False, builder=builder)
    assert result.returncode == 0, result.warnings
    assert "Traceback" not in result.warnings and "NoUri" not in result.warnings
    built = "\n".join(p.read_text(encoding="utf-8", errors="replace")
                      for p in result.outdir.rglob("*") if p.suffix in (".tex", ".txt"))
    assert "SOP-001" in built and "SOP-002" in built
