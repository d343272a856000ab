"""Records: read, validate and atomically append the QMS's retained information.

One YAML file per record under ``records/<DOCUMENT-ID>/``. A record is created
exclusively (never overwriting), written atomically (temporary file, fsync, hard link
to its final name) with the other files of its act through the journal (journal.py),
and never edited or deleted afterwards: a new fact is a new file.
Every kind has a JSON Schema in ``records_schema/``, and a typed class in record_kinds.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import schemas, yamlio
from .atomic import create_file
from .cache import ContentCache
from .errors import InputError
from .journal import Write, digest
from .model import DOCUMENT_ID, RECORDS_DIR, Finding
from .record_kinds import KINDS, Record, make_record, parse_datetime
from .text import decode_utf8


@dataclass
class RecordSet:
    """Every record of a QMS, by document, plus the files that are not valid records."""

    records: list[Record] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    _grouped: dict[str, list[Record]] | None = field(default=None, repr=False, compare=False)
    _grouped_size: int = field(default=-1, repr=False, compare=False)

    def for_document(self, doc_id: str) -> list[Record]:
        return list(self.by_document().get(doc_id, ()))

    def by_document(self) -> dict[str, list[Record]]:
        """Records grouped by document id (computed once; the set is read-only)."""
        if self._grouped is None or self._grouped_size != len(self.records):
            grouped: dict[str, list[Record]] = {}
            for record in self.records:
                grouped.setdefault(record.document, []).append(record)
            self._grouped, self._grouped_size = grouped, len(self.records)
        return self._grouped


def now() -> dt.datetime:
    """The current time, to the second, with the local time zone."""
    return dt.datetime.now(dt.UTC).astimezone().replace(microsecond=0)


def current_date() -> dt.date:
    """Today, in the local time zone (from :func:`now`, the one clock of qms-docs)."""
    return now().date()


def _normalize(value: Any) -> Any:
    """YAML turns unquoted dates into date objects; records hold them as text."""
    if isinstance(value, dict):
        return {str(k): _normalize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalize(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def validate_record(data: Any, display: str, text: str = "") -> Record:
    """Check one parsed record against its kind's schema; raise InputError if invalid."""
    if not isinstance(data, dict):
        raise InputError("a record must be a YAML mapping (key: value lines)", path=display,
                         hint="compare with a record written by qms")
    data = _normalize(data)
    kind = data.get("kind")
    if kind not in KINDS:
        raise InputError(f"unknown record kind {kind!r}", path=display,
                         hint=f"kind is one of: {', '.join(KINDS)}")
    errors = schemas.validate(data, kind)
    if errors:
        where, what = errors[0]
        key = re.split(r"[.\[]", where)[0] if where else ""
        line = next((n for n, row in enumerate(text.splitlines(), 1)
                     if key and row.startswith(f"{key}:")), None)
        raise InputError(f"invalid {kind} record: {where or 'top level'}: {what}", path=display,
                         line=line,
                         hint=f"qms_docs/records_schema/{kind}.schema.json gives the allowed shape")
    for key, parse in (("date", parse_datetime), ("effective", dt.date.fromisoformat)):
        if key in data:  # the schema checks the shape; a day like 2025-02-30 is no date
            try:
                parse(data[key])
            except ValueError:
                line = next((n for n, row in enumerate(text.splitlines(), 1)
                             if row.startswith(f"{key}:")), None)
                raise InputError(f"invalid {kind} record: {key}: {data[key]!r} is not a real "
                                 "date", path=display, line=line,
                                 hint="a real day and time: YYYY-MM-DD, HH:MM:SS, a time "
                                      "zone from -23:59 to +23:59") from None
    return make_record(kind, display, data)


def load_records(root: Path, cache_from: Path | None = None) -> RecordSet:
    """Read every ``records/**/*.yaml`` file; invalid ones become ``invalid-record`` findings.

    ``cache_from``: the repository whose record cache serves a tree outside git (a
    controlled build's copy of its records); entries are kept, not pruned to this tree's.
    """
    result = RecordSet()
    base = root / RECORDS_DIR
    if base.is_symlink():
        result.findings.append(Finding("invalid-record", "records/ is a symbolic link: qms "
                                       "reads and writes records only inside the repository",
                                       RECORDS_DIR, None, "make records/ a real folder"))
        return result
    if not base.is_dir():
        return result
    parsed = ContentCache.for_root(cache_from or root, prune=cache_from is None)
    for display, entry in _walk(base, RECORDS_DIR):
        if entry.is_symlink():  # never followed: it could lead anywhere
            result.findings.append(Finding("invalid-record", "a symbolic link, not a record "
                                           "file", display, None,
                                           "records are files: remove the link"))
            continue
        name = entry.name
        if not entry.is_file() or name.startswith(".") or name.startswith("~"):
            continue
        if not name.endswith((".yaml", ".yml")):
            result.findings.append(Finding("invalid-record", "not a record file (records are "
                                           ".yaml files)", display, None,
                                           "move the file out of records/"))
            continue
        try:
            payload = _read(entry.path, display)
            if len(payload) > yamlio.MAX_BYTES:  # read no further: it could be huge
                raise InputError(f"record file is too large (limit {yamlio.MAX_BYTES} bytes)",
                                 path=display)
            key = digest(payload)
            data = parsed.get(key)
            if isinstance(data, dict) and data.get("kind") in KINDS:
                result.records.append(make_record(data["kind"], display, data))
                continue
            text = decode_utf8(payload, display)
            record = validate_record(yamlio.load_text(text, display), display, text)
            parsed.put(key, record.data)
            result.records.append(record)
        except InputError as exc:
            result.findings.append(Finding("invalid-record", exc.message, display, exc.line,
                                           exc.hint))
    parsed.save()
    result.records = _placed_and_unique(result)
    result.records.sort(key=lambda r: (r.stated, r.path))
    return result


def _placed_and_unique(result: RecordSet) -> list[Record]:
    """The records that count: those in ``records/<their document>/`` whose id no record
    before them (in path order) holds. The others become findings and count nowhere: a
    record filed under another document, or copied under a second name, could otherwise
    make a document effective or hide a record that should count."""
    kept: list[Record] = []
    first: dict[str, Record] = {}
    for record in sorted(result.records, key=lambda r: r.path):  # path order, as walked
        parts = record.path.split("/")
        if len(parts) != 3 or parts[1] != record.document:
            where = ("directly in records/" if len(parts) == 2
                     else f"in {'/'.join(parts[:-1])}/")
            result.findings.append(Finding(
                "record-misplaced", f"a {record.kind} record of {record.document} filed "
                f"{where}: it counts nowhere", record.path, None,
                f"records of {record.document} sit in records/{record.document}/: move it "
                "there (git mv) if it is genuine, or remove it", record.document))
            continue
        other = first.get(record.id)
        if other is not None:
            result.findings.append(Finding(
                "duplicate-record-id", f"record id {record.id} is already used by "
                f"{other.path}: this record counts nowhere", record.path, None,
                "each record has its own id (qms writes a fresh one): remove the copy",
                record.document))
            result.findings.append(Finding(
                "duplicate-record-id", f"record id {record.id} is used again by "
                f"{record.path}, which counts nowhere", other.path, None,
                f"remove the copy {record.path}", other.document))
            continue
        first[record.id] = record
        kept.append(record)
    return kept


def _walk(folder: Path, display: str) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """(display path, DirEntry) of everything below ``folder``, in path order; symbolic
    links to folders are listed, not entered."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        raise InputError(f"cannot read folder: {exc.strerror}", path=display,
                         hint="check the folder's permissions") from None
    for entry in entries:
        shown = f"{display}/{entry.name}"
        yield shown, entry
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(Path(entry.path), shown)


def _read(path: str, display: str) -> bytes:
    """The file's bytes, up to one byte more than a record may hold."""
    try:
        with open(path, "rb") as handle:
            return handle.read(yamlio.MAX_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read the record file: {exc.strerror}", path=display,
                         hint="give the user running qms read access") from None


def new_record(kind: str, document: str, **fields: Any) -> dict[str, Any]:
    """A record's data with its kind, a fresh id, the document and the current time."""
    return {"kind": kind, "id": uuid.uuid4().hex, "document": document,
            "date": now().isoformat(), **fields}


def _payload(root: Path, data: dict[str, Any]) -> tuple[Path, str, bytes]:
    """Validate a new record: its folder, the start of its file name and its bytes."""
    document = data.get("document", "")
    if not DOCUMENT_ID.fullmatch(str(document)):
        raise InputError(f"not a document id: {document!r}")
    validate_record(data, f"<new {data.get('kind')} record>")
    folder = inside_repository(root, root / RECORDS_DIR / document)
    stamp = parse_datetime(data["date"]).astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    text = "# qms-docs record: written by qms, never edited. A new fact is a new record.\n"
    text += yamlio.dump(data)
    return folder, f"{stamp}-{data['kind']}", text.encode("utf-8")


def write_record(root: Path, data: dict[str, Any]) -> Path:
    """Validate and atomically create a new record file now, on its own; returns its path.

    Never overwrites: the final name is claimed with a hard link, which fails if the
    name exists. A crash leaves either no record or the complete record (see
    :func:`~qms_docs.atomic.create_file`). The acts do not use it: they make theirs with
    :func:`journaled_record` and write it through the journal, with the other files they
    change, all or nothing.
    """
    folder, stem, payload = _payload(root, data)
    folder.mkdir(parents=True, exist_ok=True)
    names = (f"{stem}-{secrets.token_hex(3)}.yaml" for _ in range(100))
    final = create_file(folder, payload, names)
    if final is None:  # pragma: no cover - 100 collisions of 24 random bits
        raise InputError("could not find a free record file name", path=str(folder))
    return final


def journaled_record(root: Path, data: dict[str, Any]) -> Write:
    """A new record as a write of the journal, not yet written: validated, under a free
    file name, to be created exclusively (never overwriting another file) when the act
    commits its writes (:func:`~qms_docs.journal.commit`)."""
    folder, stem, payload = _payload(root, data)
    for _ in range(100):
        path = folder / f"{stem}-{secrets.token_hex(3)}.yaml"
        if not os.path.lexists(path):
            return Write(path.relative_to(root).as_posix(), payload, None)
    raise InputError("could not find a free record file name",  # pragma: no cover
                     path=str(folder))


def inside_repository(root: Path, path: Path) -> Path:
    """``path`` if it stays inside ``root`` once symbolic links are resolved (checked
    before anything is created there); an InputError otherwise."""
    if not path.resolve().is_relative_to(root.resolve()):
        raise InputError(f"{path.relative_to(root).as_posix()} leads outside the repository "
                         "(a symbolic link)", path=path.relative_to(root).as_posix(),
                         hint="qms writes only inside the repository: replace the link by a "
                              "folder")
    return path


def holds_added_bytes(root: Path, path: str, blob: str) -> bool | None:
    """Whether the record at ``path`` holds the bytes it was committed with (git blob
    ``blob``), or those bytes with CRLF line endings (a checkout with ``core.autocrlf``);
    None if it cannot be read. The one answer to "was this record altered": a record
    counts only while it does (authority), and verify shows an alteration of one that does
    again (restored) as a warning, not an error."""
    try:
        data = (root / path).read_bytes()
    except OSError:
        return None
    return blob in {hashlib.sha1(b"blob %d\0" % len(body) + body).hexdigest()
                    for body in (data, data.replace(b"\r\n", b"\n"))}
