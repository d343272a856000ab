"""References to documents not in force, in a controlled build.

A controlled build leaves out every document no revision of which is in force (retired,
or never effective), and names them in its conf.py as ``qms_not_in_force`` (see
``publish.controlled_tree``). A ``:need:`` role or a ``:links:`` entry naming one of them
would be a dead link (``href="#Unknown need"``); here it becomes plain text with the
document's state, "FRM-008 (withdrawn)" or "SOP-016 (not yet issued)", and each is a
``[qms.reference_not_in_force]`` warning with file and line, found by the same function
``qms verify`` uses (:func:`qms_docs.references.reference_findings`). A preview build holds
every document: its references stay links.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx_needs.need_item import NeedLink
from sphinx_needs.roles.need_ref import NeedRef

from ..documents import Scan
from ..model import Finding
from ..references import STATE_OF_EXCLUDED, reference_findings
from .domain import QmsDomain
from .state import ProjectState

#: The class of the text a reference to a document not in force becomes.
CSS = "qms-not-in-force"


def states_of(app_config: Any) -> dict[str, str]:
    """Id -> state ("withdrawn", "not yet issued") of each document the controlled build
    left out, from ``qms_not_in_force``; empty in a preview build."""
    given = app_config.qms_not_in_force or {}
    return {str(doc_id): STATE_OF_EXCLUDED[why] for doc_id, why in given.items()
            if why in STATE_OF_EXCLUDED}


def shown(target: str, state: str, label: str = "") -> str:
    """What a reference to ``target`` reads: ``FRM-008 (withdrawn)``, or with a label of
    its own, ``the form (FRM-008, withdrawn)``."""
    if not label or label == target or "[[" in label:
        return f"{target} ({state})"
    return f"{label} ({target}, {state})"


def without_links_to(scan: Scan, states: dict[str, str]) -> Scan:
    """The scan with ``:links:`` to these documents taken out (for the header checks:
    such a link is reported as not in force, not as a link to no document)."""
    documents = [replace(doc, links=tuple(ref for ref in doc.links if ref not in states))
                 if any(ref in states for ref in doc.links) else doc
                 for doc in scan.documents]
    return replace(scan, documents=documents)


def findings(state: ProjectState, srcdir: Path) -> list[Finding]:
    """``reference-not-in-force`` for every reference of a document of this build (each
    holds its text in force) to a document left out."""
    if not state.not_in_force:
        return []
    out: list[Finding] = []
    for doc in state.scan.documents:
        if not doc.id or doc.type not in state.config.types:
            continue
        try:
            text = (srcdir / doc.path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        out += reference_findings(doc, text, state.not_in_force)
    return out


def on_doctree_resolved_roles(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """``:need:`` roles naming a document left out become its id and state, as text
    (before sphinx-needs would make them a link to "Unknown need")."""
    states = QmsDomain.of(app.env).project.not_in_force
    if not states:
        return
    for ref in list(doctree.findall(NeedRef)):
        target = str(ref["reftarget"]).split(".")[0]
        state = states.get(target)
        if state is None:
            continue
        text = shown(target, state, ref.astext().strip())
        ref.replace_self(nodes.inline(text, text, classes=[CSS]))


def on_needs_before_post_processing(app: Sphinx, needs: Any) -> None:
    """Take links to documents left out off the needs while sphinx-needs checks links
    (they are reported as not in force, not as unknown needs); put back afterwards."""
    state = QmsDomain.of(app.env).project
    states = state.not_in_force
    withheld: dict[tuple[str, str], list[NeedLink]] = {}
    if states:
        for need_id, need in needs.items():
            for link_type, links in list(need.iter_links_items(as_str=False)):
                keep = [link for link in links if link.id not in states]
                if len(keep) == len(links):
                    continue
                try:
                    need[link_type] = keep
                except (KeyError, TypeError):  # a derived link field: left as it is
                    continue
                withheld[(need_id, link_type)] = list(links)
    state.withheld_links = withheld


def on_needs_before_sealing(app: Sphinx, needs: Any) -> None:
    """Put the links :func:`on_needs_before_post_processing` took off back: the need's box
    shows them (as text, see :func:`on_doctree_resolved_links`)."""
    for (need_id, link_type), links in QmsDomain.of(app.env).project.withheld_links.items():
        need = needs.get(need_id)
        if need is not None:
            need[link_type] = links
            need.sort_links()


def on_doctree_resolved_links(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """In a need's box, a link to a document left out (drawn by sphinx-needs as a dead
    link) reads as its id and state."""
    states = QmsDomain.of(app.env).project.not_in_force
    if not states:
        return
    for node in list(doctree.findall(nodes.inline)):
        if "needs_dead_link" in node["classes"] and node.astext() in states:
            target = node.astext()
            node.children = []
            node += nodes.Text(shown(target, states[target]))
            node["classes"] = [CSS]  # plain text, not marked as a broken link


def setup(app: Sphinx) -> None:
    # A dict: document id -> why it was left out ("retired", "never effective").
    app.add_config_value("qms_not_in_force", {}, "env", types=[dict])
    # Before sphinx-needs resolves need references (priority 500); after it draws need boxes.
    app.connect("doctree-resolved", on_doctree_resolved_roles, priority=450)
    app.connect("doctree-resolved", on_doctree_resolved_links, priority=600)
    app.connect("needs-before-post-processing", on_needs_before_post_processing)
    app.connect("needs-before-sealing", on_needs_before_sealing)
