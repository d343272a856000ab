"""The control block of a document page: what a reader must see at once.

Id, title, revision, derived status, effective date, owner and approvers, from the
same status function ``qms status`` uses; and a banner on every page that is not in
force.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from docutils import nodes

from ..federation import UPSTREAM_CSS
from ..model import Config, Document
from ..record_kinds import RetirementRecord
from ..reports.training import Cell
from ..revisions import RevisionEntry, RevisionRow, revision_row
from ..signing import manifestation
from ..status import StatusInfo
from ..text import html_text as encode
from ..training import TrainingNeed
from . import wrapping

BANNERS = {
    "draft": "DRAFT: this revision is not approved and not in force.",
    "in-review": "IN REVIEW: this revision is not yet fully approved and not in force.",
    "approved": "APPROVED, NOT YET EFFECTIVE: this revision takes effect on {effective}.",
    "obsolete": "OBSOLETE: this document is retired and must not be used.",
}


@dataclass(frozen=True)
class Ref:
    """A line of the control block that links to a need: a clause the document satisfies
    (``8.7.1 Control of nonconforming outputs``), a related document."""

    need_id: str
    label: str
    url: str = ""  # a page on another site: an upstream's document (federation.py)


Line = str | Ref
Row = tuple[str, "str | tuple[Line, ...]", str]  # label, text (or lines), css class
#: Makes the link of a :class:`Ref` (HTML, or a reference node), None where it has no page.
HtmlLink = Callable[[Ref], "str | None"]
NodeLink = Callable[[Ref], "nodes.Node | None"]


def _line_nodes(line: Line, link: NodeLink | None) -> list[nodes.Node]:
    if isinstance(line, Ref) and line.url:
        return [nodes.reference("", "", *wrapping.text_nodes(line.label), refuri=line.url,
                                classes=[UPSTREAM_CSS])]
    made = link(line) if link is not None and isinstance(line, Ref) else None
    if made is not None:
        return [made]
    return wrapping.text_nodes(line.label if isinstance(line, Ref) else line)


def _line_html(line: Line, link: HtmlLink | None) -> str:
    if isinstance(line, Ref) and line.url:
        return (f'<a class="{UPSTREAM_CSS} reference external" '
                f'href="{encode(line.url)}">{wrapping.html(line.label)}</a>')
    made = link(line) if link is not None and isinstance(line, Ref) else None
    if made is not None:
        return made
    return wrapping.html(line.label if isinstance(line, Ref) else line)


def _table(rows: list[Row], classes: list[str], ids: Sequence[str] = (),
           link: NodeLink | None = None) -> nodes.table:
    table = nodes.table(classes=classes, ids=list(ids))
    group = nodes.tgroup(cols=2)
    table += group
    group += nodes.colspec(colwidth=25)
    group += nodes.colspec(colwidth=75)
    body = nodes.tbody()
    group += body
    for label, value, css in rows:
        row = nodes.row()
        row += nodes.entry("", nodes.paragraph("", "", nodes.strong("", label)))
        if isinstance(value, tuple):  # one line each
            paragraph = nodes.paragraph()
            for index, line in enumerate(value):
                if index:
                    paragraph += nodes.raw("", "<br/>", format="html")
                    paragraph += nodes.raw("", "\\newline ", format="latex")
                paragraph.extend(_line_nodes(line, link))
        else:
            paragraph = nodes.paragraph("", "", *wrapping.text_nodes(value),
                                        classes=[css] if css else [])
        row += nodes.entry("", paragraph)
        body += row
    return table


def approvers_text(info: StatusInfo, signers: Path | None = None,
                   roles: dict[str, str] | None = None) -> list[str]:
    """One line per approval: name, role (its title, given ``roles``), meaning (marked
    self-approved where it was), date and time with zone, signature."""
    return [manifestation(r.data, signers, r.self_approved, roles)["text"]
            for r in info.approvals]


@dataclass(frozen=True)
class ControlBlock:
    """What the control block of a document page shows, as plain text."""

    status: str
    banner: str | None
    rows: tuple[Row, ...]

    def nodes(self, ids: Sequence[str] = (), link: NodeLink | None = None
              ) -> list[nodes.Node]:
        """Banner (if not in force) and control table; the table carries ``ids`` (the
        anchor of the document's need: links to the document land on its control
        block)."""
        out: list[nodes.Node] = []
        if self.banner is not None:
            banner = nodes.container(classes=["qms-banner", f"qms-banner-{self.status}"])
            banner += nodes.paragraph("", self.banner)
            out.append(banner)
        out.append(_table(list(self.rows), ["qms-control-block", f"qms-status-{self.status}"],
                          ids, link))
        return out

    def html(self, ids: Sequence[str] = (), link: HtmlLink | None = None) -> str:
        """Banner and control table as the HTML writer writes :meth:`nodes`, made
        without docutils nodes (the writer would build them for every page)."""
        out = []
        if self.banner is not None:
            out.append(f'<div class="qms-banner qms-banner-{self.status} docutils container">\n'
                       f"<p>{encode(self.banner)}</p>\n</div>\n")
        # as docutils writes ids: the first on the element, others on empty spans before it
        out.extend(f'<span id="{encode(extra)}"></span>' for extra in ids[1:])
        anchor = f' id="{encode(ids[0])}"' if ids else ""
        out.append(f'<table class="qms-control-block qms-status-{self.status} docutils '
                   f'align-default"{anchor}>\n<tbody>\n')
        for index, (label, value, css) in enumerate(self.rows):
            parity = "even" if index % 2 else "odd"
            if isinstance(value, tuple):
                text = "<br/>".join(_line_html(line, link) for line in value)
            else:
                text = wrapping.html(value)
            attributes = f' class="{css}"' if css and not isinstance(value, tuple) else ""
            out.append(f'<tr class="row-{parity}"><td><p><strong>{encode(label)}</strong></p>'
                       f"</td>\n<td><p{attributes}>{text}</p></td>\n</tr>\n")
        out.append("</tbody>\n</table>\n")
        return "".join(out)


def control_data(doc: Document, info: StatusInfo, config: Config,
                 training: list[Cell] | None = None, signers: Path | None = None,
                 need: TrainingNeed | None = None, clauses: Sequence[Line] = (),
                 related: Sequence[Line] = ()) -> ControlBlock:
    """The control block of ``doc``: banner (if not in force) and the rows of its table.

    ``need``: which revision's training counts and why (training.py); ``clauses`` and
    ``related``: the clauses it satisfies and the documents it links to, as lines."""
    banner = None
    if info.status in BANNERS:
        banner = BANNERS[info.status].format(effective=info.effective)
        if info.status != "obsolete" and info.in_force is not None:
            banner += (f" Revision {info.in_force.revision} (effective "
                       f"{info.in_force.effective}) remains in force.")
        if info.retirement is not None:
            banner += f" Retired on {info.retirement.date.date().isoformat()}" + (
                f"; use {info.retirement.superseded_by} instead." if
                info.retirement.superseded_by else ".")
    status = info.label
    if info.missing_roles and info.status in ("draft", "in-review"):
        waiting = ", ".join(config.roles.get(role, role) for role in info.missing_roles)
        status += f" (awaiting {waiting})"
    rows: list[Row] = [
        ("Document", doc.id, "qms-docid"),
        ("Title", doc.title, "qms-doctitle"),
        ("Revision", str(doc.revision) if doc.revision is not None else "?", "qms-rev"),
        ("Status", status, "qms-status"),
        ("Effective", str(info.effective) if info.effective else "not effective",
         "qms-effective"),
        ("Owner", config.roles.get(doc.owner or "", doc.owner or "?"), ""),
        ("Approved by", tuple(approvers_text(info, signers, config.roles) or ["none yet"]),
         ""),
    ]
    if clauses:
        rows.append(("Satisfies", tuple(clauses), ""))
    if related:
        rows.append(("Related documents", tuple(related), ""))
    if info.next_review and info.in_force is not None:  # also while a newer one is open
        due = str(info.next_review) + (" (overdue)" if info.review_overdue else "")
        if info.status != "effective":
            due += f", of revision {info.in_force.revision} (in force)"
        rows.append(("Next review due", due, ""))
    if info.retirement is not None:
        rows += retirement_rows(info.retirement)
    if training:
        trained = sum(c.state == "trained" for c in training)
        late = sum(c.state == "overdue" for c in training)
        reason = (need.reason() if need is not None
                  else f"training on revision {training[0].required_revision} is required")
        text = (f"{reason[:1].upper()}{reason[1:]}. {trained} of {len(training)} of its "
                f"audience trained" + (f", {late} overdue." if late else "."))
        rows.append(("Training", text, "qms-training"))
    return ControlBlock(info.status, banner, tuple(rows))


def retirement_rows(record: RetirementRecord) -> list[Row]:
    """What an obsolete page says of its retirement: when, by whom, why, what replaces it
    (the facts :func:`~qms_docs.status.retirement_dict` gives ``qms status``)."""
    rows: list[Row] = [
        ("Retired", f"{record.date.date().isoformat()} by {record.approver.name}",
         "qms-retired"),
        ("Reason", record.reason, "qms-retired-reason")]
    if record.superseded_by:
        rows.append(("Superseded by", record.superseded_by, "qms-superseded-by"))
    return rows


REVISION_HEADERS = RevisionRow.HEADERS


def revision_rows(entries: list[RevisionEntry], roles: dict[str, str] | None = None
                  ) -> list[list[str]]:
    """The cells of the revision history table, newest revision first (the rows of
    ``qms history``, without signature checks and commits; roles by their titles)."""
    return [revision_row(entry, roles=roles).cells() for entry in reversed(entries)]


#: revision -> (the revision it is compared with, the URI of the page of differences)
DiffLinks = dict[int, tuple[int, str]]


def changes_label(old: int) -> str:
    """The link in a revision's cell to what it changed."""
    return f"changes from {old}"


def revision_html(rows: list[list[str]], links: DiffLinks | None = None) -> str:
    """The revision history table as the HTML writer writes :func:`revision_table`; a
    revision with a page of differences links it from its cell."""
    def cell(text: str, tag: str, attributes: str, first: bool) -> str:
        link = (links or {}).get(int(text)) if first and tag == "td" and text.isdigit() \
            else None
        extra = (f' <a class="qms-diff-link reference external" href="{encode(link[1])}">'
                 f"{encode(changes_label(link[0]))}</a>" if link else "")
        return f"<{tag}{attributes}><p>{wrapping.html(text)}{extra}</p></{tag}>"

    def row(cells: Sequence[str], parity: str, tag: str = "td", attributes: str = "") -> str:
        return (f'<tr class="row-{parity}">'
                + "\n".join(cell(c, tag, attributes, i == 0) for i, c in enumerate(cells))
                + "\n</tr>\n")

    body = "".join(row(cells, "odd" if index % 2 else "even")
                   for index, cells in enumerate(rows))
    return ('<table class="qms-revision-history docutils align-default">\n<thead>\n'
            + row(REVISION_HEADERS, "odd", "th", ' class="head"')
            + f"</thead>\n<tbody>\n{body}</tbody>\n</table>\n")


def revision_section(table: nodes.Node) -> nodes.section:
    """The revision history section around its table, which the search index skips."""
    section = nodes.section(ids=["revision-history"], names=["revision history"])
    section += nodes.title("", "Revision history")
    section += nodes.container("", table, classes=["no-search", "qms-table-scroll"])
    return section


def revision_table(entries: list[RevisionEntry], roles: dict[str, str] | None = None,
                   links: DiffLinks | None = None) -> list[nodes.Node]:
    """The revision history section: one row per revision, from ``revision_history``,
    left out of the search index, a revision's cell linking the page of what it changed
    (``links``); roles by their titles. (HTML builders write it with
    :func:`revision_html`.)"""
    rows = revision_rows(entries, roles)
    table = nodes.table(classes=["qms-revision-history"])
    group = nodes.tgroup(cols=len(REVISION_HEADERS))
    table += group
    for width in (5, 11, 30, 14, 22, 11, 11):
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    group += head
    row = nodes.row()
    for text in REVISION_HEADERS:
        row += nodes.entry("", nodes.paragraph("", "", *wrapping.text_nodes(text)))
    head += row
    body = nodes.tbody()
    group += body
    for cells in rows:
        row = nodes.row()
        for index, text in enumerate(cells):
            para = nodes.paragraph("", "", *wrapping.text_nodes(text))
            link = (links or {}).get(int(text)) if index == 0 and text.isdigit() else None
            if link is not None:
                para += nodes.Text(" ")
                para += nodes.reference("", changes_label(link[0]), refuri=link[1],
                                        classes=["qms-diff-link"])
            row += nodes.entry("", para)
        body += row
    return [revision_section(table)]
