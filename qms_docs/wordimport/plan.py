"""``qms import``: Word files in, controlled documents out, all or nothing.

Every file is converted first (:mod:`convert`); then each gets its id (the number of its
Word header when it fits the type's prefix and is free, else the next free one), and its
files are planned the way ``qms new`` plans one document (creation.py: the text under a
header at revision 1, a change record, here also its pictures). Only when every file
converted are they all written, through one journal: one bad file writes nothing.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from .. import creation, journal
from ..errors import InputError, Refused, UsageError
from ..model import Person
from ..text import plural
from ..workspace import Workspace
from .convert import Converted, pandoc, read_docx, write_body
from .scan import Problem
from .tables import summary

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class Planned:
    """One Word file's controlled document, as it will be written."""

    source: Path
    doc_id: str
    title: str
    owner: str
    path: str  # of the document, relative to the root
    pictures: list[str]  # their paths, relative to the root
    notes: list[str] = field(default_factory=list)  # what the import decided, for the reader
    problems: list[Problem] = field(default_factory=list)
    writes: list[journal.Write] = field(default_factory=list)


def word_files(paths: Iterable[Path]) -> list[Path]:
    """The .docx files named, folders read for theirs (Word's ``~$`` lock files left
    out), each once, in order; a usage error for anything else."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() == ".docx"
                           and not p.name.startswith("~$") and p.is_file())
            if not found:
                raise UsageError(f"{path} holds no .docx file",
                                 hint="name the folder that holds the Word files")
            out.extend(found)
        elif not path.exists():
            raise UsageError(f"{path} does not exist")
        elif path.suffix.lower() == ".doc":
            raise InputError("a Word 97-2003 .doc file: qms imports .docx", path=str(path),
                             hint="open it in Word and save it as .docx (File > Save As)")
        elif path.suffix.lower() != ".docx":
            raise InputError("not a Word .docx file", path=str(path))
        else:
            out.append(path)
    return list(dict.fromkeys(p.resolve() for p in out))


def plan_import(ws: Workspace, files: list[Path], type_name: str, owner: str | None = None,
                satisfies: tuple[str, ...] = (), markup: str = "rst",
                doc_id: str | None = None,
                progress: Callable[[Path], None] | None = None) -> list[Planned]:
    """Convert each Word file and plan its document; nothing is written. Every file that
    cannot be converted is named in one error (exit 2). ``progress`` is called twice per
    file (read, written as text)."""
    if not files:
        raise UsageError("no Word file to import")
    if doc_id is not None and len(files) > 1:
        raise UsageError("--id names the id of one document, but several files are imported",
                         hint="leave out --id: each file gets its Word number or the next "
                              "free id")
    pandoc()  # the import extra, before anything else
    kind = creation.new_kind(ws, type_name, owner, satisfies, markup)
    wanted = creation.checked_id(ws, kind, doc_id) if doc_id is not None else None
    actor = ws.actor()
    failed: list[str] = []
    read = _in_parallel(lambda source: read_docx(source, markup), files, progress)
    converted = [item for item in read if isinstance(item, Converted)]
    failed += [str(item) for item in read if isinstance(item, InputError)]
    plans = [_first_plan(ws, kind, owner, item) for item in converted]
    _assign_ids(ws, kind, plans, converted, wanted)
    for plan in plans:
        plan.path = creation.document_path(ws, dataclasses.replace(kind, owner=plan.owner),
                                          plan.doc_id, plan.title)
    bodies = _in_parallel(lambda pair: write_body(pair[1], markup, Path(pair[0].path).stem),
                          list(zip(plans, converted, strict=True)), progress and (
                              lambda pair: progress(pair[1].source)))
    for plan, item, body in zip(plans, converted, bodies, strict=True):
        if isinstance(body, InputError):
            failed.append(str(body))
            continue
        _plan_files(ws, dataclasses.replace(kind, owner=plan.owner), plan, item, body, actor)
    if failed:
        raise InputError(f"{len(failed)} of {plural(len(files), 'file')} cannot be imported, "
                         "so none is:\n  " + "\n  ".join(failed),
                         hint="fix or leave out those files and run the import again")
    return plans


def _in_parallel(work: Callable[[T], R], items: list[T],
                 progress: Callable[[T], object] | None) -> list[R | InputError]:
    """``work`` on every item, in as many threads as the machine has cores (pandoc runs
    as its own process, so they convert side by side); results in order, an InputError
    where one failed; ``progress`` called in this thread as each finishes, in order."""
    def attempt(item: T) -> R | InputError:
        try:
            return work(item)
        except InputError as exc:
            return exc

    workers = max(1, min(len(items), os.cpu_count() or 1))
    out: list[R | InputError] = []
    with ThreadPoolExecutor(workers) as pool:
        for item, result in zip(items, pool.map(attempt, items), strict=True):
            out.append(result)
            if progress:
                progress(item)
    return out


def _first_plan(ws: Workspace, kind: creation.NewKind, owner: str | None,
                item: Converted) -> Planned:
    """The title and owner of a converted file; its id comes later."""
    notes: list[str] = []
    title = item.header.get("title") or item.meta_title
    if not title:
        title = re.sub(r"^[A-Za-z]+[-_ ]?\d+[\s_-]*", "", item.source.stem).strip() or \
            item.source.stem
        notes.append(f"title from the file name: {title}")
    try:
        title = creation.checked_title(title, kind.markup)
    except UsageError:
        title = creation.checked_title(title.replace("`", "'")[:200], kind.markup)
    chosen = kind.owner
    word_owner = item.header.get("owner")
    if owner is None and word_owner:
        role = _role(ws, word_owner)
        if role:
            chosen = role
            notes.append(f"owner {role} (the Word header's '{word_owner}')")
        else:
            notes.append(f"owner {chosen}: the Word header's '{word_owner}' is no role of "
                         "qms.toml (--owner sets it)")
    return Planned(item.source, "", title, chosen, "", [], notes, list(item.problems))


def _role(ws: Workspace, text: str) -> str | None:
    """The role of qms.toml a Word owner names, by id or title, if one does."""
    wanted = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    for role, title in ws.config.roles.items():
        if wanted in (role, re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")):
            return role
    return None


def _assign_ids(ws: Workspace, kind: creation.NewKind, plans: list[Planned],
                converted: list[Converted], wanted: str | None) -> None:
    """``--id``, else the Word number where it fits and is free, else the next free id;
    Word numbers first, so a file without one never takes another's number."""
    used = creation.used_ids(ws)
    if wanted is not None:
        plans[0].doc_id = wanted
        return
    for plan, item in zip(plans, converted, strict=True):
        number = item.header.get("number")
        if not number:
            continue
        fits = re.fullmatch(rf"{re.escape(kind.prefix)}[\s_-]*0*(\d{{1,9}})", number.strip(),
                            re.IGNORECASE)
        if fits is None:
            plan.notes.append(f"the Word number {number} does not fit {kind.prefix}- ids: "
                              "the next free id is used")
            continue
        candidate = kind.make_id(int(fits.group(1)))
        if candidate in used:
            plan.notes.append(f"{candidate} (the Word number {number}) is taken: the next free "
                              "id is used")
            continue
        plan.doc_id = candidate
        used.add(candidate)
        plan.notes.append(f"{candidate} from the Word number {number}")
    free = creation.next_ids(kind, used)
    for plan in plans:
        if not plan.doc_id:
            plan.doc_id = next(free)
            used.add(plan.doc_id)


def _plan_files(ws: Workspace, kind: creation.NewKind, plan: Planned, item: Converted,
                body: tuple[str, dict[str, bytes]], actor: Person) -> None:
    """The document's text, pictures and change record, as journal writes."""
    text, pictures = body
    stem = Path(plan.path).stem
    folder = Path(plan.path).parent.as_posix()
    files = {f"{folder}/{stem}/{name}": data for name, data in pictures.items()}
    reason = f"Imported from {item.source.name} (sha256 {item.sha256})"
    plan.pictures = sorted(files)
    plan.writes = creation.document_writes(ws, kind, plan.doc_id, plan.title, actor, reason,
                                          summary(item.header, item.history), text, files)


def refusal(plans: list[Planned]) -> Refused | None:
    """Why ``--strict`` writes nothing: the number of things not converted faithfully."""
    count = sum(len(p.problems) for p in plans)
    if not count:
        return None
    files = sum(1 for p in plans if p.problems)
    return Refused(f"--strict: {plural(count, 'thing')} in {plural(files, 'file')} cannot "
                   "be converted faithfully; nothing was written",
                   hint="fix them in Word (see the warnings), or import without --strict")


def write(ws: Workspace, plans: list[Planned]) -> list[Path]:
    """Write every planned document, all or nothing."""
    return creation.create_documents(ws, "import", [(p.doc_id, p.writes) for p in plans])


def import_files(ws: Workspace, files: list[Path], type_name: str, owner: str | None = None,
                 satisfies: tuple[str, ...] = (), markup: str = "rst",
                 doc_id: str | None = None, strict: bool = False) -> list[Planned]:
    """Plan and write: ``qms import`` without its terminal."""
    plans = plan_import(ws, files, type_name, owner, satisfies, markup, doc_id)
    if strict and (refused := refusal(plans)):
        raise refused
    write(ws, plans)
    return plans
