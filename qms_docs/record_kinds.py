"""Records as typed objects: one class per kind, with the fields its schema gives.

A record file holds a mapping (``records_schema/<kind>.schema.json``); once
:mod:`~qms_docs.records` has validated it, :func:`make_record` wraps it in its kind's
class (:class:`ApprovalRecord`, :class:`ChangeRecord`, ...), whose properties read the
fields typed: ``approval.revision``, ``change.author.email``. Code that filters records
asks for a class (:func:`of_kind`), so mypy knows the fields it may read. The raw
``data`` stays for what serialises a record (the signed payload, JSON output).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar, TypeVar


def parse_datetime(text: str) -> dt.datetime:
    """An ISO 8601 time as records write it (``Z`` for UTC accepted)."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Signer:
    """A person as a record names them (the schemas' ``{name, email}``)."""

    name: str
    email: str

    @classmethod
    def of(cls, data: dict[str, str]) -> Signer:
        return cls(data["name"], data["email"])

    def has_email(self, email: str) -> bool:
        """Whether ``email`` is this person's (emails compare case-insensitively)."""
        return self.email.lower() == email.lower()


@dataclass(frozen=True)
class Signature:
    """An approval's SSH signature (``ssh-keygen -Y sign``), as the record holds it."""

    format: str
    namespace: str
    signature: str


@dataclass(frozen=True)
class Record:
    """One valid record: its kind, its file (relative to the QMS root) and its data.

    Each kind is a subclass (:class:`ApprovalRecord`, ...) whose properties give the
    schema's fields typed; ``data`` stays the record as written, for what serialises it.
    Made by :func:`make_record` (or :func:`validate_record`), which picks the class.
    """

    kind: str
    path: str
    data: dict[str, Any]
    #: Set by the judge (authority.py): when the record took effect in git (the commit
    #: of the first-parent line that brought it in; None if it is not committed), and
    #: for approvals the roles the policy in force then required of the document.
    added: str | None = field(default=None, compare=False)
    required: tuple[str, ...] | None = field(default=None, compare=False)
    #: Set by the judge: an approval by the person who wrote or committed what it approves,
    #: counted because the policy in force allowed it (``[policy] self_approval``).
    self_approved: bool = field(default=False, compare=False)

    #: The key of the person whose act the record is (see :meth:`person`).
    _person_key: ClassVar[str] = ""

    def __post_init__(self) -> None:
        if _CLASSES.get(self.kind) is not type(self):
            raise TypeError(f"a {self.kind!r} record is made with make_record(), "
                            f"not {type(self).__name__}")

    @property
    def id(self) -> str:
        return self.data["id"]

    @property
    def document(self) -> str:
        return self.data["document"]

    @property
    def stated(self) -> str:
        """The date as the record states it (ISO 8601 text; sorts as written)."""
        return self.data["date"]

    @cached_property  # read-only data: parsed once (frozen dataclasses allow this)
    def claimed(self) -> dt.datetime:
        """The date the record states."""
        return parse_datetime(self.data["date"])

    @cached_property
    def date(self) -> dt.datetime:
        """When the record counts from: its stated date, but never before it was committed
        (a record cannot be dated back)."""
        if self.added is None:
            return self.claimed
        return max(self.claimed, parse_datetime(self.added))

    @property
    def about_revision(self) -> int | None:
        """The revision the record is about: a change's new one; None for a deviation."""
        return None

    @cached_property
    def _person(self) -> Signer:
        return Signer.of(self.data[self._person_key])

    def person(self) -> Signer:
        """The person the record names: author, approver, reviewer or trainee."""
        return self._person

    def maker(self) -> Signer:
        """The person whose act the record is (a training record: the trainer)."""
        return self.person()


@dataclass(frozen=True)
class ChangeRecord(Record):
    """A new revision opened (``qms revise``)."""

    _person_key: ClassVar[str] = "author"

    @property
    def from_revision(self) -> int:
        return self.data["from_revision"]

    @property
    def to_revision(self) -> int:
        return self.data["to_revision"]

    @property
    def about_revision(self) -> int | None:
        return self.to_revision

    @property
    def reason(self) -> str:
        return self.data["reason"]

    @property
    def summary(self) -> str:
        return self.data.get("summary", "")

    @property
    def author(self) -> Signer:
        return self._person

    @property
    def training(self) -> bool:
        """Whether the new revision needs training (the default)."""
        return self.data.get("training", True)


@dataclass(frozen=True)
class _OfRevision(Record):
    """A record about one revision of its document (made with a kind's class only)."""

    @property
    def revision(self) -> int:
        return self.data["revision"]

    @property
    def about_revision(self) -> int | None:
        return self.revision


@dataclass(frozen=True)
class _OfContent(_OfRevision):
    """A record about one revision's exact content (its fingerprint)."""

    @property
    def fingerprint(self) -> str:
        return self.data["fingerprint"]


@dataclass(frozen=True)
class ApprovalRecord(_OfContent):
    """A signature of a role on one revision's exact content (``qms approve``)."""

    _person_key: ClassVar[str] = "approver"

    @property
    def approver(self) -> Signer:
        return self._person

    @property
    def role(self) -> str:
        return self.data["role"]

    @property
    def meaning(self) -> str:
        """approval, review or responsibility."""
        return self.data["meaning"]

    @property
    def effective(self) -> dt.date:
        """The day the approval asks the revision to take effect from."""
        return dt.date.fromisoformat(self.data["effective"])

    @property
    def commit(self) -> str:
        """The commit whose content the approver approved."""
        return self.data["commit"]

    @cached_property
    def signature(self) -> Signature | None:
        raw = self.data.get("signature")
        return Signature(raw["format"], raw["namespace"], raw["signature"]) if raw else None


@dataclass(frozen=True)
class ReviewRecord(_OfContent):
    """A periodic review of the revision in force (``qms review``)."""

    _person_key: ClassVar[str] = "reviewer"

    @property
    def reviewer(self) -> Signer:
        return self._person

    @property
    def outcome(self) -> str:
        return self.data["outcome"]


@dataclass(frozen=True)
class RetirementRecord(_OfRevision):
    """A document withdrawn (``qms retire``)."""

    _person_key: ClassVar[str] = "approver"

    @property
    def reason(self) -> str:
        return self.data["reason"]

    @property
    def superseded_by(self) -> str | None:
        return self.data.get("superseded_by")

    @property
    def approver(self) -> Signer:
        return self._person


@dataclass(frozen=True)
class TrainingRecord(_OfContent):
    """A person trained on one revision (``qms train``)."""

    _person_key: ClassVar[str] = "trainee"

    @property
    def trainee(self) -> Signer:
        return self._person

    @cached_property
    def trainer(self) -> Signer:
        return Signer.of(self.data["trainer"])

    @property
    def method(self) -> str:
        return self.data["method"]

    @property
    def note(self) -> str:
        return self.data.get("note", "")

    def maker(self) -> Signer:
        return self.trainer


@dataclass(frozen=True)
class DeviationRecord(Record):
    """A finding accepted by a role (``qms deviation``)."""

    _person_key: ClassVar[str] = "author"

    @property
    def code(self) -> str:
        """The finding code it accepts."""
        return self.data["code"]

    @property
    def reason(self) -> str:
        return self.data["reason"]

    @property
    def author(self) -> Signer:
        return self._person

    @property
    def role(self) -> str:
        return self.data["role"]

    @property
    def about(self) -> str | None:
        """The record or path the accepted finding is about, when it names one."""
        return self.data.get("record")


_CLASSES: dict[str, type[Record]] = {
    "change": ChangeRecord, "approval": ApprovalRecord, "review": ReviewRecord,
    "retirement": RetirementRecord, "training": TrainingRecord, "deviation": DeviationRecord,
}
KINDS = tuple(_CLASSES)
R = TypeVar("R", bound=Record)


def make_record(kind: str, path: str, data: dict[str, Any]) -> Record:
    """The record of ``kind`` (its class) for data already validated."""
    return _CLASSES[kind](kind=kind, path=path, data=data)


def of_kind(records: Iterable[Record], cls: type[R]) -> list[R]:
    """The records of one kind, in their order: ``of_kind(records, ApprovalRecord)``."""
    return [r for r in records if isinstance(r, cls)]


def retirement_of(records: Iterable[Record]) -> RetirementRecord | None:
    """The document's retirement record, if it was retired."""
    return next((r for r in records if isinstance(r, RetirementRecord)), None)
