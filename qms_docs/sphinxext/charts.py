"""Small charts as inline SVG (no plotting library): coverage per chapter."""

from __future__ import annotations

from html import escape

from ..reports.traceability import ChapterCoverage


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
