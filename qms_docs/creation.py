"""New controlled documents: the checks of a new document's type, owner, clauses, title and
id against the policy in force, its file name, its text from the type's template, and its
change record to revision 1. ``qms new`` makes one document, ``qms import`` many (all or
nothing, through the journal like every act of actions.py).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import jinja2

from . import journal
from .actions import one_at_a_time, person_fields, write_act
from .catalog import resolve_clause
from .errors import Refused, UsageError
from .model import RECORDS_DIR, Person
from .records import inside_repository, journaled_record, new_record
from .text import checked_input
from .workspace import Workspace


def _slug(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", re.sub(r"['\u2019]", "", title.lower())).strip("-")
    return slug[:60].rstrip("-") or "document"


@dataclass(frozen=True)
class NewKind:
    """What every document one act creates shares: its type, owner and clauses, checked
    against the policy in force (``qms new`` makes one document of a kind, ``qms import``
    many)."""

    type_name: str
    owner: str
    clauses: tuple[str, ...]
    prefix: str
    digits: int
    markup: str

    def id_number(self, doc_id: str) -> int | None:
        """The number of an id of this type (``SOP-012`` -> 12), None if it is none."""
        match = re.match(rf"^{re.escape(self.prefix)}-([0-9]{{1,18}})$", doc_id)
        return int(match.group(1)) if match else None

    def make_id(self, number: int) -> str:
        return f"{self.prefix}-{number:0{self.digits}d}"


def checked_type(ws: Workspace, type_name: str) -> None:
    """A type of the policy in force, in a readable repository (or why not)."""
    config = ws.config
    if type_name not in config.types:
        if type_name in ws.working_config.types:
            raise Refused(f"document type {type_name!r} is in qms.toml but not in the policy "
                          "in force", hint="it can be used once the policy change is "
                                           "approved: qms status policy")
        raise UsageError(f"unknown document type {type_name!r}",
                         hint=f"use one of: {', '.join(config.types)}")
    ws.require_readable()


def new_kind(ws: Workspace, type_name: str, owner: str | None, satisfies: tuple[str, ...],
             markup: str) -> NewKind:
    """Check the type, owner and clauses of new documents (usage error or refusal)."""
    config = ws.config
    checked_type(ws, type_name)
    actor = ws.actor()
    owner = owner or (actor.roles[0] if actor.roles else None)
    if owner not in config.roles:
        raise UsageError(f"unknown owner role {owner!r}",
                         hint=f"use one of: {', '.join(sorted(config.roles))}")
    clauses = tuple(resolve_clause(ref, ws.catalogs).need_id for ref in satisfies)
    return NewKind(type_name, owner, clauses, config.types[type_name].prefix,
                   config.id_digits, markup)


def checked_title(title: str, markup: str) -> str:
    """A new document's title on one line, or a usage error saying what is wrong."""
    title = " ".join(checked_input(title, "the title").split())
    if not title or len(title) > 200:
        raise UsageError("the title must be 1 to 200 characters on one line")
    if markup == "md" and "`" in title:
        raise UsageError("a Markdown document's title cannot hold a backtick (`)",
                         hint="the title opens a ``` fence, which a backtick would break")
    return title


def checked_id(ws: Workspace, kind: NewKind, doc_id: str) -> str:
    """An id asked for (``--id``): it fits the type and is not used."""
    doc_id = doc_id.strip().upper()
    number = kind.id_number(doc_id)
    if number is None or len(doc_id) - len(kind.prefix) - 1 < kind.digits:
        raise UsageError(f"--id {doc_id} does not fit type {kind.type_name}",
                         hint=f"use {kind.prefix}- and {kind.digits} digits")
    if any(d.id == doc_id for d in ws.scan.documents):
        raise UsageError(f"{doc_id} is already used", hint="leave out --id to get the next "
                                                           "free id")
    return doc_id


def used_ids(ws: Workspace) -> set[str]:
    """Ids a new document cannot take: those of documents, and those with records (a
    document that was moved or deleted keeps its id)."""
    records_dir = ws.root / RECORDS_DIR
    try:
        recorded = set(os.listdir(records_dir)) if records_dir.is_dir() else set()
    except OSError:
        recorded = set()
    return {d.id for d in ws.scan.documents} | recorded


def next_ids(kind: NewKind, used: set[str]) -> Iterator[str]:
    """Free ids after the highest one used, in order."""
    number = max((n for u in used if (n := kind.id_number(u)) is not None), default=0) + 1
    while True:
        candidate = kind.make_id(number)
        if candidate not in used:
            yield candidate
        number += 1


def document_path(ws: Workspace, kind: NewKind, doc_id: str, title: str) -> str:
    """Where a new document goes (relative to the root, with /)."""
    folder = inside_repository(ws.root, ws.root / ws.config.types[kind.type_name].folder)
    return (folder / f"{doc_id.lower()}-{_slug(title)}.{kind.markup}").relative_to(
        ws.root).as_posix()


def document_writes(ws: Workspace, kind: NewKind, doc_id: str, title: str, actor: Person,
                    reason: str, summary: str | None = None, body: str = "",
                    files: dict[str, bytes] | None = None) -> list[journal.Write]:
    """The files of one new document: the text (the type's template, or its header over
    ``body``), its change record to revision 1, and ``files`` (path relative to the root ->
    bytes: pictures it shows). Nothing is written here."""
    config = ws.config
    policy = config.types[kind.type_name]
    inside_repository(ws.root, ws.root / RECORDS_DIR)
    rel = document_path(ws, kind, doc_id, title)
    template = jinja2.Template(
        resources.files("qms_docs").joinpath("templates", f"document.{kind.markup}.j2")
        .read_text("utf-8"),
        keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    text = template.render(type=kind.type_name, title=title, id=doc_id, owner=kind.owner,
                           satisfies=kind.clauses, type_title=policy.title,
                           owner_title=config.roles[kind.owner], example_ref=doc_id,
                           body=body.rstrip("\n"))
    writes = [journal.new_file(ws.root, rel, text.encode("utf-8"))]
    writes += [journal.new_file(ws.root, path, data) for path, data in (files or {}).items()]
    writes.append(journaled_record(ws.root, new_record(
        "change", doc_id, from_revision=0, to_revision=1, reason=reason,
        summary=summary or f"Created {policy.title.lower()} {doc_id}", author=person_fields(actor),
        training=True)))
    return writes


def create_documents(ws: Workspace, command: str, plans: list[tuple[str, list[journal.Write]]]
                     ) -> list[Path]:
    """Write the files of new documents (id -> writes), all or nothing, holding the lock;
    refused when an id was taken meanwhile. The paths written."""
    with one_at_a_time(ws, rescan=True):
        taken = used_ids(ws)
        for doc_id, _ in plans:
            if doc_id in taken:
                raise UsageError(f"{doc_id} was taken by another act meanwhile",
                                 hint="nothing was written: run the command again")
        return write_act(ws, command, [w for _, writes in plans for w in writes])


def new_document(ws: Workspace, type_name: str, title: str, owner: str | None = None,
                 satisfies: tuple[str, ...] = (), doc_id: str | None = None,
                 reason: str = "New document", markup: str = "rst") -> tuple[Path, Path]:
    """Create a document from its type's template at revision 1, with a change record."""
    checked_type(ws, type_name)
    title = checked_title(title, markup)
    kind = new_kind(ws, type_name, owner, satisfies, markup)
    actor = ws.actor()
    if doc_id is not None:
        doc_id = checked_id(ws, kind, doc_id)
    with one_at_a_time(ws):
        used = used_ids(ws)
        if doc_id is not None:
            if doc_id in used:
                raise UsageError(f"{doc_id} is already used (records/{doc_id} exists)",
                                 hint="leave out --id to get the next free id")
        else:
            doc_id = next(next_ids(kind, used))
        writes = document_writes(ws, kind, doc_id, title, actor, reason)
        path, record_path = write_act(ws, "new", writes)
        return path, record_path
