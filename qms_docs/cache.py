"""Content-addressed caches: parsed, validated records and fingerprints of git blobs.

Reading a record costs little; building its Python objects from YAML and validating
them against the schema costs most of ``qms check`` (about 0.3 ms per record, some
ten thousand records at a thousand documents). Records never change once written, so
the parsed data of each valid record is kept under the SHA-256 of its bytes, in one
JSON file inside the git directory (``.git/qms/records-cache.json``: never committed,
never seen in the working tree).

The cache cannot change a result: an entry is found only by the exact bytes of a
record, and the whole cache is dropped when any module, schema or catalog of qms-docs
changes (its stamp is a digest of them all). Invalid records are never cached, so their
findings are always made afresh. A missing, unreadable or damaged cache is ignored and
rewritten; writes are atomic (temporary file and rename), so concurrent processes leave
one whole cache.
``QMS_NO_CACHE=1`` turns it off.

Nor can a cache be planted: every cache file opens with an HMAC-SHA256 of the rest of
its bytes, made with a random key of this repository that qms keeps beside the caches
(``.git/qms/key``, mode 0600, never committed). A file whose MAC does not verify (one
written by hand, by a journal, restored from elsewhere) is ignored as a damaged one: an
entry claiming that a training record's bytes are an approval is never believed. One MAC
over the whole file costs one pass of SHA-256 over it (milliseconds), where a MAC per
entry would cost a canonical JSON dump of each entry.

The same mechanism keeps the fingerprint and header revision of every document version
in the history under its git blob id (itself a hash of the content), so ``qms verify``
does not read every old version again (``.git/qms/blob-fingerprints.json``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from functools import cache
from pathlib import Path
from typing import Any

from . import __version__
from .atomic import write_atomic
from .gitrepo import git_dir

CACHE_NAME = "records-cache.json"
KEY_NAME = "key"
_MAGIC = b"qms-cache hmac-sha256 "
BLOBS_NAME = "blob-fingerprints.json"
HISTORY_NAME = "history.json"
FORMAT = 2


#: What the package's cached results depend on besides its code: the schemas that say
#: what a valid record is, and the clause catalogs.
DATA_FILES = ("records_schema/*.json", "standards/*.yaml")


@cache
def stamp() -> str:
    """What the cached data depends on besides the record's bytes: qms-docs itself."""
    return package_digest(Path(__file__).parent)


def package_digest(package: Path) -> str:
    """A digest of every module of the package at ``package`` and of its data files.

    Every module, not a chosen few: what makes a record valid or a revision readable is
    spread over many, and a module left out would keep stale entries after an edit
    (the version string does not change with each edit). Reading some seventy small
    files costs a few milliseconds, once per process.
    """
    # the version too: it still counts where the sources cannot be listed (a zip import)
    h = hashlib.sha256(f"{FORMAT}:{__version__}".encode())
    files = [*package.rglob("*.py"), *(f for pattern in DATA_FILES for f in package.glob(pattern))]
    for file in sorted(files, key=lambda f: f.relative_to(package).as_posix()):
        h.update(file.relative_to(package).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(file.read_bytes()).digest())
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
        if self.file is None:
            return
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


def cache_key(folder: Path, create: bool = False) -> bytes | None:
    """The repository's secret cache key (``folder/key``), made on first use when
    ``create``; None if there is none or it cannot be read or made (then no cache is
    believed or kept). Never followed through a symbolic link."""
    path = folder / KEY_NAME
    nofollow = getattr(os, "O_NOFOLLOW", 0)
    for _ in range(2):
        try:
            fd = os.open(path, os.O_RDONLY | nofollow)
        except FileNotFoundError:
            if not create:
                return None
            try:
                folder.mkdir(exist_ok=True)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | nofollow, 0o600)
            except FileExistsError:
                continue  # another process made it just now: read theirs
            except OSError:
                return None
            key = secrets.token_bytes(32)
            with os.fdopen(fd, "wb") as handle:
                handle.write(key)
            return key
        except OSError:
            return None
        with os.fdopen(fd, "rb") as handle:
            key = handle.read(64)
        if len(key) == 32:
            return key
        if not create:
            return None
        try:  # a damaged key: a new one (which no cache file verifies with)
            path.unlink()
        except OSError:
            return None
    return None


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).hexdigest().encode("ascii")


def seal(key: bytes, payload: bytes, bound: bytes = b"", magic: bytes = _MAGIC) -> bytes:
    """``payload`` behind a line holding ``magic`` and the HMAC of ``bound + payload``
    (``bound``: what the payload must belong to, e.g. the digest it is filed under)."""
    return magic + _mac(key, bound + payload) + b"\n" + payload


def unseal(key: bytes, raw: bytes, bound: bytes = b"", magic: bytes = _MAGIC) -> bytes | None:
    """The payload of what :func:`seal` made with the same key, bound and magic; None for
    anything else (damaged, foreign, planted)."""
    head, _, payload = raw.partition(b"\n")
    if head.startswith(magic) and hmac.compare_digest(head[len(magic):],
                                                      _mac(key, bound + payload)):
        return payload
    return None


def read_store(file: Path, expected: str) -> dict[str, Any] | None:
    """A cache file's data if its MAC verifies with the repository's key and it is whole
    JSON made by this version (else None: a damaged, foreign or planted cache)."""
    key = cache_key(file.parent)
    if key is None:
        return None
    try:
        raw = file.read_bytes()
    except OSError:
        return None
    payload = unseal(key, raw)
    if payload is None:
        return None
    try:
        data = json.loads(payload)
    except ValueError:
        return None
    if isinstance(data, dict) and data.get("stamp") == expected:
        return data
    return None


def write_store(file: Path, stamp_: str, data: dict[str, Any]) -> None:
    """Replace a cache file atomically, with its MAC; a read-only repository simply keeps
    no cache."""
    key = cache_key(file.parent, create=True)
    if key is None:
        return
    payload = json.dumps({"stamp": stamp_, **data}, separators=(",", ":")).encode("utf-8")
    try:  # a cache need not survive a crash: not synced
        write_atomic(file, seal(key, payload), sync=False)
    except OSError:
        pass
