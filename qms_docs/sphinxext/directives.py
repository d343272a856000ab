"""Directives that render the standards and the auditor traceability.

``.. qms-clauses:: iso9001-2015`` turns a catalog into ``clause`` needs, one section per
top-level clause, so nobody writes clause needs by hand. ``.. qms-report:: NAME``
renders a report of :mod:`qms_docs.reports` (``trace-matrix``, ``coverage``,
``master-list``, ``transition`` with ``:to: EDITION``, ...): the same rows the command
line prints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from docutils.utils import escape2null
from sphinx.application import Sphinx
from sphinx.errors import NoUri
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx_needs.api import InvalidNeedException, add_need
from sphinx_needs.need_item import NeedItemSourceDirective
from sphinx_needs.nodes import Need
from sphinx_needs.utils import add_doc

from ..catalog import catalog_note, find_catalog
from ..errors import QmsError
from ..model import Catalog, Clause, Document, UpstreamDocument
from ..reports import mandatory, registers, traceability
from ..reports import transition as transition_report
from ..reports.training import Cell
from ..status import StatusInfo
from ..text import rst_text
from . import tables
from .charts import coverage_chart, trace_diagram
from .domain import QmsDomain
from .needs_config import CLAUSE_LAYOUT, CLAUSE_TYPE
from .state import ProjectState

logger = logging.getLogger(__name__)


class _QmsDirective(SphinxDirective):
    """Shared plumbing: the project state, nested parsing, aggregate-page bookkeeping."""

    @property
    def qms(self) -> ProjectState:
        return QmsDomain.of(self.env).project

    def remember_aggregate(self, inputs: str) -> None:
        """Note that this page shows ``inputs`` (a key of ``ProjectState.input_digests``):
        it is read again when they change."""
        QmsDomain.of(self.env).note_aggregate(self.env.docname, inputs)

    def parse_lines(self, lines: Iterable[str]) -> list[nodes.Node]:
        container = nodes.container()
        content = StringList(list(lines), source=self.get_source_info()[0])
        self.state.nested_parse(content, self.content_offset, container)
        return list(container.children)

    def catalog(self, name: str | None) -> Catalog:
        try:
            return find_catalog(name or None, self.qms.catalogs, self.qms.root)
        except QmsError as exc:
            raise self.error(f"qms: {exc}") from None


class ClausesDirective(_QmsDirective):
    """All clauses of a standard as ``clause`` needs, grouped by top-level clause.

    Each top-level clause opens a section titled with its number and title; the needs are
    made with sphinx-needs' :func:`~sphinx_needs.api.add_need`, as its own directive
    makes them, all located at this directive's line.
    """

    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        catalog = self.catalog(self.arguments[0])
        self.remember_aggregate("clauses")
        self.remember_aggregate("reports")  # what satisfies each clause: made when resolved
        out: list[nodes.Node] = []
        if (note := catalog_note(catalog)) is not None:  # provisional data says so
            out.append(nodes.note("", nodes.paragraph(text=note[:1].upper() + note[1:])))
        section: nodes.section | None = None
        for clause in catalog.clauses:
            if clause.parent is None:
                section = self._section(f"{clause.number} {rst_text(clause.title)}")
                out.append(section)
            made = self._need(clause, catalog.standard)
            if section is None:
                out += made
            else:
                section += made
        add_doc(self.env, self.env.docname)  # the page holds needs, as need directives do
        return out

    def _section(self, heading: str) -> nodes.section:
        """The section an RST heading ``heading`` makes (title, name, implicit target)."""
        section = nodes.section()
        title = nodes.title(heading, "", nodes.Text(escape2null(heading)))
        section["names"].append(nodes.fully_normalize_name(title.astext()))
        section += title
        self.state.document.note_implicit_target(section, section)
        return section

    def _need(self, clause: Clause, standard: str) -> list[nodes.Node]:
        """The ``clause`` need of ``clause``; its text names the documented information
        the clause asks for, then what satisfies it (made when the page is resolved: the
        row of the traceability matrix)."""
        flags = [word for word, on in (("maintained", clause.maintain),
                                       ("retained", clause.retain)) if on]
        text = ""
        if flags:
            text = f"Documented information {' and '.join(flags)}"
            if clause.evidence:
                text += f": {rst_text(clause.evidence)}"
            text += "."
        line = self.get_source_info()[1] or self.lineno
        source = NeedItemSourceDirective(docname=self.env.docname, lineno=line,
                                         lineno_content=self.content_offset + 1,
                                         parser_lineno=self.lineno)
        try:
            made: list[nodes.Node] = add_need(
                self.env.app, self.state, need_source=source, need_type=CLAUSE_TYPE,
                title=f"{clause.number} {' '.join(clause.title.split())}",
                id=clause.need_id, content=text, layout=CLAUSE_LAYOUT)
        except InvalidNeedException as err:
            # the warning sphinx-needs' own directive gives (a second list of one standard)
            logger.warning(f"Need could not be created: {err.message}", type="needs",
                           subtype="create_need", location=self.get_location())
            return []
        for need in (node for node in made if isinstance(node, Need)):
            need += ReportPlaceholder(report=CLAUSE_ROW, standard=standard,
                                      clause=clause.need_id)
        return made


#: Reports made when the page is resolved, from the records as they are then.
RESOLVED_REPORTS = ("trace-matrix", "master-list", "due", "training", "change-log", "gaps",
                    "mandatory", "coverage", "transition")


class ReportPlaceholder(nodes.General, nodes.Element):
    """Where a report goes: made when the page is resolved (see :func:`resolve_reports`)."""


#: The report of one clause need: what satisfies it (a row of the traceability matrix).
CLAUSE_ROW = "clause"


class ReportDirective(_QmsDirective):
    """One auditor report of :mod:`qms_docs.reports`, as a table.

    The reports that show statuses (coverage too: it counts what is in force) are made
    when the page is resolved (a change of status re-writes the page without reading it
    again); the trace diagram, which shows only which document names which clause, when
    it is read.
    """

    required_arguments = 1
    option_spec = {"standard": directives.unchanged, "to": directives.unchanged,
                   "crosswalk": directives.unchanged}
    has_content = False
    reports = ("trace-matrix", "coverage", "master-list", "trace-diagram", "gaps", "mandatory",
               "due", "change-log", "training", "transition")

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0]
        if name not in self.reports:
            raise self.error(f"qms-report: unknown report {name!r}; use one of "
                             f"{', '.join(self.reports)}")
        uses_catalog = name in ("trace-matrix", "coverage", "trace-diagram", "gaps",
                                "mandatory")
        catalog = self.catalog(self.options.get("standard")) if uses_catalog else None
        if name == "transition":  # the target edition, checked now (an error at its line)
            if not self.options.get("to"):
                raise self.error("qms-report transition: name the new edition, e.g. "
                                 ":to: iso9001-2026")
            catalog = self.catalog(self.options["to"])
        if name in RESOLVED_REPORTS:
            self.remember_aggregate("reports")
            add_doc(self.env, self.env.docname)  # its links are need references
            return [ReportPlaceholder(report=name,
                                      standard=catalog.standard if catalog else "",
                                      crosswalk=self.options.get("crosswalk", ""))]
        documents = [doc for doc in self.qms.scan.documents if doc.id]
        self.remember_aggregate("headers")
        assert catalog is not None  # the trace diagram uses one
        return [self._diagram(catalog, documents)]

    def _diagram(self, catalog: Catalog, documents: list[Document]) -> nodes.Node:
        """Graphviz: documents (left) -> chapters of the standard (right)."""
        from sphinx.ext.graphviz import graphviz

        builder = self.env.app.builder

        def uri(doc: Document) -> str:
            target = self.env.path2doc(str(self.env.srcdir / doc.path))
            if not target:
                return ""
            try:
                return builder.get_relative_uri(self.env.docname, target)
            except NoUri:  # a single-file builder (LaTeX, text): no page to link to
                return ""

        links = traceability.chapter_links(catalog, documents)
        node = graphviz()
        node["code"] = trace_diagram(links, self.qms.config, uri)
        node["options"] = {}
        node["alt"] = f"Traceability diagram: documents to the chapters of {catalog.short_title}"
        node["classes"] = ["qms-trace-diagram"]
        return node


def _texts(values: Iterable[object]) -> list[tables.Cell]:
    """The cells of a row model (:mod:`qms_docs.reports`) as table cells: text, or empty."""
    return [None if v is None else v if isinstance(v, str) else str(v) for v in values]


def _table_or(headers: Sequence[str], rows: Iterable[Iterable[object]], css: str,
              empty: str) -> list[tables.Block]:
    """A table of the rows' cells, or the sentence ``empty`` when there are none."""
    cells = [_texts(row) for row in rows]
    if cells:
        return [tables.Table(tuple(headers), cells, css)]
    return [(empty,)] if empty else []


def report_blocks(name: str, state: ProjectState, catalog: Catalog | None,
                  crosswalk: str | None = None) -> list[tables.Block]:
    """What the report ``name`` shows now: the rows the command line prints."""
    documents = [doc for doc in state.scan.documents if doc.id]
    statuses = state.statuses()
    if name == "master-list":
        return [tables.Table(registers.MasterRow.HEADERS, [
            [(tables.Link(row.id),), *_texts(row.cells(titles=True)[1:])]
            for row in registers.master_list(state.config, documents, statuses)],
            "qms-master-list")]
    if name == "due":
        due = registers.reviews_due(documents, statuses, state.today, 60)
        return _table_or(registers.DueRow.HEADERS, [r.cells() for r in due], "qms-due",
                         "No periodic review falls due in the next 60 days.")
    if name == "training":
        cells = [c for c in state.training_matrix() if c.state != "not-required"]
        return _table_or(Cell.HEADERS[:1] + Cell.HEADERS[2:],
                         [c.cells()[:1] + c.cells()[2:] for c in cells], "qms-training",
                         "No document names an audience yet: nobody owes training.")
    if name == "change-log":
        since = state.today - dt.timedelta(days=365)
        log = registers.change_log(state.records.records, since, state.today)
        return _table_or(registers.ChangeEntry.HEADERS[:-1],
                         [r.cells()[:-1] for r in reversed(log)], "qms-change-log",
                         "No records in the last 12 months.")
    assert catalog is not None
    if name == "transition":
        return transition_blocks(state, catalog, crosswalk)
    basis = state.basis()
    documents = state.coverage_documents()
    upstream = state.upstream_documents()
    notes: list[tables.Block] = [(f"Note: {note}",) for note in basis.notes]
    if name == "coverage":
        return notes + _coverage_blocks(catalog, documents, statuses, basis, upstream)
    if name == "gaps":
        gaps = traceability.gap_rows(catalog, documents, statuses, basis, upstream)
        return notes + _table_or(traceability.GapRow.HEADERS, [r.cells() for r in gaps],
                                 "qms-gaps", f"None: every requirement clause of "
                                 f"{catalog.short_title} has an effective document.")
    if name == "mandatory":
        needed = mandatory.mandatory(catalog, documents, statuses, basis, state.root, upstream)
        intro: tables.Para = (tables.Strong(mandatory.mandatory_summary(needed)),)
        return [*notes, intro, *_table_or(mandatory.MandatoryRow.HEADERS,
                                          [r.cells() for r in needed], "qms-mandatory", "")]
    rows: list[list[tables.Cell]] = []
    in_build = state.documents_by_id()
    items: dict[traceability.DocRef, tables.Para] = {}  # a document in each of its clauses

    def item(doc: traceability.DocRef) -> tables.Para:
        if doc not in items:  # a revision of a document not in this build: its id as text
            items[doc] = (tables.Link(doc.id) if doc.id in in_build or doc.source else doc.id,
                          f" {doc.label()}")  # an upstream's: a link to its site
        return items[doc]

    for row in trace_matrix(state, catalog):
        satisfied: tables.Cell = None
        if row.documents:
            satisfied = tables.Bullets(tuple(item(d) for d in row.documents))
        elif row.clause.is_leaf:
            satisfied = (tables.Strong("no document"),)
        title = row.clause.title if row.clause.is_leaf else (tables.Strong(row.clause.title),)
        rows.append([(tables.Link(row.clause.need_id, clause=True),), title, satisfied])
    return notes + [tables.Table(traceability.TraceRow.GROUPED_HEADERS, rows,
                                 "qms-trace-matrix", widths=(10, 40, 50))]


def trace_matrix(state: ProjectState, catalog: Catalog) -> list[traceability.TraceRow]:
    """The traceability matrix of ``catalog`` as the site shows it (the matrix report, and
    what satisfies each clause on the standard's page): the documents of this build as
    their revisions in force declare them, the pending ones, and the upstreams' in force."""
    return traceability.trace_matrix(catalog, state.coverage_documents(), state.statuses(),
                                     basis=state.basis(), upstream=state.upstream_documents())


def clause_blocks(row: traceability.TraceRow | None, state: ProjectState
                  ) -> list[tables.Block]:
    """What a clause need says satisfies it: its row of the matrix on one line, each
    document's id with its status where that is not plainly "effective" ("satisfied by:
    SOP-004, SOP-009 (pending rev 2), CORP-SOP-005 (upstream corp)"), or "no document"
    for a requirement clause none names."""
    if row is None:
        return []
    if not row.documents:
        return [("satisfied by: ", tables.Strong("no document"))] if row.clause.is_leaf else []
    in_build = state.documents_by_id()
    pieces: list[tables.Inline] = ["satisfied by: "]
    for index, doc in enumerate(row.documents):
        if index:
            pieces.append(", ")
        pieces.append(tables.Link(doc.id) if doc.id in in_build or doc.source else doc.id)
        if doc.pending:
            pieces.append(f" (pending rev {doc.revision if doc.revision is not None else '?'})")
        elif doc.source:  # in force in its upstream's export
            pieces.append(f" (upstream {doc.source})")
        elif doc.status and doc.status != "effective":
            pieces.append(f" ({doc.status})")
    return [tuple(pieces)]


def transition_blocks(state: ProjectState, new: Catalog, crosswalk: str | None
                      ) -> list[tables.Block]:
    """The transition report: the note on provisional data, the summary per chapter, the
    gaps of the new edition, and each document's clauses (the rows ``qms transition``
    prints)."""
    documents = [d for d in state.scan.documents if d.id and d.type in state.config.types]
    result = transition_report.for_qms(new.standard, state.catalogs, state.root, documents,
                                       state.statuses(), crosswalk)
    blocks: list[tables.Block] = []
    if (note := result.provisional_note()) is not None:
        blocks.append((tables.Strong("Provisional data. "), note[:1].upper() + note[1:]))
    blocks.append((tables.Strong(f"{result.old.short_title} to {result.new.short_title}: "
                                 "summary per chapter"),))
    blocks += _table_or(transition_report.ChapterRow.HEADERS,
                        [c.cells() for c in result.chapters], "qms-transition-chapters", "")
    blocks.append((tables.Strong(f"New or changed requirements of {result.new.short_title} "
                                 "no document covers yet"),))
    blocks += _table_or(transition_report.NewGapRow.HEADERS, [g.cells() for g in result.gaps],
                        "qms-transition-gaps", "None.")
    blocks.append((tables.Strong("Each document's clauses and what they become"),))
    in_build = state.documents_by_id()
    rows: list[list[tables.Cell]] = [
        [(tables.Link(r.document),) if r.document in in_build else r.document,
         *_texts(r.cells()[1:])] for r in result.rows]
    return blocks + _table_or(transition_report.TransitionRow.HEADERS, rows,
                              "qms-transition", "No document satisfies a clause of "
                              f"{result.old.short_title}.")


def _coverage_blocks(catalog: Catalog, documents: list[Document],
                     statuses: dict[str, StatusInfo], basis: traceability.Basis,
                     upstream: Sequence[UpstreamDocument] = ()) -> list[tables.Block]:
    """Requirement clauses covered by a revision in force (of this QMS or an upstream
    one), those that are not (with the revisions pending that name them), and the chart
    per chapter."""
    result = traceability.coverage(catalog, documents, statuses, basis=basis,
                                   upstream=upstream)
    blocks: list[tables.Block] = [
        (tables.Strong(f"{catalog.short_title}: {result.covered} of {result.total} "
                       f"requirement clauses covered ({result.percent:.0f}%)."),),
        ("A requirement clause is one without subclauses; it is covered when the revision "
         "in force of a controlled document names it in its :satisfies: header. A revision "
         "not yet in force that names it is shown as pending.",)]
    if result.uncovered:
        blocks.append(("Clauses with no document in force:",))
        items = []
        for gap in result.gap_rows():
            pending = gap.pending_text
            items.append((tables.Link(gap.clause.need_id, clause=True), f" {gap.clause.title}",
                          *((f" ({pending})",) if pending else ())))
        blocks.append(tables.Bullets(tuple(items)))
    else:
        blocks.append(("Clauses with no document in force: none.",))
    if upstream:
        through = traceability.upstream_covered(traceability.trace_matrix(
            catalog, documents, statuses, True, basis, upstream))
        blocks.append((f"Covered only through upstream documents in force: {len(through)} "
                       "requirement clauses" + (": " + "; ".join(
                           f"{r.clause.number} by " + ", ".join(
                               f"{d.id} ({d.source})" for d in r.documents if d.source)
                           for r in through) if through else "") + ".",))
    chart = coverage_chart(traceability.coverage_by_chapter(catalog, documents, statuses,
                                                       basis=basis, upstream=upstream))
    return blocks + [tables.Raw(chart)]


def resolve_reports(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Make the reports of a page from the records as they are now.

    HTML builders (but single-page HTML, whose links are rewritten on nodes) get the
    report as written HTML and its words for the search index; the others, and a report
    with a link that is not a plain link to a page, get docutils nodes.
    """
    placeholders = list(doctree.findall(ReportPlaceholder))
    if not placeholders:
        return
    state = QmsDomain.of(app.env).project
    direct = (app.builder.format == "html" and app.builder.name != "singlehtml"
              and app.config.qms_direct_html)
    link = tables.html_link(app, docname) if direct else None
    rows: dict[str, dict[str, traceability.TraceRow]] = {}  # the matrix, once per standard
    for placeholder in placeholders:
        name = placeholder["standard"]
        catalog = find_catalog(name, state.catalogs, state.root) if name else None
        if placeholder["report"] == CLAUSE_ROW and catalog is not None:
            if name not in rows:
                rows[name] = {r.clause.need_id: r for r in trace_matrix(state, catalog)}
            blocks = clause_blocks(rows[name].get(placeholder["clause"]), state)
        else:
            blocks = report_blocks(placeholder["report"], state, catalog,
                                   placeholder.get("crosswalk") or None)
        made = tables.block_html(blocks, link) if link else None
        if made is not None:
            html, words = made
            placeholder.replace_self(tables.DeferredReport("", nodes.Text(words), html=html))
        else:
            placeholder.replace_self(tables.block_nodes(blocks, app.env, docname))


class DocumentsDirective(_QmsDirective):
    """A table of contents of the controlled documents of some types, one per type.

    ``.. qms-documents:: sop wi form``: new documents appear without editing the page,
    and a type with no document yet adds nothing (no empty-glob warning).
    """

    required_arguments = 1
    final_argument_whitespace = True
    has_content = False

    def run(self) -> list[nodes.Node]:
        config = self.qms.config
        wanted = self.arguments[0].replace(",", " ").split()
        unknown = [t for t in wanted if t not in config.types]
        if unknown:
            raise self.error(f"qms-documents: unknown type(s) {', '.join(unknown)}; "
                             f"use {', '.join(config.types)}")
        self.remember_aggregate("documents")
        lines: list[str] = []
        for type_name in wanted:
            docnames = []
            for doc in sorted((d for d in self.qms.scan.documents if d.type == type_name),
                              key=lambda d: d.id):
                docname = self.env.path2doc(str(self.env.srcdir / doc.path))
                if docname and docname not in docnames:
                    docnames.append(docname)
            if docnames:
                title = config.types[type_name].title
                lines += [".. toctree::", "   :maxdepth: 1", f"   :caption: {title}s", ""]
                lines += [f"   /{name}" for name in docnames] + [""]
        return self.parse_lines(lines) if lines else []


def setup(app: Sphinx) -> None:
    app.add_node(ReportPlaceholder)
    # Before the need links of report tables are resolved (tables, priority 400).
    app.connect("doctree-resolved", resolve_reports, priority=300)
    app.add_directive("qms-documents", DocumentsDirective)
    app.add_directive("qms-clauses", ClausesDirective)
    app.add_directive("qms-report", ReportDirective)
