"""Where the text of a control block or a report table may break into lines.

A browser breaks a line after any hyphen, so a narrow column shows ``SOP-/005`` and
``2026-11-/22``: an id or a date read wrong on a controlled page. Ids (``SOP-005``,
``QMS-POLICY``, ``ISO9001-8-7-1``) and dates are kept whole (``span.qms-nowrap``); in
exchange a long timestamp may break before its time (``2026-11-30`` / ``T16:56:06+00:00``)
and an email address before its ``@``, so that a column of them stays narrow and the
table fits the page. The same pieces are written as HTML by the direct writers and as
docutils nodes for every other builder: the HTML is the same either way.
"""

from __future__ import annotations

import re

from docutils import nodes

from ..text import html_text as encode

#: Kept on one line: a date, or an id (upper-case words and numbers joined by hyphens).
KEEP = re.compile(r"\d{4}-\d{2}-\d{2}|\b[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+\b")
#: Where a line may break that has no break of its own: before the time of a timestamp,
#: before the ``@`` of an email address.
BREAK = re.compile(r"(?<=\d)(?=T\d\d:)|(?<=\w)(?=@\w)")
NOWRAP = "qms-nowrap"
WBR = "<wbr/>"


def pieces(text: str) -> list[tuple[str, str]]:
    """``text`` as ``(kind, text)`` pieces in order: ``keep`` (never broken), ``text``, and
    ``break`` (an empty piece: a line may break here)."""
    kept = [(m.start(), m.end()) for m in KEEP.finditer(text)]
    breaks = {m.start() for m in BREAK.finditer(text)
              if not any(start < m.start() < end for start, end in kept)}
    if not kept and not breaks:
        return [("text", text)] if text else []
    cuts = sorted({0, len(text), *(p for span in kept for p in span), *breaks})
    spans = set(kept)
    out: list[tuple[str, str]] = []
    for start, end in zip(cuts, cuts[1:], strict=False):
        if start in breaks and start > 0:
            out.append(("break", ""))
        out.append(("keep" if (start, end) in spans else "text", text[start:end]))
    return out


def html(text: str) -> str:
    """``text`` as HTML: escaped, ids and dates kept whole, break points marked."""
    if not KEEP.search(text) and not BREAK.search(text):
        return encode(text)
    out = []
    for kind, piece in pieces(text):
        if kind == "keep":
            out.append(f'<span class="{NOWRAP}">{encode(piece)}</span>')
        elif kind == "break":
            out.append(WBR)
        else:
            out.append(encode(piece))
    return "".join(out)


def text_nodes(text: str) -> list[nodes.Node]:
    """``text`` as the nodes the HTML writer writes as :func:`html` (the break points are
    raw HTML: other builders leave them out)."""
    out: list[nodes.Node] = []
    for kind, piece in pieces(text):
        if kind == "keep":
            out.append(nodes.inline(piece, piece, classes=[NOWRAP]))
        elif kind == "break":
            out.append(nodes.raw("", WBR, format="html"))
        else:
            out.append(nodes.Text(piece))
    return out
