"""What a document shows: included files in its fingerprint, unsafe includes and remote
resources refused, need directives of document types only in document files."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from qms_docs.config import load_config
from qms_docs.documents import scan
from qms_docs.includes import composite, file_digest
from tests.helpers import git, sphinx_build

SOP = "procedures/sop-001.rst"
PASSWD = "root:x:0:0"


def add(root: Path, text: str, path: str = SOP) -> None:
    file = root / path
    file.write_text(file.read_text(encoding="utf-8") + text, encoding="utf-8")


def codes(result) -> set[str]:
    return {f["code"] for f in json.loads(result.stdout)["findings"]}


def status(t, doc: str = "SOP-001") -> dict:
    [row] = json.loads(t.qms("quinn", "status", doc, "--format", "json").stdout)
    return row


# --- the fingerprint ------------------------------------------------------------------

def test_a_document_that_includes_nothing_keeps_the_fingerprint_of_its_bytes(scenario):
    root = scenario()
    raw = (root / SOP).read_bytes()
    [doc] = [d for d in scan(root, load_config(root)).documents if d.id == "SOP-001"]
    assert doc.fingerprint == hashlib.sha256(raw).hexdigest() and doc.includes == ()


def test_the_fingerprint_covers_each_included_file_by_path_and_bytes(scenario):
    root = scenario()
    (root / "procedures" / "img").mkdir()
    (root / "procedures" / "img" / "flow.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0binary")
    (root / "procedures" / "data.csv").write_bytes(b"a,b\r\n1,2\r\n")
    add(root, "\n.. figure:: img/flow.png\n\n   The flow.\n\n"
              ".. csv-table:: Data\n   :file: data.csv\n")
    own = hashlib.sha256((root / SOP).read_bytes()).hexdigest()
    [doc] = [d for d in scan(root, load_config(root)).documents if d.id == "SOP-001"]
    assert doc.includes == ("procedures/data.csv", "procedures/img/flow.png")
    csv = hashlib.sha256(b"a,b\n1,2\n").hexdigest()  # text: line endings normalized
    png = hashlib.sha256(b"\x89PNG\r\n\x1a\n\0\0binary").hexdigest()  # binary: as it is
    expected = hashlib.sha256(f"qms-fingerprint-2\n{own}\nprocedures/data.csv\0{csv}\n"
                              f"procedures/img/flow.png\0{png}\n".encode()).hexdigest()
    assert doc.fingerprint == expected
    assert composite(own, {"x": b"1"}) != composite(own, {"y": b"1"})  # the path counts
    assert file_digest(b"a\r\nb") == file_digest(b"a\nb")  # text: line endings normalized


# --- check ----------------------------------------------------------------------------

@pytest.mark.parametrize("directive, code", [
    (".. literalinclude:: /etc/passwd", "unsafe-include"),
    (".. literalinclude:: ../../../../../../../../etc/passwd", "unsafe-include"),
    (".. include:: ../../outside.rst", "unsafe-include"),
    (".. raw:: html\n   :file: /etc/passwd", "unsafe-include"),
    (".. image:: https://cdn.example.com/logo.png", "remote-resource"),
    (".. |logo| image:: //cdn.example.com/logo.png", "remote-resource"),
    (".. csv-table:: Prices\n   :url: https://example.com/prices.csv", "remote-resource"),
    (".. raw:: html\n\n   <script>alert(1)</script>", "remote-resource"),
    (".. raw:: html\n\n   <img src=\"https://tracker.example/p.gif\">", "remote-resource"),
    (".. include:: nothing-here.rst", "missing-include"),
    (".. graphviz:: ../../../../../../../etc/passwd", "unsafe-include"),
    (".. needimport:: https://example.com/needs.json", "remote-resource"),
])
def test_check_refuses_what_a_document_must_not_show(make_repo, directive, code):
    t = make_repo()
    add(t.root, f"\nIntro.\n\n{directive}\n")
    line = (t.root / SOP).read_text().splitlines().index(directive.splitlines()[0]) + 1
    result = t.qms("quinn", "check", "--format", "json", code=1)
    [finding] = json.loads(result.stdout)["findings"]
    assert (finding["code"], finding["path"], finding["line"]) == (code, SOP, line)
    assert finding["hint"]


def test_examples_in_literal_blocks_are_no_includes(make_repo):
    t = make_repo()
    add(t.root, "\nExample::\n\n   .. literalinclude:: /etc/passwd\n\n"
                ".. code-block:: rst\n\n   .. image:: https://example.com/x.png\n\n"
                "..\n   .. include:: /etc/shadow\n")
    t.qms("quinn", "check")


def test_a_link_out_of_the_repository_is_an_unsafe_include(make_repo, tmp_path):
    t = make_repo()
    (tmp_path / "secret.txt").write_text("SECRET\n")
    (t.root / "procedures" / "notes.txt").symlink_to(tmp_path / "secret.txt")
    add(t.root, "\n.. literalinclude:: notes.txt\n")
    result = t.qms("quinn", "check", "--format", "json", code=1)
    assert codes(result) == {"unsafe-include"}


def test_markdown_documents_are_checked_the_same(make_repo):
    t = make_repo()
    (t.root / "procedures" / "sop-003.md").write_text(
        "```{sop} Markdown Procedure\n:id: SOP-003\n:revision: 1\n:owner: quality-manager\n"
        "```\n\nText ![chart](https://example.com/chart.png) here.\n\n"
        "```{literalinclude} /etc/passwd\n```\n\n```text\n![not](https://in.code/x.png)\n```\n",
        encoding="utf-8")
    result = t.qms("quinn", "check", "--format", "json", code=1)
    found = {(f["code"], f["line"]) for f in json.loads(result.stdout)["findings"]}
    assert found == {("remote-resource", 7), ("unsafe-include", 9)}


# --- verify, status, approve, show: a change to an included file ---------------------

@pytest.fixture
def with_csv(make_repo):
    """SOP-001 shows procedures/data.csv (APPROVED-VALUE), approved and effective."""
    t = make_repo(day="2025-01-02")
    (t.root / ".gitignore").write_text("_build/\n")
    (t.root / "procedures" / "data.csv").write_text("Item,Value\nlimit,APPROVED-VALUE\n")
    add(t.root, "\n.. csv-table:: Limits\n   :file: data.csv\n   :header-rows: 1\n")
    t.commit("SOP-001 shows a table")
    t.at("2025-01-10").qms("quinn", "approve", "SOP-001", "--role", "quality-manager")
    t.commit("Approve SOP-001", who="quinn")
    return t


def edit_csv(t, value: str = "EDITED-VALUE") -> None:
    (t.root / "procedures" / "data.csv").write_text(f"Item,Value\nlimit,{value}\n")


def test_verify_is_clean_for_an_approved_document_with_includes(with_csv):
    assert with_csv.qms("quinn", "verify", "--format", "json").exit_code == 0
    assert status(with_csv)["status"] == "effective"


def test_a_changed_included_file_is_edited_after_approval(with_csv):
    t = with_csv
    edit_csv(t)
    t.at("2025-02-01").commit("quiet change of the table")
    result = t.qms("quinn", "verify", "--format", "json", code=1)
    assert codes(result) == {"edited-after-approval"}
    row = status(t)
    assert row["status"] != "effective" and row["revision"] == 1


def test_approve_refuses_an_uncommitted_included_file(with_csv):
    t = with_csv
    t.at("2025-02-01").qms("ash", "revise", "SOP-001", "--reason", "New limit")
    t.commit("SOP-001 r2")
    edit_csv(t)
    result = t.qms("quinn", "approve", "SOP-001", "--role", "quality-manager", code=1)
    assert "procedures/data.csv" in result.output and "uncommitted" in result.output


def test_an_approval_of_content_held_after_an_include_only_commit_verifies(with_csv):
    """The revision is committed first, the table in a later commit: the document held
    the approved fingerprint only from that commit on."""
    t = with_csv
    t.at("2025-02-01").qms("ash", "revise", "SOP-001", "--reason", "New limit")
    t.commit("SOP-001 r2")
    edit_csv(t, "SECOND-VALUE")
    t.commit("new table")
    t.at("2025-02-03").qms("quinn", "approve", "SOP-001", "--role", "quality-manager")
    t.commit("Approve r2", who="quinn")
    assert t.qms("quinn", "verify", "--format", "json").exit_code == 0
    assert status(t)["status"] == "effective" and status(t)["revision"] == 2


def test_the_author_of_an_included_file_cannot_approve(with_csv):
    t = with_csv
    t.at("2025-02-01").qms("ash", "revise", "SOP-001", "--reason", "New limit")
    t.commit("SOP-001 r2")
    edit_csv(t, "QUINNS-VALUE")
    t.commit("new table by quinn", who="quinn")
    result = t.qms("quinn", "approve", "SOP-001", "--role", "quality-manager", code=1)
    assert "cannot approve" in result.output


def test_the_branch_gate_sees_a_changed_included_file(with_csv):
    t = with_csv
    t.git("checkout", "-q", "-b", "change")
    edit_csv(t)
    t.commit("quiet change")
    result = t.qms("quinn", "verify", "--base", "main", "--format", "json", code=1)
    assert codes(result) == {"edited-after-approval"}


@pytest.mark.sphinx
def test_the_controlled_site_shows_the_approved_included_file(with_csv):
    t = with_csv
    edit_csv(t)
    t.at("2025-02-01").commit("quiet change of the table")
    out = t.root.parent / "controlled"
    t.qms("quinn", "build", "html", "--controlled", "--out", str(out), "-j", "1")
    html = (out / "procedures" / "sop-001.html").read_text(encoding="utf-8")
    assert "APPROVED-VALUE" in html and "EDITED-VALUE" not in html
    preview = t.root.parent / "preview"
    t.qms("quinn", "build", "html", "--out", str(preview), "-j", "1")
    assert "EDITED-VALUE" in (preview / "procedures" / "sop-001.html").read_text()


# --- the build ------------------------------------------------------------------------

@pytest.mark.sphinx
def test_the_build_never_shows_a_file_outside_the_repository(scenario):
    root = scenario()
    add(root, "\n.. literalinclude:: /etc/passwd\n\n"
              ".. literalinclude:: ../../../../../../../../../etc/passwd\n\n"
              ".. include:: part.txt\n")
    (root / "procedures" / "part.txt").write_text(
        "Part.\n\n.. literalinclude:: ../../../../../../../../../etc/passwd\n")
    result = sphinx_build(root)
    assert result.returncode != 0
    assert "procedures/sop-001.rst:12: WARNING: literalinclude: '/etc/passwd' is an absolute " \
           "path" in result.warnings
    assert "procedures/part.txt:3:" in result.warnings
    assert result.warnings.count("[qms.unsafe_include]") == 3
    for page in result.outdir.rglob("*"):
        if page.is_file() and page.suffix in (".html", ".txt", ".js", ".json"):
            assert PASSWD not in page.read_text(encoding="utf-8", errors="replace"), page


@pytest.mark.sphinx
def test_the_build_refuses_remote_resources(scenario):
    root = scenario()
    add(root, "\n.. image:: https://cdn.example.com/logo.png\n\n"
              ".. raw:: html\n\n   <script src=\"https://cdn.example.com/x.js\"></script>\n")
    result = sphinx_build(root)
    assert result.returncode != 0 and result.warnings.count("[qms.remote_resource]") == 2
    html = (result.outdir / "procedures" / "sop-001.html").read_text(encoding="utf-8")
    assert "cdn.example.com" not in html


# --- need directives of document types outside document files ------------------------

STRAY = "\n.. wi:: Stray instruction\n   :id: WI-001\n   :revision: 1\n   :owner: quality-manager\n"


def test_a_document_need_in_an_index_page_is_not_a_document(make_repo):
    t = make_repo()
    add(t.root, STRAY, "procedures/index.rst")
    add(t.root, "\n.. sop:: Second document inside the first\n   :id: SOP-009\n")
    result = t.qms("quinn", "check", "--format", "json", code=1)
    found = {(f["code"], f["path"], f["line"]) for f in json.loads(result.stdout)["findings"]}
    assert found == {("not-a-document", "procedures/index.rst", 9),
                     ("not-a-document", SOP, 12)}


@pytest.mark.sphinx
def test_the_build_reports_and_never_publishes_a_stray_document_need(scenario):
    root = scenario()
    add(root, STRAY, "procedures/index.rst")
    add(root, STRAY.replace("WI-001", "WI-002"), "reports.rst")
    result = sphinx_build(root, options=("-D", "qms_controlled=1"))
    assert result.returncode != 0
    assert "procedures/index.rst:9: WARNING" in result.warnings
    assert "reports.rst" in result.warnings
    assert result.warnings.count("[qms.not_a_document]") == 2
    ids = set(result.needs())
    assert "SOP-001" in ids and not {"WI-001", "WI-002"} & ids


@pytest.mark.sphinx
def test_the_controlled_build_never_publishes_a_stray_document_need(with_csv):
    t = with_csv
    add(t.root, STRAY, "procedures/index.rst")
    t.commit("a work instruction in the index page")
    out = t.root.parent / "controlled"
    # procedures/index.rst is part of the site's frame (the policy item): the controlled
    # build takes it as the policy in force has it, without the stray need
    t.qms("quinn", "build", "html", "--controlled", "--out", str(out), "-j", "1")
    assert "not-a-document" in t.qms("quinn", "check", code=1).output
    needs = json.loads((out / "needs.json").read_text())
    ids = set(needs["versions"][needs["current_version"]]["needs"])
    assert "SOP-001" in ids and "WI-001" not in ids


@pytest.mark.sphinx
def test_finer_needs_are_not_affected(scenario):
    root = scenario()
    add(root, "\n.. clause:: A clause written by hand\n   :id: CL-LOCAL-1\n",
        "procedures/index.rst")
    result = sphinx_build(root, strict=True)
    assert "not_a_document" not in result.warnings


@pytest.mark.sphinx
def test_a_myst_include_is_guarded_like_the_page(scenario):
    root = scenario()
    (root / "shared").mkdir()
    (root / "shared" / "part.md").write_text("Shared part ![logo](https://cdn.example.com/l.png)"
                                             "\n\n```{literalinclude} ../../../../../../etc/passwd"
                                             "\n```\n", encoding="utf-8")
    (root / "procedures" / "sop-003.md").write_text(
        "```{sop} Markdown Procedure\n:id: SOP-003\n:revision: 1\n:owner: quality-manager\n"
        "```\n\n```{include} ../shared/part.md\n```\n", encoding="utf-8")
    findings = {(f.code, f.path, f.line) for f in scan(root, load_config(root)).content_findings}
    assert findings == {("remote-resource", "shared/part.md", 1),
                        ("unsafe-include", "shared/part.md", 3)}
    result = sphinx_build(root)
    assert result.returncode != 0
    assert "[qms.remote_resource]" in result.warnings
    assert "[qms.unsafe_include]" in result.warnings
    html = (result.outdir / "procedures" / "sop-003.html").read_text(encoding="utf-8")
    assert "Shared part" in html and "cdn.example.com" not in html and PASSWD not in html


# --- history: the fingerprints a document held ----------------------------------------

def test_history_holds_each_composite_fingerprint_in_a_qms_subfolder(scenario, tmp_path):
    """The QMS is a folder of a larger repository; the table changes in commits of its
    own. Every fingerprint the working tree had is one the history says it held, the
    approved files come from the commit that held it, and the blob cache keeps only the
    document's own fingerprint under its blob id."""
    from qms_docs import cache, gitrepo, history
    from qms_docs.publish import approved_files

    repo = tmp_path / "company"
    repo.mkdir()
    root = scenario()
    root = Path(root.rename(repo / "qms"))
    (root / "procedures" / "data.csv").write_text("v,1\n")
    add(root, "\n.. csv-table:: T\n   :file: data.csv\n")
    git(repo, "init", "-q", "-b", "main")
    seen = []
    for value in ("1", "2", "3"):
        (root / "procedures" / "data.csv").write_text(f"v,{value}\n")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", f"table {value}")
        [doc] = [d for d in scan(root, load_config(root)).documents if d.id == "SOP-001"]
        seen.append(doc.fingerprint)
    assert len(set(seen)) == 3
    opened = gitrepo.open_repo(repo)
    for _ in range(2):  # the second time from the blob cache
        index = history.HistoryIndex.build(opened, paths=["qms/procedures/sop-001.rst"])
        index.preload(["qms/procedures/sop-001.rst"])  # as verify does
        held = index.held_fingerprints("qms/procedures/sop-001.rst", "qms")
        assert list(held) == seen
        assert [c.status for c in held.values()] == ["A", "I", "I"]
        files = approved_files(index, doc, seen[1], "qms")
        assert files["procedures/data.csv"] == b"v,2\n"
        assert files[SOP] == (root / SOP).read_bytes()
    blob = git(repo, "rev-parse", "HEAD:qms/procedures/sop-001.rst").strip()
    entries = cache.read_store(repo / ".git" / "qms" / cache.BLOBS_NAME,
                               cache.stamp())["entries"]
    assert entries[blob][0] == hashlib.sha256((root / SOP).read_bytes()).hexdigest()


@pytest.mark.sphinx
def test_two_documents_in_force_with_different_versions_of_a_shared_file(with_csv):
    """SOP-002 shows the table too and was approved with it; SOP-001 is revised and
    approved with a new table. One site cannot show both: the controlled build says which
    document to revise."""
    t = with_csv
    add(t.root, "\n.. csv-table:: Limits\n   :file: data.csv\n", "procedures/sop-002.rst")
    t.commit("SOP-002 shows the table")
    t.at("2025-01-12").qms("quinn", "approve", "SOP-002", "--role", "quality-manager")
    t.qms("pat", "approve", "SOP-002", "--role", "production-manager")
    t.commit("Approve SOP-002", who="quinn")
    t.at("2025-02-01").qms("ash", "revise", "SOP-001", "--reason", "New limit")
    edit_csv(t, "NEW-VALUE")
    t.commit("SOP-001 r2 with a new table")
    t.at("2025-02-03").qms("quinn", "approve", "SOP-001", "--role", "quality-manager")
    t.commit("Approve r2", who="quinn")
    result = t.qms("quinn", "verify", "--format", "json", code=1)
    assert {(f["code"], f["document"]) for f in json.loads(result.stdout)["findings"]} == {
        ("edited-after-approval", "SOP-002")}
    out = t.root.parent / "controlled"
    result = t.qms("quinn", "build", "html", "--controlled", "--out", str(out), code=1)
    assert "SOP-001 and SOP-002 are in force with different versions of " \
           "procedures/data.csv" in result.output


@pytest.mark.sphinx
def test_a_downloaded_file_counts_and_may_not_leave_the_repository(scenario):
    root = scenario()
    (root / "procedures" / "form.pdf").write_bytes(b"%PDF-1.4\0form")
    add(root, "\nGet :download:`the form <form.pdf>`, not "
              ":download:`this <../../../../../../../etc/passwd>` (``:download:`x```).\n")
    result = scan(root, load_config(root))
    [doc] = [d for d in result.documents if d.id == "SOP-001"]
    assert doc.includes == ("procedures/form.pdf",)
    assert [(f.code, f.line) for f in result.content_findings] == [("unsafe-include", 12)]
    built = sphinx_build(root)
    assert "[qms.unsafe_include]" in built.warnings
    html = (built.outdir / "procedures" / "sop-001.html").read_text(encoding="utf-8")
    assert "form.pdf" in html and "not this (" in html
    downloads = [p.read_bytes() for p in (built.outdir / "_downloads").rglob("*") if p.is_file()]
    assert downloads == [b"%PDF-1.4\0form"]
