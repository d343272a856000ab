"""Publishing: preview and controlled sites, controlled PDFs read back."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers import QmsRepo, basic_copy, git, init_repo, sphinx_build

pytestmark = pytest.mark.sphinx


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """SOP-001 effective at revision 1 with revision 2 drafted (committed) and an uncommitted
    edit on top; SOP-002 never approved."""
    root = basic_copy(tmp_path_factory.mktemp("pub") / "qms")
    sop = root / "procedures" / "sop-001.rst"
    sop.write_text(sop.read_text() + "\nEFFECTIVE-TEXT of revision one.\n")
    init_repo(root, "initial")
    qms = QmsRepo(root)
    qms("quinn", "approve", "SOP-001", "--role", "quality-manager")
    qms.commit("approve", who="quinn")
    qms("ash", "revise", "SOP-001", "--reason", "Rework")
    sop.write_text(sop.read_text().replace("EFFECTIVE-TEXT", "COMMITTED-DRAFT-TEXT"))
    qms.commit("draft r2")
    sop.write_text(sop.read_text() + "\nWORKTREE-ONLY-TEXT\n")
    status_before = git(root, "status", "--porcelain")
    out = root.parent / "out"
    qms("quinn", "build", "html", "--out", str(out / "preview"))
    qms("quinn", "build", "html", "--controlled", "--out", str(out / "controlled"))
    qms("quinn", "build", "pdf", "--out", str(out / "pdf"))
    qms("quinn", "build", "pdf", "--controlled", "--out", str(out / "cpdf"))
    assert git(root, "status", "--porcelain") == status_before
    return root, out


def page(out: Path, mode: str, name: str) -> str:
    return (out / mode / "procedures" / f"{name}.html").read_text(encoding="utf-8")


def test_preview_shows_the_working_tree_with_banners(published):
    _, out = published
    html = page(out, "preview", "sop-001")
    assert "WORKTREE-ONLY-TEXT" in html and "COMMITTED-DRAFT-TEXT" in html
    assert "DRAFT: this revision is not approved" in html
    assert "Revision 1 (effective" in html and "remains in force" in html


def test_control_block_contents(published):
    _, out = published
    html = page(out, "controlled", "sop-001")
    block = html[html.index("qms-control-block"):]
    block = block[: block.index("</table>")]
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", block, re.S)]
    pairs = dict(zip(cells[::2], cells[1::2], strict=True))
    assert pairs["Document"] == "SOP-001"
    assert pairs["Title"] == "Control of Documented Information"
    assert pairs["Revision"] == "1"
    assert pairs["Status"] == "effective"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", pairs["Effective"])
    assert pairs["Owner"] == "Quality Manager"
    assert pairs["Approved by"].startswith("Quinn Quality (Quality Manager, approval, ")
    # no sphinx-needs box under it: the need's anchor is the control block
    assert 'align-default" id="SOP-001">' in html[html.index("qms-control-block"):][:200]
    assert "need_container" not in html and "needs_meta" not in html


def test_controlled_site_holds_only_the_effective_text(published):
    _, out = published
    html = page(out, "controlled", "sop-001")
    assert "EFFECTIVE-TEXT of revision one." in html
    assert "COMMITTED-DRAFT-TEXT" not in html and "WORKTREE-ONLY-TEXT" not in html
    assert "qms-banner" not in html
    assert not (out / "controlled" / "procedures" / "sop-002.html").exists()
    master = (out / "controlled" / "reports.html").read_text(encoding="utf-8")
    assert "SOP-001" in master and "SOP-002" not in master.split("qms-master-list")[1]


def pdf_pages(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [p.extract_text() or "" for p in PdfReader(str(path)).pages]


def test_every_pdf_page_has_the_running_header_and_footer(published):
    _, out = published
    for name in ("SOP-001", "SOP-002"):
        pages = pdf_pages(out / "pdf" / f"{name}.pdf")
        assert pages
        for number, text in enumerate(pages, start=1):
            flat = " ".join(text.split())
            assert name in flat and "Scenario Ltd" in flat
            assert f"Page {number} of {len(pages)}" in flat
            assert "Uncontrolled when printed" in flat
            assert "Revision 2" in flat if name == "SOP-001" else "Revision 1" in flat


def _fonts(path: Path) -> set[str]:
    """The fonts a PDF's pages use, without their subset tags (``DejaVu-Sans-Bold``)."""
    from pypdf import PdfReader

    names = set()
    for pdf_page in PdfReader(str(path)).pages:
        for font in pdf_page["/Resources"].get("/Font", {}).values():
            names.add(str(font.get_object()["/BaseFont"]).lstrip("/").split("+")[-1])
    return names


def test_one_font_family_in_every_pdf_cover_included(published):
    """Text, tables, headings, running header and footer, and the manual's cover are set
    in one family (its monospaced face only for literal text)."""
    _, out = published
    fonts = set().union(*(_fonts(path) for path in (out / "pdf").glob("*.pdf")))
    families = {re.sub(r"-(Bold|Oblique|Italic|BoldOblique|BoldItalic)$", "", name)
                for name in fonts if "Mono" not in name}
    assert len(families) == 1, fonts
    from pypdf import PdfReader, PdfWriter

    cover = PdfWriter()
    cover.add_page(PdfReader(str(out / "pdf" / "qms-manual.pdf")).pages[0])
    cover.write(out / "cover.pdf")
    assert {name.split("-Bold")[0] for name in _fonts(out / "cover.pdf")} == families


def test_draft_pdf_carries_the_watermark_effective_does_not(published):
    _, out = published
    draft = " ".join(pdf_pages(out / "pdf" / "SOP-002.pdf"))
    assert "DRAFT" in draft
    controlled = pdf_pages(out / "cpdf" / "SOP-001.pdf")
    flat = " ".join(" ".join(controlled).split())
    assert "EFFECTIVE-TEXT" in flat and "COMMITTED-DRAFT-TEXT" not in flat
    assert "DRAFT" not in flat and "Revision 1 | effective" in flat


def test_controlled_pdfs_leave_out_documents_not_in_force(published):
    _, out = published
    assert sorted(p.name for p in (out / "cpdf").glob("*.pdf")) == ["SOP-001.pdf",
                                                                     "qms-manual.pdf"]
    manual = pdf_pages(out / "cpdf" / "qms-manual.pdf")
    assert "Controlled copy" in manual[0] and "SOP-001" in manual[0]
    assert len(manual) == 1 + len(pdf_pages(out / "cpdf" / "SOP-001.pdf"))


def test_a_controlled_tree_names_the_repository_whose_caches_serve_it(published, tmp_path):
    from qms_docs import publish
    from qms_docs.workspace import Workspace

    root, _ = published
    tree = publish.controlled_tree(Workspace(root), tmp_path / "tree")
    assert tree.cache_from == root and tree.controlled
    conf = (tree.root / "conf.py").read_text(encoding="utf-8")
    assert f"qms_cache_from = {str(root.resolve())!r}\n" in conf


def _pdf_bytes(data: bytes) -> bytes:
    """A PDF's bytes with every compressed stream inflated, to search them for text."""
    import zlib

    parts = [data]
    for match in re.finditer(rb"stream\r?\n", data):
        try:
            parts.append(zlib.decompressobj().decompress(data[match.end():]))
        except zlib.error:
            pass
    return b"".join(parts)


def _audit_pack(project, folder: Path, tz: str) -> bytes:
    """Build the pack as of 2026-03-02 from ``folder`` (its own cwd, temporary folder and
    time zone) and return the zip's bytes."""
    import os
    import tempfile
    import time

    (folder / "tmp").mkdir(parents=True)
    saved = os.environ.get("TZ"), tempfile.tempdir, os.getcwd()
    os.environ["TZ"], tempfile.tempdir = tz, str(folder / "tmp")
    time.tzset()
    os.chdir(folder)
    try:
        project.qms("quinn", "audit-pack", "--as-of", "2026-03-02", "-o", "audit.zip")
    finally:
        if saved[0] is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = saved[0]
        tempfile.tempdir = saved[1]
        os.chdir(saved[2])
        time.tzset()
    return (folder / "audit.zip").read_bytes()


def test_the_audit_pack_is_the_same_bytes_when_built_again(make_repo, tmp_path):
    """Same commit, same --as-of: the same zip, built in other folders, another time zone,
    a clock days and seconds later; no file names a path or the time of the build."""
    import io
    import json
    import shutil
    import time
    import zipfile

    from pypdf import PdfReader

    project = make_repo(day="2026-03-02")
    project.qms("quinn", "approve", "SOP-001", "--role", "quality-manager")
    project.qms("quinn", "approve", "SOP-002", "--role", "quality-manager")
    project.commit("approvals", who="quinn")
    project.qms("pat", "approve", "SOP-002", "--role", "production-manager")
    project.commit("approval", who="pat")
    first = _audit_pack(project.at("2026-03-05"), tmp_path / "first", "UTC")
    shutil.rmtree(project.root / "_build")  # its PDFs rendered again, not from the PDF cache
    time.sleep(1.1)
    second = _audit_pack(project.at("2026-04-20"), tmp_path / "second" / "deeper",
                         "Pacific/Auckland")
    assert first == second

    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        names = archive.namelist()
        assert names == sorted(names) and "documents/SOP-002.pdf" in names
        for info in archive.infolist():
            assert info.date_time == (1980, 1, 1, 0, 0, 0) and info.create_system == 3
            assert info.external_attr >> 16 & 0o777 == 0o644
        manifest = json.loads(archive.read("manifest.json"))
        assert manifest["as_of"] == "2026-03-02"
        assert {"qms-docs", "sphinx", "sphinx-needs", "weasyprint", "pypdf"} <= set(
            manifest["toolchain"])
        leaks = [b"file:", b"qms-pdf-html-", b"qms-audit-", b"qms-controlled-",
                 str(tmp_path).encode(), str(project.root).encode(), b"2026-03-05",
                 b"2026-04-20", b"20260305", b"20260420"]
        for name in names:
            data = archive.read(name)
            if name.endswith(".pdf"):
                data = _pdf_bytes(data)
            found = [leak for leak in leaks if leak in data]
            assert not found, (name, found)
        sop = PdfReader(io.BytesIO(archive.read("documents/SOP-002.pdf")))
        assert sop.metadata["/CreationDate"] == sop.metadata["/ModDate"] == "D:20260302000000Z"
        assert sop.trailer["/ID"][0]  # an id, derived from the content
        links = [a.get_object()["/A"]["/URI"] for page in sop.pages
                 for a in page.get("/Annots", []) if "/A" in a.get_object()]
        assert links and set(links) == {"SOP-001.pdf#SOP-001"}  # the other document's PDF
        manual = PdfReader(io.BytesIO(archive.read("documents/qms-manual.pdf")))
        assert manual.metadata["/CreationDate"] == "D:20260302000000Z"
        assert manual.trailer["/ID"][0]


def test_a_controlled_build_refuses_records_head_does_not_hold(make_repo, tmp_path):
    """Approvals made but not committed: the controlled build and the audit pack say which
    records and documents, how to publish them, and exit 1; --allow-uncommitted builds HEAD."""
    from qms_docs import publish
    from qms_docs.workspace import Workspace

    project = make_repo(day="2026-03-02")
    (project.root / ".gitignore").write_text("_build/\n", encoding="utf-8")
    project.qms("quinn", "approve", "SOP-001", "--role", "quality-manager")
    project.commit("SOP-001 approved", who="quinn")
    project.at("2026-03-10").qms("quinn", "approve", "SOP-002", "--role", "quality-manager")
    project.qms("pat", "approve", "SOP-002", "--role", "production-manager")
    made = sorted(p.relative_to(project.root).as_posix()
                  for p in (project.root / "records" / "SOP-002").glob("*.yaml"))
    assert len(made) == 2
    project.git("add", made[0])

    pending = publish.uncommitted_records(Workspace(project.root))
    assert [(p.path, p.state, p.kind, p.document) for p in pending] == [
        (made[0], "staged", "approval", "SOP-002"), (made[1], "untracked", "approval", "SOP-002")]

    for target in ("html", "pdf"):
        result = project.qms("quinn", "build", target, "--controlled", code=1)
        assert "2 records about SOP-002 in the working tree are not committed" in result.output
        assert all(path in result.output for path in made)
        assert "approval by Quinn Quality" in result.output
        assert "approval by Pat Production" in result.output
        assert f"git add {made[0]} {made[1]} && git commit" in result.output
        assert "--allow-uncommitted" in result.output
        assert not (project.root / "_build" / f"controlled-{target}").exists()
    pack = tmp_path / "pack.zip"
    refused = project.qms("quinn", "audit-pack", "--as-of", "2026-03-10", "-o", str(pack),
                          code=1)
    assert "the audit pack reads HEAD" in refused.output and not pack.exists()

    out = tmp_path / "site"
    built = project.qms("quinn", "build", "html", "--controlled", "--allow-uncommitted",
                        "--out", str(out))
    assert "warning: 2 records about SOP-002" in built.output
    assert "building from HEAD without them" in built.output
    assert (out / "procedures" / "sop-001.html").is_file()
    assert not (out / "procedures" / "sop-002.html").exists()  # its approvals are not in HEAD
    # records dated after the pack's date change nothing in it: no refusal
    project.qms("quinn", "audit-pack", "--as-of", "2026-03-05", "-o", str(pack))
    assert pack.is_file()

    project.commit("SOP-002 approved", who="quinn")
    assert publish.uncommitted_records(Workspace(project.root)) == []


def test_a_controlled_build_with_nothing_in_force_says_so(make_repo, tmp_path):
    project = make_repo(day="2026-03-02")
    result = project.qms("quinn", "build", "html", "--controlled", "--allow-warnings",
                         "--out", str(tmp_path / "site"))
    assert ("warning: the controlled build publishes no document: none of the 2 documents "
            "of HEAD is in force (SOP-001, SOP-002)") in result.output
    assert "qms status shows what each awaits" in result.output
    project.qms("quinn", "approve", "SOP-001", "--role", "quality-manager")
    project.commit("SOP-001 approved", who="quinn")
    result = project.qms("quinn", "build", "html", "--controlled", "--allow-warnings",
                         "--out", str(tmp_path / "site2"))
    assert "publishes no document" not in result.output


# --- references to documents not in force -------------------------------------------------

FORM = (".. form:: Incoming Inspection Record\n   :id: FRM-001\n   :revision: 1\n"
        "   :owner: quality-manager\n\nFields\n======\n\nPart, lot, result.\n")


@pytest.fixture
def retired_form(make_repo):
    """SOP-001 (effective) names FRM-001 (retired) in :links: (line 6) and :need: (line 13),
    and SOP-002 (never effective) with a label of its own (line 13)."""
    repo = make_repo()
    (repo.root / ".gitignore").write_text("_build/\n", encoding="utf-8")
    (repo.root / "procedures" / "frm-001.rst").write_text(FORM, encoding="utf-8")
    sop = repo.root / "procedures" / "sop-001.rst"
    text = sop.read_text().replace(":satisfies: ISO9001-7-5-1, ISO9001-7-5-2\n",
                                   ":satisfies: ISO9001-7-5-1, ISO9001-7-5-2\n   :links: FRM-001\n")
    sop.write_text(text + "\nRecord the result on :need:`FRM-001`; plan with "
                   ":need:`the plan <SOP-002>`.\n", encoding="utf-8")
    assert sop.read_text().splitlines()[5] == "   :links: FRM-001"
    assert ":need:`FRM-001`" in sop.read_text().splitlines()[12]
    repo.commit("a form, referenced")
    repo.qms("quinn", "approve", "FRM-001", "--role", "quality-manager")
    repo.qms("quinn", "approve", "SOP-001", "--role", "quality-manager")
    repo.commit("approvals", who="quinn")
    repo.qms("quinn", "retire", "FRM-001", "--reason", "Replaced by the ERP", "--yes")
    repo.commit("retire FRM-001", who="quinn")
    return repo


def _not_in_force(result) -> list[tuple]:
    import json

    return sorted((f["path"], f["line"], f["severity"], f["document"],
                   f["message"].split(" refers to ")[1].split(",")[0])
                  for f in json.loads(result.stdout)["findings"]
                  if f["code"] == "reference-not-in-force")


def test_verify_reports_references_to_documents_not_in_force(retired_form):
    repo = retired_form
    result = repo.qms("quinn", "verify", "--format", "json")  # warnings: exit 0
    sop = "procedures/sop-001.rst"
    assert _not_in_force(result) == [
        (sop, 6, "warning", "SOP-001", "FRM-001 (:links:)"),
        (sop, 13, "warning", "SOP-001", "FRM-001 (:need:)"),
        (sop, 13, "warning", "SOP-001", "SOP-002 (:need:)")]
    text = repo.qms("quinn", "verify").output
    assert (f"{sop}:13: warning: [reference-not-in-force] SOP-001 revision 1, in force, "
            "refers to FRM-001 (:need:), which is withdrawn") in text
    assert "which is not yet issued" in text and "qms revise SOP-001" in text
    strict = repo.qms("quinn", "verify", "--strict", "--format", "json", code=1)
    assert {f[2] for f in _not_in_force(strict)} == {"error"}
    # A draft that drops the references does not change what is in force: the text of
    # revision 1 is read from git and still refers to them.
    repo.qms("ash", "revise", "SOP-001", "--reason", "Drop the retired form")
    path = repo.root / sop
    path.write_text(path.read_text().split("\nRecord the result")[0].replace(
        "   :links: FRM-001\n", ""), encoding="utf-8")
    repo.commit("r2 draft")
    assert len(_not_in_force(repo.qms("quinn", "verify", "--format", "json"))) == 3


def test_controlled_site_and_pdf_show_documents_not_in_force_as_text(retired_form, tmp_path):
    from qms_docs import publish
    from qms_docs.workspace import Workspace

    repo = retired_form
    tree = publish.controlled_tree(Workspace(repo.root), tmp_path / "tree")
    assert sorted(tree.excluded) == [("FRM-001", "retired"), ("SOP-002", "never effective")]
    built = sphinx_build(tree.root)
    # a warning of the strict controlled build, with file and line, for each reference
    assert built.returncode == 1
    lines = [line for line in built.warnings.splitlines() if "WARNING" in line]
    assert [(line.split(": WARNING")[0].rsplit("/", 2)[-2:], line.endswith(
        "[qms.reference_not_in_force]")) for line in lines] == [
        (["procedures", "sop-001.rst:6"], True), (["procedures", "sop-001.rst:13"], True),
        (["procedures", "sop-001.rst:13"], True)], built.warnings
    page = (built.outdir / "procedures" / "sop-001.html").read_text(encoding="utf-8")
    assert '<span class="qms-not-in-force">FRM-001 (withdrawn)</span>' in page  # :links:
    assert "Record the result on <span class=\"qms-not-in-force\">FRM-001 (withdrawn)</span>" \
        in page
    assert '<span class="qms-not-in-force">the plan (SOP-002, not yet issued)</span>' in page
    for html_file in built.outdir.rglob("*.html"):
        assert "Unknown need" not in html_file.read_text(encoding="utf-8"), html_file
    # the PDFs (built with --allow-warnings: the warnings are the same) read the same
    out = tmp_path / "cpdf"
    repo.qms("quinn", "build", "pdf", "--controlled", "--allow-warnings", "--out", str(out))
    flat = " ".join(" ".join(pdf_pages(out / "SOP-001.pdf")).split())
    assert "FRM-001 (withdrawn)" in flat and "the plan (SOP-002, not yet issued)" in flat
    assert "Unknown need" not in flat
    assert repo.qms("quinn", "build", "html", "--controlled", "--out",
                    str(tmp_path / "strict"), code=1).exit_code == 1


def test_preview_keeps_links_to_documents_not_in_force(retired_form, tmp_path):
    repo = retired_form
    out = tmp_path / "preview"
    repo.qms("quinn", "build", "html", "--out", str(out))
    page = (out / "procedures" / "sop-001.html").read_text(encoding="utf-8")
    assert 'href="frm-001.html#FRM-001"' in page and "qms-not-in-force" not in page


def test_references_are_read_from_rst_and_myst_text_with_their_lines():
    from qms_docs.references import Reference, references

    rst = (".. sop:: A\n   :id: SOP-001\n   :links: FRM-001, WI-002\n\n"
           "See :need:`SOP-002` and :need:`the form <FRM-003>`,\nthen :need:`SOP-004.2`.\n")
    assert references(rst) == [Reference("FRM-001", 3, ":links:"),
                               Reference("WI-002", 3, ":links:"),
                               Reference("SOP-002", 5, ":need:"),
                               Reference("FRM-003", 5, ":need:"),
                               Reference("SOP-004", 6, ":need:")]
    myst = "```{wi} B\n:id: WI-007\n:links: SOP-001\n```\n\n# Purpose\n\nUse {need}`FRM-008`.\n"
    assert references(myst) == [Reference("SOP-001", 3, ":links:"),
                                Reference("FRM-008", 8, ":need:")]
