"""The site's revision history links each revision to what it changed (issue 20, item 2):
one controlled build of the two-year history (tests/auditors/conftest.py)."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from tests.auditors.conftest import DAYS, TEXTS
from tests.helpers import run_qms


@pytest.mark.sphinx
def test_revision_history_links_each_revision_to_its_changes(history_qms, tmp_path):
    out = tmp_path / "site"
    result = run_qms(CliRunner(), ["--repo", str(history_qms), "build", "html",
                                   "--controlled", "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = (out / "procedures" / "sop-003-purchasing.html").read_text(encoding="utf-8")
    links = re.findall(r'<td><p>(\d+) <a class="qms-diff-link reference external" '
                       r'href="([^"]+)">'
                       r"changes from (\d+)</a>", page)
    assert links == [("2", "../_diffs/SOP-003-1-2.html", "1")]  # revision 1 has none
    diff = (out / "_diffs" / "SOP-003-1-2.html").read_text(encoding="utf-8")
    assert "SOP-003 Purchasing: changes from revision 1 to revision 2" in diff
    assert '<a href="../procedures/sop-003-purchasing.html">SOP-003 Purchasing</a>' in diff
    inserted = re.findall(r'<tr class="insert">.*?</tr>', diff)
    assert any(TEXTS["SOP-003 r2"] in row for row in inserted)
    for day in (DAYS["SOP-003 r1 effective"], DAYS["SOP-003 r2 effective"]):
        assert f"Pat Production (production-manager, approval, {day}" in diff
    # only approved texts: SOP-004's open draft (revision 2) has no page, its text is nowhere
    assert sorted(p.name for p in (out / "_diffs").iterdir()) == ["SOP-001-1-2.html",
                                                                  "SOP-003-1-2.html"]
    assert not any(TEXTS["SOP-004 r2"] in p.read_text(encoding="utf-8")
                   for p in out.rglob("*.html"))


@pytest.mark.slow  # two more builds; the default run builds the controlled site above
@pytest.mark.sphinx
def test_the_links_are_the_same_written_directly_and_from_nodes(history_qms, tmp_path):
    """The revision table written straight as HTML equals what docutils writes of its
    nodes, links included (a preview build, history read from the repository)."""
    from tests.helpers import sphinx_build

    pages = {}
    for direct in ("1", "0"):
        built = sphinx_build(history_qms, options=("-D", f"qms_direct_html={direct}"),
                             outdir=tmp_path / direct)
        assert built.returncode == 0, built.warnings
        pages[direct] = (built.outdir / "procedures" / "sop-001.html").read_text("utf-8")
        assert (built.outdir / "_diffs" / "SOP-001-1-2.html").is_file()
    assert ('<a class="qms-diff-link reference external" href="../_diffs/SOP-001-1-2.html">'
            'changes from 1</a>') in pages["1"]
    strip = re.compile(r'id="SNCB-[0-9a-f]+"')
    assert strip.sub("", pages["1"]) == strip.sub("", pages["0"])
