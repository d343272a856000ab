"""Shape of a document page: its title comes from the document's header.

A document file opens with its need directive and has no title line of its own (the
title lives once, in the header). This transform wraps the page in a section titled
``<id> <title>``, so the page title, the toctree and the browser tab name the document
and the file's own top-level sections (Purpose, Scope, ...) become its subsections.
Under the title goes the control block, filled at write time from the records (status
changes when a record is added, even though the page's source did not).
"""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx_needs.nodes import Need

from ..revisions import revision_history
from .control_block import control_block, revision_table


class DocumentTitle(SphinxTransform):
    """Give a document page the title of the document it holds."""

    default_priority = 205  # after docutils' own title promotion, before Sphinx collects titles

    def apply(self, **kwargs: object) -> None:
        qms = getattr(self.app, "qms", None)
        if qms is None:
            return
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


def on_doctree_resolved(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    qms = app.qms  # type: ignore[attr-defined]
    by_id = qms.documents_by_id()
    for placeholder in list(doctree.findall(ControlBlockPlaceholder)):
        document = by_id.get(placeholder["document"])
        if document is None:
            placeholder.parent.remove(placeholder)
            continue
        cells = qms.training_by_document().get(document.id, [])
        placeholder.replace_self(control_block(document, qms.status_of(document), qms.config,
                                               cells, qms.root / qms.config.signers_file))
    for placeholder in list(doctree.findall(RevisionHistoryPlaceholder)):
        document = by_id.get(placeholder["document"])
        if document is None:
            placeholder.parent.remove(placeholder)
            continue
        entries = revision_history(document, qms.records.for_document(document.id), qms.config)
        placeholder.replace_self(revision_table(entries, app.builder.format == "html"))


def setup(app: Sphinx) -> None:
    app.add_node(ControlBlockPlaceholder)
    app.add_node(RevisionHistoryPlaceholder)
    app.add_transform(DocumentTitle)
    app.connect("doctree-resolved", on_doctree_resolved)
