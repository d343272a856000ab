"""Static checks of a QMS tree: headers, ids, owners, clause links. No git needed.

``qms check`` and the Sphinx extension both call :func:`check_documents`, so a header
problem reads the same in a terminal and in a build log (there as
``[qms.<code with underscores>]``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from .catalog import heading_message, nearest_clauses
from .config import OWNER
from .documents import DERIVED_OPTIONS, KNOWN_OPTIONS, Header, Scan
from .federation import UpstreamExport, link_findings, upstream_index
from .model import Catalog, Config, Document, Finding


def check_documents(scan: Scan, config: Config, catalogs: list[Catalog],
                    taken: Iterable[str] = (),
                    upstreams: Sequence[UpstreamExport] | None = None) -> list[Finding]:
    """Every finding about the documents of ``scan``, in file order. ``taken``: ids that
    are not free though no document holds them (their records remain), as ``qms new``
    skips them. ``upstreams``: the exports of a federated QMS (federation.py): a link to
    an id of none of its documents is then ``upstream-not-in-force`` unless an upstream
    export holds it in force."""
    findings = [*scan.findings, *scan.content_findings]
    clauses = {c.need_id: (catalog, c) for catalog in catalogs for c in catalog.clauses}
    first_seen: dict[str, Document] = {}
    next_id = _free_ids(scan, config, set(taken))
    for doc in scan.documents:
        header = scan.headers.get(doc.path)
        findings.extend(_header_findings(doc, header, config, next_id))
        if doc.id:
            if doc.id in first_seen:
                other = first_seen[doc.id]
                findings.append(_finding(
                    doc, "duplicate-id", "id",
                    f"{doc.id} is already used by {other.path}:{other.line}",
                    f"give this document the next free id of its type: "
                    f"{next_id(config.types[doc.type].prefix)}"
                    if doc.type in config.types else
                    "give this document the next free id of its type (qms new shows it)"))
            else:
                first_seen[doc.id] = doc
        for ref in doc.satisfies:
            if ref not in clauses:
                findings.append(_finding(
                    doc, "unknown-clause", "satisfies",
                    f"{doc.id or doc.path} satisfies {ref!r}, which is not a clause of "
                    f"{', '.join(c.short_title for c in catalogs)}",
                    _clause_hint(ref, catalogs)))
            elif not clauses[ref][1].is_leaf:
                findings.append(_finding(
                    doc, "heading-clause", "satisfies",
                    f"{doc.id or doc.path}: {heading_message(*clauses[ref])}",
                    "a document satisfies requirement clauses: name each one it meets "
                    "(the gap report never counts a heading as covered)"))
    ids = set(first_seen)
    if upstreams is not None and config.upstreams:
        index = upstream_index(upstreams)
        findings += [_finding(doc, "duplicate-id", "id", f"{doc.id} is also the id of a "
                              f"document of upstream {index[doc.id].source!r}",
                              "give the upstream an id_prefix in [[federation.upstream]] "
                              "(qms.toml), or this document another id")
                     for doc in first_seen.values() if doc.id in index]
        return findings + link_findings(scan.documents, ids, index,
                                        [u.name for u in config.upstreams])
    for doc in scan.documents:
        for ref in doc.links:
            if ref not in ids:
                findings.append(_finding(
                    doc, "unknown-link", "links", f"{doc.id} links to {ref}, which is no document",
                    "correct the id in :links: or remove it"))
    return findings


def _free_ids(scan: Scan, config: Config, taken: set[str]) -> Callable[[str], str]:
    """The next free id of a prefix, as ``qms new`` picks it (from one more than the
    highest used, skipping ``taken``), a different one at each call: two documents
    without an id are not offered the same one."""
    used: dict[str, int] = {}
    for doc in scan.documents:
        prefix, _, number = (doc.id or "").rpartition("-")
        if prefix and number.isdigit():
            used[prefix] = max(used.get(prefix, 0), int(number))

    def next_id(prefix: str) -> str:
        while True:
            used[prefix] = used.get(prefix, 0) + 1
            candidate = f"{prefix}-{used[prefix]:0{config.id_digits}d}"
            if candidate not in taken:
                return candidate

    return next_id


def _header_findings(doc: Document, header: Header | None, config: Config,
                     next_id: Callable[[str], str]) -> list[Finding]:
    out: list[Finding] = []
    policy = config.types[doc.type]
    if not doc.title:
        out.append(_finding(doc, "missing-title", None, "the document has no title",
                            f"write the title after the directive: .. {doc.type}:: Title"))
    if not doc.id:
        out.append(_finding(doc, "missing-id", None, "the document has no :id:",
                            f"add ':id: {next_id(policy.prefix)}' (the next free id of its "
                            "type)"))
    elif not re.fullmatch(rf"{re.escape(policy.prefix)}-\d{{{config.id_digits},}}", doc.id):
        out.append(_finding(
            doc, "bad-id", "id",
            f"id {doc.id} does not match its type {doc.type}: expected "
            f"{policy.prefix}-{'N' * config.id_digits}",
            f"a {policy.title} id starts with {policy.prefix}- followed by "
            f"{config.id_digits} digits, e.g. {policy.prefix}-{'0' * (config.id_digits - 1)}7"))
    if header is not None:
        raw_revision = header.options.get("revision")
        if raw_revision is None:
            out.append(_finding(doc, "missing-revision", None, f"{doc.id or 'document'} has no "
                                ":revision:", "add ':revision: 1' for a new document"))
        elif doc.revision is None or doc.revision < 1:
            out.append(_finding(doc, "bad-revision", "revision",
                                f"revision {raw_revision!r} is not a whole number from 1 up",
                                "write the revision as a whole number (1, 2, 3, ...)"))
        for option, line in header.duplicates:
            out.append(Finding("duplicate-option", f"option :{option}: is given twice",
                               doc.path, line, "keep one of them", doc.id or None))
        for option in header.options:
            if option in DERIVED_OPTIONS:
                out.append(_finding(
                    doc, "hand-typed-status", option,
                    f":{option}: is typed in the header, but status, effective date and "
                    "approvals are derived from records",
                    "remove the line; approvals are recorded with 'qms approve'"))
            elif option not in KNOWN_OPTIONS:
                out.append(_finding(doc, "unknown-option", option,
                                    f"unknown header option :{option}:",
                                    f"use only {', '.join(':' + o + ':' for o in KNOWN_OPTIONS)}"))
    for role in doc.audience:
        if role not in config.roles:
            out.append(_finding(doc, "unknown-audience", "audience",
                                f"audience role {role!r} is not a role in qms.toml",
                                f"use roles of: {', '.join(sorted(config.roles))}"))
    if doc.owner is None:
        out.append(_finding(doc, "missing-owner", None, f"{doc.id or 'document'} has no :owner:",
                            f"add ':owner: ROLE' with one of: {', '.join(sorted(config.roles))}"))
    elif doc.owner not in config.roles or doc.owner == OWNER:
        out.append(_finding(doc, "unknown-owner", "owner",
                            f"owner {doc.owner!r} is not a role in qms.toml",
                            f"use one of: {', '.join(sorted(config.roles))}"))
    return out


def _finding(doc: Document, code: str, option: str | None, message: str, hint: str) -> Finding:
    line = doc.line_of(option) if option else doc.line
    return Finding(code, message, doc.path, line, hint, doc.id or None)


def _clause_hint(ref: str, catalogs: list[Catalog]) -> str:
    for catalog in catalogs:
        number = ref.split("-", 1)[-1].replace("-", ".") if "-" in ref else ref
        number = number.replace(catalog.need_prefix + ".", "")
        if "." in ref and ref.startswith(catalog.need_prefix):
            dashed = ref.replace(".", "-")
            if dashed in catalog.by_need_id():
                return f"write clause ids with dashes: {dashed}"
        if number in catalog.by_number():
            return f"write it as {catalog.by_number()[number].need_id}"
    near = [c for catalog in catalogs for c in nearest_clauses(ref, catalog)]
    if near:
        ids = [c.number for c in near]
        return ("did you mean " + (", ".join(ids[:-1]) + " or " + ids[-1] if len(ids) > 1
                                   else ids[0]) + "?")
    return ("use a clause number or id from the Standards page, e.g. 7.5.3.1 or "
            "ISO9001-7-5-3-1")
