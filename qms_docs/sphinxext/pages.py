"""Shape of a document page: its title comes from the document's header.

A document file opens with its need directive and has no title line of its own (the
title lives once, in the header). This transform wraps the page in a section titled
``<id> <title>``, so the page title, the toctree and the browser tab name the document
and the file's own top-level sections (Purpose, Scope, ...) become its subsections.
Under the title goes the control block, filled at write time from the records (status
changes when a record is added, even though the page's source did not).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.builders import Builder
from sphinx.transforms import SphinxTransform
from sphinx.writers.html5 import HTML5Translator
from sphinx_needs.nodes import Need

from ..diffs import html_page, page_name
from ..model import Document
from ..revisions import revision_history
from .control_block import (
    ControlBlock,
    DiffLinks,
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
    translator.body.append(_control_data(qms, document).html())
    raise nodes.SkipNode


def visit_deferred_revision_table(translator: HTML5Translator,
                                  node: DeferredRevisionTable) -> None:
    qms, document = _document(translator, node)
    rows = revision_rows(revision_history(document, qms.records.for_document(document.id),
                                          qms.config))
    builder = translator.builder
    translator.body.append(revision_html(rows, _diff_links(
        qms, document, builder, builder.current_docname)))
    raise nodes.SkipNode


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
    return control_data(document, qms.status_of(document), qms.config, cells,
                        qms.root / qms.config.signers_file)


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
            placeholder.replace_self(DeferredControlBlock(document=document.id) if html
                                     else _control_data(qms, document).nodes())
        elif html:
            placeholder.replace_self(revision_section(DeferredRevisionTable(
                document=document.id)))
        else:
            placeholder.replace_self(revision_table(revision_history(
                document, qms.records.for_document(document.id), qms.config),
                _diff_links(qms, document, app.builder, docname)))


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
    app.connect("doctree-resolved", on_doctree_resolved)
    app.connect("build-finished", on_build_finished_write_differences)
    # after sphinx-needs has drawn the needs (its handlers run at priority 100 and 500)
    app.connect("doctree-resolved", on_doctree_resolved_stable_ids, priority=900)
