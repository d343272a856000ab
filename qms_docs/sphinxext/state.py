"""What the extension knows about the QMS during one build."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..documents import Scan
from ..federation import UpstreamExport, in_force_documents
from ..glossary import GLOSSARY_NAME
from ..journal import digest
from ..model import Catalog, Clause, Config, Document, UpstreamDocument
from ..records import RecordSet, current_date
from ..reports.traceability import Basis, load_basis
from ..reports.training import Cell, matrix
from ..status import StatusCache, StatusInfo

if TYPE_CHECKING:
    from sphinx_needs.need_item import NeedLink

    from ..diffs import Difference
    from ..history import HistoryIndex

if TYPE_CHECKING:  # GitPython loads only where history is read
    from ..history import HistoryIndex


@dataclass
class ProjectState:
    """qms.toml, the standards and this build's scan of the document folders."""

    root: Path
    config: Config
    catalogs: list[Catalog]
    scan: Scan = field(default_factory=lambda: Scan(documents=[], findings=[]))
    records: RecordSet = field(default_factory=RecordSet)
    today: dt.date = field(default_factory=current_date)
    #: a controlled build: id -> state of each document it left out (not in force)
    not_in_force: dict[str, str] = field(default_factory=dict)
    #: a controlled build: the links to documents left out, taken off the needs while
    #: sphinx-needs checks links and put back afterwards (references.py)
    withheld_links: dict[tuple[str, str], list[NeedLink]] = field(default_factory=dict)
    #: a controlled build: id -> HEAD's header of each revision not yet in force
    #: (``qms_pending``: type, title, revision, satisfies)
    pending: dict[str, dict] = field(default_factory=dict)
    #: the exports of the upstream QMSs of qms.toml (federation.py), read at config-inited
    upstreams: tuple[UpstreamExport, ...] = ()
    source: Path | None = None  # the folder this build reads (Sphinx's srcdir)
    controlled: bool = False
    _training: list[Cell] | None = None
    _training_by_doc: dict[str, list[Cell]] | None = None
    _by_id: dict[str, Document] | None = None
    _statuses: StatusCache | None = None
    _record_digests: dict[str, str] | None = None
    _inputs: dict[str, str] | None = None
    history: HistoryIndex | None = None  # HEAD's history, read once by the judgement
    _basis: Basis | None = None
    _clauses: dict[str, tuple[Catalog, Clause]] | None = None
    repository: Path | None = None  # a controlled build: the QMS whose git it came from
    _differences: dict[str, list[Difference]] | None = None

    def reset(self, scan: Scan, records: RecordSet) -> None:
        """Start a build: this scan and these records, nothing derived yet."""
        self.scan, self.records = scan, records
        self._training = self._training_by_doc = self._by_id = self._statuses = None
        self._record_digests = self._inputs = self._basis = None
        self._differences = None

    def status_of(self, doc: Document) -> StatusInfo:
        """The status of ``doc``, derived once (see :meth:`statuses`)."""
        return self._status_cache().of(doc)

    def _status_cache(self) -> StatusCache:
        # made on first use: a build sets ``today`` (qms_as_of) after reset()
        if self._statuses is None:
            self._statuses = StatusCache(self.scan.documents, self.records, self.config,
                                         self.today)
        return self._statuses

    def upstream_documents(self) -> tuple[UpstreamDocument, ...]:
        """The documents the upstream exports hold in force (they count for coverage)."""
        return tuple(in_force_documents(self.upstreams))

    def documents_by_id(self) -> dict[str, Document]:
        """The scanned documents by id (the first of a duplicate id), computed once."""
        if self._by_id is None:
            self._by_id = {}
            for doc in self.scan.documents:
                if doc.id:
                    self._by_id.setdefault(doc.id, doc)
        return self._by_id

    def clauses_by_id(self) -> dict[str, tuple[Catalog, Clause]]:
        """Every clause of the standards by its need id, with its standard."""
        if self._clauses is None:
            self._clauses = {clause.need_id: (catalog, clause)
                             for catalog in self.catalogs for clause in catalog.clauses}
        return self._clauses

    def training_by_document(self) -> dict[str, list[Cell]]:
        """The training matrix cells that concern someone, grouped by document."""
        if self._training_by_doc is None:
            grouped: dict[str, list[Cell]] = {}
            for cell in self.training_matrix():
                if cell.state != "not-required":
                    grouped.setdefault(cell.document, []).append(cell)
            self._training_by_doc = grouped
        return self._training_by_doc

    def training_matrix(self) -> list[Cell]:
        """Training matrix of this build (no git: a role counts from the effective date)."""
        if self._training is None:
            documents = [d for d in self.scan.documents if d.id and d.type in self.config.types]
            self._training = matrix(documents, self.records, self.config, self.today)
        return self._training

    def record_digests(self) -> dict[str, str]:
        """Per document id, a digest of its records (to notice new or changed records)."""
        if self._record_digests is None:
            self._record_digests = {
                doc_id: _digest(*(f"{r.path}:{r.data!r}" for r in records))
                for doc_id, records in self.records.by_document().items()}
        return self._record_digests

    def page_digests(self) -> dict[str, str]:
        """Per document id, a digest of what its page shows beyond its source: the
        control block (status, approvals and their signatures, training) and the
        revision history (its records). The page is written again when it changes."""
        records = self.record_digests()
        signers = self.root / self.config.signers_file
        try:
            keys = digest(signers.read_bytes())
        except OSError:
            keys = ""
        keys += "".join(u.sha256 for u in self.upstreams)  # links to upstream documents
        statuses = self.statuses()
        training = self.training_by_document()
        out: dict[str, str] = {}
        for doc_id, info in statuses.items():
            cells = [c.cells() for c in training.get(doc_id, [])]
            out[doc_id] = _digest(str(records.get(doc_id)), repr(info.to_dict()), repr(cells),
                                  keys)
        return out

    def statuses(self) -> dict[str, StatusInfo]:
        """Status of every document of this build, derived once."""
        return self._status_cache().all()

    def basis(self) -> Basis:
        """What coverage counts (each document as its revision in force declares it),
        derived once: the same function ``qms trace`` calls. A preview build reads from
        git the texts in force that its tree does not hold; a controlled build's tree
        holds only texts in force."""
        if self._basis is None:
            documents = [d for d in self.scan.documents if d.id and d.type in self.config.types]
            self._basis = load_basis(self.source or self.root, documents, self.statuses(),
                                     use_git=not self.controlled, index=self.history,
                                     catalogs=self.catalogs)
        return self._basis

    def differences(self) -> dict[str, list[Difference]]:
        """What each approved revision of each document changed from the approved one
        before (the pages its revision history links), read from git once; none where
        the sources have no git history."""
        if self._differences is None:
            from ..diffs import approved_differences
            from ..errors import QmsError

            documents = [(d, self.records.for_document(d.id)) for d in self.scan.documents
                         if d.id and d.type in self.config.types]
            root = self.repository or self.source or self.root
            try:
                self._differences = approved_differences(
                    root, documents, self.config,
                    self.history if self.repository is None else None)
            except QmsError:  # no repository holds the sources: no pages of differences
                self._differences = {}
        return self._differences

    def coverage_documents(self) -> list[Document]:
        """The documents the coverage reports read, each as its newest revision declares it:
        the scanned ones, and in a controlled build (whose tree holds texts in force only)
        the header HEAD holds where that is a revision not yet in force, so that the
        reports name it as pending, as ``qms trace`` does."""
        documents = [doc for doc in self.scan.documents if doc.id]
        if not self.pending:
            return documents
        heads = {}
        for doc_id, data in self.pending.items():
            try:
                heads[doc_id] = Document(
                    id=str(doc_id), type=str(data["type"]), title=str(data["title"]),
                    revision=data["revision"], owner=None, path="", line=0,
                    satisfies=tuple(str(ref) for ref in data["satisfies"]),
                    fingerprint="(not in force)")
            except (KeyError, TypeError):
                continue  # not written by qms: ignored
        return ([heads.pop(doc.id, doc) for doc in documents]
                + sorted(heads.values(), key=lambda doc: doc.id))

    def input_digests(self) -> dict[str, str]:
        """Digests of what the aggregate pages are made of, by what a page shows.

        ``reports`` (made when the page is resolved: a change re-writes the page):
        configuration, standards, every record, and of every document its header and
        derived status (not its text: editing the text of a document changes the reports
        only when that changes its status). The others are read into the page (a change
        re-reads it): ``clauses``, the standards and which document satisfies which
        clause (the clauses' back-links); ``headers``, every document's
        header; ``documents``, which documents there are, of which type, in which file.
        Each also holds the configuration.
        """
        if self._inputs is None:
            self._inputs = self._input_digests()
        return self._inputs

    def _input_digests(self) -> dict[str, str]:
        statuses = self.statuses()
        settings = (repr(self.config) + repr(self.catalogs)
                    + repr([u.sha256 for u in self.upstreams]))
        reports = [settings, self.today.isoformat(),
                   *(f"{key}:{value}" for key, value in sorted(self.record_digests().items()))]
        links = [settings]
        files = [settings]
        headers = [settings]
        for doc in self.scan.documents:
            header = (doc.id, doc.type, doc.title, doc.revision, doc.owner, doc.path,
                      doc.satisfies, doc.links, doc.audience, doc.records, doc.records_section,
                      doc.records_named)
            info = statuses.get(doc.id) if doc.id else None
            reports.append(f"{header!r}:{info.to_dict() if info else None!r}")
            headers.append(repr(header))
            links.append(f"{doc.id}:{doc.type}:{doc.satisfies!r}")
            files.append(f"{doc.id}:{doc.type}:{doc.path}")

        # ``texts``: what the glossary page shows: every document's text and the glossary
        texts = [settings, *(f"{doc.path}:{doc.fingerprint}" for doc in self.scan.documents),
                 _file_digest((self.source or self.root) / GLOSSARY_NAME)]
        return {"reports": _digest(*reports), "clauses": _digest(*links),
                "headers": _digest(*headers),
                "documents": _digest(*files), "texts": _digest(*texts)}


def _file_digest(path: Path) -> str:
    """The SHA-256 of a file's bytes, or "" where there is none."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def _digest(*parts: str) -> str:
    """One SHA-256 over the parts, a line each."""
    return digest("\n".join(parts).encode())
