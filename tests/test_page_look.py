"""How pages read, without a Sphinx build: the traceability diagram's order, and where the
lines of tables may break (the browser test checks the built pages themselves)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from qms_docs.catalog import load_catalog
from qms_docs.config import load_config
from qms_docs.documents import scan
from qms_docs.reports.traceability import chapter_links
from qms_docs.sphinxext import wrapping
from qms_docs.sphinxext.charts import trace_diagram
from tests.helpers import REPO


def test_trace_diagram_lists_the_chapters_in_the_standards_order():
    """Graphviz draws the chapters of the example QMS from 4 at the top to 10 at the
    bottom (it used to place them to spare crossings: 9, 6, 5, 7, 4, 8)."""
    dot = shutil.which("dot")
    if dot is None:
        if os.environ.get("CI") == "true":
            pytest.fail("graphviz is missing on CI: tools/install.sh installs it")
        pytest.skip("graphviz's dot is not installed (bash tools/install.sh installs it)")
    config = load_config(REPO)
    documents = [doc for doc in scan(REPO, config).documents if doc.id]
    links = chapter_links(load_catalog("iso9001-2015"), documents)
    source = trace_diagram(list(reversed(links)), config, lambda doc: "")  # any link order
    plain = subprocess.run([dot, "-Tplain"], input=source, capture_output=True, text=True,
                           check=True).stdout
    heights = {}
    for line in plain.splitlines():
        parts = line.split()
        if parts[:1] == ["node"] and parts[1].strip('"').startswith("ch-"):
            heights[parts[1].strip('"')] = float(parts[3])  # y grows upwards
    top_down = sorted(heights, key=lambda name: -heights[name])
    assert top_down == [f"ch-{n}" for n in range(4, 11)]


@pytest.mark.parametrize("text, pieces", [
    ("SOP-004", [("keep", "SOP-004")]),
    ("Quinn (Quality Manager, approval, 2026-11-22 15:12:44 +00:00)",
     [("text", "Quinn (Quality Manager, approval, "), ("keep", "2026-11-22"),
      ("text", " 15:12:44 +00:00)")]),
    ("2026-11-30T16:56:06+00:00", [("keep", "2026-11-30"), ("break", ""),
                                   ("text", "T16:56:06+00:00")]),
    ("Riley Chen <riley.chen@harbourvalve.example>",
     [("text", "Riley Chen <riley.chen"), ("break", ""), ("text", "@harbourvalve.example>")]),
    ("satisfies ISO9001-8-7-1 and QMS-POLICY", [
        ("text", "satisfies "), ("keep", "ISO9001-8-7-1"), ("text", " and "),
        ("keep", "QMS-POLICY")]),
    ("plain words, top-management", [("text", "plain words, top-management")]),
    ("", []),
])
def test_ids_and_dates_are_kept_whole(text, pieces):
    assert wrapping.pieces(text) == pieces
    assert "".join(piece for _, piece in pieces) == text


def test_wrapped_html_escapes_every_piece():
    assert wrapping.html("<b>SOP-001</b> & x@y") == (
        '&lt;b&gt;<span class="qms-nowrap">SOP-001</span>&lt;/b&gt; &amp; x<wbr/>&#64;y')


def test_control_block_lines_name_clauses_and_related_documents():
    """Clauses by number and title, linked; related documents by id and title, linked, or
    (left out of a controlled build) as text with their state; unknown ids as they are."""
    from qms_docs.documents import Scan
    from qms_docs.model import Document
    from qms_docs.sphinxext.control_block import Ref
    from qms_docs.sphinxext.pages import _clause_lines, _related_lines
    from qms_docs.sphinxext.state import ProjectState

    def doc(doc_id: str, title: str, **fields) -> Document:
        return Document(id=doc_id, type="sop", title=title, revision=1, owner="x",
                        path=f"{doc_id}.rst", line=1, **fields)

    sop = doc("SOP-001", "One", satisfies=("ISO9001-8-7-1", "ISO9001-99"),
              links=("SOP-002", "FRM-008", "SOP-404"))
    state = ProjectState(root=REPO, config=load_config(REPO),
                         catalogs=[load_catalog("iso9001-2015")],
                         scan=Scan(documents=[sop, doc("SOP-002", "Two")], findings=[]),
                         not_in_force={"FRM-008": "withdrawn"})
    assert _clause_lines(state, sop) == [
        Ref("ISO9001-8-7-1", "8.7.1 Identifying and controlling nonconforming outputs"),
        "ISO9001-99"]
    assert _related_lines(state, sop) == [Ref("SOP-002", "SOP-002 Two"),
                                          "FRM-008 (withdrawn)", "SOP-404"]
