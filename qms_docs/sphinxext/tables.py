"""Report tables built directly as docutils nodes, and cheap links to needs.

A report with N rows used to be written as an RST ``list-table`` and parsed again; the
parse cost more than the rest of the page. These helpers build the same nodes the parser
made (so the HTML, the search index and the typography are unchanged): text goes through
:func:`~qms_docs.documents.rst_text` and is kept in docutils' escaped form, which is why
titles holding markup or HTML stay literal text without any parsing.

Links to needs are sphinx-needs ``NeedRef`` nodes, as the ``:need:`` role makes them.
Resolving thousands of them through sphinx-needs (a Jinja template per link) is serial
work in the main process; :func:`on_doctree_resolved` resolves the plain cases (a local
need with a page) to the same reference first and leaves every other case to
sphinx-needs, which warns about unknown needs as before.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Sequence

from docutils import nodes
from docutils.utils import escape2null
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.errors import NoUri
from sphinx.util.nodes import make_refnode
from sphinx_needs.config import NeedsSphinxConfig
from sphinx_needs.data import SphinxNeedsData
from sphinx_needs.need_item import NeedLink
from sphinx_needs.roles.need_ref import NeedRef
from sphinx_needs.utils import add_doc

from ..documents import rst_text
from .needs_config import ID_REGEX

_NEED_ID = re.compile(ID_REGEX)
#: What the link shows: the need's id, or (a clause) the first word of its title.
_LABELS = {"id": "[[ id ]]", "number": "[[ title.split()[0] ]]"}

def escaped(value: object) -> str:
    """``value`` as the RST parser keeps the text ``rst_text(value)``: whitespace
    normalized, escaped characters marked with docutils' null escapes."""
    return escape2null(rst_text(str(value)))


def text(value: object) -> nodes.Text:
    """A text node showing ``value`` literally."""
    return nodes.Text(escaped(value))


def need_ref(env: BuildEnvironment, need_id: str, clause: bool = False) -> nodes.Node:
    """A link to a need showing its id (or, for a clause, its number), the node the
    ``:need:`` role makes; an id that is not a valid need id is shown as text."""
    if not _NEED_ID.match(need_id):
        return text(need_id)
    add_doc(env, env.docname)  # as the role does: the page holds need references
    label = "number" if clause else "id"
    ref = NeedRef(":need:", reftarget=need_id, refdomain="", reftype="need", refexplicit=True,
                  refwarn=True, refdoc=env.docname, qms_label=label)
    ref["need_link"] = NeedLink.parse_address(need_id)
    ref += nodes.emphasis(":need:", _LABELS[label], classes=["xref", "need"])
    return ref


def paragraph(*children: nodes.Node) -> nodes.paragraph:
    para = nodes.paragraph()
    para.extend(children)
    return para


def bullet_list(items: Iterable[Sequence[nodes.Node]]) -> nodes.bullet_list:
    """A ``*`` bullet list, one paragraph per item."""
    out = nodes.bullet_list(bullet="*")
    for children in items:
        out += nodes.list_item("", paragraph(*children))
    return out


def _entry(cell: object) -> nodes.entry:
    entry = nodes.entry()
    if isinstance(cell, nodes.Node):
        entry += cell
    elif cell is not None and (value := escaped(cell)):
        entry += nodes.paragraph("", "", nodes.Text(value))
    return entry


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], css: str,
          widths: Sequence[int] | None = None) -> nodes.table:
    """The table a ``list-table`` with one header row and ``:class: css`` makes.

    A cell is a node (placed as it is) or text (``None`` or empty: an empty cell).
    """
    table_node = nodes.table(classes=["colwidths-given", css] if widths else [css])
    group = nodes.tgroup(cols=len(headers))
    table_node += group
    for width in widths or [100 // len(headers)] * len(headers):
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    group += head
    head += nodes.row("", *(_entry(h) for h in headers))
    body = nodes.tbody()
    group += body
    body.extend(nodes.row("", *(_entry(c) for c in cells)) for cells in rows)
    return table_node


def on_doctree_resolved(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Resolve the need links of report tables that point at a page of this project.

    The result is the reference sphinx-needs makes; anything else (an unknown or external
    need, a part, a builder without a URI) is left to sphinx-needs, which runs later.
    """
    if docname not in getattr(app.env, "qms_aggregate_docs", ()):
        return  # report tables are only on aggregate pages
    refs = [node for node in doctree.findall(NeedRef) if "qms_label" in node]
    if not refs:
        return
    needs = SphinxNeedsData(app.env).get_needs_view()
    max_length = NeedsSphinxConfig(app.config).role_need_max_title_length
    for ref in refs:
        need = needs.get(ref["reftarget"])
        if need is None or need["is_external"] or not need["docname"]:
            continue
        if ref["qms_label"] == "id":
            label = ref["reftarget"]
        else:
            title = need["title"]
            if 3 < max_length < len(title):
                title = f"{title[:max_length - 3]}..."
            if not title.split():
                continue
            label = title.split()[0]
        with contextlib.suppress(NoUri):
            ref.replace_self(make_refnode(
                app.builder, docname, need["docname"], ref["reftarget"],
                nodes.emphasis(":need:", label, classes=["xref", "need"]), ref["reftarget"]))


def setup(app: Sphinx) -> None:
    # Before sphinx-needs' own doctree-resolved handlers (priority 500).
    app.connect("doctree-resolved", on_doctree_resolved, priority=400)
