"""The common language: ISO 9000 terms, the company glossary, the term check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qms_docs import glossary
from qms_docs.errors import InputError
from qms_docs.policy import covered
from tests.helpers import REPO, QmsRepo, new_repo, run_qms, sphinx_build

PLANTED = """\
.. sop:: Supplier Evaluation
   :id: SOP-009
   :revision: 1
   :owner: quality-manager
   :satisfies: ISO9001-8-4-1

Purpose
=======

Every supplier is evaluated before the first order.
We aim at continuous
improvement of our purchased products.

.. note::
   :class: documented-procedure

   The management representative signs the report.

A literal block follows::

   supplier = "not prose"

.. code-block:: text

   preventive action in code

Inline ``documented procedure`` and :need:`SOP-001` and `supplier <https://x.example>`_.

.. qms: allow-terms-next

"Preventive action shall be taken", as the 2008 edition said.

.. Quality records are a comment.

Exclusions: none.
"""

#: line -> the wording found there
EXPECTED = {1: "Supplier", 10: "supplier", 11: "continuous improvement",
            12: "purchased products", 17: "management representative", 35: "Exclusions"}


def _found(text: str, path: str = "sop-009.rst", terms: glossary.Glossary | None = None):
    findings = glossary.term_findings(text, path, terms or glossary.shipped(), "SOP-009")
    return {(f.line, f.message.split("'")[1]) for f in findings}, findings


def test_planted_wordings_are_found_at_their_lines_and_nothing_else():
    found, findings = _found(PLANTED)
    assert found == set(EXPECTED.items())
    assert {f.code for f in findings} == {"non-preferred-term"}
    assert all(f.severity == "warning" and f.document == "SOP-009" for f in findings)
    by_line = {f.line: f for f in findings}
    assert "use 'external provider'" in by_line[10].message
    assert "use 'continual improvement'" in by_line[11].message


def test_document_opt_outs():
    found, _ = _found(PLANTED + "\n.. qms: allow-terms supplier, exclusion\n")
    assert found == {(n, w) for n, w in EXPECTED.items() if w.lower() not in (
        "supplier", "exclusions")}
    assert _found(PLANTED.replace("Purpose\n", ".. qms: allow-terms\n\nPurpose\n"))[0] == set()


def test_markdown_line_opt_out_and_fences():
    text = ("```{sop} Title\n:id: SOP-009\n```\n\nOur supplier list.\n"
            "A quoted supplier. <!-- qms: allow-terms -->\n\n```text\nsupplier\n```\n"
            "% qms: allow-terms-next\nA supplier quoted.\n\nLast supplier.\n")
    assert _found(text, "x.md")[0] == {(5, "supplier"), (14, "supplier")}


def test_company_glossary_adds_overrides_and_allows(tmp_path: Path):
    (tmp_path / glossary.GLOSSARY_NAME).write_text(
        "terms:\n"
        "- {term: NCR, explanation: Our nonconformance report.}\n"
        "- {term: quality records share, explanation: Our folder.}\n"
        "- {term: audit, explanation: Our own words.}\n"
        "non_preferred:\n- {wording: bug, use: nonconformity}\n"
        "allow: [supplier]\n", encoding="utf-8")
    terms = glossary.load(tmp_path, "Acme")
    by_name = terms.by_name()
    assert by_name["ncr"].source == "Acme" and by_name["audit"].explanation == "Our own words."
    assert by_name["documented information"].clause == "3.8.6"
    text = ("Title\n=====\n\nA supplier found a bug, filed in the quality records\n"
            "share. Quality records go elsewhere.\n")
    assert _found(text, "a.rst", terms)[0] == {(4, "bug"), (5, "Quality records")}

    (tmp_path / glossary.GLOSSARY_NAME).write_text("terms:\n- {term: X}\n", encoding="utf-8")
    with pytest.raises(InputError, match="invalid glossary: terms"):
        glossary.load(tmp_path)


def test_the_glossary_is_part_of_the_controlled_policy():
    from qms_docs.config import load_config

    assert "glossary.yaml" in covered(["glossary.yaml", "procedures/sop-001.rst"],
                                      load_config(REPO), None)


def test_qms_check_warns_with_file_and_line(runner, tmp_path: Path):
    repo = QmsRepo(new_repo(tmp_path / "qms"), runner)
    (repo.root / "procedures" / "sop-009.rst").write_text(PLANTED, encoding="utf-8")
    assert "non-preferred" not in repo("quinn", "check").output  # header-only: no body read
    done = repo("quinn", "check", "procedures/sop-009.rst")  # warnings only: exit 0
    assert ("procedures/sop-009.rst:11: warning: [non-preferred-term] 'continuous "
            "improvement' is a non-preferred wording: use 'continual improvement'") in done.output
    assert "0 errors, 6 warnings" in done.output
    data = json.loads(repo("quinn", "check", "--bodies", "--format", "json").stdout)
    assert sorted(f["line"] for f in data["findings"]) == sorted(EXPECTED)


def test_the_example_qms_passes_its_own_term_check(runner):
    done = run_qms(runner, ["--repo", str(REPO), "check", "--bodies", "--format", "json"])
    assert done.exit_code == 0
    assert json.loads(done.stdout)["findings"] == []
    terms = glossary.load(REPO, "Harbour Valve Company Ltd").by_name()
    assert {"ncr", "first-article inspection"} <= set(terms)


@pytest.mark.sphinx
def test_glossary_page_terms_links_and_transition_page(tmp_path: Path):
    root = new_repo(tmp_path / "qms")
    (root / "glossary.yaml").write_text(
        "terms:\n- {term: NCR, explanation: Our nonconformance report.}\n", encoding="utf-8")
    (root / "glossary.rst").write_text("Glossary\n========\n\n.. qms-glossary::\n",
                                       encoding="utf-8")
    (root / "transition.rst").write_text(
        "Transition\n==========\n\n.. qms-report:: transition\n   :to: iso9001-2026\n",
        encoding="utf-8")
    sop = root / "procedures" / "sop-001.rst"  # it satisfies clauses of both editions
    sop.write_text(sop.read_text("utf-8").replace("ISO9001-7-5-2\n", "ISO9001-7-5-2, "
                                                  "ISO9001E2026-7-5-1\n")
                   + "\nAn :term:`NCR` names each nonconformity.\n", encoding="utf-8")
    with open(root / "qms.toml", "a", encoding="utf-8") as handle:
        handle.write('\n[qms]\nstandards = ["iso9001-2015", "iso9001-2026"]\n')
    standards = root / "standards.rst"
    standards.write_text(standards.read_text("utf-8") + "\n.. qms-clauses:: iso9001-2026\n",
                         encoding="utf-8")
    conf = root / "conf.py"
    conf.write_text(conf.read_text("utf-8").replace('"reports.rst"]', '"reports.rst", '
                                                    '"glossary.rst", "transition.rst"]'),
                    encoding="utf-8")
    index = root / "index.rst"
    index.write_text(index.read_text("utf-8") + "\n.. toctree::\n\n   glossary\n"
                     "   transition\n", encoding="utf-8")
    result = sphinx_build(root)
    assert result.returncode == 0, result.warnings
    page = (result.outdir / "glossary.html").read_text("utf-8")
    assert 'id="term-NCR"' in page and "Our nonconformance report." in page
    assert "continual improvement" in page and "external provider" in page
    assert "SOP-001" in page.split('id="term-nonconformity"')[1].split("</dd>")[0]
    sop_page = (result.outdir / "procedures" / "sop-001.html").read_text("utf-8")
    assert "glossary.html#term-NCR" in sop_page
    needs = result.needs()
    assert "SOP-001" in needs["ISO9001E2026-7-5-1"]["satisfies_back"]
    assert "SOP-001" in needs["ISO9001-7-5-1"]["satisfies_back"]
    clauses = (result.outdir / "standards.html").read_text("utf-8")
    assert "The catalog iso9001-2026 is provisional" in clauses
    transition = (result.outdir / "transition.html").read_text("utf-8")
    assert "Provisional data." in transition and "changed: review" not in transition
    assert "7.5.1" in transition and "unchanged" in transition
