"""qms import: real Word files (python-docx, tests/wordfiles.py) become controlled documents.

One repository is shared by the module: a full-featured Word SOP imported as reStructuredText,
another as MyST Markdown, both built once with Sphinx -W and then approved. The refusals
(--strict, a broken file among good ones, a .doc) each use a fresh small repository.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys

import pytest
import yaml
from click.testing import CliRunner

from qms_docs.includes import composite, file_digest
from qms_docs.workspace import Workspace
from tests.helpers import QmsRepo, new_repo, snapshot, sphinx_build
from tests.wordfiles import WordSop, png

pytest.importorskip("pypandoc")

EVERYTHING = dict(text_box=True, tracked_change=True, comment=True, field_code=True,
                  embedded_object=True)


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """A QMS with SOP-12 Purchasing.docx imported as RST (it has a Word number) and
    Receiving.docx (none) as MyST; the outputs of both imports."""
    base = tmp_path_factory.mktemp("wordimport")
    repo = QmsRepo(base / "qms", CliRunner())
    new_repo(repo.root)
    words = base / "word"
    purchasing = WordSop(**EVERYTHING).save(words / "SOP-12 Purchasing.docx")
    receiving = WordSop(number="", title="Goods Receiving", page_header="SOP-30",
                        history_table=False, **EVERYTHING).save(words / "Receiving.docx")
    rst = repo.qms("ash", "import", str(purchasing), "--type", "sop", "--owner",
                   "production-manager", "--satisfies", "8.4.1")
    md = repo.qms("ash", "import", str(receiving), "--type", "sop", "--format", "md",
                  "--owner", "production-manager")
    repo.sources = {"SOP-012": purchasing, "SOP-030": receiving}
    return repo, rst, md


def _record(repo: QmsRepo, doc_id: str) -> dict:
    (path,) = (repo.root / "records" / doc_id).glob("*-change-*.yaml")
    return yaml.safe_load(path.read_text("utf-8"))


def test_rst_keeps_structure(shared):
    repo, _, _ = shared
    text = (repo.root / "procedures" / "sop-012-purchasing.rst").read_text("utf-8")
    assert text.startswith(".. sop:: Purchasing\n   :id: SOP-012\n   :revision: 1\n"
                           "   :owner: production-manager\n   :satisfies: ISO9001-8-4-1\n\n")
    assert "1 Purpose\n=========" in text and "3.1 Requisition\n---------------" in text
    assert "**materials**" in text and "*services*" in text
    assert "`the\nsupplier portal <https://suppliers.example.com/>`__" in text
    # nested numbered list: a., b. indented under 1.
    assert re.search(r"1\. Raise a purchase requisition\.\n\n   a\. State the part number\."
                     r"\n\n   b\. State the quantity\.\n\n2\. Send it to the buyer\.", text)
    assert re.search(r"- Check the supplier is approved\.\n\n  - Check the approval date\.",
                     text)
    # merged header cell: one grid cell over the first two columns
    header = re.search(r"\n(\+-+\+-+\+)\n\| Who +\| Does +\|\n\+=+\+=+\+=+\+", text)
    assert header, text
    assert "| Buyer" in text and "| Places the order" in text
    assert "[1]_" in text and ".. [1]\n   See the supplier list for approved sources." in text
    assert ".. |image1| image:: sop-012-purchasing/figure-1.png" in text
    # Word's control tables left the text
    assert "Document No." not in text and "Approved by" not in text
    assert "Revision history" not in text and "New supplier rating" not in text
    # a tracked change is imported as accepted, a text box's text is not
    assert "Orders above 2000 EUR need" in text and "5000 EUR" not in text
    assert "Call the buyer" not in text


def test_pictures_are_extracted_and_fingerprinted(shared):
    repo, _, _ = shared
    picture = repo.root / "procedures" / "sop-012-purchasing" / "figure-1.png"
    assert picture.read_bytes() == png()
    documents = {d.id: d for d in Workspace(repo.root).scan.documents}
    doc = documents["SOP-012"]
    assert doc.includes == ("procedures/sop-012-purchasing/figure-1.png",)
    own = file_digest((repo.root / doc.path).read_bytes())
    assert doc.fingerprint == composite(own, {doc.includes[0]: png()}) != own


def test_warnings_name_kind_and_place(shared):
    _, rst, _ = shared
    out = rst.stderr
    assert "SOP-12 Purchasing.docx -> SOP-012:" in out
    assert "note: SOP-012 from the Word number SOP-12" in out
    expected = [
        "warning: section '2 Scope', paragraph 2: text box: 'Call the buyer before "
        "ordering.' is not imported",
        "warning: section '3.1 Requisition', paragraph 9: tracked change: deleted '5000 EUR' "
        "by Reviewer; inserted '2000 EUR' by Reviewer: imported as if accepted; accept or "
        "reject them in Word first",
        "warning: section '3.1 Requisition', paragraph 10: comment: by Reviewer: 'Which "
        "form?' is not imported; accept or reject them in Word first",
        "warning: section '3.1 Requisition', paragraph 11: field: DATE is computed by Word",
        "warning: section '3.1 Requisition', paragraph 12: embedded object: object "
        "Excel.Sheet.12 is not imported",
    ]
    for line in expected:
        assert line in out, out
    assert "5 warnings" in out
    table = rst.stdout.splitlines()
    assert table[0].split() == ["file", "id", "document", "pictures", "warnings"]
    assert table[2].split()[-4:] == ["SOP-012", "procedures/sop-012-purchasing.rst", "1", "5"]


def test_change_record_names_source_and_word_header(shared):
    repo, _, _ = shared
    record = _record(repo, "SOP-012")
    digest = hashlib.sha256(repo.sources["SOP-012"].read_bytes()).hexdigest()
    assert record["from_revision"] == 0 and record["to_revision"] == 1
    assert record["reason"] == f"Imported from SOP-12 Purchasing.docx (sha256 {digest})"
    summary = record["summary"]
    assert ("Word header: Document No.: SOP-12; Title: Purchasing; Revision: C; Owner: "
            "Purchasing Manager; Approved by: J. Smith (Quality Manager), 2024-03-01.") in summary
    assert ("Word revision history (Rev | Date | Description): A | 2019-05-02 | First issue; "
            "B | 2021-02-11 | New supplier rating; C | 2024-03-01 | Approval limits.") in summary
    assert record["author"]["email"] == "ash@example.com"


def test_myst_keeps_structure_and_warns_of_merged_cells(shared):
    repo, _, md = shared
    text = (repo.root / "procedures" / "sop-030-goods-receiving.md").read_text("utf-8")
    assert text.startswith("```{sop} Goods Receiving\n:id: SOP-030\n:revision: 1\n")
    assert "\n# 1 Purpose\n" in text and "\n## 3.1 Requisition\n" in text
    assert re.search(r"1\.  Raise a purchase requisition\.\n\n    1\.  State the part number\.",
                     text)
    assert "| Who       |            | Does             |" in text
    assert "![](sop-030-goods-receiving/figure-1.png)" in text
    assert "[^1]" in text and "[^1]: See the supplier list" in text
    assert "<" not in text.replace("<https", "")  # no raw HTML
    assert "Orders above 2000 EUR need" in text and "Call the buyer" not in text
    assert ("warning: table 1 in section '3.2 Responsibilities': table: merged cells are "
            "split") in md.stderr
    for kind in ("text box", "tracked change", "comment", "field", "embedded object"):
        assert f": {kind}: " in md.stderr
    assert "6 warnings" in md.stderr
    assert "note: SOP-030 from the Word number SOP-30" in md.stderr  # from the page header
    summary = _record(repo, "SOP-030")["summary"]
    assert summary.startswith("Word header: Title: Goods Receiving; Revision: C; Owner: ")
    assert "Doc. No.: SOP-30" in summary and "revision history" not in summary


@pytest.mark.sphinx
def test_build_check_and_approval(shared):
    """The imported documents pass qms check, build with -W and are approved like any
    other (a build, then the approvals: one test, so the module builds once)."""
    repo, _, _ = shared
    check = repo.qms("ash", "check")
    assert "0 errors, 0 warnings" in check.stderr
    bodies = repo.qms("ash", "check", str(repo.root / "procedures/sop-012-purchasing.rst"),
                      str(repo.root / "procedures/sop-030-goods-receiving.md"))
    # their markup, parsed as a build reads it, is clean; the Word text's wordings are not
    # all ISO 9000's (warnings of the term check, which never fail it)
    assert "0 errors," in bodies.stderr and bodies.exit_code == 0
    assert "bad-markup" not in bodies.stderr
    assert all("[non-preferred-term]" in line for line in bodies.stderr.splitlines()
               if ": warning: " in line)
    built = sphinx_build(repo.root)
    assert built.returncode == 0, built.warnings
    html = (built.outdir / "procedures" / "sop-012-purchasing.html").read_text("utf-8")
    assert 'colspan="2"' in html and "_images/figure-1.png" in html
    assert 'class="footnote' in html
    myst = (built.outdir / "procedures" / "sop-030-goods-receiving.html").read_text("utf-8")
    assert "<table" in myst and "_images/figure-1" in myst
    repo.git("add", "-A")
    repo.commit("Import the Word SOPs")
    for doc in ("SOP-012", "SOP-030"):
        repo.qms("quinn", "approve", doc, "--role", "quality-manager")
        repo.qms("pat", "approve", doc, "--role", "production-manager")
    repo.git("add", "-A")
    repo.commit("Approvals", who="quinn")
    statuses = json.loads(repo.qms("quinn", "status", "--format", "json").stdout)
    assert {s["document"]: s["status"] for s in statuses
            if s["document"] in ("SOP-012", "SOP-030")} == {
        "SOP-012": "effective", "SOP-030": "effective"}


# --- refusals: nothing written ------------------------------------------------------------

@pytest.fixture
def small(tmp_path):
    repo = QmsRepo(tmp_path / "qms", CliRunner())
    new_repo(repo.root)
    return repo


def test_strict_writes_nothing(small, tmp_path):
    source = WordSop(tracked_change=True, image=False).save(tmp_path / "w" / "a.docx")
    before = snapshot(small.root)
    result = small.qms("ash", "import", str(source), "--type", "sop", "--strict", code=1)
    assert "--strict: 1 thing in 1 file cannot be converted faithfully" in result.stderr
    assert "accept or reject them in Word first" in result.stderr
    assert snapshot(small.root) == before


def test_one_bad_file_writes_nothing_and_dry_run_plans(small, tmp_path):
    folder = tmp_path / "word"
    WordSop(number="SOP-7", title="Calibration").save(folder / "one.docx")
    WordSop(number="", title="Training").save(folder / "two.docx")
    WordSop(number="WI-3", title="Packing").save(folder / "three.docx")
    (folder / "~$one.docx").write_bytes(b"Word's lock file")
    before = snapshot(small.root)
    plan = small.qms("ash", "import", str(folder), "--type", "sop", "--dry-run")
    rows = [line.split()[:2] for line in plan.stdout.splitlines()[2:]]
    # Word numbers first (SOP-007), then the next free ids after the highest
    assert rows == [["one.docx", "SOP-007"], ["three.docx", "SOP-008"],
                    ["two.docx", "SOP-009"]]
    assert "the Word number WI-3 does not fit SOP- ids" in plan.stderr
    assert "Dry run: nothing was written." in plan.stderr
    assert snapshot(small.root) == before
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (folder / "one.docx").rename(mixed / "one.docx")
    (mixed / "four.docx").write_bytes(b"not a zip")
    bad = small.qms("ash", "import", str(mixed), "--type", "sop", code=2)
    assert "1 of 2 files cannot be imported, so none is" in bad.stderr
    assert "four.docx: not a Word .docx file" in bad.stderr
    assert snapshot(small.root) == before


def test_headings_word_numbers_itself_are_reported(small, tmp_path):
    """Word's automatic heading numbers (1, 1.1 ...) do not survive pandoc: said, once."""
    source = WordSop(numbered_headings=True, image=False).save(tmp_path / "n.docx")
    plain = WordSop(image=False).save(tmp_path / "p.docx")
    result = small.qms("ash", "import", str(source), str(plain), "--type", "sop", "--dry-run")
    said = result.stderr.split("p.docx -> ")
    assert len(said) == 2 and "numbered headings" not in said[1], result.stderr
    lines = [line for line in said[0].splitlines() if "numbered headings" in line]
    assert lines == ["  warning: heading '1 Purpose': numbered headings: Word numbers 6 "
                     "headings itself; the numbers are not imported: type them into the "
                     "headings (in Word, or in the imported text) where the text refers to "
                     "sections by number"], result.stderr


def test_a_file_that_unpacks_too_large_is_refused_unread(small, tmp_path, monkeypatch):
    """The limits (100 MB of file, 500 MB unpacked) made small: a zip bomb is refused on
    its stated sizes, before any part is unpacked, and nothing is written."""
    from qms_docs.wordimport import convert

    source = WordSop(image=True).save(tmp_path / "a.docx")
    before = snapshot(small.root)
    monkeypatch.setattr(convert, "MAX_UNPACKED_BYTES", 20_000)
    result = small.qms("ash", "import", str(source), "--type", "sop", code=2)
    assert re.search(r"a\.docx: the file's parts unpack to \d+ bytes \(the limit is 20000\): "
                     "not read", result.stderr), result.stderr
    assert "Compress Pictures" in result.stderr and "Traceback" not in result.output
    monkeypatch.setattr(convert, "MAX_FILE_BYTES", 1000)
    result = small.qms("ash", "import", str(source), "--type", "sop", code=2)
    assert "the file is too large" in result.stderr and "the limit is 1000" in result.stderr
    assert snapshot(small.root) == before


def test_doc_and_id_misuse_are_usage_errors(small, tmp_path):
    old = tmp_path / "old.doc"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    result = small.qms("ash", "import", str(old), "--type", "sop", code=2)
    assert "save it as .docx" in result.stderr
    one = WordSop().save(tmp_path / "a.docx")
    two = WordSop().save(tmp_path / "b.docx")
    result = small.qms("ash", "import", str(one), str(two), "--type", "sop", "--id", "SOP-050",
                       code=2)
    assert "--id names the id of one document" in result.stderr


def test_without_the_import_extra_it_says_which_extra(small, tmp_path):
    """pypandoc made unimportable, as if the import extra were not installed."""
    source = WordSop(image=False).save(tmp_path / "a.docx")
    code = ("import sys\n"
            "class Blocked:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name.split('.')[0] == 'pypandoc':\n"
            "            raise ModuleNotFoundError(name, name=name)\n"
            "sys.meta_path.insert(0, Blocked())\n"
            "from qms_docs.cli import main\n"
            "sys.exit(main(sys.argv[1:]))")
    small.git("config", "user.email", "ash@example.com")
    done = subprocess.run([sys.executable, "-c", code, "--repo", str(small.root), "import",
                           str(source), "--type", "sop"], capture_output=True, text=True)
    assert done.returncode == 2
    assert "Word files need the import extra: pip install 'qms-docs[import]'" in done.stderr
    assert "Traceback" not in done.stderr and "Converting" not in done.stderr


# --- Word's control tables, in the forms templates use --------------------------------

def test_header_tables_in_three_forms():
    from qms_docs.wordimport.tables import header_fields, history_rows, is_history_heading

    over = header_fields([["Doc. No.", "Rev.", "Effective date"], ["QP-7", "4", "2023-01-09"]])
    assert over is not None and over.entries == [("number", "Doc. No.", "QP-7"),
                                                 ("revision", "Rev.", "4"),
                                                 ("effective", "Effective date", "2023-01-09")]
    inline = header_fields([["Document number: SOP-3", "Version: 2.1"], ["Page 1 of 4", ""]])
    assert inline is not None and inline.get("number") == "SOP-3"
    assert inline.get("revision") == "2.1"
    pairs = header_fields([["Title", "Purchasing", "Revision", "C"]])
    assert pairs is not None and (pairs.get("title"), pairs.get("revision")) == ("Purchasing", "C")
    assert header_fields([["Step", "Who"], ["Order", "Buyer"]]) is None  # an ordinary table
    assert history_rows([["Issue", "Date", "Nature of change"], ["1", "2020", "New"]])
    assert history_rows([["Revision", "Owner"], ["B", "QM"]]) is None
    assert is_history_heading("9 Document history") and not is_history_heading("History of valves")
