"""Find controlled documents, read their headers, fingerprint their content.

One reStructuredText file is one document. It opens with the directive of its type::

    .. sop:: Control of Documented Information
       :id: SOP-001
       :revision: 3
       :owner: quality-manager
       :satisfies: ISO9001-7-5-1, ISO9001-7-5-2

The header is read here with a small line parser (no docutils), so ``qms check`` and
pre-commit hooks stay fast; the Sphinx build reads the same files through sphinx-needs.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from .catalog import clause_id, load_catalogs
from .errors import InputError, QmsError
from .includes import Reader, composite, shown_files, stray_documents, stray_finding
from .model import REVISION_NUMBER, Catalog, Config, Document, Finding
from .text import decode_utf8

DIRECTIVE = re.compile(r"^\.\.\s+([A-Za-z][\w-]*)::(?:\s+(.*))?$")
OPTION = re.compile(r"^(\s+):([A-Za-z][\w-]*):(?:\s+(.*))?$")
#: Header options a document may carry (others are refused by ``qms check``).
KNOWN_OPTIONS = ("id", "revision", "owner", "satisfies", "links", "audience", "records")
#: Options that would state what is derived from records: typing them is an error.
DERIVED_OPTIONS = ("status", "effective", "effective_date", "effective-date", "approved",
                   "approved_by", "approved-by", "approvers", "approval", "approval_date")
LIST_OPTIONS = ("satisfies", "links", "audience", "records")
INDEX_NAMES = ("index.rst", "index.md")
MAX_BYTES = 10_000_000  # a document larger than this is refused unread
#: A section titled "Records..." (any adornment): where a procedure names its records.
RECORDS_SECTION = re.compile(r"^Records\b[^\r\n]*\r?\n[=\-~^\"'`#*+]{3,}[ \t]*$", re.MULTILINE)


_HEADING = re.compile(r"^[^\s].*\r?\n[=\-~^\"'`#*+]{3,}[ \t]*$", re.MULTILINE)
_BULLET = re.compile(r"^([*+-]) +(.*)$")
_TABLE_ROW = re.compile(r"^\s+\* +- +(.*)$")
_TABLE_CELL = re.compile(r"^\s+- +(.*)$")
_ROLE = re.compile(r":[a-z:]+:`([^`<]*?)(?:\s*<[^>]*>)?`")


def named_records(text: str) -> tuple[str, ...]:
    """What the "Records" section of a text names, one entry per record: its top-level
    list items, or the rows of a ``list-table`` (cells joined by " - ", the header row
    left out), in plain words (roles and literals unwrapped). Empty without a section or
    without a list in it."""
    return _named_records(text, RECORDS_SECTION.search(text))


def _named_records(text: str, found: re.Match[str] | None) -> tuple[str, ...]:
    """:func:`named_records`, the section (``found``) already looked for."""
    if found is None:
        return ()
    body = text[found.end():]
    following = _HEADING.search(body)
    lines = body[:following.start() if following else len(body)].splitlines()
    items: list[list[str]] = []
    header_rows = 0
    in_table = False
    for line in lines:
        if ":header-rows:" in line:
            header_rows = int(re.sub(r"\D", "", line) or 0)
        if (row := _TABLE_ROW.match(line)) is not None:
            in_table = True
            if header_rows:
                header_rows -= 1
                items.append([])  # placeholder of the header row, dropped below
                continue
            items.append([row.group(1)])
        elif in_table and (cell := _TABLE_CELL.match(line)) is not None:
            if items and items[-1]:
                items[-1].append(" - " + cell.group(1))
        elif (bullet := _BULLET.match(line)) is not None and not in_table:
            items.append([bullet.group(2)])
        elif line.startswith((" ", "\t")) and items and items[-1] and not in_table:
            items[-1].append(" " + line.strip())  # a bullet's continuation line
    out = []
    for parts in items:
        if parts:
            plain = _ROLE.sub(r"\1", "".join(parts)).replace("``", "")
            out.append(" ".join(plain.split()))
    return tuple(out)


def parse_revision(text: str) -> int | None:
    """A header's ``:revision:`` as a number; None unless it is 1 to 9 ASCII digits."""
    text = text.strip()
    return int(text) if REVISION_NUMBER.fullmatch(text) else None


def fingerprint(data: bytes) -> str:
    """sha256 of the bytes with CRLF and CR line endings normalized to LF: a document's
    own fingerprint (with the files it shows: :func:`qms_docs.includes.composite`)."""
    return hashlib.sha256(data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")).hexdigest()


@dataclass
class Header:
    """The raw header of one file: directive, title and options with their lines."""

    directive: str
    title: str
    line: int
    options: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    duplicates: list[tuple[str, int]] = field(default_factory=list)

    def set(self, key: str, value: str | None, line: int) -> str:
        """Record option ``key`` (lower-cased) found on ``line``; returns the key."""
        key = key.lower()
        if key in self.options:
            self.duplicates.append((key, line))
        self.options[key] = (value or "").strip()
        self.lines[key] = line
        return key


def read_header(text: str, path: str) -> Header | None:
    """The opening directive of ``text`` with its options, or None if it has none.

    Leading blank lines and comments are skipped. Raises :class:`InputError` for a
    header that opens a directive but cannot be read. Markdown files (``.md``) use MyST's
    fenced directive: a line ```` ```{sop} Title ````, ``:key: value`` lines, a closing
    fence.
    """
    if path.endswith(".md"):
        return _read_myst_header(text, path)
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        stripped = lines[index].strip()
        if not stripped:
            index += 1
            continue
        if stripped.startswith("..") and not DIRECTIVE.match(stripped):
            index += 1  # a comment, and its indented continuation lines
            while index < len(lines) and lines[index][:1] in (" ", "\t") :
                index += 1
            continue
        break
    if index >= len(lines):
        return None
    match = DIRECTIVE.match(lines[index].rstrip())
    if not match:
        return None
    header = Header(directive=match.group(1), title=(match.group(2) or "").strip(), line=index + 1)
    current: str | None = None
    index += 1
    while index < len(lines):
        raw = lines[index]
        if not raw.strip():
            break
        if raw[:1] not in (" ", "\t"):
            raise InputError(
                "header continues without indentation",
                path=path, line=index + 1,
                hint="indent every header option by three spaces and leave a blank line "
                     "after the header",
            )
        option = OPTION.match(raw.rstrip())
        if option:
            current = header.set(option.group(2), option.group(3), index + 1)
        elif current is not None:
            header.options[current] = f"{header.options[current]} {raw.strip()}".strip()
        else:  # a title that continues on the next line
            header.title = f"{header.title} {raw.strip()}".strip()
        index += 1
    return header


MYST_OPEN = re.compile(
    r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[A-Za-z][\w-]*)\}(?:[ \t]+(?P<title>.*))?$")
MYST_OPTION = re.compile(r"^:([A-Za-z][\w-]*):(?:[ \t]+(.*))?$")


def _read_myst_header(text: str, path: str) -> Header | None:
    lines = text.splitlines()
    index = 0
    while index < len(lines) and (not lines[index].strip()
                                  or lines[index].lstrip().startswith("<!--")):
        index += 1
    if index >= len(lines):
        return None
    match = MYST_OPEN.match(lines[index].rstrip())
    if not match:
        return None
    fence = match.group("fence")
    header = Header(directive=match.group("name"), title=(match.group("title") or "").strip(),
                    line=index + 1)
    if fence.startswith("`") and "`" in header.title:
        raise InputError("the title holds a backtick, which Markdown does not allow after a "
                         "``` fence: the header is not read as a directive", path=path,
                         line=header.line, hint="remove the backticks from the title")
    index += 1
    while index < len(lines):
        raw = lines[index].rstrip()
        if raw.strip() == fence:
            return header
        option = MYST_OPTION.match(raw)
        if option:
            header.set(option.group(1), option.group(2), index + 1)
        elif raw.strip():
            raise InputError("the header holds a line that is not ':key: value'", path=path,
                             line=index + 1,
                             hint=f"write header fields as ':key: value' and close the header "
                                  f"with {fence}")
        index += 1
    raise InputError(f"the header is never closed with {fence}", path=path, line=header.line,
                     hint=f"add a line {fence} after the header fields")


def config_catalogs(config: Config, root: Path) -> list[Catalog]:
    """The catalogs of ``[qms] standards``, or none where one cannot be read (qms check
    reports that; clause numbers in headers then stay as written)."""
    try:
        return load_catalogs(config.standards, root)
    except QmsError:
        return []


def with_clause_ids(text: str, header: Header, ids: Sequence[str]) -> str:
    """``text`` with its header's ``:satisfies:`` naming ``ids`` (the need ids its entries
    map to), every line kept in its place: what a build reads, so sphinx-needs links
    ``8.7.1`` to the clause ``ISO9001-8-7-1``."""
    line = header.lines.get("satisfies")
    if line is None or split_list(header.options.get("satisfies", "")) == tuple(ids):
        return text
    lines = text.split("\n")
    name = re.search(r"(?i):satisfies:", lines[line - 1])
    if name is None:
        return text
    lines[line - 1] = lines[line - 1][:name.end()] + " " + ", ".join(ids)
    index = line
    while index < len(lines) and lines[index].strip() and not lines[index].strip(
            ).startswith((":", "```", ":::")):
        lines[index] = ""  # a continuation line: its entries are on the first line now
        index += 1
    return "\n".join(lines)


def split_list(value: str) -> tuple[str, ...]:
    """``'A, B  C'`` -> ``('A', 'B', 'C')`` (sphinx-needs separates by comma or space)."""
    return tuple(part for part in re.split(r"[,;\s]+", value.strip()) if part)


@dataclass
class Scan:
    """Every document of a QMS tree, and what could not be read."""

    documents: list[Document]
    findings: list[Finding]  # files that cannot be read as documents
    headers: dict[str, Header] = field(default_factory=dict)  # by relative path
    #: what documents show (unsafe or missing includes) and need directives of document
    #: types outside a document's header: findings of check, not unreadable files
    content_findings: list[Finding] = field(default_factory=list)
    pages: set[str] = field(default_factory=set)  # every file read (relative paths)

    def by_id(self) -> dict[str, Document]:
        return {doc.id: doc for doc in self.documents}


def document_files(root: Path, config: Config) -> list[Path]:
    """Every .rst and .md file in the document types' folders, sorted, and every symbolic
    link to a folder there (the walk does not follow them; :func:`scan` reports those
    that lead outside the repository, whose files Sphinx would publish)."""
    files: set[Path] = set()
    for folder in config.folders:
        base = root / folder
        if base.is_dir():
            files.update(p for p in base.rglob("*") if p.suffix in (".rst", ".md")
                         and p.is_file() or p.is_symlink() and p.is_dir())
    return sorted(files)


def scan(root: Path, config: Config, catalogs: Sequence[Catalog] | None = None) -> Scan:
    """Read every document file under ``root``: documents plus findings, no exceptions.
    ``catalogs`` (default: those of ``config``) map clause numbers in headers to ids."""
    result = Scan(documents=[], findings=[])
    if catalogs is None:
        catalogs = config_catalogs(config, root)
    types = set(config.types)
    inside = root.resolve()
    # The walk follows no link below a folder: a file leads outside if it is a link that
    # does, or if its folder (or a folder above it) does. Resolving every path costs more.
    away = tuple(f"{folder}/" for folder in config.folders
                 if not (root / folder).resolve().is_relative_to(inside))
    for file in document_files(root, config):
        rel = file.relative_to(root).as_posix()
        try:
            if rel.startswith(away) or file.is_symlink() and not file.resolve(
                    ).is_relative_to(inside):  # never read: it could be anything
                raise InputError("a symbolic link that leads outside the repository", path=rel,
                                 hint="qms does not follow it: put the document itself here")
            if file.is_dir():
                continue  # a link to a folder inside the repository: not followed
            try:
                with open(file, "rb") as handle:
                    size = os.fstat(handle.fileno()).st_size
                    if size > MAX_BYTES:  # refused unread
                        raise InputError(f"file is too large ({size} bytes; limit "
                                         f"{MAX_BYTES})", path=rel,
                                         hint="a controlled document is text: split it")
                    raw = handle.read()
            except OSError as exc:
                raise InputError(f"cannot read the file: {exc.strerror}", path=rel,
                                 hint="give the user running qms read access") from None
            text = decode_utf8(raw, rel)
            header = read_header(text, rel)
        except InputError as exc:
            result.findings.append(Finding("bad-header", exc.message, exc.path, exc.line, exc.hint))
            continue
        result.pages.add(rel)
        if header is None or header.directive not in types:
            if file.name not in INDEX_NAMES:
                result.findings.append(_not_a_document(rel, header, types))
            result.content_findings += [stray_finding(d, rel, types)
                                        for d in stray_documents(text, rel, types, None)]
            continue
        result.headers[rel] = header
        doc_id = header.options.get("id", "").strip() or None
        shown = shown_files(rel, text, tree_reader(root), doc_id)
        result.content_findings += [stray_finding(d, rel, types) for d in
                                    stray_documents(text, rel, types, header.line)]
        result.content_findings += shown.findings
        section = RECORDS_SECTION.search(text)
        document = to_document(header, rel, composite(fingerprint(raw), shown.files),
                               section is not None, catalogs, _named_records(text, section))
        result.documents.append(replace(document, includes=tuple(sorted(shown.files))))
    _scan_pages(root, config, result)
    return result


#: Folders of site pages (besides the document folders) that qms check reads for need
#: directives of document types: those ``qms init`` makes. The build reads every page.
PAGE_FOLDERS = ("reports", "standards")


def _scan_pages(root: Path, config: Config, result: Scan) -> None:
    """Need directives of document types in the site's other pages (the root's own
    pages and :data:`PAGE_FOLDERS`) are findings: no document is there."""
    files = [p for p in root.glob("*") if p.suffix in (".rst", ".md")]
    for folder in PAGE_FOLDERS:
        if folder not in config.folders and (root / folder).is_dir():
            files += [p for p in (root / folder).rglob("*") if p.suffix in (".rst", ".md")]
    inside = root.resolve()
    for file in sorted(files):
        rel = file.relative_to(root).as_posix()
        try:
            if not file.is_file() or not file.resolve().is_relative_to(inside):
                continue
            text = file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        result.pages.add(rel)
        result.content_findings += [stray_finding(d, rel, config.types) for d in
                                    stray_documents(text, rel, config.types, None)]


def tree_reader(root: Path) -> Reader:
    """A reader of included files in a working tree (see :data:`qms_docs.includes.Reader`):
    a link that leads outside ``root`` is not read."""
    inside = root.resolve()

    def read(paths: list[str]) -> dict[str, bytes | str | None]:
        out: dict[str, bytes | str | None] = {}
        for path in paths:
            file = root / path
            try:
                if not file.resolve().is_relative_to(inside):
                    out[path] = "is a symbolic link that leads outside the repository"
                    continue
                out[path] = file.read_bytes() if file.is_file() else None
            except OSError:
                out[path] = None
        return out

    return read


def to_document(header: Header, rel: str, digest: str, records_section: bool = False,
                catalogs: Sequence[Catalog] = (), records_named: tuple[str, ...] = ()
                ) -> Document:
    """Turn a header into a :class:`Document` (lenient: checks report what is missing).
    Clauses written as numbers (``:satisfies: 8.7.1``) become the need ids of ``catalogs``
    (:func:`qms_docs.catalog.clause_id`)."""
    revision = parse_revision(header.options.get("revision", ""))
    satisfies = split_list(header.options.get("satisfies", ""))
    if catalogs:
        satisfies = tuple(clause_id(ref, catalogs) for ref in satisfies)
    return Document(
        id=header.options.get("id", "").strip(),
        type=header.directive,
        title=header.title,
        revision=revision,
        owner=header.options.get("owner", "").strip() or None,
        path=rel,
        line=header.line,
        satisfies=satisfies,
        links=split_list(header.options.get("links", "")),
        audience=split_list(header.options.get("audience", "")),
        fingerprint=digest,
        records=split_list(header.options.get("records", "")),
        records_section=records_section,
        records_named=records_named,
        option_lines=dict(header.lines),
    )


def _not_a_document(rel: str, header: Header | None, types: set[str]) -> Finding:
    found = f"'.. {header.directive}::'" if header else "no directive"
    return Finding(
        "not-a-document",
        f"file in a document folder does not open with a document directive (found {found})",
        rel, header.line if header else 1,
        hint=f"open the file with one of: {', '.join('.. ' + t + '::' for t in sorted(types))}, "
             "or name it index.rst if it is a contents page",
    )
