"""The QMS as it stood on a date: what the audit pack and every ``--as-of`` report read.

One machinery, one answer. ``qms audit-pack --as-of``, ``qms trace --as-of`` (with
``--clause``, ``--gaps``, ``--mandatory``) and ``qms list --as-of`` all take their
documents, statuses, policy and records from :func:`load`: the controlled tree of that day
(:func:`qms_docs.publish.controlled_tree`: the policy then in force, each document's
revision then in force from git, only the records that count and had taken effect by the
end of that day), with every status derived for that day. A date before the QMS's first
record, or after today, is refused the same way everywhere (exit 2).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import publish
from .documents import scan
from .errors import UsageError
from .model import Config, Document
from .records import RecordSet
from .status import StatusInfo, derive_all
from .workspace import Workspace


@dataclass(frozen=True)
class AsOf:
    """What was in force on ``day``: the tree that holds it, its policy, records that
    counted then, documents (each its revision in force) and their statuses that day."""

    day: dt.date
    tree: publish.Tree
    config: Config
    records: RecordSet
    documents: list[Document]
    statuses: dict[str, StatusInfo]

    @property
    def root(self) -> Path:
        return self.tree.root


def first_day(ws: Workspace) -> dt.date | None:
    """The day the QMS's history starts: the day its first record that counts took effect
    (None: no record yet)."""
    days = [record.date.date() for record in ws.records.records]
    return min(days) if days else None


def check_day(ws: Workspace, day: dt.date) -> None:
    """Refuse a date the QMS has no state for: after today, or before its first record."""
    if day > ws.today:
        raise UsageError(f"--as-of {day} is in the future", hint=f"today is {ws.today}")
    first = first_day(ws)
    if first is None:
        raise UsageError(f"the QMS has no history before {day}: it has no records yet",
                         hint="records are made by qms new, revise, approve, ...")
    if day < first:
        raise UsageError(f"the QMS has no history before {first}",
                         hint=f"give a date from {first} on")


def load(ws: Workspace, day: dt.date, work: Path) -> AsOf:
    """The QMS as it stood on ``day``, its tree written under ``work`` (which the caller
    removes). The date is not checked here: :func:`check_day` (or :func:`state_on`)."""
    tree = publish.controlled_tree(ws, work / "source", as_of=day)
    config, records = tree.config, tree.records
    assert config is not None and records is not None  # a controlled tree holds both
    documents = [d for d in scan(tree.root, config).documents
                 if d.id and d.type in config.types]
    return AsOf(day, tree, config, records, documents,
                derive_all(documents, records, config, day))


@contextmanager
def state_on(ws: Workspace, day: dt.date) -> Iterator[AsOf]:
    """:func:`load` in a temporary folder, after :func:`check_day`."""
    check_day(ws, day)
    with tempfile.TemporaryDirectory(prefix="qms-as-of-") as temporary:
        yield load(ws, day, Path(temporary))
