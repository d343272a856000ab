"""Plain data of qms-docs: clauses, documents, policy, findings.

No behaviour beyond small derived properties; the rules live in the modules that use
these objects. Everything is frozen so it can be shared between the CLI, reports and
the Sphinx extension without defensive copies.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cached_property

from .findings import CODES

#: The folder of a QMS that holds its records, one folder per document id.
RECORDS_DIR = "records"

# --- one pattern per kind of id (each used everywhere that kind is read) -------------------

#: A document id: upper-case letters and digits, two or more parts joined by dashes
#: (``SOP-001``, ``QM-001``). sphinx-needs checks need ids against it (``needs_id_regex``),
#: and a record names its document with it (the records' JSON Schemas repeat it: a test
#: keeps them equal).
DOCUMENT_ID_REGEX = r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$"
DOCUMENT_ID = re.compile(DOCUMENT_ID_REGEX)
#: A revision number as a header states it: 1 to 9 ASCII digits.
REVISION_NUMBER = re.compile(r"[0-9]{1,9}")
#: The ``:revision:`` line of a header in a file's bytes: its lead (indent, option name,
#: spaces) and its number. ``match`` it on one line, or ``search`` a text (multi-line).
REVISION_LINE = re.compile(rb"^(?P<lead>[ \t]*:revision:[ \t]*)(?P<number>[0-9]{1,9})(?![0-9])",
                           re.MULTILINE)


@dataclass(frozen=True)
class Clause:
    """One numbered clause of a standard, e.g. ISO 9001:2015 7.5.3."""

    standard: str
    number: str
    title: str
    parent: str | None
    need_id: str
    maintain: bool = False
    retain: bool = False
    evidence: str = ""
    is_leaf: bool = True

    @property
    def depth(self) -> int:
        return self.number.count(".")


@dataclass(frozen=True)
class Catalog:
    """A standard's clause tree, in document order."""

    standard: str
    title: str
    short_title: str
    need_prefix: str
    clauses: tuple[Clause, ...]
    #: ``provisional``: built from public drafts or commentary, to be replaced once the
    #: final text is confirmed (commands that use it say so, with its ``sources``).
    edition_status: str = "final"
    sources: tuple[str, ...] = ()

    def by_need_id(self) -> dict[str, Clause]:
        return self._by_need_id

    def by_number(self) -> dict[str, Clause]:
        return self._by_number

    @cached_property  # asked once per clause of every header: made once (read-only use)
    def _by_need_id(self) -> dict[str, Clause]:
        return {c.need_id: c for c in self.clauses}

    @cached_property
    def _by_number(self) -> dict[str, Clause]:
        return {c.number: c for c in self.clauses}

    @property
    def leaves(self) -> tuple[Clause, ...]:
        return tuple(c for c in self.clauses if c.is_leaf)


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class TypePolicy:
    """What qms.toml says about one document type (``[types.sop]``)."""

    name: str
    title: str
    prefix: str
    folder: str
    approvers: tuple[str, ...]
    review_months: int
    color: str = "#BFD8D2"
    audience: tuple[str, ...] = ()
    training_days: int = 14
    require_signature: bool = False


@dataclass(frozen=True)
class Upstream:
    """An upstream QMS this one federates with (``[[federation.upstream]]``): its name, the
    export file kept in this repository (``path``, relative to the QMS root), where it was
    fetched from (``url``: only ``qms federation fetch`` reads it), the base URL of its
    published site (links to its pages) and the age after which its export is stale."""

    name: str
    path: str
    base_url: str
    url: str | None = None
    max_age_days: int | None = None
    id_prefix: str = ""  # put before each id of its export (CORP- : CORP-SOP-005)


@dataclass(frozen=True)
class UpstreamDocument:
    """A document of an upstream QMS as its export states it: status and revision in
    force were derived upstream (by its own status.py) and are taken as given."""

    source: str  # the upstream's name
    id: str
    type: str
    title: str
    status: str
    in_force: bool
    revision: int | None = None  # the revision in force
    effective: str | None = None  # its effective date, YYYY-MM-DD
    satisfies: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    page: str = ""  # its page on the upstream's site (relative to base_url, with #anchor)
    next_review: str | None = None  # YYYY-MM-DD: the review the upstream declares due
    approvals: tuple[dict[str, str], ...] = field(default=(), compare=False, hash=False)


@dataclass(frozen=True)
class UpstreamExport:
    """An upstream's export as this repository holds it."""

    upstream: Upstream
    organization: str
    commit: str
    exported: dt.datetime
    documents: dict[str, UpstreamDocument]
    sha256: str

    @property
    def name(self) -> str:
        return self.upstream.name

    def in_force(self) -> list[UpstreamDocument]:
        return [d for d in self.documents.values() if d.in_force]

    def url_of(self, doc: UpstreamDocument) -> str:
        """The page of ``doc`` on the upstream's site (as sphinx-needs links it)."""
        return f"{self.upstream.base_url}/{doc.page}"


@dataclass(frozen=True)
class Config:
    """The whole of qms.toml, validated and with defaults filled in."""

    root: str
    organization: str
    standards: tuple[str, ...]
    roles: dict[str, str]
    people: tuple[Person, ...]
    types: dict[str, TypePolicy]
    id_digits: int = 3
    signers_file: str = "allowed_signers"
    #: The policy as a controlled item (``[policy]``): roles that approve a change of it,
    #: whether their approvals must be signed, extra files it covers (globs).
    policy_approvers: tuple[str, ...] = ()
    policy_require_signature: bool = False
    policy_files: tuple[str, ...] = ()
    #: "gate": the pull-request gate checks that each record was added by a commit of the
    #: person it names (or signed); "commit": every judgement does (merge-commit workflows)
    identity: str = "gate"
    #: "forbidden": nobody approves what they wrote or committed; "recorded": they may
    #: (a one-person company), and the approval is marked self-approved wherever shown
    self_approval: str = "forbidden"
    #: ``[[federation.upstream]]``: the QMSs whose documents this one may link to and
    #: count for coverage; ``[federation] base_url``: where this QMS's own site is published
    upstreams: tuple[Upstream, ...] = ()
    site_url: str = ""

    def type_for_prefix(self, prefix: str) -> TypePolicy | None:
        for policy in self.types.values():
            if policy.prefix == prefix:
                return policy
        return None

    def person_by_email(self, email: str) -> Person | None:
        wanted = email.strip().lower()
        for person in self.people:
            if person.email.lower() == wanted:
                return person
        return None

    @property
    def folders(self) -> tuple[str, ...]:
        return tuple(sorted({t.folder for t in self.types.values()}))


@dataclass(frozen=True)
class Document:
    """One controlled document as its header declares it."""

    id: str
    type: str
    title: str
    revision: int | None
    owner: str | None
    path: str  # relative to the QMS root, with forward slashes
    line: int  # line of the opening directive
    satisfies: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    audience: tuple[str, ...] = ()
    fingerprint: str = ""
    records: tuple[str, ...] = ()  # the :records: option
    records_section: bool = False  # the text has a "Records" section
    records_named: tuple[str, ...] = ()  # what that section lists (documents.named_records)
    includes: tuple[str, ...] = ()  # files it shows (relative to the QMS root), sorted
    option_lines: dict[str, int] = field(default_factory=dict, compare=False, hash=False)

    def line_of(self, option: str) -> int:
        """Line of an option in the header (the directive's line if absent)."""
        return self.option_lines.get(option, self.line)


@dataclass(frozen=True)
class Finding:
    """Something wrong, found by a check: a code, where, what, and what to do."""

    code: str
    message: str
    path: str | None = None
    line: int | None = None
    hint: str | None = None
    document: str | None = None
    severity: str = "error"  # "error", "warning", or "accepted" (a deviation on record)
    when: str | None = field(default=None, compare=False)  # the event's time, if historic

    def __post_init__(self) -> None:
        if self.code not in CODES:  # every code has its meaning and fix in findings.py
            raise ValueError(f"unregistered finding code {self.code!r}: add it to "
                             "qms_docs/findings.py and the README's table")

    @property
    def location(self) -> str:
        if not self.path:
            return ""
        return f"{self.path}:{self.line}" if self.line else self.path

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.severity,
            "document": self.document,
            "path": self.path,
            "line": self.line,
            "message": self.message,
            "hint": self.hint,
        }
