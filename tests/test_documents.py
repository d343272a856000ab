from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qms_docs.catalog import load_catalog
from qms_docs.checks import check_documents
from qms_docs.config import load_config
from qms_docs.documents import fingerprint, read_header, scan
from qms_docs.errors import InputError
from tests.helpers import ROOTS


def test_read_header_with_continuation_and_comment():
    text = (".. a comment\n\n.. sop:: Control of Things\n   :id: SOP-001\n   :revision: 3\n"
            "   :satisfies: ISO9001-7-5-1,\n      ISO9001-7-5-2\n\nBody\n")
    header = read_header(text, "x.rst")
    assert header.directive == "sop" and header.title == "Control of Things" and header.line == 3
    assert header.options["satisfies"] == "ISO9001-7-5-1, ISO9001-7-5-2"
    assert header.lines == {"id": 4, "revision": 5, "satisfies": 6}


def test_read_header_refuses_unindented_continuation():
    with pytest.raises(InputError) as info:
        read_header(".. sop:: T\n   :id: SOP-001\n:revision: 1\n", "p.rst")
    assert info.value.line == 3


def test_fingerprint_ignores_line_ending_style_only():
    assert fingerprint(b"a\r\nb\r\n") == fingerprint(b"a\nb\n") == fingerprint(b"a\rb\r")
    assert fingerprint(b"a\nb\n") != fingerprint(b"a\nb \n")


@given(st.binary(max_size=200))
def test_fingerprint_is_stable_under_crlf_conversion(data):
    lf = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    assert fingerprint(lf.replace(b"\n", b"\r\n")) == fingerprint(lf)


def project(tmp_path: Path) -> Path:
    import shutil

    shutil.copytree(ROOTS / "basic", tmp_path / "p")
    return tmp_path / "p"


def findings_of(root: Path):
    config = load_config(root)
    return check_documents(scan(root, config), config, [load_catalog("iso9001-2015")])


def test_basic_scenario_has_no_findings(tmp_path):
    assert findings_of(project(tmp_path)) == []


def test_non_utf8_and_non_document_files_are_reported(tmp_path):
    root = project(tmp_path)
    (root / "procedures" / "sop-003.rst").write_bytes(b".. sop:: Caf\xe9\n   :id: SOP-003\n")
    (root / "procedures" / "notes.rst").write_text("Notes\n=====\n", encoding="utf-8")
    codes = {(f.code, f.path, f.line) for f in findings_of(root)}
    assert ("bad-header", "procedures/sop-003.rst", 1) in codes
    assert ("not-a-document", "procedures/notes.rst", 1) in codes


def test_links_to_unknown_documents_are_reported(tmp_path):
    root = project(tmp_path)
    path = root / "procedures" / "sop-002.rst"
    path.write_text(path.read_text().replace(
        "   :owner:", "   :links: SOP-001, SOP-077\n   :owner:"))
    found = [f for f in findings_of(root) if f.code == "unknown-link"]
    assert [(f.path, f.line, f.document) for f in found] == [
        ("procedures/sop-002.rst", 4, "SOP-002")]
    assert "SOP-077" in found[0].message


@pytest.mark.parametrize("text", [
    "1. Numbered", "- bullet", "(a) lettered", "iv) roman", ".. include:: /etc/passwd",
    "a\\b *c* `d` <e> @f |g| [h]_ :i:", "  spaced\ttext\nover lines  ", "nul\x00and\x1fbell",
    ">>> doctest", "#. auto", "plain words",
])
def test_one_line_is_what_a_reader_sees_of_escaped_text(text):
    """The HTML writer's report tables show one_line(); the nodes show the parsed
    rst_text(): the same characters."""
    from docutils import nodes
    from docutils.utils import escape2null

    from qms_docs.text import one_line, rst_text

    assert nodes.Text(escape2null(rst_text(text))).astext() == one_line(text)


@given(st.text(max_size=60))
def test_one_line_matches_escaped_text_for_any_text(text):
    from docutils import nodes
    from docutils.utils import escape2null

    from qms_docs.text import one_line, rst_text

    assert nodes.Text(escape2null(rst_text(text))).astext() == one_line(text)
