"""A QMS working copy as the acts of document control see it.

Bundles the root, qms.toml, the standards, the scanned documents, the records and git,
each loaded on first use, and finds documents and people by what a user types.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from . import authority, journal
from .catalog import load_catalogs
from .config import load_config
from .documents import Scan, scan
from .errors import InputError, Refused, UsageError
from .model import Catalog, Config, Document, Finding, Person
from .records import RecordSet, current_date, load_records
from .status import StatusCache, StatusInfo

if TYPE_CHECKING:
    from git import Repo

    from . import history
    from .reports.training import Cell


@dataclass
class _Read:
    """What a workspace read, each on first use: the working tree's files (``TREE``:
    qms.toml, standards, documents) and what acts write (records, commits) with all
    derived from them. :meth:`Workspace.refresh` starts anew, keeping ``TREE`` unless
    the documents changed too."""

    TREE = ("working_config", "catalogs", "scan")

    working_config: Config | None = None
    catalogs: list[Catalog] | None = None
    scan: Scan | None = None
    raw_records: RecordSet | None = None
    judgement: authority.Judgement | None = None
    history_read: bool = False
    history_index: history.HistoryIndex | None = None
    statuses: StatusCache | None = None


class Workspace:
    """One QMS repository: everything an act or a report needs, loaded lazily."""

    def __init__(self, root: Path, today: dt.date | None = None) -> None:
        self.root = root
        self._today = today
        self._read = _Read()

    def recover(self, wait: float = 10.0) -> str | None:
        """Complete an act a crash interrupted, before anything is read (see journal.py);
        a note if that cannot be done here (reads go on), None otherwise."""
        return journal.recover(self.root, wait)

    @property
    def today(self) -> dt.date:
        return self._today or current_date()

    @property
    def working_config(self) -> Config:
        """qms.toml as the working tree holds it (what ``qms check`` reads)."""
        if self._read.working_config is None:
            self._read.working_config = load_config(self.root)
        return self._read.working_config

    @property
    def config(self) -> Config:
        """The policy in force (the last approved qms.toml, from git): what every act and
        status is judged by. The working tree's where there is no history."""
        return self.judgement.config

    @property
    def catalogs(self) -> list[Catalog]:
        if self._read.catalogs is None:
            self._read.catalogs = load_catalogs(self.working_config.standards, self.root)
        return self._read.catalogs

    @property
    def scan(self) -> Scan:
        if self._read.scan is None:
            self._read.scan = scan(self.root, self.working_config)
        return self._read.scan

    @property
    def raw_records(self) -> RecordSet:
        """Every valid record file, judged or not (``qms check``)."""
        if self._read.raw_records is None:
            self._read.raw_records = load_records(self.root)
        return self._read.raw_records

    @property
    def records(self) -> RecordSet:
        """The records that count (authority.py): what status and every report use."""
        return self.judgement.records

    @property
    def history_index(self) -> history.HistoryIndex | None:
        """HEAD's whole history, read once (None where there is none: no repository, no
        commit, a shallow clone)."""
        if not self._read.history_read:
            self._read.history_index = self._history_index()
            self._read.history_read = True
        return self._read.history_index

    def _history_index(self) -> history.HistoryIndex | None:
        from . import gitrepo, history
        from .errors import GitError

        try:
            repo = self.repo
            gitrepo.require_history(repo)
        except GitError:
            return None
        return history.HistoryIndex.start(repo).result()

    @property
    def prefix(self) -> str:
        """The QMS root inside its git repository ("" at the top)."""
        from . import gitrepo

        top = gitrepo.work_tree(self.repo).resolve()
        rel = self.root.resolve().relative_to(top).as_posix()
        return "" if rel == "." else rel

    @property
    def judgement(self) -> authority.Judgement:
        """Every record judged against the policy in force when it was made."""
        if self._read.judgement is None:
            self._read.judgement = self._judge()
        return self._read.judgement

    def _judge(self) -> authority.Judgement:
        from . import policy

        index = self.history_index
        working = None
        if index is not None:
            try:
                working = policy.working_version(self.root)
            except Exception:  # an unreadable file: nothing pending can be shown
                working = None
        return authority.judge(self.root, self.raw_records, self.scan.documents,
                               self.working_config, index, self.prefix if index else "",
                               working_policy=working)

    def refresh(self, documents: bool = False) -> None:
        """Forget what was read of the records, the policy and git, and with ``documents``
        of the working tree's files (qms.toml, standards, documents): an act wrote files,
        or waited for a lock while another act did. Each is read again on next use."""
        kept = {} if documents else {name: getattr(self._read, name) for name in _Read.TREE}
        self._read = _Read(**kept)

    @cached_property
    def repo(self) -> Repo:
        from . import gitrepo  # GitPython loads only for what reads git, not for check

        return gitrepo.open_repo(self.root)

    @property
    def statuses(self) -> dict[str, StatusInfo]:
        """Status of every document, derived once (until :meth:`refresh`)."""
        return self._status_cache().all()

    def _status_cache(self) -> StatusCache:
        if self._read.statuses is None:
            self._read.statuses = StatusCache(self.scan.documents, self.records, self.config,
                                              self.today)
        return self._read.statuses

    def role_start_dates(self, index: history.HistoryIndex | None = None
                         ) -> dict[tuple[str, str], dt.date] | None:
        """When each person took each role, from qms.toml's git history (None without it).

        Pass the index of a caller that already read the whole history (one pass)."""
        from . import gitrepo, history
        from .errors import GitError
        from .training import role_start_dates

        try:
            repo = self.repo
            gitrepo.require_history(repo)
        except GitError:
            return None
        rel = (self.root.resolve() / "qms.toml").relative_to(
            gitrepo.work_tree(repo).resolve()).as_posix()
        index = index or self.history_index or history.HistoryIndex.build(repo, paths=[rel])
        versions = [(dt.date.fromisoformat(c.date[:10]), index.content(c))
                    for c in index.commits_of(rel) if c.status != "D"]
        return role_start_dates(versions)

    def training_matrix(self, index: history.HistoryIndex | None = None) -> list[Cell]:
        from .reports.training import matrix

        documents = [d for d in self.scan.documents if d.id and d.type in self.config.types]
        return matrix(documents, self.records, self.config, self.today,
                      self.role_start_dates(index))

    def require_readable(self) -> None:
        """Refuse to act on a tree with files that cannot be read (exit 2).

        Unreadable headers, documents without an id and invalid records are bad input:
        an act or a status derived from them could be wrong.
        """
        blocking = ("bad-header", "not-a-document", "invalid-record")
        problems = [f for f in [*self.scan.findings, *self.raw_records.findings]
                    if f.code in blocking]
        problems += [Finding("missing-id", "the document has no :id:", d.path, d.line,
                             "add ':id: PREFIX-NNN' to the header")
                     for d in self.scan.documents if not d.id]
        if problems:
            first = problems[0]
            more = f" (and {len(problems) - 1} more; run qms check)" if len(problems) > 1 else ""
            raise InputError(first.message + more, path=first.path, line=first.line,
                             hint=first.hint)

    def document(self, text: str) -> Document:
        """The document whose id is ``text`` (case-insensitive)."""
        self.require_readable()
        wanted = text.strip().upper()
        matches = [d for d in self.scan.documents if d.id.upper() == wanted]
        if not matches:
            raise UsageError(f"no document {text!r}", hint="see 'qms list' for the ids")
        if len(matches) > 1:
            raise UsageError(f"{wanted} is used by {len(matches)} files: "
                             f"{', '.join(d.path for d in matches)}",
                             hint="fix the duplicate id first (qms check)")
        return matches[0]

    def status(self, doc: Document) -> StatusInfo:
        """The status of ``doc``, derived once (until :meth:`refresh`)."""
        return self._status_cache().of(doc)

    def actor(self) -> Person:
        """The acting person: git's user.email, which must be a person of qms.toml."""
        from . import gitrepo

        email = gitrepo.acting_email(self.repo)
        person = self.config.person_by_email(email)
        if person is None:
            if self.working_config.person_by_email(email) is not None:
                raise Refused(f"{email} is not a person in qms.toml as the policy in force "
                              "has it: the change that adds you is not approved yet",
                              hint="see qms status policy: the roles of [policy] approvers "
                                   "approve it (qms approve policy)")
            raise Refused(f"{email} is not a person in qms.toml",
                          hint="add yourself under [[people]] in qms.toml, or set "
                               "git config user.email to your address listed there")
        return person
