"""Content-addressed caches: parsed, validated records and fingerprints of git blobs.

Reading a record costs little; building its Python objects from YAML and validating
them against the schema costs most of ``qms check`` (about 0.3 ms per record, some
ten thousand records at a thousand documents). Records never change once written, so
the parsed data of each valid record is kept under the SHA-256 of its bytes, in one
JSON file inside the git directory (``.git/qms/records-cache.json``: never committed,
never seen in the working tree).

The cache cannot change a result: an entry is found only by the exact bytes of a
record, and the whole cache is dropped when qms-docs or a schema changes (its key
holds both). Invalid records are never cached, so their findings are always made
afresh. A missing, unreadable or damaged cache is ignored and rewritten; writes are
atomic (temporary file and rename), so concurrent processes leave one whole cache.
``QMS_NO_CACHE=1`` turns it off.

The same mechanism keeps the fingerprint and header revision of every document version
in the history under its git blob id (itself a hash of the content), so ``qms verify``
does not read every old version again (``.git/qms/blob-fingerprints.json``).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from functools import lru_cache
from importlib import metadata, resources
from pathlib import Path
from typing import Any

CACHE_NAME = "records-cache.json"
BLOBS_NAME = "blob-fingerprints.json"
HISTORY_NAME = "history.json"
FORMAT = 1


def git_dir(root: Path) -> Path | None:
    """The git directory of the repository holding ``root`` (no git process started)."""
    for folder in (root, *root.resolve().parents):
        dot_git = folder / ".git"
        if dot_git.is_dir():
            return dot_git
        if dot_git.is_file():  # a worktree or submodule: "gitdir: <path>"
            try:
                line = dot_git.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError):
                return None
            if line.startswith("gitdir:"):
                target = Path(line[len("gitdir:"):].strip())
                target = target if target.is_absolute() else folder / target
                return target if target.is_dir() else None
            return None
    return None


@lru_cache(maxsize=None)
def stamp() -> str:
    """What the cached data depends on besides the record's bytes: qms-docs and schemas."""
    try:
        version = metadata.version("qms-docs")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a source tree
        version = "source"
    schemas = resources.files("qms_docs.records_schema")
    h = hashlib.sha256(f"{FORMAT}:{version}".encode())
    for entry in sorted(schemas.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            h.update(entry.name.encode() + b"\0" + entry.read_bytes())
    # the validation code itself: a change to it changes what "valid" means
    for module in ("records.py", "yamlio.py", "documents.py", "includes.py"):
        h.update(Path(__file__).with_name(module).read_bytes())
    return h.hexdigest()


class ContentCache:
    """Values by content digest; ``get`` and ``put`` then ``save`` once.

    With ``prune``, saving keeps only the entries used in this run (a run that reads all
    records); without, it keeps everything (a run may look at a part of the history).
    """

    def __init__(self, file: Path | None, prune: bool = True) -> None:
        self.file = file
        self.prune = prune
        self.stamp = stamp() if file is not None else ""
        self.entries: dict[str, Any] = {}
        self.used: set[str] = set()
        self.dirty = False
        if file is not None:
            self._load()

    @classmethod
    def for_root(cls, root: Path, name: str = CACHE_NAME, prune: bool = True) -> ContentCache:
        return cls(store_path(root, name), prune)

    def _load(self) -> None:
        data = read_store(self.file, self.stamp)
        if data is not None and isinstance(data.get("entries"), dict):
            self.entries = data["entries"]

    def get(self, key: str) -> Any:
        data = self.entries.get(key)
        if data is not None:
            self.used.add(key)
        return data

    def put(self, key: str, data: Any) -> None:
        if self.file is None:
            return
        self.entries[key] = data
        self.used.add(key)
        self.dirty = True

    def save(self) -> None:
        """Write the cache if anything changed (when pruning, only the entries used)."""
        stale = self.prune and len(self.used) != len(self.entries)
        if self.file is None or not (self.dirty or stale):
            return
        entries = {k: self.entries[k] for k in self.used} if self.prune else self.entries
        write_store(self.file, self.stamp, {"entries": entries})


def store_path(root: Path, name: str) -> Path | None:
    """Where the cache file ``name`` is kept (None when caching is off or there is no git
    directory)."""
    if os.environ.get("QMS_NO_CACHE"):
        return None
    folder = git_dir(root)
    return folder / "qms" / name if folder is not None else None


def read_store(file: Path, expected: str) -> dict[str, Any] | None:
    """A cache file's data if it is whole JSON made by this version (else None)."""
    try:
        data = json.loads(file.read_bytes())
    except (OSError, ValueError):
        return None
    if isinstance(data, dict) and data.get("stamp") == expected:
        return data
    return None


def write_store(file: Path, stamp_: str, data: dict[str, Any]) -> None:
    """Replace a cache file atomically; a read-only repository simply keeps no cache."""
    payload = json.dumps({"stamp": stamp_, **data}, separators=(",", ":")).encode("utf-8")
    temporary = file.with_name(f".{file.name}.{secrets.token_hex(6)}")
    try:
        file.parent.mkdir(exist_ok=True)
        temporary.write_bytes(payload)
        os.replace(temporary, file)
    except OSError:
        temporary.unlink(missing_ok=True)
