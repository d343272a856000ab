"""Charts of the report pages: coverage per chapter as inline SVG (no plotting library),
and the traceability diagram as Graphviz source."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from ..model import Clause, Config, Document
from ..reports.traceability import ChapterCoverage, ChapterLink
from ..text import quoted


def coverage_chart(rows: list[ChapterCoverage]) -> str:
    """Horizontal bars: requirement clauses covered / total for each top-level clause."""
    bar_x, bar_w, row_h = 300, 360, 28
    height = row_h * len(rows) + 30
    parts = [f'<svg class="qms-coverage-chart" xmlns="http://www.w3.org/2000/svg" '
             f'width="760" height="{height}" viewBox="0 0 760 {height}" role="img" '
             f'aria-label="Requirement clauses covered per chapter">',
             '<style>text{font-family:Helvetica,Arial,sans-serif;font-size:13px}</style>']
    for index, row in enumerate(rows):
        y = 10 + index * row_h
        share = row.covered / row.total if row.total else 1.0
        color = "#2e8b57" if share >= 1 else "#d08c1a" if share >= 0.5 else "#b22222"
        label = f"{row.chapter.number} {row.chapter.title}"
        parts += [
            f'<text x="{bar_x - 8}" y="{y + 17}" text-anchor="end">{escape(label[:40])}</text>',
            f'<rect x="{bar_x}" y="{y + 4}" width="{bar_w}" height="18" fill="#e6ebf0"/>',
            f'<rect x="{bar_x}" y="{y + 4}" width="{bar_w * share:.1f}" height="18" '
            f'fill="{color}"/>',
            f'<text x="{bar_x + bar_w + 8}" y="{y + 17}">{row.covered}/{row.total} '
            f'({100 * share:.0f}%)</text>']
    parts.append("</svg>")
    return "\n".join(parts)


def _chapter_key(chapter: Clause) -> tuple[int, ...]:
    """Chapters in the standard's order: 4, 5, ..., 10 (not 10, 4, 5 as text sorts)."""
    return tuple(int(part) if part.isdigit() else 0 for part in chapter.number.split("."))


def trace_diagram(links: list[ChapterLink], config: Config,
                  uri: Callable[[Document], str]) -> str:
    """Graphviz source of the traceability diagram: documents (left, grouped by type) ->
    chapters of the standard (right, in the standard's order from top to bottom); each
    document box links to its page (``uri``: its address, or "" for none)."""
    lines = ["digraph traceability {", "  rankdir=LR; ranksep=1.6; nodesep=0.12;",
             '  node [shape=box, style="rounded,filled", fontname="Helvetica", '
             'fontsize=10, margin="0.12,0.04"];',
             '  edge [color="#1F6F8B", arrowsize=0.6, fontname="Helvetica", fontsize=8];']
    for doc in sorted({link.document.id: link.document for link in links}.values(),
                      key=lambda d: (list(config.types).index(d.type), d.id)):
        color = config.types[doc.type].color
        lines.append(f'  "{quoted(doc.id)}" [label="{quoted(doc.id)}\\n'
                     f'{quoted(doc.title[:40])}", fillcolor="{color}", '
                     f'URL="{quoted(uri(doc))}", target="_top", tooltip="{quoted(doc.title)}"];')
    chapters = sorted({link.chapter.number: link.chapter for link in links}.values(),
                      key=_chapter_key)
    for chapter in chapters:
        lines.append(f'  "ch-{chapter.number}" [label="{chapter.number} '
                     f'{quoted(chapter.title)}", fillcolor="#FFFFFF", fontsize=12];')
    if len(chapters) > 1:
        # One rank, chained by invisible edges: Graphviz keeps the chain's order, so the
        # chapters read 4, 5, ..., 10 from top to bottom whatever the crossings.
        names = " ".join(f'"ch-{chapter.number}";' for chapter in chapters)
        chain = " -> ".join(f'"ch-{chapter.number}"' for chapter in chapters)
        lines += [f"  {{ rank=same; {names} }}", f"  {chain} [style=invis];"]
    for link in links:
        lines.append(f'  "{quoted(link.document.id)}" -> "ch-{link.chapter.number}" '
                     f'[tooltip="{quoted(", ".join(link.clauses))}"];')
    lines.append("}")
    return "\n".join(lines)
