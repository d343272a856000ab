"""A tiny run of the benchmark: it runs and prints every ratio (no timing assertions)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.helpers import REPO

pytestmark = pytest.mark.sphinx

RATIOS = ["build: qms / bare sphinx-needs", "build: qms / bare sphinx-needs, no record cache",
          "build: bare sphinx-needs / plain Sphinx",
          "verify / floor", "check / floor", "verify / floor, no record cache",
          "check / floor, no record cache", "incremental / full build",
          "scaling build: per document", "scaling check: per document",
          "scaling verify: per document", "import 2 Word SOPs: qms import / pandoc alone",
          "federation: build of a site with a corporate export of 40 needs / without",
          "controlled PDF build / WeasyPrint alone (one process)",
          "PDF rebuild after editing one SOP / full PDF build (preview)",
          "audit pack right after a controlled PDF build / that build"]


@pytest.mark.slow  # builds about ten small sites and PDFs (~50 s): -m slow after changing
# tools/bench.py
def test_benchmark_smoke_run_prints_every_ratio():
    done = subprocess.run([sys.executable, str(REPO / "tools" / "bench.py"), "--sizes", "10,20",
                           "--repeat", "1", "--no-write", "--word-files", "2",
                           "--federation", "10,40", "--pdf-sizes", "10"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    table = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    for ratio in RATIOS:
        rows = [line for line in table if line.startswith(f"| {ratio}")]
        assert rows, ratio
        value = rows[-1].split("|")[3].strip()
        assert float(value) > 0, rows[-1]
    assert "peak RSS" in done.stdout


def test_the_three_trees_give_each_document_page_the_same_title(tmp_path):
    """The baselines hold the same page structure as qms builds: ``<id> <title>`` over
    the document's own sections (else bare pages would be titled by their first section)."""
    sys.path.insert(0, str(REPO / "tools"))
    import bench

    repo = tmp_path / "qms"
    subprocess.run([sys.executable, str(REPO / "tools" / "gen_synthetic_qms.py"), "6",
                    "--commits", "30", "--out", str(repo)], check=True, capture_output=True)
    bench.bare_needs_tree(repo, tmp_path / "needs")
    bench.plain_tree(repo, tmp_path / "plain")
    pages = sorted(p.relative_to(repo) for p in bench._document_pages(repo)
                   if bench.HEADER.match(p.read_text()))
    assert len(pages) == 6
    for page in pages:
        header = bench.HEADER.match((repo / page).read_text())
        number = dict(re.findall(r"   :(\w+): (.*)", header.group(3)))["id"]
        title = f"{number} {header.group(2)}"
        for tree in ("needs", "plain"):
            lines = (tmp_path / tree / page).read_text().splitlines()
            assert lines[:3] == ["=" * len(title), title, "=" * len(title)], (tree, page)
        assert f".. {header.group(1)}:: " in (tmp_path / "needs" / page).read_text()
        plain = (tmp_path / "plain" / page).read_text()
        assert ".. " + header.group(1) not in plain and ":Revision: " in plain
