"""The bodies of documents read as a build reads them, for ``qms check FILE...``.

reStructuredText is parsed with docutils and MyST Markdown with MyST's docutils parser, with
the directives and roles of Sphinx, sphinx-needs and qms known (they are stood in for: their
own work is the build's), so a malformed table, an unclosed emphasis or an unknown directive
is reported at the line of the file, with a one-line fix, before a build fails on it. No
file is read besides the one checked: includes, ``raw`` and ``csv-table`` files are not
opened. Parsing takes milliseconds per file; without files ``qms check`` never imports this.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from docutils import nodes
from docutils.frontend import get_default_settings
from docutils.parsers.rst import Directive, directives, roles
from docutils.readers.standalone import Reader
from docutils.utils import new_document

from ..model import Finding

#: The directives Sphinx 9 (with its standard and Python domains), sphinx-needs 9, MyST and
#: sphinx.ext.graphviz add to those of docutils, as a build registers them.
SPHINX_DIRECTIVES = frozenset((
    "acks", "attribute", "centered", "choose", "class", "classmethod", "cmdoption",
    "code-block", "codeauthor", "confval", "currentmodule", "data", "decorator",
    "decoratormethod", "default-domain", "deprecated", "describe", "digraph", "envvar",
    "exception", "figure-md", "function", "glossary", "graph", "graphviz", "highlight", "hlist",
    "if", "index", "literalinclude", "method", "module", "moduleauthor", "need", "needarch",
    "needbar", "needextend", "needextract", "needflow", "needgantt", "needimport", "needlist",
    "needpie", "needreport", "needsequence", "needservice", "needtable", "needuml",
    "list2need", "object", "only", "option", "otherwise", "productionlist", "program",
    "property", "rst-class", "sectionauthor", "seealso", "sourcecode", "staticmethod",
    "tabularcolumns", "toctree", "type", "version-added", "version-changed",
    "version-deprecated", "version-removed", "versionadded", "versionchanged",
    "versionremoved", "when",
))
#: The directives of the qms extension (a test keeps this equal to what it registers).
QMS_DIRECTIVES = frozenset(("qms-documents", "qms-clauses", "qms-report"))
#: Directives whose content is itself reStructuredText: it is checked too.
BODY_DIRECTIVES = frozenset((
    "need", "only", "hlist", "seealso", "deprecated", "versionadded", "versionchanged",
    "versionremoved", "version-added", "version-changed", "version-deprecated",
    "version-removed", "rst-class", "acks", "centered",
))
#: The roles of Sphinx, its domains and sphinx-needs, as a build registers them.
SPHINX_ROLES = frozenset((
    "abbr", "any", "attr", "command", "confval", "const", "data", "deco", "dfn", "doc",
    "download", "envvar", "eq", "exc", "file", "func", "guilabel", "keyword", "kbd",
    "mailheader", "makevar", "manpage", "menuselection", "meth", "mimetype", "mod", "need",
    "need_count", "need_func", "need_incoming", "need_outgoing", "need_part", "np",
    "newsgroup", "numref", "obj", "option", "program", "ref", "regexp", "samp", "term",
    "token", "type", "cve", "cwe",
))
#: Where a directive would read a file or the network: stood in for, never run.
READING_DIRECTIVES = frozenset(("include", "raw", "csv-table"))

#: A docutils message -> the one-line fix shown with it (the first pattern that matches).
FIXES: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), fix) for p, fix in (
    (r"Malformed table|in table line", "line up every cell border with the +---+ border "
                                       "lines above and below, and close each row with |"),
    (r"Title underline too short|Title overline too short",
     "make the underline at least as long as the title"),
    (r"Title level inconsistent", "use the same underline character for headings of one "
                                  "level throughout the document"),
    (r"Unexpected indentation", "leave a blank line before an indented block, or remove "
                                "the indentation"),
    (r"ends without a blank line", "leave a blank line after the list, quote or directive"),
    (r"Inline emphasis start-string", "close the emphasis with * or write \\* for a star"),
    (r"Inline strong start-string", "close the bold text with **"),
    (r"Inline literal start-string", "close the literal text with ``"),
    (r"Inline interpreted text or phrase reference start-string",
     "close the backquoted text with `"),
    (r"Unknown target name|reference target not found",
     "define the link target (.. _name: URL) or correct the link's name"),
    (r"Duplicate (explicit|implicit) target name", "give each heading or link target its "
                                                   "own name"),
    (r"Unknown directive type", "correct the directive's name (those of Sphinx, "
                                "sphinx-needs, qms and the document types are known)"),
    (r"Unknown interpreted text role", "correct the role's name (e.g. :need:, :ref:, :doc:)"),
    (r"Error in .* directive", "correct the directive's arguments and options"),
    (r"Enumerated list start value not ordinal|Enumerated list", "number the list 1., 2., "
                                                                 "3. with a blank line before"),
    (r"Anonymous hyperlink mismatch", "give each anonymous link __ its target"),
    (r"Footnote|footnote", "define each footnote [#]_ once with .. [#] text"),
))
GENERIC_FIX = "correct the markup at this line (as the build would read it)"
TABLE_LINE = re.compile(r"in table line (\d+)")


class _AnyOptions(dict[str, Callable[[str], Any]]):
    """An option spec that takes every option: the real directive checks its options."""

    def __missing__(self, key: str) -> Callable[[str], Any]:
        return directives.unchanged


class _StandIn(Directive):
    """A directive of Sphinx, sphinx-needs or qms: takes any argument and option; the
    content is checked when it is reStructuredText."""

    has_content = True
    optional_arguments = 100
    final_argument_whitespace = True
    option_spec = _AnyOptions()
    parse_body = False

    def run(self) -> list[nodes.Node]:
        if self.parse_body and self.content:
            holder = nodes.container()
            self.state.nested_parse(self.content, self.content_offset, holder)
            return holder.children
        return []


def _stand_in_role(name: str, rawtext: str, text: str, lineno: int, inliner: Any,
                   options: dict[str, Any] | None = None,
                   content: list[str] | None = None) -> tuple[list[nodes.Node], list[Any]]:
    return [nodes.literal(rawtext, text)], []


@contextmanager
def _vocabulary(types: Iterable[str]) -> Iterator[None]:
    """The directives and roles a build knows, registered with docutils for the parse and
    taken back afterwards (docutils keeps them in module-level tables)."""
    saved = (dict(directives._directives), dict(roles._roles))
    body = type("_Body", (_StandIn,), {"parse_body": True})
    try:
        for name in (*SPHINX_DIRECTIVES, *QMS_DIRECTIVES, *READING_DIRECTIVES, *types):
            directives.register_directive(name, body if name in BODY_DIRECTIVES or name in
                                          types else _StandIn)
        for role in SPHINX_ROLES:
            roles.register_local_role(role, _stand_in_role)
        yield
    finally:  # docutils' own tables, put back as they were
        directives._directives.clear()
        directives._directives.update(saved[0])
        roles._roles.clear()
        roles._roles.update(saved[1])


def check_markup(rel: str, text: str, types: Iterable[str]) -> list[Finding]:
    """The markup problems of one document's text (``rel``: its path, ``.md`` for MyST),
    each as a ``bad-markup`` finding at the line of the file, with a fix."""
    markdown = rel.endswith(".md")
    if markdown:
        from myst_parser.parsers.docutils_ import Parser as MystParser

        parser: Any = MystParser()
    else:
        from docutils.parsers.rst import Parser as RstParser

        parser = RstParser()
    reader = Reader()
    settings = get_default_settings(type(parser), Reader)
    settings.report_level = 5  # nothing printed: every message is collected below
    settings.halt_level = 5
    settings.warning_stream = io.StringIO()
    settings.file_insertion_enabled = False
    settings.raw_enabled = False
    if markdown:
        settings.myst_enable_extensions = ["colon_fence"]
    messages: list[nodes.system_message] = []
    document = new_document(rel, settings)
    document.reporter.attach_observer(messages.append)
    lines = text.splitlines()
    with _vocabulary(tuple(types)), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # MyST's use of docutils API
        parser.parse(text, document)
        document.transformer.populate_from_components((reader, parser))
        document.transformer.apply_transforms()
    findings: list[Finding] = []
    seen: set[tuple[int, str]] = set()
    for message in messages:
        if message["level"] < 2 or _ignored(message):
            continue
        what = _first_line(message)
        line = _line(message, what, lines)
        if (line, what) in seen:
            continue
        seen.add((line, what))
        findings.append(Finding("bad-markup", what, rel, line, _fix(message.astext())))
    return sorted(findings, key=lambda f: f.line or 0)


def _ignored(message: nodes.system_message) -> bool:
    """Messages about what the checker itself switched off (file access, raw content),
    and MyST's links to other pages (``[x](other.md)``), which Sphinx resolves."""
    text = message.astext()
    if "disabled" in text or "deactivated" in text:
        return True
    link = re.search(r'Unknown target name: "([^"]*)"', text)
    return bool(link and re.search(r"[./]", link.group(1)))


def _first_line(message: nodes.system_message) -> str:
    """The message's own words: its first paragraph, without docutils' prefix and
    MyST's [myst.code] suffix; a table's second line says what is wrong with it."""
    paragraphs = [p.astext() for p in message.findall(nodes.paragraph)]
    words = paragraphs[0] if paragraphs else message.astext()
    lines = [w.strip() for w in words.splitlines() if w.strip()]
    text = " ".join(lines[:2]) if lines and lines[0] == "Malformed table." else (
        lines[0] if lines else "")
    return re.sub(r"\s*\[myst\.[\w.-]+\]$", "", text)


def _line(message: nodes.system_message, what: str, lines: list[str]) -> int:
    """The file's line of a message; for "table line N", the Nth line of the table."""
    line = int(message.get("line") or 1)
    found = TABLE_LINE.search(what)
    if found is not None:
        start = line - 1
        while start > 0 and lines[start - 1].lstrip()[:1] in ("+", "|", "="):
            start -= 1
        return start + int(found.group(1))
    return line


def _fix(text: str) -> str:
    for pattern, fix in FIXES:
        if pattern.search(text):
            return fix
    return GENERIC_FIX
