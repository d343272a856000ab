"""Guarantee 5, injection: titles, reasons, outcomes, names and the organization holding
HTML, JavaScript, RST markup, Jinja syntax and spreadsheet formulas appear as literal text in
the HTML site (document pages, control blocks, revision tables, reports), in the exports
(csv, md, xlsx, json) and in the PDFs; nothing is executed or interpreted.

One repository is built once (module fixture): every payload goes through the real CLI, the
real Sphinx build and the real PDF renderer."""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.helpers import QmsRepo, counters, run_qms, sphinx_build
from tests.reliability.support import change_policy, reliability_repo

TITLES = {  # document title -> what it tries
    "html": '<script>alert("title")</script> & <img src=x onerror=alert(1)> <b>bold</b>',
    "jinja": "{{ 7*7 }} {% if true %}jinja{% endif %} ${7*7} #{7*7}",
    "rst": "*em* **strong** `code` :need:`SOP-001` |today| [1]_ _`tgt` name_ __init__ <x>",
    "directive": ".. include:: ../../../../../../../../../../etc/passwd",
    "list": "- item -- 1. first",
    "formula": '=HYPERLINK("http://evil.example","click")',
    "plus": '+1+cmd|" /C calc"!A0',
    "minus": "-2+3",
    "at": "@SUM(1+1)",
    "link": "javascript:alert(1) data:text/html,x",
    "needs": '[[copy("id")]] {{ id }}',
}
MD_TITLE = "Markdown *em* <b>b</b> {{ 7*7 }} :::{note} x ::: [[copy('id')]]"
REASON = ("New process\n\n.. include:: ../../../../../../../../../../etc/passwd\n\n"
          "<script>alert('reason')</script>\n=1+1 *em* {{ 7*7 }} `x`_")
SUMMARY = "-cmd|' /C calc'!A0 <iframe src=javascript:alert(1)>"
OUTCOME = "@SUM(9) </td></tr></table><script>alert('outcome')</script> | pipe | *x*"
NAME = "<img src=x onerror=alert('name')> Mal *Lory* {{ 7*7 }} =1+1"
ORG = ('Evil "Org" </title><script>alert(1)</script> \\A \n} body, div { display: none } '
       '@page { @top-left { content: "pwned" } } {{ 7*7 }}')
MARKERS = ["alert(", "onerror", "<script", "{{ 7*7 }}", "=HYPERLINK", ".. include::",
           "*em*", "[[copy"]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> dict:
    COUNTS["payloads"] = len(TITLES) + 5
    root = reliability_repo(tmp_path_factory.mktemp("injection") / "qms")
    toml = (root / "qms.toml").read_text(encoding="utf-8")
    toml = toml.replace('name = "Scenario Ltd"', f"name = {json.dumps(ORG)}")
    toml += (f"\n[[people]]\nname = {json.dumps(NAME)}\nemail = \"mal@example.com\"\n"
             'roles = ["quality-manager"]\n')
    toml = toml.replace('review_months = 24', 'review_months = 24\naudience = ["quality-manager"]')
    (root / "qms.toml").write_text(toml, encoding="utf-8")
    (root / "reports.rst").write_text(
        (root / "reports.rst").read_text(encoding="utf-8") + "".join(
            f"\n{name}\n{'-' * len(name)}\n\n.. qms-report:: {name}\n"
            for name in ("change-log", "training", "due", "gaps", "mandatory", "trace-diagram")),
        encoding="utf-8")
    act = QmsRepo(root)
    change_policy(act, "Hostile people")
    paths = {}
    for key, title in TITLES.items():
        paths[key] = act("ash", "new", "--owner", "production-manager", "--", "sop", title
                         ).output.strip().splitlines()[-1]
    paths["md"] = act("ash", "new", "wi", MD_TITLE, "--format", "md", "--owner",
                      "production-manager").output.strip().splitlines()[-1]
    refused = act("ash", "new", "wi", "Fence ``` `x`", "--format", "md", code=2)
    assert "backtick" in refused.output
    act.commit("Hostile titles", who="ash")
    act("mal@example.com", "approve", "SOP-001", "--role", "quality-manager")
    act("mal@example.com", "approve", "SOP-003", "--role", "quality-manager")
    act("pat", "approve", "SOP-003", "--role", "production-manager")
    act.commit("Approvals", who="quinn")
    act("mal@example.com", "review", "SOP-001", "--outcome", OUTCOME)
    act("ash", "revise", "SOP-001", "--reason", REASON, "--summary", SUMMARY)
    act("quinn", "retire", "SOP-004", "--reason", REASON, "--yes")
    act.commit("Revise, review, retire", who="ash")
    result = act("quinn", "check", code=None)
    # Guarantee 1 in a real build: SOP-003 is effective; a one-byte edit, not committed,
    # must show its page as a draft.
    tampered = root / paths["html"]
    tampered.write_bytes(tampered.read_bytes() + b" ")
    built = sphinx_build(root, strict=True)
    return {"root": root, "paths": paths, "build": built, "act": act,
            "check": result.output}


class Page(HTMLParser):
    """Tags, attributes, script bodies and visible text of an HTML (or SVG) page."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[str] = []
        self.text: list[str] = []
        self._in_script = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        (self.scripts if self._in_script else self.text).append(data)

    @property
    def plain(self) -> str:
        """The visible text, with Sphinx's typographic quotes and dashes (the site's style
        for all text) turned back into the characters typed."""
        text = re.sub(r"\s+", " ", "".join(self.text))
        for fancy, typed in (("\u201c", '"'), ("\u201d", '"'), ("\u2018", "'"),
                             ("\u2019", "'"), ("\u2014", "---"), ("\u2013", "--"),
                             ("\u2026", "...")):
            text = text.replace(fancy, typed)
        return text


COUNTS = counters("injection")


def _check_page(page: Page, name: str) -> None:
    for tag, attrs in page.tags:
        for attribute, value in attrs.items():
            COUNTS["html attributes checked"] += 1
            assert not attribute.startswith("on"), (name, tag, attribute, value)
            if attribute in ("href", "src", "xlink:href", "action", "data"):
                assert not (value or "").strip().lower().startswith(("javascript:", "data:")), (
                    name, tag, value)
        assert tag not in ("iframe", "img") or "onerror" not in attrs, (name, tag)
        if tag == "script":
            assert not attrs.get("src") or "_static" in attrs["src"], (name, attrs)
    for script in page.scripts:
        assert "alert(" not in script, (name, script)
    assert "root:x:0:0" not in page.plain, name


@pytest.mark.sphinx
def test_html_site_shows_every_payload_as_literal_text(site):
    build = site["build"]
    assert build.returncode == 0, build.warnings
    pages = sorted(build.outdir.rglob("*.html"))
    text_of = {}
    for file in pages:
        if "_static" in file.parts or file.name in ("genindex.html", "search.html"):
            continue
        page = Page(file.read_text(encoding="utf-8"))
        _check_page(page, file.name)
        COUNTS["html pages"] += 1
        text_of[file.relative_to(build.outdir).as_posix()] = page.plain
    everything = " ".join(text_of.values())
    for key, title in TITLES.items():
        page = text_of[Path(site["paths"][key]).with_suffix(".html").as_posix()]
        assert title in page, (key, title)  # the page title and the control block
        assert title in text_of["reports.html"], (key, "master list")  # reports
        COUNTS["titles literal in their page and the reports"] += 1
    tampered = (build.outdir / Path(site["paths"]["html"]).with_suffix(".html")).read_text()
    assert "qms-banner-draft" in tampered and "qms-status-effective" not in tampered
    md_page = text_of[Path(site["paths"]["md"]).with_suffix(".html").as_posix()]
    assert MD_TITLE in md_page
    reason = " ".join(REASON.split())
    assert reason in text_of["reports.html"]  # the change log
    assert reason in text_of["procedures/" + Path(site["paths"]["html"]).name.replace(
        ".rst", ".html")] or reason in everything
    assert " ".join(OUTCOME.split()) in text_of["reports.html"]
    assert NAME in text_of["procedures/sop-001.html"] or NAME in everything
    assert NAME in text_of["reports.html"]  # the training matrix
    COUNTS["reasons, outcomes, names literal"] += 4
    for marker in MARKERS:
        assert marker in everything, marker  # shown, as text
    # The traceability diagram (SVG from Graphviz) holds the titles as text too.
    for svg in build.outdir.rglob("*.svg"):
        page = Page(svg.read_text(encoding="utf-8"))
        _check_page(page, svg.name)
        COUNTS["svg files"] += 1


@pytest.mark.sphinx
def test_exports_neutralize_formulas_and_markup(site):
    act = site["act"]
    formula = tuple("=+-@\t\r")
    commands = [["list"], ["changes"], ["trace", "--status", "any"], ["training"], ["due"]]
    for args in commands:
        rows = list(csv.reader(io.StringIO(act("quinn", *args, "--format", "csv",
                                               code=None).stdout)))
        assert rows, args
        for row in rows:
            for cell in row:
                COUNTS["csv cells"] += 1
                assert not cell.startswith(formula) or re.fullmatch(r"-?\d+(\.\d+)?", cell), (
                    args, cell)
        flat = " ".join(" ".join(r) for r in rows)
        if args == ["list"]:
            for title in TITLES.values():
                assert title in flat or "'" + title in flat, title
    import markdown_it

    md = markdown_it.MarkdownIt("commonmark").enable("table")
    for args in commands:
        out = act("quinn", *args, "--format", "md", code=None).stdout
        page = Page(md.render(out))
        _check_page(page, f"md {args}")
        assert not [t for t, _ in page.tags if t in ("em", "strong", "code", "a", "script",
                                                     "img", "iframe", "b")], (args, page.tags)
        COUNTS["markdown reports"] += 1
        if args == ["list"]:
            for title in TITLES.values():
                assert title in page.plain, title
    from openpyxl import load_workbook

    for args in commands:
        target = site["root"] / "_build" / f"{args[0]}.xlsx"
        act("quinn", *args, "--format", "xlsx", "-o", str(target), code=None)
        for row in load_workbook(target).active.iter_rows():
            for cell in row:
                COUNTS["xlsx cells"] += 1
                assert cell.data_type != "f", (args, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(formula), (args, cell.value)
    data = json.loads(act("quinn", "list", "--format", "json").stdout)
    assert {r["title"] for r in data} >= set(TITLES.values())


@pytest.mark.sphinx
def test_pdfs_show_payloads_as_text(site, tmp_path):
    import pypdf
    import weasyprint

    from qms_docs import publish
    from qms_docs.manual import manual_pdf
    from qms_docs.workspace import Workspace

    ws = Workspace(site["root"])
    documents = [d for d in ws.scan.documents if d.id]
    statuses = {d.id: ws.status(d) for d in documents}
    pdfs = []
    page = site["build"].outdir / Path(site["paths"]["html"]).with_suffix(".html")
    pdf = tmp_path / f"{documents[0].id}.pdf"
    weasyprint.HTML(filename=str(page)).write_pdf(
        str(pdf), stylesheets=[weasyprint.CSS(string=publish.print_css(ORG, "DRAFT"))])
    pdfs.append(pdf)
    manual = tmp_path / "manual.pdf"
    manual_pdf(manual, ORG, documents, statuses,
                        [tmp_path / f"{d.id}.pdf" for d in documents[:1]], False, ws.today)
    cover = pypdf.PdfReader(str(manual)).pages[0].extract_text()
    text = re.sub(r"\s+", " ", cover)
    assert "Evil" in text and "alert(1)" in text  # the organization, literally
    body = " ".join(p.extract_text() for p in pypdf.PdfReader(str(pdf)).pages)
    body = re.sub(r"\s+", " ", body)
    assert "alert(" in body and "onerror" in body  # the title, literally, in the page
    # The running header shows the whole organization: its text never became CSS.
    assert re.sub(r"\s+", "", ORG) in re.sub(r"\s+", "", body)
    COUNTS["pdf files"] += 2


INIT_ORGS = [ORG, ".. include:: /etc/passwd", "javascript:alert(1)", "- A | B *C* `D`_ [1]_",
             'X" + __import__("os").system("touch pwned") + "', "Nul\x00 and \x1b[31m bell\x07"]


@pytest.mark.parametrize("org", INIT_ORGS, ids=range(len(INIT_ORGS)))
def test_qms_init_keeps_the_organization_literal(tmp_path, org):
    """qms init writes the organization into conf.py, qms.toml, RST pages and the README."""
    import tomllib

    from click.testing import CliRunner
    from docutils import nodes
    from docutils.core import publish_doctree

    target = tmp_path / "acme"
    result = run_qms(CliRunner(), ["init", str(target), "--org", org, "--ci", "none"])
    COUNTS["qms init organizations"] += 1
    if result.exit_code == 2:  # refused, with a message
        assert "error" in result.output.lower() and not target.joinpath("conf.py").exists()
        return
    assert result.exit_code == 0, result.output
    expected = " ".join(org.split())
    namespace: dict = {}
    exec(compile((target / "conf.py").read_text(), "conf.py", "exec"), namespace)
    assert namespace["author"] == expected and not (target / "pwned").exists()
    toml = tomllib.loads((target / "qms.toml").read_text())
    assert toml["organization"]["name"] == expected
    for page in ("index.rst", "manual/pol-001-quality-policy.rst"):
        tree = publish_doctree((target / page).read_text(), settings_overrides={
            "report_level": 5, "halt_level": 5, "file_insertion_enabled": True})
        text = tree.astext()
        assert expected in text and "root:x:0:0" not in text, (page, text[:300])
        assert not list(tree.findall(nodes.reference)), page
