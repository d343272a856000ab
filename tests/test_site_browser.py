"""The built site in a real headless browser (Debian's chromium, driven by Playwright).

Pages are looked at in a 1280 x 900 window: a document page has its control block and no
sphinx-needs box, clauses by number and title, and no table (control block, report
tables) reaches past the content area. The screenshots of a document page, the
traceability matrix and the change log are taken every run; with
``QMS_UPDATE_SCREENSHOTS=1`` they replace the README's ``docs/images/*.png`` (on purpose
only, like golden files): the same build gives the same pixels.
"""

from __future__ import annotations

import functools
import http.server
import io
import os
import shutil
import threading
from pathlib import Path

import pytest

from tests.helpers import REPO, sphinx_build

pytestmark = [pytest.mark.sphinx, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = {"width": 1280, "height": 900}
IMAGES = REPO / "docs" / "images"
SOP_004 = "procedures/sop-004-calibration-of-monitoring-and-measuring-equipment.html"
REPORTS = ("traceability", "coverage", "gaps", "mandatory", "master-list", "reviews-due",
           "training", "change-log")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _browser_or_skip():
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing on CI: tools/install.sh installs it")
        pytest.skip("Debian's chromium is not installed (bash tools/install.sh installs it)")
    from playwright.sync_api import sync_playwright

    return sync_playwright


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep the test log readable
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("site") / "example"
    shutil.copytree(REPO, root, ignore=shutil.ignore_patterns(
        ".venv", "_build", ".git", "tests", "__pycache__", "*.egg-info", ".pytest_cache"))
    result = sphinx_build(root)
    assert result.returncode == 0, result.warnings
    handler = functools.partial(QuietHandler, directory=str(result.outdir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def page(site):
    sync_playwright = _browser_or_skip()
    with sync_playwright() as playwright:  # Playwright gives it a fresh profile
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=FLAGS)
        page = browser.new_page(viewport=VIEWPORT)
        yield page
        browser.close()


def test_document_page_clause_link_and_matrix(site, page):
    page.goto(f"{site}/{SOP_004}")
    assert page.title().startswith("SOP-004 Calibration of Monitoring and Measuring Equipment")
    block = page.locator("table.qms-control-block")
    assert block.is_visible()
    assert block.locator("p.qms-docid").inner_text() == "SOP-004"
    assert block.locator("p.qms-status").inner_text() == "effective"
    assert page.locator("div.qms-banner").count() == 0

    page.locator("table.qms-control-block a", has_text="7.1.5.1 General").click()
    page.wait_for_load_state()
    assert page.url.endswith("standards/iso9001-2015.html#ISO9001-7-1-5-1")
    clause = page.locator("#ISO9001-7-1-5-1")
    assert "7.1.5.1 General" in clause.inner_text()
    text = clause.inner_text()
    assert "satisfied by" in text and "SOP-004" in text

    page.locator("div.qms-sections a", has_text="Traceability matrix").click()
    page.wait_for_load_state()
    assert page.url.endswith("reports/traceability.html")
    matrix = page.locator("table.qms-trace-matrix")
    assert matrix.is_visible()
    assert matrix.locator("tbody tr").count() == 91
    assert page.locator("img.graphviz, object.graphviz").count() >= 1


def test_search_finds_a_procedure(site, page):
    page.goto(f"{site}/search.html?q=calibration")
    page.wait_for_selector("ul.search li", timeout=15000)
    assert "SOP-004" in page.locator("ul.search").inner_text()


def test_document_page_looks_controlled(site, page):
    """No sphinx-needs box under the control block: its anchor is the control block, the
    clauses read as number and title, approvers' roles as titles, training says why."""
    page.goto(f"{site}/{SOP_004}")
    assert page.locator("div.need_container, table.need").count() == 0
    assert page.locator("svg.feather, .needs_collapse").count() == 0
    assert page.locator("#SOP-004").evaluate("e => e.matches('table.qms-control-block')")
    rows = {row.locator("td").first.inner_text(): row.locator("td").last
            for row in page.locator("table.qms-control-block tr").all()}
    clauses = rows["Satisfies"].locator("a")
    assert clauses.all_inner_texts() == ["7.1.5.1 General", "7.1.5.2 Measurement traceability"]
    assert clauses.first.get_attribute("href") == "../standards/iso9001-2015.html#ISO9001-7-1-5-1"
    approved = rows["Approved by"].inner_text()
    assert "Quinn Harlow (Quality Manager, approval, 2026-11-22" in approved
    assert "quality-manager" not in approved
    assert rows["Training"].inner_text() == ("Revision 2 is editorial: training on revision 1 "
                                              "stands. 3 of 3 of its audience trained.")
    assert "ISO9001-" not in page.locator("div.body").inner_text()  # no clause id shows

    # a link to the document from another page still lands on its control block
    page.goto(f"{site}/reports/master-list.html")
    page.locator("table.qms-master-list a", has_text="SOP-004").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"{SOP_004}#SOP-004")


#: Per table in the content area: its class, where what is seen of it ends (a box that
#: scrolls clips it) and where the table itself ends; where the content area ends; the
#: ids and dates drawn on more than one line.
MEASURE = """() => {
  const body = document.querySelector('div.body');
  const style = getComputedStyle(body);
  const box = body.getBoundingClientRect();
  const right = box.right - parseFloat(style.paddingRight);
  return {right, page: document.documentElement.scrollWidth,
    tables: Array.from(body.querySelectorAll('table')).map(t => {
      const own = t.getBoundingClientRect().right;
      let shown = own;  // what is seen of it: up to the first box that clips it
      for (let box = t.parentElement; box && box !== body; box = box.parentElement) {
        if (getComputedStyle(box).overflowX !== 'visible') {
          shown = Math.min(shown, box.getBoundingClientRect().right);
        }
      }
      return {css: t.className, shown, own};
    }),
    broken: Array.from(body.querySelectorAll('span.qms-nowrap'))
      .filter(s => s.getClientRects().length > 1).map(s => s.textContent)};
}"""


def test_every_table_fits_the_content_area(site, page):
    """In a 1280-pixel window no page scrolls sideways and no table (control block,
    revision history, report) reaches past the content area: a report table wider than
    it scrolls inside its own box. Ids and dates are never broken across lines."""
    fitting = {"traceability": "qms-trace-matrix", "change-log": "qms-change-log"}
    pages = [SOP_004, *(f"reports/{name}.html" for name in REPORTS)]
    for path in pages:
        page.goto(f"{site}/{path}")
        seen = page.evaluate(MEASURE)
        assert seen["page"] <= VIEWPORT["width"], path
        assert seen["broken"] == [], path
        for table in seen["tables"]:
            assert table["shown"] <= seen["right"] + 0.5, (path, table)
        name = path.removeprefix("reports/").removesuffix(".html")
        if name in fitting:  # these fit without scrolling
            own = [t for t in seen["tables"] if fitting[name] in t["css"]]
            assert own and all(t["own"] <= seen["right"] + 0.5 for t in own), (path, own)
    page.goto(f"{site}/{SOP_004}")
    assert page.evaluate(MEASURE)["tables"]  # the control block and the revision history


def _png(shot: bytes, target: Path) -> None:
    """A screenshot as a small PNG: 128 colours, no dithering (the same pixels give the same
    bytes)."""
    from PIL import Image

    image = Image.open(io.BytesIO(shot)).convert("RGB")
    image = image.quantize(colors=128, method=Image.Quantize.MEDIANCUT,
                           dither=Image.Dither.NONE)
    image.save(target, format="PNG", optimize=True)


def test_screenshots_of_a_document_the_matrix_and_the_change_log(site, page, tmp_path):
    shots = {"document-page.png": SOP_004, "trace-matrix.png": "reports/traceability.html",
             "change-log.png": "reports/change-log.html"}
    update = os.environ.get("QMS_UPDATE_SCREENSHOTS") == "1"
    for name, path in shots.items():
        page.goto(f"{site}/{path}")
        page.wait_for_load_state("networkidle")
        target = (IMAGES if update else tmp_path) / name
        _png(page.screenshot(animations="disabled", caret="hide"), target)
        from PIL import Image

        with Image.open(target) as image:
            assert image.size == (VIEWPORT["width"], VIEWPORT["height"])
            assert len(image.getcolors(256) or []) > 4  # a page, not a blank
        assert target.stat().st_size < 150_000, name
