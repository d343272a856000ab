"""The QMS's common language: ISO 9000's terms, the company glossary, the term check.

qms-docs ships the term names of ISO 9000 with their clause numbers and a short
explanation of our own (``standards/terms/iso9000.yaml``; never the standard's
definitions), and a list of wordings that linger from older editions or everyday speech
with the term to use instead ("supplier" -> "external provider"). A company's
``glossary.yaml`` in the QMS root adds its own terms, overrides an explanation, adds
non-preferred wordings, and may accept one of the shipped ones (``allow``). It is part of
the controlled policy item (:mod:`qms_docs.policy`): the words a QMS demands are decided
by the same people who approve the policy.

:func:`term_findings` reads a document's text line by line and reports each
non-preferred wording with its line (``non-preferred-term``, a warning). It skips what is
not prose: the header, directive options, comments, literal and code blocks, inline
literals and roles. Opt-outs, for quotations: a comment ``.. qms: allow-terms`` (MyST:
``% qms: allow-terms``) lets the whole document pass, ``.. qms: allow-terms WORDING, ...``
the wordings named; ``.. qms: allow-terms-next`` the next paragraph; and in Markdown a line
ending with ``<!-- qms: allow-terms -->`` that line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from . import schemas, yamlio
from .errors import InputError
from .model import Document, Finding
from .text import decode_utf8

GLOSSARY_NAME = "glossary.yaml"
TERMS_FILE = ("standards", "terms", "iso9000.yaml")


@dataclass(frozen=True)
class Term:
    term: str
    explanation: str
    clause: str = ""
    source: str = ""  # "ISO 9000:2015" or the company's name for its own terms
    abbreviation: str = ""


@dataclass(frozen=True)
class Wording:
    """A non-preferred wording and the term to use instead."""

    wording: str
    use: str
    why: str = ""

    @property
    def pattern(self) -> re.Pattern[str]:
        return _wording_pattern(self.wording)

    @property
    def flat(self) -> str:
        """The wording in lower case, single-spaced (for a quick substring test)."""
        return " ".join(self.wording.lower().split())


@dataclass(frozen=True)
class Glossary:
    terms: tuple[Term, ...]
    wordings: tuple[Wording, ...]

    def by_name(self) -> dict[str, Term]:
        return {t.term.lower(): t for t in self.terms}


@cache
def _wording_pattern(wording: str) -> re.Pattern[str]:
    """A wording in any case, its words separated by any spaces (or a line's end), with
    an optional plural ending."""
    words = [re.escape(w) for w in wording.split()]
    return re.compile(r"(?<![\w-])" + r"\s+".join(words) + r"(?:s|es)?(?![\w-])",
                      re.IGNORECASE)


def _parse(file: Path, display: str) -> dict[str, Any]:
    data = yamlio.load_file(file, display)
    errors = schemas.validate(data, "terms")
    if errors:
        where, what = errors[0]
        raise InputError(f"invalid glossary: {where or 'top level'}: {what}", path=display,
                         hint="see qms_docs/records_schema/terms.schema.json")
    return data


@cache
def shipped() -> Glossary:
    """ISO 9000's terms and the shipped non-preferred wordings."""
    file = Path(str(resources.files("qms_docs").joinpath(*TERMS_FILE)))
    data = _parse(file, "qms_docs/" + "/".join(TERMS_FILE))
    title = str(data.get("title", "ISO 9000"))
    terms = tuple(Term(t["term"], t["explanation"], t.get("clause", ""), title,
                       t.get("abbreviation", "")) for t in data["terms"])
    wordings = tuple(Wording(w["wording"], w["use"], w.get("why", ""))
                     for w in data.get("non_preferred", ()))
    return Glossary(terms, wordings)


def load(root: Path, organization: str = "company") -> Glossary:
    """The glossary of the QMS at ``root``: the shipped one with ``glossary.yaml`` (if
    there is one) merged over it: its terms added or overriding by name, its wordings
    added or overriding, its ``allow`` list removing shipped wordings."""
    base = shipped()
    file = root / GLOSSARY_NAME
    if not file.is_file():
        return base
    data = _parse(file, GLOSSARY_NAME)
    allow = data.get("allow", [])
    own = {t["term"].lower(): Term(t["term"], t["explanation"], t.get("clause", ""),
                                   organization, t.get("abbreviation", ""))
           for t in data["terms"]}
    terms = [own.pop(t.term.lower(), t) for t in base.terms] + list(own.values())
    allowed = {a.lower() for a in allow}
    own_wordings = {w["wording"].lower(): Wording(w["wording"], w["use"], w.get("why", ""))
                    for w in data.get("non_preferred", ())}
    wordings = [own_wordings.pop(w.wording.lower(), w) for w in base.wordings
                if w.wording.lower() not in allowed] + list(own_wordings.values())
    return Glossary(tuple(sorted(terms, key=lambda t: t.term.lower())), tuple(wordings))


# --- reading prose out of a document ---------------------------------------------------

_DIRECTIVE = re.compile(r"^(\s*)\.\.\s+[\w:-]+::")
_COMMENT = re.compile(r"^(\s*)\.\.(\s|$)")
_OPTION = re.compile(r"^\s+:[\w-]+:")
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_LITERAL_DIRECTIVES = re.compile(r"^\s*\.\.\s+(code-block|code|sourcecode|literalinclude|raw|"
                                 r"math|highlight|parsed-literal)::")
_INLINE = re.compile(r"``.*?``|`[^`]*`_{0,2}|:[\w:-]+:`[^`]*`|\{[\w:-]+\}`[^`]*`|"
                     r"https?://\S+|<[^>\s]+>")
_OPT_OUT = re.compile(r"^\s*(?:\.\.|%)\s*qms:\s*allow-terms(-next)?\b\s*(.*)$")
_LINE_OPT_OUT = re.compile(r"<!--\s*qms:\s*allow-terms\s*-->\s*$")


@dataclass(frozen=True)
class ProseLine:
    number: int
    text: str


def prose_lines(text: str, markdown: bool = False) -> Iterator[ProseLine]:
    """The lines of prose of a document, with their numbers (1-based), inline literals,
    roles and links blanked out; opt-outs applied (see the module's docstring)."""
    lines = text.splitlines()
    if _document_opt_outs(lines)[0]:
        return
    skip_indent: int | None = None  # inside an indented block to skip (options, literal)
    fence: str | None = None
    skip_next = skipping = False  # after ``allow-terms-next``; inside that paragraph
    for index, raw in enumerate(lines):
        stripped = raw.strip()
        indent = len(raw) - len(raw.lstrip())
        if fence is not None:
            if stripped.startswith(fence):
                fence = None
            continue
        if markdown and (match := _FENCE.match(raw)):
            fence = match.group(1)
            continue
        if skip_indent is not None:
            if not stripped or indent > skip_indent:
                continue
            skip_indent = None
        if not stripped:
            if skipping:  # the paragraph an allow-terms-next comment names has ended
                skip_next = skipping = False
            continue
        if (opt := _OPT_OUT.match(raw)) is not None:
            if opt.group(1):
                skip_next = True
            continue
        if skip_next:
            skipping = True
            continue
        if not markdown and _LITERAL_DIRECTIVES.match(raw):
            skip_indent = indent  # the whole block below is not prose
            continue
        if not markdown and _COMMENT.match(raw) and not _DIRECTIVE.match(raw):
            skip_indent = indent  # a comment, a target, a substitution: not prose
            continue
        if not markdown and _DIRECTIVE.match(raw):
            # a directive: its options are not prose, its content is
            yield ProseLine(index + 1, _blank_inline(raw.split("::", 1)[1]))
            skip_options = index + 1
            while skip_options < len(lines) and _OPTION.match(lines[skip_options]):
                skip_options += 1
            for skipped in range(index + 1, skip_options):
                lines[skipped] = ""
            continue
        if markdown and _LINE_OPT_OUT.search(raw):
            continue
        if not markdown and stripped.endswith("::"):
            yield ProseLine(index + 1, _blank_inline(raw[:-2]))
            skip_indent = indent  # the literal block that follows
            continue
        yield ProseLine(index + 1, _blank_inline(raw))


def _document_opt_outs(lines: Sequence[str]) -> tuple[bool, set[str]]:
    """Whether a comment lets the whole document pass, and the wordings it allows."""
    allowed: set[str] = set()
    for raw in lines:
        match = _OPT_OUT.match(raw)
        if match and not match.group(1):
            named = [w.strip().lower() for w in match.group(2).split(",") if w.strip()]
            if not named:
                return True, set()
            allowed.update(named)
    return False, allowed


def _blank_inline(text: str) -> str:
    """``text`` with inline literals, roles, links and URLs replaced by spaces (columns
    and line numbers stay right)."""
    return _INLINE.sub(lambda m: " " * len(m.group(0)), text)


def term_findings(text: str, path: str, glossary: Glossary,
                  doc_id: str | None = None) -> list[Finding]:
    """Each non-preferred wording in the prose of ``text`` (a document's whole text), with
    its line (a header's title counts as prose; its options do not)."""
    # most texts hold none of the wordings anywhere: a substring test (in C) says so
    flat = " ".join(text.lower().split())
    if not any(w.flat in flat for w in glossary.wordings):
        return []
    markdown = path.endswith(".md")
    _, allowed = _document_opt_outs(text.splitlines())
    wordings, combined, holders = _matchers(glossary, frozenset(allowed))
    if combined is None:
        return []
    # the prose as one text, so that a wording or a term broken over two lines is found;
    # lines that do not follow each other are kept apart by a character no pattern spans
    parts: list[str] = []
    starts: list[tuple[int, int]] = []  # (offset in the text, line number)
    previous = offset = 0
    for line in prose_lines(text, markdown):
        if parts:
            parts.append("\n" if line.number == previous + 1 else "\x00")
            offset += 1
        starts.append((offset, line.number))
        parts.append(line.text)
        offset += len(line.text)
        previous = line.number
    prose = "".join(parts)
    # matched in lower case without IGNORECASE: Python's re is ~20 times faster so (where
    # lower-casing changes the length, a rare Unicode case, the case-blind patterns serve)
    lowered = prose.lower()
    fold = len(lowered) == len(prose)
    search = lowered if fold else prose
    if holders is not None:
        search = "".join(_blanked(search, _starting(holders[0 if fold else 1], search)))
    out = []
    for match in _starting(combined[0 if fold else 1], search):
        original = prose[match.start():match.end()]
        wording = next(w for w in wordings if w.pattern.fullmatch(original))
        number = next(n for offset, n in reversed(starts) if offset <= match.start())
        found = " ".join(original.split())
        out.append(Finding(
            "non-preferred-term", f"{found!r} is a non-preferred wording: use "
                                  f"'{wording.use}'" + (f" ({wording.why})" if wording.why
                                                        else ""),
            path, number,
            f"write '{wording.use}'; for a quotation, put '.. qms: allow-terms-next' "
            "before its paragraph", doc_id, severity="warning"))
    return sorted(out, key=lambda f: (f.line or 0))


Matchers = tuple[re.Pattern[str], re.Pattern[str]]  # (for lower-case text, case-blind)


@cache
def _matchers(glossary: Glossary, allowed: frozenset[str]
              ) -> tuple[list[Wording], Matchers | None, Matchers | None]:
    """The wordings to find (less those ``allowed``), patterns finding any of them in one
    pass over a text, and patterns finding the glossary terms that hold one ("quality
    records share" holds "quality records"): made once per glossary."""
    wordings = [w for w in glossary.wordings if w.wording.lower() not in allowed]
    if not wordings:
        return wordings, None, None
    combined = _alternation(tuple(w.wording for w in wordings))
    holding = [t.term for t in glossary.terms if any(_starting(combined[0], t.term.lower()))]
    return wordings, combined, _alternation(tuple(holding)) if holding else None


@cache
def _alternation(phrases: tuple[str, ...]) -> Matchers:
    """Patterns matching any of ``phrases`` (words split by any spaces, an optional plural
    ending, not followed by a word character), for lower-case text and case-blind; where
    a match starts is checked by :func:`_starting` (a leading look-behind would make every
    position of the text a trial)."""
    body = "|".join(r"\s+".join(re.escape(word) for word in phrase.lower().split())
                    for phrase in sorted(phrases, key=len, reverse=True))
    source = rf"(?:{body})(?:s|es)?(?![\w-])"
    return re.compile(source), re.compile(source, re.IGNORECASE)


def _starting(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """The matches of ``pattern`` in ``text`` that start a word (no letter, digit,
    underscore or hyphen before them)."""
    for match in pattern.finditer(text):
        before = text[match.start() - 1] if match.start() else " "
        if not (before.isalnum() or before in "_-"):
            yield match


def _blanked(text: str, matches: Iterable[re.Match[str]]) -> Iterator[str]:
    """``text`` in pieces, each match's characters (but line ends) made spaces."""
    last = 0
    for match in matches:
        yield text[last:match.start()]
        yield re.sub(r"[^\n]", " ", match.group(0))
        last = match.end()
    yield text[last:]


def check_documents(root: Path, documents: Iterable[Document],
                    glossary: Glossary) -> list[Finding]:
    """``non-preferred-term`` findings of every document file (the term check of ``qms
    check``). A file that cannot be read is left to the header checks, which report it."""
    out: list[Finding] = []
    for doc in documents:
        try:
            text = decode_utf8((root / doc.path).read_bytes(), doc.path)
        except (OSError, InputError):
            continue
        out += term_findings(text, doc.path, glossary, doc.id or None)
    return out


def usage(root: Path, documents: Iterable[Document], glossary: Glossary
          ) -> dict[str, list[str]]:
    """Term (lower case) -> ids of the documents whose prose uses it (by its name or its
    abbreviation)."""
    out: dict[str, list[str]] = {}
    names = {t.term.lower(): [n for n in (t.term, t.abbreviation) if n]
             for t in glossary.terms}
    for doc in sorted(documents, key=lambda d: d.id or ""):
        if not doc.id:
            continue
        try:
            text = decode_utf8((root / doc.path).read_bytes(), doc.path)
        except (OSError, InputError):
            continue
        prose = "\n".join(line.text for line in prose_lines(text, doc.path.endswith(".md")))
        lowered = prose.lower()
        flat = " ".join(lowered.split())
        for key, found in names.items():
            wanted = [n for n in found if " ".join(n.lower().split()) in flat]  # quick test
            if wanted and any(_starting(_alternation(tuple(wanted))[1], prose)):
                out.setdefault(key, []).append(doc.id)
    return out
