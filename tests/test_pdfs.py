"""PDFs at scale: the per-document cache, the manual's page numbers, the same bytes again.

One small QMS (SOP-001, SOP-002) is built step by step, each step changing one thing that
a PDF shows; each build reports how many documents it took from the cache, and the PDFs
are read back with pypdf.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from tests.helpers import QmsRepo, basic_copy, init_repo

pytestmark = pytest.mark.sphinx

DAY = dt.date(2026, 3, 2)


def build(root: Path, out: Path, jobs: str = "2") -> tuple[dict[str, bytes], tuple[int, ...]]:
    """A preview PDF build of ``root`` into ``out``: the PDFs' bytes by name, and the last
    progress report (done, total, from the cache)."""
    from qms_docs import publish
    from qms_docs.workspace import Workspace

    reports: list[tuple[int, ...]] = []
    publish.build_pdfs(Workspace(root, today=DAY), out, jobs=jobs,
                       progress=lambda *report: reports.append(report))
    return {p.name: p.read_bytes() for p in sorted(out.glob("*.pdf"))}, reports[-1]


@pytest.fixture(scope="module")
def steps(tmp_path_factory):
    """The QMS built after each step; name -> (PDF bytes by name, last progress report)."""
    from qms_docs import publish

    base = tmp_path_factory.mktemp("pdfs")
    root = init_repo(basic_copy(base / "qms"))
    qms = QmsRepo(root)
    done = {}
    done["first"] = build(root, base / "first")
    done["again"] = build(root, base / "again", jobs="1")
    sop = root / "procedures" / "sop-002.rst"
    sop.write_text(sop.read_text(encoding="utf-8") + "\nA sentence added.\n", encoding="utf-8")
    done["edited"] = build(root, base / "edited")
    qms("quinn", "approve", "SOP-001", "--role", "quality-manager")
    qms.commit("SOP-001 approved", who="quinn")
    done["approved"] = build(root, base / "approved")
    with pytest.MonkeyPatch.context() as patch:  # nothing from the cache: rendered anew
        patch.setenv("QMS_NO_CACHE", "1")
        done["uncached"] = build(root, base / "uncached")
    with pytest.MonkeyPatch.context() as patch:  # the print stylesheet changes
        css = publish.print_css
        patch.setattr(publish, "print_css", lambda *a: css(*a) + "\nh1 { color: #123456; }\n")
        done["stylesheet"] = build(root, base / "stylesheet")
    toml = root / "qms.toml"
    text = toml.read_text(encoding="utf-8")
    assert 'name = "Scenario Ltd"' in text
    toml.write_text(text.replace('name = "Scenario Ltd"', 'name = "Scenario Group Ltd"', 1),
                    encoding="utf-8")
    done["organization"] = build(root, base / "organization")
    sop.write_text(sop.read_text(encoding="utf-8") + "\nSee :need:`SOP-999`.\n",
                   encoding="utf-8")
    for attempt in ("warned", "warned again"):  # the kept HTML does not hide a warning
        with pytest.raises(publish.BuildFailed):
            build(root, base / attempt)
        done[attempt] = (None, None)
    shutil.rmtree(root / "_build")
    return done


def test_unchanged_documents_are_copied_from_the_cache(steps):
    first, (done, total, cached) = steps["first"]
    assert (done, total, cached) == (2, 2, 0)
    again, report = steps["again"]
    assert report == (2, 2, 2)
    assert again == first  # the manual too: its cover is cached, the rest joined again


def test_an_edited_document_alone_is_rendered_again(steps):
    before, _ = steps["again"]
    after, report = steps["edited"]
    assert report == (2, 2, 1)
    assert after["SOP-001.pdf"] == before["SOP-001.pdf"]
    assert after["SOP-002.pdf"] != before["SOP-002.pdf"]
    assert b"A sentence added" not in before["SOP-002.pdf"]  # (compressed: compare text)
    assert "A sentence added." in text_of(after["SOP-002.pdf"])


def test_a_record_that_changes_the_status_renders_the_document_again(steps):
    before, _ = steps["edited"]
    after, (_, total, cached) = steps["approved"]
    assert "DRAFT" in text_of(before["SOP-001.pdf"])
    assert "DRAFT" not in text_of(after["SOP-001.pdf"])  # effective: no watermark
    assert "effective" in text_of(after["SOP-001.pdf"])
    assert after["SOP-001.pdf"] != before["SOP-001.pdf"]
    assert total - cached == 1 + (after["SOP-002.pdf"] != before["SOP-002.pdf"])


def test_the_stylesheet_and_the_organization_render_every_document_again(steps):
    for step in ("stylesheet", "organization"):
        _, report = steps[step]
        assert report == (2, 2, 0), step
    pdfs, _ = steps["organization"]
    assert "Scenario Group Ltd" in text_of(pdfs["SOP-001.pdf"])


def test_a_warning_fails_every_preview_build_until_fixed(steps):
    """Sphinx reads again only what changed in the HTML kept for previews: after a build
    that failed, the next one starts afresh, so the warning fails it again."""
    assert "warned again" in steps


def test_two_builds_give_the_same_bytes(steps):
    """Rendered anew without the cache: the very bytes of the build before, which took
    one document from the cache and rendered the other."""
    cached, _ = steps["approved"]
    fresh, report = steps["uncached"]
    assert report == (2, 2, 0)
    assert fresh == cached and set(fresh) == {"SOP-001.pdf", "SOP-002.pdf", "qms-manual.pdf"}


def test_the_manual_numbers_its_pages_and_the_cover_says_where_each_document_starts(steps):
    import io

    from pypdf import PdfReader

    pdfs, _ = steps["first"]
    manual = PdfReader(io.BytesIO(pdfs["qms-manual.pdf"]))
    lengths = {name: len(PdfReader(io.BytesIO(pdfs[f"{name}.pdf"])).pages)
               for name in ("SOP-001", "SOP-002")}
    total = lengths["SOP-001"] + lengths["SOP-002"]
    assert len(manual.pages) == 1 + total  # the contents, one page, then the documents
    texts = [" ".join((page.extract_text() or "").split()) for page in manual.pages]
    # the contents are numbered as a book's front matter, the documents' pages from 1
    assert texts[0].endswith("Contents page i of i"), texts[0][-80:]
    for number, text in enumerate(texts[1:], start=1):
        assert text.endswith(f"Manual page {number} of {total}"), (number, text[-80:])
    assert manual.page_labels == ["i", *(str(n) for n in range(1, total + 1))]
    # each document's pages keep their own numbers under the manual's
    assert f"Page 1 of {lengths['SOP-002']}" in texts[1 + lengths["SOP-001"]]
    starts = {"SOP-001": 1, "SOP-002": 1 + lengths["SOP-001"]}
    for name, start in starts.items():
        row = re.search(rf"{name} [^|]*? draft (\d+) ", texts[0])  # the last cell: Page
        assert row and int(row.group(1)) == start, texts[0]
        assert name in texts[start] and f"Page 1 of {lengths[name]}" in texts[start]
    outline = {item["/Title"]: manual.get_destination_page_number(item)
               for item in manual.outline if not isinstance(item, list)}
    assert {k: outline[k] for k in starts} == starts  # 0-based index = 1 page of contents


def test_the_contents_are_made_in_parts_and_only_a_changed_part_again(tmp_path, monkeypatch):
    """One row per part: approving SOP-001 changes its row only, so one part is rendered
    again; the manual still reads as one list, its pages numbered i, ii."""
    import io

    from pypdf import PdfReader

    from qms_docs import manual, pdfs

    monkeypatch.setattr(manual, "CONTENTS_ROWS", 1)
    made: list[str] = []
    render = pdfs.render_string
    monkeypatch.setattr(pdfs, "render_string",
                        lambda html, *a: (made.append(html), render(html, *a))[1])
    root = init_repo(basic_copy(tmp_path / "qms"))
    first, _ = build(root, tmp_path / "first", jobs="1")
    assert len(made) == 2  # SOP-001's part and SOP-002's
    manual = PdfReader(io.BytesIO(first["qms-manual.pdf"]))
    assert manual.page_labels[:3] == ["i", "ii", "1"]
    assert " ".join(manual.pages[1].extract_text().split()).endswith("Contents page ii of ii")
    made.clear()
    qms = QmsRepo(root)
    qms("quinn", "approve", "SOP-001", "--role", "quality-manager")
    qms.commit("SOP-001 approved", who="quinn")
    build(root, tmp_path / "second", jobs="1")
    assert len(made) == 1 and "SOP-001" in made[0] and "SOP-002" not in made[0]


def text_of(pdf: bytes) -> str:
    import io

    from pypdf import PdfReader

    return " ".join(" ".join((p.extract_text() or "") for p in
                             PdfReader(io.BytesIO(pdf)).pages).split())


def test_a_cache_entry_is_believed_only_under_the_repository_key(tmp_path):
    """An entry written by hand, or under another repository's key, is not copied."""
    from qms_docs.pdfs import PdfCache

    source = tmp_path / "a.pdf"
    source.write_bytes(b"%PDF-1.7 the real one")
    cache = PdfCache(tmp_path / "cache", b"k" * 32)
    digest = "ab" * 32
    cache.store(digest, source)
    assert cache.fetch(digest, tmp_path / "copy.pdf")
    assert (tmp_path / "copy.pdf").read_bytes() == source.read_bytes()
    assert not PdfCache(tmp_path / "cache", b"x" * 32).fetch(digest, tmp_path / "other.pdf")
    entry = next((tmp_path / "cache").rglob("*.pdf"))
    entry.write_bytes(entry.read_bytes().replace(b"the real one", b"a planted one"))
    assert not cache.fetch(digest, tmp_path / "planted.pdf")
    assert not (tmp_path / "other.pdf").exists() and not (tmp_path / "planted.pdf").exists()


def test_progress_is_plain_lines_in_ci(monkeypatch, capsys):
    from qms_docs.cli.build import pdf_progress

    monkeypatch.setenv("CI", "true")
    with pdf_progress() as report:
        report(3, 20, 3)
        for done in range(4, 21):
            report(done, 20, 3)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "PDFs: 3/20 done (3 unchanged, from the cache)"
    assert lines[-1] == "PDFs: 20/20 done (3 unchanged, from the cache)"
    assert 5 <= len(lines) <= 11 and all("\r" not in line for line in lines)
    assert any(re.fullmatch(r"PDFs: 10/20 done \(3 unchanged, from the cache\), about \d+ s "
                            "left", line) for line in lines), lines


def test_every_page_of_the_contents_repeats_the_table_head(tmp_path):
    """A part of the contents longer than a page: each page opens with the column names."""
    import datetime as dt
    import io
    from types import SimpleNamespace

    from pypdf import PdfReader

    from qms_docs import manual, pdfs

    documents = [SimpleNamespace(id=f"SOP-{n:03d}", title=f"Procedure {n}", revision=1)
                 for n in range(1, 81)]
    statuses = {d.id: SimpleNamespace(label="effective", effective=DAY) for d in documents}
    starts = {d.id: n for n, d in enumerate(documents, start=1)}
    target = tmp_path / "contents.pdf"
    pdfs.render_string(manual.contents_html("Scenario Ltd", documents, statuses, starts, False,
                                            dt.date(2026, 3, 2)), target, "")
    pages = [" ".join((p.extract_text() or "").split())
             for p in PdfReader(io.BytesIO(target.read_bytes())).pages]
    assert len(pages) >= 2
    assert all("Id Title Rev. Status Effective Page" in page for page in pages), pages[1][:80]
