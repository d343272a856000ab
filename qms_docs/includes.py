"""What a page shows besides its own text: the files it includes or displays.

A controlled document may pull other files into what readers see: ``.. include::``,
``.. literalinclude::``, ``.. image::``, ``.. figure::``, ``.. csv-table::`` and
``.. raw::`` with ``:file:``, the ``:download:`` role, and in MyST Markdown the same
directives fenced (```` ```{image} ````) and Markdown images ``![alt](path)``. Approving a document
approves what it shows, so its fingerprint covers those files (:func:`composite`), and
a file that leaves the repository or a resource fetched from the network is refused.

Everything here is a line parser over text (no docutils): ``qms check``, ``status`` and
``verify`` stay fast, and the Sphinx extension asks the same functions which lines to
leave out of a build, so a check and a build agree on what is unsafe.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .model import Finding

#: Directives whose content is text to show as it is, not markup to parse further.
LITERAL = {"code-block", "code", "sourcecode", "raw", "math", "csv-table", "graphviz",
           "digraph", "graph", "literalinclude", "highlight", "parsed-literal", "comment",
           "needflow", "uml", "mermaid", "list-table"}
#: Directives that read a file named by their argument.
FILE_ARGUMENT = ("include", "literalinclude", "image", "figure", "graphviz", "needimport")
#: Words without which a text names no file (most documents: nothing to parse).
TRIGGERS = ("include", "image", "figure", "csv-table", "raw", "![", "download", "graphviz",
            "needimport")
#: Directives that read a file named by their ``:file:`` option (from the file they are in).
FILE_OPTION = ("csv-table", "raw")

RST_DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)\.\.[ \t]+(?:\|[^|]+\|[ \t]+)?"
                           r"(?P<name>[A-Za-z][\w-]*(?::[\w-]+)*)::(?:[ \t]+(?P<arg>.*))?$")
RST_OPTION = re.compile(r"^[ \t]+:(?P<key>[A-Za-z][\w-]*):(?:[ \t]+(?P<value>.*))?$")
MYST_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,}|:{3,})[ \t]*(?P<info>.*)$")
MYST_NAME = re.compile(r"^\{(?P<name>[A-Za-z][\w-]*(?::[\w-]+)*)\}(?:[ \t]+(?P<arg>.*))?$")
MYST_OPTION = re.compile(r"^[ \t]*:(?P<key>[A-Za-z][\w-]*):(?:[ \t]+(?P<value>.*))?$")
MD_IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\((?P<target><[^>]*>|[^\s)]+)(?:[ \t]+\"[^\"]*\")?\)")
CODE_SPAN = re.compile(r"(`+).*?\1")
#: The download role (rst ``:download:`...```, MyST ``{download}`...```): Sphinx copies
#: the file into the site.
DOWNLOAD = re.compile(r"(?::download:|\{download\})`(?P<body>[^`]+)`")
URL = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:|//)")
#: HTML that makes a browser fetch or run something from elsewhere.
REMOTE_HTML = re.compile(r"<script\b|\b(?:src|href|srcset|data)\s*=\s*[\"']?\s*"
                         r"(?:https?:)?//", re.IGNORECASE)


@dataclass
class Directive:
    """One directive found by the line parser, with where its block ends."""

    name: str
    argument: str
    line: int  # 1-based line of the directive
    end: int  # 1-based line after its block
    options: dict[str, str] = field(default_factory=dict)
    content: list[str] = field(default_factory=list)
    span: tuple[int, int] | None = None  # an inline one (image, role): its characters


def directives(text: str, markdown: bool) -> list[Directive]:
    """Every directive of ``text`` outside literal blocks and code, in order; Markdown
    images as directives named ``md-image``."""
    return list(_directives(text, markdown))


@lru_cache(maxsize=4096)  # a build reads each text several times: scan, guard, history
def _directives(text: str, markdown: bool) -> tuple[Directive, ...]:
    lines = text.splitlines()
    out: list[Directive] = []
    if markdown:
        _myst(lines, 0, len(lines), out)
    else:
        _rst(lines, 0, len(lines), out)
    return tuple(out)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _block_end(lines: list[str], index: int, indent: int, stop: int) -> int:
    """Index of the first line after ``index`` that is not blank and not indented deeper
    than ``indent`` (the end of an indented block)."""
    index += 1
    while index < stop and (not lines[index].strip() or _indent(lines[index]) > indent):
        index += 1
    return index


def _rst(lines: list[str], start: int, stop: int, out: list[Directive]) -> None:
    index = start
    while index < stop:
        line = lines[index]
        stripped = line.strip()
        match = RST_DIRECTIVE.match(line.rstrip())
        if match:
            indent = len(match.group("indent").expandtabs())
            end = _block_end(lines, index, indent, stop)
            found = Directive(match.group("name").lower(), (match.group("arg") or "").strip(),
                              index + 1, end + 1)
            body = index + 1
            while body < end and (option := RST_OPTION.match(lines[body].rstrip())):
                found.options[option.group("key").lower()] = (option.group("value") or "").strip()
                body += 1
            found.content = lines[body:end]
            out.append(found)
            if found.name in LITERAL or found.name.endswith("code-block"):
                index = end
            else:
                index += 1  # its content is markup: read on inside it
            continue
        if stripped.startswith("..") and (stripped == ".." or stripped[2:3] in (" ", "\t")):
            index = _block_end(lines, index, _indent(line), stop)  # a comment or a target
            continue
        _roles(line, index, out, [m.span() for m in re.finditer(r"``.+?``", line)])
        if stripped.endswith("::") and not stripped.startswith(".."):
            index = _block_end(lines, index, _indent(line), stop)  # a literal block follows
            continue
        index += 1


def _roles(line: str, index: int, out: list[Directive], spans: list[tuple[int, int]]) -> None:
    """Download roles of a line of text (outside the code ``spans``)."""
    for role in DOWNLOAD.finditer(line):
        if any(a <= role.start() < b for a, b in spans):
            continue
        body = role.group("body").strip()
        target = re.search(r"<([^<>]+)>$", body)
        shown = body[:target.start()].strip() if target else body
        out.append(Directive("download", (target.group(1) if target else body).strip(),
                             index + 1, index + 2, content=[shown], span=role.span()))


def _myst(lines: list[str], start: int, stop: int, out: list[Directive]) -> None:
    index = start
    while index < stop:
        line = lines[index]
        fence = MYST_FENCE.match(line.rstrip())
        if fence and not (fence.group("fence")[0] == "`" and "`" in fence.group("info")):
            mark = fence.group("fence")
            close = index + 1
            closing = re.compile(rf"^[ \t]*{re.escape(mark[0])}{{{len(mark)},}}[ \t]*$")
            while close < stop and not closing.match(lines[close]):
                close += 1
            name = MYST_NAME.match(fence.group("info").strip())
            if name:
                found = Directive(name.group("name").lower(), (name.group("arg") or "").strip(),
                                  index + 1, min(close, stop - 1) + 2)
                body = index + 1
                if body < close and lines[body].strip() == "---":  # options as YAML
                    body += 1
                    while body < close and lines[body].strip() != "---":
                        key, _, value = lines[body].strip().partition(":")
                        found.options[key.strip().lower()] = value.strip()
                        body += 1
                    body += 1
                else:
                    while body < close and (option := MYST_OPTION.match(lines[body].rstrip())):
                        found.options[option.group("key").lower()] = (
                            option.group("value") or "").strip()
                        body += 1
                found.content = lines[body:close]
                out.append(found)
                if found.name == "eval-rst":
                    _rst(lines, body, close, out)
                elif found.name not in LITERAL and not found.name.endswith("code-block"):
                    _myst(lines, body, close, out)
            index = close + 1
            continue
        spans = [m.span() for m in CODE_SPAN.finditer(line)]
        for image in MD_IMAGE.finditer(line):
            if not any(a <= image.start() < b for a, b in spans):
                target = image.group("target").strip("<>")
                alt = image.group("alt").replace("[", "").replace("]", "")
                out.append(Directive("md-image", target, index + 1, index + 2,
                                     content=[alt], span=image.span()))
        _roles(line, index, out, [s for s in spans
                                  if not line[s[0] - 1:s[0]] == "}"])
        remote = REMOTE_HTML.search(line)
        if remote and "<" in line and not any(a <= remote.start() < b for a, b in spans):
            out.append(Directive("html", "", index + 1, index + 2, content=[line]))
        index += 1


# --- which references are files, which are unsafe ------------------------------------

@dataclass(frozen=True)
class Reference:
    """What one directive pulls in: a file of the repository, or a problem."""

    directive: Directive
    path: str | None = None  # the file, relative to the QMS root (None: no local file)
    parsed: bool = False  # the file's text is markup (its own references count)
    code: str = ""  # "unsafe-include" or "remote-resource" when refused
    why: str = ""


def references(text: str, rel: str, document: str | None = None) -> list[Reference]:
    """What the page ``rel`` (relative to the QMS root) pulls in, each file resolved:
    arguments of include, literalinclude, image and figure from the folder of
    ``document`` (the page that includes ``rel``, Sphinx's rule), ``:file:`` options from
    the folder of ``rel`` (docutils' rule)."""
    document = document or rel
    out: list[Reference] = []
    if "<" not in text and not any(word in text for word in TRIGGERS):
        return out  # nothing to parse for (most documents)
    for found in directives(text, rel.endswith(".md")):
        out.extend(_judge(found, rel, document))
    return out


def _judge(found: Directive, rel: str, document: str) -> Iterable[Reference]:
    name = found.name
    if name in FILE_ARGUMENT or name in ("md-image", "download"):
        target = found.argument.strip()
        if (name in ("include", "literalinclude") and target.startswith("<")
                and target.endswith(">")):
            return  # one of docutils' own standard definition files
        parsed = name == "include" and not ({"literal", "code"} & set(found.options))
        yield _resolve(found, target, posixpath.dirname(document), parsed)
    if name in FILE_OPTION:
        if "url" in found.options:
            yield Reference(found, code="remote-resource",
                            why=f"{name} reads {found.options['url']!r} from the network")
        if found.options.get("file"):
            yield _resolve(found, found.options["file"], posixpath.dirname(rel), False)
    if name in ("raw", "html") and REMOTE_HTML.search("\n".join(found.content)):
        yield Reference(found, code="remote-resource",
                        why="raw HTML that loads a script or a resource from another site")


def _resolve(found: Directive, target: str, base: str, parsed: bool) -> Reference:
    if not target:
        return Reference(found)
    if URL.match(target) and not re.match(r"^[A-Za-z]:[\\/]", target):
        if target.lower().startswith("data:"):
            return Reference(found)  # inline data: the bytes are in the text itself
        return Reference(found, code="remote-resource",
                         why=f"{target!r} is fetched from the network")
    if target.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:[\\/]", target):
        return Reference(found, code="unsafe-include", why=f"{target!r} is an absolute path")
    path = posixpath.normpath(posixpath.join(base, target.replace("\\", "/")))
    if path == ".." or path.startswith("../"):
        return Reference(found, code="unsafe-include",
                         why=f"{target!r} leads outside the repository")
    return Reference(found, path=path, parsed=parsed)


def refused(text: str, rel: str, document: str, root: Path) -> list[Reference]:
    """The references of the page ``rel`` in the tree at ``root`` that a build must not
    follow: unsafe or remote ones, links out of the tree, raw HTML files that load
    something from elsewhere."""
    inside = root.resolve()
    out = []
    for ref in references(text, rel, document):
        if ref.code:
            out.append(ref)
            continue
        if ref.path is None:
            continue
        file = root / ref.path
        try:
            if not file.resolve().is_relative_to(inside):
                out.append(Reference(ref.directive, code="unsafe-include",
                                     why=f"{ref.path} is a symbolic link that leads outside "
                                         "the repository"))
            elif ref.directive.name == "raw" and file.is_file() and REMOTE_HTML.search(
                    file.read_text("utf-8", "replace")):
                out.append(Reference(ref.directive, code="remote-resource",
                                     why=f"{ref.path} holds HTML that loads a script or a "
                                         "resource from another site"))
        except OSError:
            continue
    return out


def file_directives(text: str, markdown: bool) -> list[list]:
    """The directives of ``text`` that may name a file, as plain data to keep in a cache
    (``[name, argument, options, line]``); :func:`references_from` resolves them."""
    if not any(word in text for word in TRIGGERS):
        return []
    wanted = {*FILE_ARGUMENT, *FILE_OPTION, "md-image", "download"}
    keep = {"file", "url", "literal", "code"}
    return [[d.name, d.argument, {k: v for k, v in d.options.items() if k in keep}, d.line]
            for d in directives(text, markdown) if d.name in wanted]


def references_from(found: list[list], rel: str, document: str | None = None
                    ) -> list[Reference]:
    """:func:`references` of the directives :func:`file_directives` gave."""
    out: list[Reference] = []
    for name, argument, options, line in found:
        out.extend(_judge(Directive(name, argument, line, line + 1, dict(options)), rel,
                          document or rel))
    return out


HINTS = {
    "unsafe-include": "include only files inside the repository, by a path relative to "
                      "the document (no '/...', no '../' above the QMS folder, no link out)",
    "remote-resource": "put the file into the repository and refer to it by its relative "
                       "path: a controlled page shows nothing fetched from elsewhere",
}


def finding(ref: Reference, rel: str, document: str | None = None) -> Finding:
    """The finding for a refused reference found in ``rel``."""
    where = ref.directive.name if ref.directive.name != "md-image" else "image"
    return Finding(ref.code, f"{where}: {ref.why}", rel, ref.directive.line,
                   HINTS[ref.code], document)


# --- what a document shows, and its fingerprint -------------------------------------

#: Reads a batch of paths: bytes, None for a missing file, or the reason (a str) why a
#: file is not read (a link that leads out of the repository).
Reader = Callable[[list[str]], dict[str, "bytes | str | None"]]


@dataclass
class Shown:
    """The files a document shows (path -> bytes, None if missing) and what is wrong."""

    files: dict[str, bytes | None] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)


def shown_files(rel: str, text: str, read: Reader, document_id: str | None = None,
                refs: Callable[[str, str, str], list[Reference]] | None = None) -> Shown:
    """Every file the document ``rel`` shows, through nested includes, read with ``read``;
    a refused reference is a finding and never read."""
    refs = refs or references
    shown = Shown()
    pending = [(rel, text)]
    seen = {rel}
    while pending:
        first: dict[str, tuple[str, Reference]] = {}  # a new file -> where it is named
        for where, body in pending:
            for ref in refs(body, where, rel):
                if ref.code:
                    shown.findings.append(finding(ref, where, document_id))
                elif ref.path is not None and ref.path not in seen:
                    seen.add(ref.path)
                    first[ref.path] = (where, ref)
        data = read(list(first)) if first else {}
        pending = []
        for path, (where, ref) in first.items():
            content = data.get(path)
            if isinstance(content, str):
                shown.findings.append(finding(Reference(ref.directive, code="unsafe-include",
                                                        why=f"{path} {content}"),
                                              where, document_id))
                continue
            shown.files[path] = content
            if content is None:
                shown.findings.append(Finding(
                    "missing-include", f"{ref.directive.name} {ref.directive.argument or path!r}"
                    f": the file {path} does not exist", where, ref.directive.line,
                    "add the file, or correct the path (relative to the document)",
                    document_id))
            elif ref.directive.name == "raw" and REMOTE_HTML.search(
                    content.decode("utf-8", "replace")):
                shown.findings.append(finding(Reference(
                    ref.directive, code="remote-resource",
                    why=f"{path} holds HTML that loads a script or a resource from another "
                        "site"), where, document_id))
            elif ref.parsed:
                pending.append((path, content.decode("utf-8", "replace")))
    return shown


def file_digest(data: bytes) -> str:
    """sha256 of an included file: of text with line endings normalized to LF, as for
    documents (a checkout with CRLF shows the same); of binary (a NUL byte among the
    first 8000, git's own test) as it is."""
    if b"\0" in data[:8000]:
        return hashlib.sha256(data).hexdigest()
    return hashlib.sha256(data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")).hexdigest()


def composite(own: str, files: dict[str, bytes | None]) -> str:
    """The fingerprint of a document from its own fingerprint and the files it shows.

    With no file, ``own`` itself (a document that includes nothing keeps the fingerprint
    of its bytes). Otherwise the hex sha256 of the UTF-8 bytes of::

        "qms-fingerprint-2\\n" + own + "\\n"
        + for each path in sorted order: path + "\\0" + file_digest(bytes) + "\\n"

    where a path is relative to the QMS root (forward slashes) and a missing file's
    digest is the word ``missing``.
    """
    if not files:
        return own
    h = hashlib.sha256(f"qms-fingerprint-2\n{own}\n".encode())
    for path in sorted(files):
        data = files[path]
        h.update(f"{path}\0{'missing' if data is None else file_digest(data)}\n".encode())
    return h.hexdigest()


# --- need directives of document types where no document is --------------------------

def stray_documents(text: str, rel: str, types: Iterable[str],
                    header_line: int | None) -> list[Directive]:
    """Directives of document types in ``text`` other than the header at
    ``header_line`` (None: the file is no document, so every one is stray)."""
    wanted = set(types)
    hits = sum(text.count(f"{name}::") + text.count(f"{{{name}}}") for name in wanted)
    if hits <= (0 if header_line is None else 1):
        return []  # only the header (most documents): nothing to parse for
    return [d for d in directives(text, rel.endswith(".md"))
            if d.name in wanted and d.line != header_line]


def stray_finding(found: Directive, rel: str, types: Iterable[str]) -> Finding:
    return Finding("not-a-document",
                   f"'{found.name}' need written outside the header of a document file: it "
                   "would be published as if it were a controlled document",
                   rel, found.line,
                   f"a {found.name} is a file of its own that opens with '.. {found.name}::' "
                   "(qms new makes one); here, refer to it with :need:`ID`")


def blank(text: str, found: list[Directive]) -> str:
    """``text`` with the blocks of ``found`` left out (their lines kept, empty, so the
    line numbers of everything else stay), Markdown images reduced to their alt text and
    download roles to their text."""
    if not found:
        return text
    lines = text.split("\n")
    for item in sorted(found, key=lambda d: (d.line, -(d.span or (0, 0))[0])):
        if item.span is not None:  # an inline image or role: what it says stays
            line = lines[item.line - 1]
            shown = item.content[0] if item.content else ""
            lines[item.line - 1] = line[:item.span[0]] + shown + line[item.span[1]:]
            continue
        for number in range(item.line - 1, min(item.end - 1, len(lines))):
            lines[number] = ""
    return "\n".join(lines)
