"""The built site in a real headless browser (Debian's chromium, driven by Playwright)."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest

from tests.helpers import REPO, sphinx_build

pytestmark = [pytest.mark.sphinx, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
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
        page = browser.new_page()
        yield page
        browser.close()


def test_document_page_clause_link_and_matrix(site, page):
    page.goto(f"{site}/procedures/sop-004-calibration-of-monitoring-and-measuring-equipment.html")
    assert page.title().startswith("SOP-004 Calibration of Monitoring and Measuring Equipment")
    block = page.locator("table.qms-control-block")
    assert block.is_visible()
    assert block.locator("p.qms-docid").inner_text() == "SOP-004"
    assert block.locator("p.qms-status").inner_text() == "effective"
    assert page.locator("div.qms-banner").count() == 0

    page.locator("a", has_text="ISO9001-7-1-5-1").first.click()
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
