"""Federation: QMSs in several repositories (a corporate QMS and its sites) traced as one.

A QMS exports its controlled state (``qms export``, and the controlled build next to the
site) as sphinx-needs' needs.json: one need per document in force, as the header of its
revision in force declares it, plus a ``qms`` section with the organization, the commit,
the export time and, for every document, its status, the revision in force, its effective
date, approvals and next review. Everything in the file is sorted; the export time (and the
``created`` stamp that repeats it) is the only value that differs between two exports of
the same commit.

A site names its upstreams in qms.toml (``[[federation.upstream]]``); their exports are kept
in the site's repository (a file path; a URL is read only by ``qms federation fetch``), so
builds stay offline and reproducible. Upstream documents are taken as the export states
them: whether one is in force was derived upstream, by its own status rules, and is never
derived again here. This module reads the exports and says what follows from them: the
upstream documents in force, links to ids no export holds in force
(``upstream-not-in-force``) and exports that are out of date (``stale-upstream``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InputError
from .model import Config, Document, Finding, Upstream, UpstreamDocument, UpstreamExport

if TYPE_CHECKING:
    from .workspace import Workspace

#: The format of the ``qms`` section of an export (a reader refuses any other).
FORMAT = 1
#: The export the controlled build writes next to the site.
EXPORT_NAME = "qms-export.json"
MAX_BYTES = 200_000_000
#: How the needs of an upstream look on the site's pages (sphinx-needs' ``css_class``).
UPSTREAM_CSS = "qms-upstream"


# --- writing an export -----------------------------------------------------------------------

def export_data(ws: Workspace, exported: dt.datetime | None = None) -> dict[str, Any]:
    """The export of the QMS of ``ws``: needs.json with one need per document in force (its
    revision in force, read from git where the working text is a newer draft), and the
    ``qms`` section. Needs the commit: the state exported is the committed one."""
    from . import __version__, gitrepo
    from .records import now
    from .reports import traceability
    from .status import approval_dict

    ws.require_readable()
    repo = ws.repo
    commit = gitrepo.head_commit(repo)
    commit_date = repo.head.commit.committed_datetime.astimezone(dt.UTC)
    exported = (exported or now()).astimezone(dt.UTC).replace(microsecond=0)
    config = ws.config
    documents = sorted((d for d in ws.scan.documents if d.id and d.type in config.types),
                       key=lambda d: d.id)
    statuses = ws.statuses
    basis = traceability.load_basis(ws.root, documents, statuses, index=ws.history_index,
                                    catalogs=ws.catalogs)
    needs: dict[str, dict[str, Any]] = {}
    states: dict[str, dict[str, Any]] = {}
    for doc in documents:
        info = statuses[doc.id]
        force = traceability.in_force_of(doc, statuses)
        current = basis.in_force.get(doc.id) if force is not None else None
        shown = current or doc
        docname = doc.path.rsplit(".", 1)[0]
        state: dict[str, Any] = {
            "title": shown.title, "type": doc.type, "status": info.label,
            "in_force": force is not None, "page": f"{docname}.html",
            "revision": force.revision if force else None,
            "effective": force.effective.isoformat() if force else None,
            "approvals": [_approval(approval_dict(a)) for a in force.approvals] if force else [],
            "next_review": info.next_review.isoformat() if info.next_review else None,
            "satisfies": sorted(shown.satisfies) if force else [],
            "links": sorted(shown.links) if force else [],
        }
        if info.retirement is not None:
            state["retired"] = info.retirement.date.date().isoformat()
            state["superseded_by"] = info.retirement.superseded_by
        states[doc.id] = state
        if current is not None and force is not None:
            needs[doc.id] = {
                "id": doc.id, "type": doc.type, "title": current.title,
                "docname": docname, "doctype": "." + doc.path.rsplit(".", 1)[-1],
                "revision": str(force.revision), "owner": current.owner,
                "satisfies": sorted(current.satisfies), "links": sorted(current.links),
                "status": "effective", "content": "",
            }
    for need in needs.values():  # a link to a document not in force names no need here
        need["links"] = [ref for ref in need["links"] if ref in needs]
    stamp = exported.isoformat().replace("+00:00", "Z")
    return {
        "created": stamp,
        "current_version": "",
        "project": config.organization,
        "versions": {"": {"creator": {"program": "qms-docs", "version": __version__},
                          "needs": needs, "needs_amount": len(needs)}},
        "qms": {
            "format": FORMAT, "organization": config.organization,
            "base_url": config.site_url, "commit": commit,
            "commit_date": commit_date.isoformat().replace("+00:00", "Z"),
            "exported": stamp, "documents": states,
        },
    }


def _approval(data: Mapping[str, object]) -> dict[str, object]:
    """An approval as an export states it (status.approval_dict without the local path of
    its record)."""
    return {key: value for key, value in data.items() if key != "record"}


def export_bytes(data: Mapping[str, Any]) -> bytes:
    """The export as written: sorted keys, one indentation, UTF-8, a final newline."""
    return (json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode()


def write_export(path: Path, data: Mapping[str, Any]) -> None:
    """Write the export to ``path`` all or nothing."""
    from .atomic import write_atomic

    write_atomic(path, export_bytes(data))


# --- reading the exports of upstreams ---------------------------------------------------------

def _bad(upstream: Upstream, what: str) -> InputError:
    return InputError(
        f"the export of upstream {upstream.name!r} {what}", path=upstream.path,
        hint=(f"run qms federation fetch {upstream.name}" if upstream.url else
              f"copy the file that `qms export --out FILE.json` writes in the {upstream.name} "
              f"repository to {upstream.path}") + ", or correct [[federation.upstream]] "
        "export in qms.toml")


def parse_export(raw: bytes, upstream: Upstream) -> UpstreamExport:
    """An export read from its bytes; a file that is no qms export is an InputError naming
    the file and the fix."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _bad(upstream, f"is not valid JSON ({exc})") from None
    except RecursionError:
        raise _bad(upstream, "is nested too deeply to be an export") from None
    qms = data.get("qms") if isinstance(data, dict) else None
    if not isinstance(qms, dict) or not isinstance(qms.get("documents"), dict):
        raise _bad(upstream, "has no 'qms' section with its documents: it is not an "
                             "export of qms-docs (a plain needs.json does not say what is in "
                             "force)")
    if qms.get("format") != FORMAT:
        raise _bad(upstream, f"is of format {qms.get('format')!r}; this qms reads format "
                             f"{FORMAT}")
    try:
        exported = dt.datetime.fromisoformat(str(qms["exported"]).replace("Z", "+00:00"))
        if exported.tzinfo is None:
            exported = exported.replace(tzinfo=dt.UTC)
        ids = set(qms["documents"])
        documents = {upstream.id_prefix + str(doc_id): _document(upstream, str(doc_id), item,
                                                                 ids)
                     for doc_id, item in qms["documents"].items()}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _bad(upstream, f"is malformed ({type(exc).__name__}: {exc})") from None
    return UpstreamExport(upstream, str(qms.get("organization", "")), str(qms.get("commit", "")),
                          exported, documents, hashlib.sha256(raw).hexdigest())


def _document(upstream: Upstream, doc_id: str, item: Mapping[str, Any],
              ids: set[str]) -> UpstreamDocument:
    """One document of an export, its id (and its links to the export's other documents)
    with the upstream's ``id_prefix``, as sphinx-needs names its external need."""
    prefix = upstream.id_prefix
    for key, kind in (("satisfies", list), ("links", list), ("next_review", str),
                      ("effective", str), ("revision", int), ("page", str)):
        value = item.get(key)
        if value is not None and not isinstance(value, kind):
            raise ValueError(f"{doc_id}: {key} is not a {kind.__name__}")
    return UpstreamDocument(
        source=upstream.name, id=prefix + doc_id, type=str(item["type"]),
        title=str(item["title"]), status=str(item["status"]),
        in_force=item["in_force"] is True, revision=item.get("revision"),
        effective=item.get("effective"),
        satisfies=tuple(str(s) for s in item.get("satisfies") or ()),
        links=tuple(prefix + str(s) if str(s) in ids else str(s)
                    for s in item.get("links") or ()),
        page=f"{item.get('page') or ''}#{doc_id}", next_review=item.get("next_review"),
        approvals=tuple(dict(a) for a in item.get("approvals") or ()))


def read_export(upstream: Upstream, root: Path) -> UpstreamExport:
    """The export of ``upstream`` kept at its path under ``root``."""
    file = root / upstream.path
    try:
        size = file.stat().st_size
        if size > MAX_BYTES:
            raise _bad(upstream, f"is too large ({size} bytes; limit {MAX_BYTES})")
        raw = file.read_bytes()
    except FileNotFoundError:
        raise _bad(upstream, "is not there") from None
    except OSError as exc:
        raise _bad(upstream, f"cannot be read ({exc.strerror})") from None
    return parse_export(raw, upstream)


def load_upstreams(config: Config, root: Path) -> list[UpstreamExport]:
    """The exports of every upstream of ``config``, in its order."""
    return [read_export(upstream, root) for upstream in config.upstreams]


def upstream_index(exports: Iterable[UpstreamExport]) -> dict[str, UpstreamDocument]:
    """Id -> upstream document, over all exports (an id in force in one wins over the same
    id not in force in another; otherwise the first upstream's)."""
    out: dict[str, UpstreamDocument] = {}
    for export in exports:
        for doc in export.documents.values():
            known = out.get(doc.id)
            if known is None or (doc.in_force and not known.in_force):
                out[doc.id] = doc
    return out


def in_force_documents(exports: Iterable[UpstreamExport]) -> list[UpstreamDocument]:
    """The upstream documents in force, by id."""
    return sorted((d for e in exports for d in e.in_force()), key=lambda d: (d.id, d.source))


# --- findings ----------------------------------------------------------------------------------

def stale_findings(exports: Sequence[UpstreamExport], today: dt.date) -> list[Finding]:
    """``stale-upstream`` (a warning): an export older than its ``max_age_days``, or made
    before a review date it declares for one of its documents in force that has passed since
    (the upstream may have reviewed or revised it since)."""
    out = []
    for export in exports:
        made = export.exported.date()
        age = (today - made).days
        limit = export.upstream.max_age_days
        why = []
        if limit is not None and age > limit:
            why.append(f"it is {age} days old (max_age_days = {limit})")
        due = sorted((d.next_review, d.id) for d in export.in_force()
                     if d.next_review and made.isoformat() < d.next_review <= today.isoformat())
        if due:
            day, doc_id = due[0]
            more = f" (and {len(due) - 1} more)" if len(due) > 1 else ""
            why.append(f"it declares the review of {doc_id} due on {day}{more}, "
                       "which has passed since")
        if why:
            out.append(Finding(
                "stale-upstream", f"the export of upstream {export.name!r} was made on {made}: "
                + "; ".join(why), export.upstream.path, None,
                f"refresh it: qms federation fetch {export.name}" if export.upstream.url else
                f"refresh it: `qms export --out FILE.json` in the {export.name} repository, "
                f"copied to {export.upstream.path}", None, "warning"))
    return out


def not_in_force_message(doc: Document, ref: str, upstream: Mapping[str, UpstreamDocument],
                         names: Sequence[str]) -> str:
    """Why the link of ``doc`` to ``ref`` counts for nothing (``upstream-not-in-force``)."""
    found = upstream.get(ref)
    if found is None:
        return (f"{doc.id} links to {ref}, which is no document of this QMS and which no "
                f"upstream export holds ({', '.join(names)})")
    return (f"{doc.id} links to {ref}, which the export of upstream {found.source!r} holds as "
            f"{found.status}, not in force")


def link_findings(documents: Iterable[Document], local_ids: set[str],
                  upstream: Mapping[str, UpstreamDocument],
                  names: Sequence[str]) -> list[Finding]:
    """``upstream-not-in-force``: each ``:links:`` entry naming neither a document of this
    QMS nor a document an upstream export holds in force."""
    out = []
    for doc in documents:
        for ref in doc.links:
            if ref in local_ids or (ref in upstream and upstream[ref].in_force):
                continue
            out.append(Finding("upstream-not-in-force",
                               not_in_force_message(doc, ref, upstream, names), doc.path,
                               doc.line_of("links"),
                               "link a document in force (see qms list --upstream), or "
                               "refresh the upstream's export if it changed", doc.id or None))
    return out


# --- fetching an upstream's export ------------------------------------------------------------

def sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def fetch(upstream: Upstream, root: Path, timeout: float = 60.0) -> tuple[Upstream, bytes]:
    """Download the export of ``upstream`` from its URL and check that it is one (nothing
    is written: :func:`keep_fetched` does)."""
    import urllib.error
    import urllib.request

    assert upstream.url is not None
    try:
        with urllib.request.urlopen(upstream.url, timeout=timeout) as response:  # noqa: S310
            raw = response.read(MAX_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise InputError(f"cannot fetch the export of upstream {upstream.name!r} from "
                         f"{upstream.url}: {exc}", path="qms.toml",
                         hint="check the URL in [[federation.upstream]] export and the "
                              "network; nothing was written") from None
    if len(raw) > MAX_BYTES:
        raise _bad(upstream, f"fetched from {upstream.url} is larger than {MAX_BYTES} bytes")
    parse_export(raw, upstream)  # refuse what is not an export before anything is written
    return upstream, raw


def keep_fetched(upstream: Upstream, raw: bytes, root: Path) -> None:
    """Keep a fetched export at the upstream's path in the repository."""
    from .atomic import write_atomic

    target = root / upstream.path
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, raw)


def reference_findings(doc: Document, text: str, upstream: Mapping[str, UpstreamDocument],
                       upstreams: Sequence[Upstream]) -> list[Finding]:
    """``upstream-not-in-force`` for each ``:need:`` role of ``text`` (the text of ``doc``)
    naming an upstream document not in force: one its export holds as retired or never
    effective, or an id under an upstream's ``id_prefix`` that its export does not hold."""
    from .references import references

    prefixes = tuple(u.id_prefix for u in upstreams if u.id_prefix)
    out = []
    for ref in references(text):
        if ref.how != ":need:":  # :links: entries: check_documents
            continue
        found = upstream.get(ref.target)
        if (found is None and not (prefixes and ref.target.startswith(prefixes))) or (
                found is not None and found.in_force):
            continue
        out.append(Finding("upstream-not-in-force",
                           not_in_force_message(doc, ref.target, upstream,
                                                [u.name for u in upstreams]).replace(
                               " links to ", " refers to (:need:) ", 1),
                           doc.path, ref.line, "refer to a document in force (see qms list "
                           "--upstream), or refresh the upstream's export if it changed",
                           doc.id or None))
    return out
