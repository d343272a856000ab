"""Report tables: what they hold (plain data), and that data as HTML or docutils nodes.

A report page is read once and holds only a placeholder; its tables are made when the
page is resolved, from the records as they are now, so a change of status re-writes the
report pages without reading them again. What a report shows is plain data
(:class:`Table`, :class:`Para`, :class:`Link`, ...). The HTML builders write it straight
as the HTML the docutils writer would make of the same nodes (a table of thousands of
rows costs milliseconds, not a tree of nodes resolved, indexed and walked in Sphinx's
serial main process); the search index gets the same words. Every other builder (LaTeX,
text) gets the docutils nodes: text is put in text nodes as it is (never parsed), so
titles holding markup or HTML stay literal text. Either way ids and dates are never
broken across lines (wrapping.py), and each table sits in a box that scrolls when the
table is wider than the page.

Links to needs are sphinx-needs ``NeedRef`` nodes, as the ``:need:`` role makes them.
Resolving thousands of them through sphinx-needs (a Jinja template per link) is serial
work in the main process; :func:`on_doctree_resolved` resolves the plain cases (a local
need with a page) to the same reference first and leaves every other case to
sphinx-needs, which warns about unknown needs as before; the HTML path writes the same
reference, and falls back to the nodes when a link is anything but plain.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.errors import NoUri
from sphinx.util.nodes import make_refnode
from sphinx.writers.html5 import HTML5Translator
from sphinx_needs.config import NeedsSphinxConfig
from sphinx_needs.data import SphinxNeedsData
from sphinx_needs.need_item import NeedItem, NeedLink
from sphinx_needs.roles.need_ref import NeedRef
from sphinx_needs.utils import add_doc
from sphinx_needs.views import NeedsView

from ..text import one_line
from . import wrapping
from .control_block import encode
from .domain import QmsDomain
from .needs_config import ID_REGEX

_NEED_ID = re.compile(ID_REGEX)
#: What the link shows: the need's id, or (a clause) the first word of its title.
_LABELS = {"id": "[[ id ]]", "number": "[[ title.split()[0] ]]"}
#: The box around a report table: the table scrolls inside it when it is wider than
#: the page, the page itself never does.
SCROLL = "qms-table-scroll"

def text(value: object) -> list[nodes.Node]:
    """The nodes showing ``value`` literally (on one line), ids and dates kept whole (see
    wrapping.py)."""
    return wrapping.text_nodes(one_line(str(value)))


def need_ref(env: BuildEnvironment, need_id: str, clause: bool = False,
             docname: str | None = None) -> list[nodes.Node]:
    """A link to a need showing its id (or, for a clause, its number), the node the
    ``:need:`` role makes; an id that is not a valid need id is shown as text."""
    if not _NEED_ID.match(need_id):
        return text(need_id)
    docname = docname or env.docname
    add_doc(env, docname)  # as the role does: the page holds need references
    label = "number" if clause else "id"
    ref = NeedRef(":need:", reftarget=need_id, refdomain="", reftype="need", refexplicit=True,
                  refwarn=True, refdoc=docname, qms_label=label)
    ref["need_link"] = NeedLink.parse_address(need_id)
    ref += nodes.emphasis(":need:", _LABELS[label], classes=["xref", "need"])
    return [ref]


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
    elif cell is not None and (value := one_line(str(cell))):
        entry += nodes.paragraph("", "", *wrapping.text_nodes(value))
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


# --- what a report shows ------------------------------------------------------------------

@dataclass(frozen=True)
class Link:
    """A link to a need, showing its id (or, for a clause, its number)."""

    need_id: str
    clause: bool = False


@dataclass(frozen=True)
class Strong:
    text: str


Inline = str | Link | Strong
#: A paragraph: its pieces in order.
Para = tuple[Inline, ...]


@dataclass(frozen=True)
class Bullets:
    """A bullet list, one paragraph per item."""

    items: tuple[Para, ...]


#: A table cell: empty, a paragraph of text, a paragraph of pieces, or a bullet list.
Cell = None | str | Para | Bullets


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: list[list[Cell]]
    css: str
    widths: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Raw:
    """HTML made by qms itself (the coverage chart): shown as it is by HTML builders."""

    html: str


#: What a report is made of: tables, paragraphs, bullet lists and raw HTML, in order.
Block = Table | Para | Bullets | Raw


def _inline_nodes(piece: Inline, env: BuildEnvironment, docname: str) -> list[nodes.Node]:
    if isinstance(piece, Link):
        return need_ref(env, piece.need_id, piece.clause, docname)
    if isinstance(piece, Strong):
        return [nodes.strong("", "", *text(piece.text))]
    return wrapping.text_nodes(_spaced(piece))


def _para_nodes(pieces: Para, env: BuildEnvironment, docname: str) -> list[nodes.Node]:
    return [node for piece in pieces for node in _inline_nodes(piece, env, docname)]


def _spaced(piece: str) -> str:
    """An inline piece of text as it shows: on one line, but keeping one space at either
    end where it has one (it follows a link, or a link follows it)."""
    shown = one_line(piece)
    if not shown:
        return " " if piece else ""
    return (" " if piece[:1].isspace() else "") + shown + (" " if piece[-1:].isspace() else "")


def _cell_nodes(cell: Cell, env: BuildEnvironment, docname: str) -> object:
    if isinstance(cell, Bullets):
        return bullet_list(_para_nodes(item, env, docname) for item in cell.items)
    if isinstance(cell, tuple):
        return paragraph(*_para_nodes(cell, env, docname))
    return cell


def block_nodes(blocks: Iterable[Block], env: BuildEnvironment,
                docname: str) -> list[nodes.Node]:
    """The report as docutils nodes (links as ``NeedRef``, resolved later)."""
    out: list[nodes.Node] = []
    for block in blocks:
        if isinstance(block, Table):
            out.append(nodes.container("", table(
                block.headers, ([_cell_nodes(c, env, docname) for c in row]
                                for row in block.rows), block.css, block.widths),
                classes=[SCROLL]))
        elif isinstance(block, Bullets):
            out.append(_cell_nodes(block, env, docname))
        elif isinstance(block, Raw):
            out.append(nodes.raw("", block.html, format="html"))
        else:
            out.append(paragraph(*_para_nodes(block, env, docname)))
    return out


class _Unresolved(Exception):
    """A link the HTML path does not make (left to sphinx-needs)."""


def block_html(blocks: Iterable[Block],
               link: Callable[[Link], tuple[str, str] | None]) -> tuple[str, str] | None:
    """The report as the HTML writer writes :func:`block_nodes` once resolved, and the
    words the search index collects from those nodes; ``None`` when ``link`` (which
    gives a link's HTML and the label it shows) cannot make one of its links.

    A piece that recurs (an upstream document in each of its clauses' rows, "effective")
    is made once, and its words are given once: the search index keeps which words a page
    has, not how often."""
    words: list[str] = []
    made_pieces: dict[Inline, str] = {}

    def emit(plain: str) -> str:  # what the writer shows of the text nodes of ``plain``
        words.append(plain)
        return wrapping.html(plain)

    def shown(value: object) -> str:  # of text(value)
        return emit(one_line(str(value)))

    def inline(piece: Inline) -> str:
        made = made_pieces.get(piece)
        if made is None:
            made = made_pieces[piece] = _inline(piece)
        return made

    def _inline(piece: Inline) -> str:
        if isinstance(piece, Link):
            if not _NEED_ID.match(piece.need_id):
                return shown(piece.need_id)
            made = link(piece)
            if made is None:
                raise _Unresolved
            words.append(made[1])
            return made[0]
        if isinstance(piece, Strong):
            return f"<strong>{shown(piece.text)}</strong>"
        return emit(_spaced(piece))

    def para(pieces: Para) -> str:
        return f"<p>{''.join(inline(p) for p in pieces)}</p>"

    def bullets(value: Bullets) -> str:
        items = "".join(f"<li>{para(item)}</li>\n" for item in value.items)
        return f'<ul class="simple">\n{items}</ul>\n'

    def cell(value: Cell, tag: str = "td", attributes: str = "") -> str:
        if isinstance(value, Bullets):
            inner = bullets(value)
        elif isinstance(value, tuple):
            inner = para(value)
        elif value is not None and one_line(str(value)):
            inner = f"<p>{shown(value)}</p>"
        else:
            inner = ""
        return f"<{tag}{attributes}>{inner}</{tag}>"

    out: list[str] = []
    try:
        for block in blocks:
            if isinstance(block, Raw):
                raise _Unresolved  # its words for the search index are Sphinx's to collect
            if isinstance(block, Bullets):
                out.append(bullets(block))
                continue
            if not isinstance(block, Table):
                out.append(para(block) + "\n")
                continue
            out.append(f'<div class="{SCROLL} docutils container">\n'
                       f'<table class="{block.css} docutils align-default">\n')
            if block.widths:
                total = sum(block.widths)
                out.append("<colgroup>\n" + "".join(
                    f'<col style="width: {w / total:.1%}" />\n' for w in block.widths)
                    + "</colgroup>\n")
            out.append('<thead>\n<tr class="row-odd">'
                       + "\n".join(cell(h, "th", ' class="head"') for h in block.headers)
                       + "\n</tr>\n</thead>\n<tbody>\n")
            for index, row in enumerate(block.rows):
                parity = "odd" if index % 2 else "even"
                out.append(f'<tr class="row-{parity}">'
                           + "\n".join(cell(c) for c in row) + "\n</tr>\n")
            out.append("</tbody>\n</table>\n</div>\n")
    except _Unresolved:
        return None
    return "".join(out), " ".join(words)


class DeferredReport(nodes.General, nodes.Element):
    """A report the HTML writer writes as it is (its ``html``); its text child holds the
    report's words for the search index and is never shown."""


def visit_deferred_report(translator: HTML5Translator, node: DeferredReport) -> None:
    html = node["html"]
    if (isinstance(node.parent, (nodes.entry, nodes.list_item)) and len(node.parent) == 1
            and html.endswith("</p>\n") and html.count("<p>") == 1):
        html = html[:-1]  # as the writer ends a cell's only paragraph: no line break
    translator.body.append(html)
    raise nodes.SkipNode


def html_link(app: Sphinx, docname: str) -> Callable[[Link], tuple[str, str] | None]:
    """Makes the ``<a>`` of a link to a need, as :func:`on_doctree_resolved` resolves it,
    and the label it shows (an external need, an upstream QMS's document: a link to its
    page there); ``None`` for anything else (an unknown need, one without a page, a
    builder without URIs)."""
    needs = SphinxNeedsData(app.env).get_needs_view()
    max_length = NeedsSphinxConfig(app.config).role_need_max_title_length
    builder = app.builder
    made: dict[Link, tuple[str, str] | None] = {}  # a page links many needs more than once

    def make(link: Link) -> tuple[str, str] | None:
        if link not in made:
            made[link] = _make(link)
        return made[link]

    def _make(link: Link) -> tuple[str, str] | None:
        found = _page_need(needs, link.need_id)
        if found is None:
            external = _external_need(needs, link.need_id)
            if external is None or link.clause:
                return None
            url, css = external  # an upstream's document: its page on the upstream's site
            return (f'<a class="{encode(css)} reference external" href="{encode(url)}">'
                    f'<em class="xref need">{encode(link.need_id)}</em></a>', link.need_id)
        need, page = found
        label = _label(need, link.need_id, "number" if link.clause else "id", max_length)
        if label is None:
            return None
        if page == docname:
            href = f"#{link.need_id}"
        else:
            try:
                href = f"{builder.get_relative_uri(docname, page)}#{link.need_id}"
            except NoUri:
                return None
        return (f'<a class="reference internal" href="{encode(href)}" '
                f'title="{encode(link.need_id)}"><em class="xref need">{encode(label)}</em></a>',
                label)
    return make


def _page_need(needs: NeedsView, need_id: str) -> tuple[NeedItem, str] | None:
    """The need ``need_id`` and its page when it is a local need with a page, else None."""
    need = needs.get(need_id)
    if need is None or need["is_external"] or not need["docname"]:
        return None
    return need, need["docname"]


def _external_need(needs: NeedsView, need_id: str) -> tuple[str, str] | None:
    """The page and css class of an external need (an upstream QMS's document, loaded from
    its export), else None."""
    need = needs.get(need_id)
    if need is None or not need["is_external"] or not need["external_url"]:
        return None
    return need["external_url"], need["external_css"] or "external_link"


def _label(need: NeedItem, need_id: str, kind: str, max_length: int) -> str | None:
    """What a link shows: the need's id, or the first word of its (shortened) title."""
    if kind == "id":
        return need_id
    title = need["title"]
    if 3 < max_length < len(title):
        title = f"{title[:max_length - 3]}..."
    return title.split()[0] if title.split() else None


def on_doctree_resolved(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Resolve the need links of report tables that point at a page of this project.

    The result is the reference sphinx-needs makes; anything else (an unknown or external
    need, a part, a builder without a URI) is left to sphinx-needs, which runs later.
    """
    if docname not in QmsDomain.of(app.env).aggregates:
        return  # report tables are only on aggregate pages
    refs = [node for node in doctree.findall(NeedRef) if "qms_label" in node]
    if not refs:
        return
    needs = SphinxNeedsData(app.env).get_needs_view()
    max_length = NeedsSphinxConfig(app.config).role_need_max_title_length
    for ref in refs:
        found = _page_need(needs, ref["reftarget"])
        external = _external_need(needs, ref["reftarget"]) if found is None else None
        if external is not None and ref["qms_label"] == "id":  # on the upstream's site
            url, css = external
            ref.replace_self(nodes.reference(
                "", "", nodes.emphasis(":need:", ref["reftarget"], classes=["xref", "need"]),
                refuri=url, classes=[css]))
            continue
        if found is None:
            continue
        need, page = found
        label = _label(need, ref["reftarget"], ref["qms_label"], max_length)
        if label is None:
            continue
        with contextlib.suppress(NoUri):
            ref.replace_self(make_refnode(
                app.builder, docname, page, ref["reftarget"],
                nodes.emphasis(":need:", label, classes=["xref", "need"]), ref["reftarget"]))


def setup(app: Sphinx) -> None:
    app.add_node(DeferredReport, html=(visit_deferred_report, None))
    # Before sphinx-needs' own doctree-resolved handlers (priority 500).
    app.connect("doctree-resolved", on_doctree_resolved, priority=400)
