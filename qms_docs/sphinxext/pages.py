"""Shape of a document page: its title comes from the document's header.

A document file opens with its need directive and has no title line of its own (the
title lives once, in the header). This transform wraps the page in a section titled
``<id> <title>``, so the page title, the toctree and the browser tab name the document
and the file's own top-level sections (Purpose, Scope, ...) become its subsections.
Under the title goes the control block, filled at write time from the records (status
changes when a record is added, even though the page's source did not).

The box sphinx-needs draws for the document's own need (type, title, id, then revision,
owner, audience and clause ids once more, with a collapse button that paper cannot press)
is left out: the control block says all of it, with names and role titles, and the
clauses by number and title, each linked to its clause. The need's anchor moves to the
control block, so every link to the document still lands on it; the need itself (its
fields, links and back-links in needs.json, tables and diagrams) is untouched.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.builders import Builder
from sphinx.environment import BuildEnvironment
from sphinx.errors import NoUri
from sphinx.transforms import SphinxTransform
from sphinx.util.nodes import make_refnode
from sphinx.writers.html5 import HTML5Translator
from sphinx_needs.data import SphinxNeedsData
from sphinx_needs.nodes import Need

from ..diffs import html_page, page_name
from ..model import Document
from ..revisions import revision_history
from ..text import html_text as encode
from ..training import training_need
from . import references, wrapping
from .control_block import (
    ControlBlock,
    DiffLinks,
    Line,
    Ref,
    control_data,
    revision_html,
    revision_rows,
    revision_section,
    revision_table,
)
from .domain import QmsDomain
from .state import ProjectState


class DocumentTitle(SphinxTransform):
    """Give a document page the title of the document it holds."""

    default_priority = 205  # after docutils' own title promotion, before Sphinx collects titles

    def apply(self, **kwargs: object) -> None:
        qms = QmsDomain.of(self.env).project
        doc = self.document
        first = next((child for child in doc.children
                      if not isinstance(child, (nodes.comment, nodes.target,
                                                nodes.substitution_definition))), None)
        if not isinstance(first, Need):
            return
        need_id = first.get("refid") or (first["ids"][0] if first.get("ids") else "")
        document = qms.documents_by_id().get(need_id)
        if document is None or document.type not in qms.config.types:
            return
        section = nodes.section(ids=[nodes.make_id(f"doc-{document.id}")],
                                names=[nodes.fully_normalize_name(document.id)])
        section += nodes.title("", f"{document.id} {document.title}")
        section += ControlBlockPlaceholder(document=document.id)
        section.extend(list(doc.children))
        section += RevisionHistoryPlaceholder(document=document.id)
        doc.children = []
        doc += section
        section.parent = doc


class ControlBlockPlaceholder(nodes.General, nodes.Element):
    """Where the control block goes; filled at write time, when records are known."""


class RevisionHistoryPlaceholder(nodes.General, nodes.Element):
    """Where the revision history table goes, at the end of the document."""


class DeferredControlBlock(nodes.General, nodes.Element):
    """The control block of ``document``, made by the HTML writer as HTML.

    Sphinx resolves every page in its main process, one after the other, and writes the
    pages in parallel processes: the block is made there (from the state the main
    process derived before writing), as text, without docutils nodes. The search index
    leaves it out: it is the same labels on every page (a search for "owner" or
    "revision" would find every document), and the id and title it shows are in the page
    title, which is indexed.
    """


class DeferredRevisionTable(nodes.General, nodes.Element):
    """The revision history table of ``document``, made by the HTML writer as HTML."""


def _document(translator: HTML5Translator, node: nodes.Element
              ) -> tuple[ProjectState, Document]:
    qms = QmsDomain.of(translator.builder.env).project
    return qms, qms.documents_by_id()[node["document"]]


def visit_deferred_control_block(translator: HTML5Translator,
                                 node: DeferredControlBlock) -> None:
    qms, document = _document(translator, node)
    builder = translator.builder
    docname = builder.current_docname

    def link(ref: Ref) -> str | None:
        page = _need_page(builder.env, ref.need_id)
        if page is None:
            return None
        try:
            href = ("" if page == docname else builder.get_relative_uri(docname, page))
        except NoUri:
            return None
        return (f'<a class="reference internal" href="{encode(href)}#{encode(ref.need_id)}" '
                f'title="{encode(ref.need_id)}">{wrapping.html(ref.label)}</a>')

    translator.body.append(_control_data(qms, document).html(node["anchors"], link))
    raise nodes.SkipNode


def visit_deferred_revision_table(translator: HTML5Translator,
                                  node: DeferredRevisionTable) -> None:
    qms, document = _document(translator, node)
    rows = revision_rows(revision_history(document, qms.records.for_document(document.id),
                                          qms.config), qms.config.roles)
    builder = translator.builder
    translator.body.append(revision_html(rows, _diff_links(
        qms, document, builder, builder.current_docname)))
    raise nodes.SkipNode


def _need_page(env: BuildEnvironment, need_id: str) -> str | None:
    """The page holding the need ``need_id`` (a clause, a document), if it has one here."""
    need = SphinxNeedsData(env).get_needs_view().get(need_id)
    if need is None or need["is_external"] or not need["docname"]:
        return None
    return str(need["docname"])


def _diff_links(qms: ProjectState, document: Document, builder: Builder,
                docname: str) -> DiffLinks:
    """Revision -> (the revision it is compared with, the relative URI of the page of
    differences) for each revision of ``document`` that has one (HTML builders)."""
    if builder.format != "html":
        return {}
    return {found.new.revision: (found.old.revision, builder.get_relative_uri(
        docname, page_name(document.id, found.old.revision, found.new.revision)))
            for found in qms.differences().get(document.id, [])
            if found.old.revision is not None and found.new.revision is not None}


def on_build_finished_write_differences(app: Sphinx, exception: BaseException | None
                                        ) -> None:
    """Write a page for each difference the revision histories link: both sides
    (revision, effective date, approvals) and the two texts side by side. Plain pages
    written straight to the output, not through the theme: a thousand documents with a
    few revisions each are thousands of pages (about two seconds this way)."""
    builder = app.builder
    if exception is not None or builder.format != "html" or not hasattr(
            builder, "get_outfilename"):
        return
    qms = QmsDomain.of(app.env).project
    for differences in qms.differences().values():
        for found in differences:
            if found.old.revision is None or found.new.revision is None:
                continue
            name = page_name(found.document.id, found.old.revision, found.new.revision)
            docname = app.env.path2doc(str(Path(app.srcdir) / found.document.path))
            back = builder.get_relative_uri(name, docname) if docname else None
            target = Path(builder.get_outfilename(name))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(html_page(found, qms.config.organization, back),
                              encoding="utf-8")


def _control_data(qms: ProjectState, document: Document) -> ControlBlock:
    cells = qms.training_by_document().get(document.id, [])
    need = training_need(document, qms.records.for_document(document.id), qms.config,
                         qms.today)
    return control_data(document, qms.status_of(document), qms.config, cells,
                        qms.root / qms.config.signers_file, need,
                        _clause_lines(qms, document), _related_lines(qms, document))


def _clause_lines(qms: ProjectState, document: Document) -> list[Line]:
    """The clauses ``document`` satisfies, by number and title (the standard's short
    title too when the QMS follows more than one), each linked to its clause."""
    clauses = qms.clauses_by_id()
    several = len(qms.catalogs) > 1
    out: list[Line] = []
    for need_id in document.satisfies:
        found = clauses.get(need_id)
        if found is None:
            out.append(need_id)  # no such clause: qms check reports it
            continue
        catalog, clause = found
        label = f"{clause.number} {' '.join(clause.title.split())}"
        out.append(Ref(need_id, f"{catalog.short_title} {label}" if several else label))
    return out


def _related_lines(qms: ProjectState, document: Document) -> list[Line]:
    """The documents ``document`` links to (``:links:``), by id and title; one a
    controlled build left out reads as its id and state."""
    by_id = qms.documents_by_id()
    out: list[Line] = []
    for target in document.links:
        state = qms.not_in_force.get(target)
        upstream = next(((e, e.documents[target]) for e in qms.upstreams
                         if target in e.documents), None)
        if state is not None:
            out.append(references.shown(target, state))
        elif target in by_id:
            out.append(Ref(target, f"{target} {by_id[target].title}"))
        elif upstream is not None and upstream[1].in_force:  # on the upstream's site
            export, found = upstream
            out.append(Ref(target, f"{target} {found.title} (upstream {export.name})",
                           export.url_of(found)))
        else:
            out.append(target)
    return out


def _header_need(section: nodes.Element, document: Document) -> Need | None:
    """The need node of the document's own header in its page's section."""
    for child in section.children:
        if isinstance(child, Need) and document.id in child.get("ids", ()):
            return child
    return None


def _placeholders(doctree: nodes.document) -> list[nodes.Element]:
    """The placeholders of a document page: where DocumentTitle put them, else searched."""
    section = doctree.children[0] if len(doctree.children) == 1 else None
    if (isinstance(section, nodes.section) and len(section.children) > 2
            and isinstance(section[1], ControlBlockPlaceholder)
            and isinstance(section[-1], RevisionHistoryPlaceholder)):
        return [section[1], section[-1]]
    return list(doctree.findall(lambda n: isinstance(
        n, (ControlBlockPlaceholder, RevisionHistoryPlaceholder))))


def on_doctree_resolved(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    qms = QmsDomain.of(app.env).project
    by_id = qms.documents_by_id()
    html = app.builder.format == "html" and app.config.qms_direct_html
    for placeholder in _placeholders(doctree):
        document = by_id.get(placeholder["document"])
        if document is None:
            placeholder.parent.remove(placeholder)
        elif isinstance(placeholder, ControlBlockPlaceholder):
            need = _header_need(placeholder.parent, document)
            anchors: list[str] = []
            if need is not None:  # its box goes; its anchor moves to the control block
                anchors = list(need["ids"])
                need.parent.remove(need)
            placeholder.replace_self(
                DeferredControlBlock(document=document.id, anchors=anchors) if html
                else _control_data(qms, document).nodes(anchors, _node_link(app, docname)))
        elif html:
            placeholder.replace_self(revision_section(DeferredRevisionTable(
                document=document.id)))
        else:
            placeholder.replace_self(revision_table(revision_history(
                document, qms.records.for_document(document.id), qms.config),
                qms.config.roles, _diff_links(qms, document, app.builder, docname)))


def _node_link(app: Sphinx, docname: str) -> Callable[[Ref], nodes.Node | None]:
    """Makes the reference node of a control block's link, as :func:`visit_deferred_control_block`
    writes it; None where the need has no page (or the builder no pages)."""
    def link(ref: Ref) -> nodes.Node | None:
        page = _need_page(app.env, ref.need_id)
        if page is None:
            return None
        try:
            return make_refnode(app.builder, docname, page, ref.need_id,
                                wrapping.text_nodes(ref.label), ref.need_id)
        except NoUri:
            return None
    return link


def on_doctree_resolved_stable_ids(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Give the boxes sphinx-needs draws around needs ids that do not change between builds.

    sphinx-needs names each box ``SNCB-`` and 8 random hex digits (uuid4), so two builds of
    the same sources differ in their HTML and, through it, in every PDF's named
    destinations: the audit pack could not be reproduced. The ids become a digest of the
    page and the box's place on it; the ``SNCB-`` prefix stays, which its collapse button's
    script looks for.
    """
    number = 0
    for container in _containers(doctree):
        ids = container["ids"]
        if not ids or not ids[0].startswith("SNCB-"):
            continue
        number += 1
        digest = hashlib.sha256(f"{docname}\n{number}".encode()).hexdigest()[:8]
        ids[0] = f"SNCB-{digest}"


def _containers(doctree: nodes.document) -> Iterator[nodes.container]:
    """The container nodes of a doctree in document order, without walking into text
    elements (paragraphs, titles, ...), which hold no containers: a tenth of the walk."""
    stack: list[nodes.Node] = [doctree]
    while stack:
        node = stack.pop()
        if isinstance(node, nodes.container):
            yield node
        if isinstance(node, nodes.Element) and not isinstance(node, nodes.TextElement):
            stack.extend(reversed(node.children))


def on_write_started(app: Sphinx, builder: Builder) -> None:
    """Derive, once and before the writers start, what every page's control block uses."""
    qms = QmsDomain.of(app.env).project
    qms.statuses()
    qms.training_by_document()
    qms.documents_by_id()
    if builder.format == "html":
        qms.differences()


def setup(app: Sphinx) -> None:
    app.add_node(ControlBlockPlaceholder)
    app.add_node(RevisionHistoryPlaceholder)
    app.add_node(DeferredControlBlock, html=(visit_deferred_control_block, None))
    app.add_node(DeferredRevisionTable, html=(visit_deferred_revision_table, None))
    app.add_transform(DocumentTitle)
    app.connect("write-started", on_write_started)
    # before sphinx-needs draws need boxes (priority 500): the document's own is left out
    app.connect("doctree-resolved", on_doctree_resolved, priority=450)
    app.connect("build-finished", on_build_finished_write_differences)
    # after sphinx-needs has drawn the needs (its handlers run at priority 100 and 500)
    app.connect("doctree-resolved", on_doctree_resolved_stable_ids, priority=900)
