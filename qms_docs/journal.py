"""All or nothing: the write-ahead journal and the repository lock (each file is written
atomically by atomic.py).

An act of document control decides every file it writes (its path, its final bytes and
what the file holds now), then, holding the repository lock, writes that intent to one
file, ``.qms-journal.json`` in the QMS root, atomically; then writes each file
atomically; then removes the journal. A process killed at any moment leaves no journal
(the repository as before, or as after) or a complete one, which the next qms command
rolls forward before it reads anything (:func:`recover`). Rolling forward writes only the
files that do not hold their final content yet, so a kill during a recovery is recovered
by the next command; a file that holds neither what the act expected nor what it meant to
write (edited by hand in between) is refused, never overwritten.

A journal is the tool's own state, never the repository's content: one that git tracks (in
the index or in HEAD: it came with a clone or a pull, not from a crash here) is never rolled
forward, and a journal may only write where the acts write (:func:`check_allowed`): the
document types' folders (documents and the pictures they show), ``records/<ID>/``,
``qms.toml`` and the signers file; never under ``.git/``, outside the QMS root or through a
symbolic link. Both are checked before any
file is written, when the journal is made and when it is rolled forward.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import json
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any

from .atomic import TEMPORARY, create_file, fsync_dir, replace_file
from .errors import InputError, UsageError

fcntl: ModuleType | None
try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows
    fcntl = None

JOURNAL = ".qms-journal.json"
_FORMAT = 1
#: Pictures a document shows, written next to it (qms import extracts them from Word).
PICTURES = (".png", ".jpg", ".jpeg", ".gif")


@dataclass(frozen=True)
class Write:
    """One file an act writes: its path (relative to the QMS root, with /), its final
    bytes, and the sha256 of the bytes it replaces (None: a new file, created exclusively)."""

    path: str
    content: bytes
    prior: str | None


class RecoveryBlocked(InputError):
    """An interrupted act cannot be completed here (a file that cannot be read or written,
    a read-only repository)."""


class JournalRefused(InputError):
    """A journal qms does not roll forward: tracked by git, or naming a file outside the
    places the acts write (exit 2, nothing written)."""


class LockBusy(Exception):
    """Another qms process held the repository lock for longer than we waited."""


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read(root: Path, rel: str) -> bytes | None:
    """The bytes of a file under the root, None if it does not exist; an error naming
    the file if it cannot be read (permissions, a folder where a file is expected)."""
    try:
        return (root / rel).read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise RecoveryBlocked("a folder where a file is expected", path=rel,
                              hint="move the folder away; qms keeps a file there") from None
    except OSError as exc:
        raise RecoveryBlocked(f"cannot read the file: {exc.strerror}", path=rel,
                              hint="give the user running qms read and write access") from None


def new_file(root: Path, rel: str, content: bytes) -> Write:
    """A file the act creates: refused if the name is taken."""
    if os.path.lexists(root / rel):
        raise UsageError(f"{rel} already exists", hint="choose another title or id")
    return Write(rel, content, None)


def replacement(root: Path, rel: str, content: bytes) -> Write:
    """A file the act replaces, from what it holds now (or a new file if there is none)."""
    current = read(root, rel)
    return Write(rel, content, None if current is None else digest(current))


@contextmanager
def locked(root: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the repository's lock (an exclusive flock on its root folder); wait at most
    ``timeout`` seconds (forever if None), then raise :class:`LockBusy`."""
    fd = os.open(root, os.O_RDONLY)
    try:
        if fcntl is not None:
            if timeout is None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            else:
                deadline = time.monotonic() + timeout
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() >= deadline:
                            raise LockBusy() from None
                        time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # releases the lock


def commit(root: Path, writes: list[Write], command: str) -> None:
    """Write the files of one act, all or nothing. The caller holds the lock and has
    recovered (:func:`recover_locked`), so there is no journal yet."""
    refuse_tracked(root)
    zone = write_zone(root)
    for write in writes:
        check_allowed(root, write.path, zone)
        _check_target(root, write)
        _check_folders(root, write.path)
        if _state(root, write) == "other":
            if write.prior is None:
                raise UsageError("already exists", path=write.path,
                                 hint="qms never overwrites it: nothing was written")
            raise UsageError("changed while qms was working on it", path=write.path,
                             hint="nothing was written: run the command again")
    body = [{"path": w.path, "prior": w.prior,
             "content": base64.b64encode(w.content).decode("ascii")} for w in writes]
    data = {"qms-journal": _FORMAT, "command": command, "writes": body,
            "sha256": digest(_canonical(body))}
    payload = json.dumps(data, indent=1).encode("utf-8")
    try:
        created = create_file(root, payload, [JOURNAL])
    except OSError as exc:
        raise RecoveryBlocked(f"cannot write the journal: {exc.strerror}", path=JOURNAL,
                              hint="qms writes only where the repository is writable") from None
    if created is None:  # pragma: no cover - recovered under the same lock just before
        raise InputError("an interrupted qms command is not recovered yet", path=JOURNAL,
                         hint="run qms status to recover it, then try again")
    _finish(root, writes)


def pending(root: Path) -> bool:
    """An interrupted act left a journal or a temporary file in the root (one listing)."""
    try:
        names = os.listdir(root)
    except OSError:
        return False
    return JOURNAL in names or any(TEMPORARY.fullmatch(n) for n in names)


def recover(root: Path, wait: float = 10.0) -> str | None:
    """Complete an interrupted act, if there is one, before anything is read.

    Returns None when the repository is as an act left it, or a note saying why a
    recovery is still pending (read-only repository, lock held by another process):
    reads go on. A file edited by hand in between raises :class:`InputError`.
    """
    if not pending(root):
        return None
    try:
        with locked(root, timeout=wait):
            recover_locked(root)
    except LockBusy:
        return (f"another qms command holds the lock of the repository (or was interrupted; "
                f"{JOURNAL} is pending): what follows may not show its writes")
    except RecoveryBlocked as exc:
        return (f"an interrupted qms command left {JOURNAL}, which cannot be completed "
                f"here ({exc}); run any qms command where the repository is writable")
    except OSError as exc:
        return f"cannot lock the repository to recover an interrupted command: {exc.strerror}"
    return None


def recover_locked(root: Path) -> bool:
    """Roll an interrupted act forward and remove the temporary files of killed writes;
    True if there was a journal. The caller holds the lock."""
    raw = read(root, JOURNAL)
    if raw is None:
        _remove_temporaries([root])
        return False
    refuse_tracked(root)
    writes = _decode(raw)
    zone = write_zone(root)
    for write in writes:  # every path, before any file is written
        try:
            check_allowed(root, write.path, zone)
        except JournalRefused as exc:
            raise JournalRefused(
                f"{JOURNAL} would write {write.path}: {exc.message}", path=JOURNAL,
                hint=f"nothing was written. If no qms command was interrupted here, the "
                     f"journal was planted: remove {JOURNAL}") from None
    _finish(root, writes)
    return True


def tracked_by_git(root: Path) -> str | None:
    """Where git tracks the journal's path ('the index', 'HEAD'), None if it does not (or
    there is no git repository). A tracked journal came with the repository (a clone, a
    pull, a checkout): no qms command was interrupted here. Where a repository exists but
    git cannot answer (not installed, 'dubious ownership'), the journal is refused: the
    check fails closed."""
    index = _git(root, "ls-files", "--cached", "--error-unmatch", "--", JOURNAL)
    if index is not None and index[0] == 0:
        return "the index"
    if index is None or index[0] != 1:  # 1: not in the index; anything else: no answer
        return _no_answer(root, index)
    head = _git(root, "ls-tree", "--name-only", "HEAD", "--", JOURNAL)
    if head is not None and head[0] == 0:
        return "HEAD" if head[1].strip() else None
    unborn = _git(root, "rev-parse", "--verify", "--quiet", "HEAD")
    return None if unborn is not None and unborn[0] == 1 else _no_answer(root, head)


def _git(root: Path, *args: str) -> tuple[int, str, str] | None:
    """(exit code, stdout, stderr) of a git command in ``root``; None without git."""
    from . import gitrepo
    from .errors import GitError

    try:
        done = gitrepo.run(root, *args)
    except GitError:
        return None
    return (done.returncode, done.stdout.decode("utf-8", "replace"),
            done.stderr.decode("utf-8", "replace").strip())


def _no_answer(root: Path, done: tuple[int, str, str] | None) -> str | None:
    """Outside a git repository nothing is tracked (None: not tracked); inside one, git's
    failure refuses."""
    from .gitrepo import git_dir

    if git_dir(root) is None:
        return None
    detail = done[2].splitlines()[0] if done and done[2] else "git is not available"
    raise JournalRefused(f"cannot ask git whether it tracks {JOURNAL} ({detail}), so qms "
                         "does not roll it forward", path=JOURNAL,
                         hint="nothing was written: make git work here (git status), then "
                              "run the command again")


def refuse_tracked(root: Path) -> None:
    """Refuse (exit 2) to roll forward, or to write, a journal whose path git tracks."""
    where = tracked_by_git(root)
    if where is not None:
        raise JournalRefused(
            f"{JOURNAL} is tracked by git (in {where}): it came with the repository, not "
            "from a qms command interrupted here, so qms does not roll it forward",
            path=JOURNAL,
            hint=f"nothing was written. Remove it from git and from the folder: git rm "
                 f"--cached {JOURNAL}, delete the file, commit; keep {JOURNAL} in "
                 ".gitignore")


@dataclass(frozen=True)
class WriteZone:
    """Where the acts write: the document types' folders ('' is the root), qms.toml and the
    signers file (records/ is always part of it)."""

    folders: tuple[str, ...]
    files: tuple[str, ...]


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    """``data[key]`` if it is a table (qms.toml as typed: it may hold anything), else {}."""
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def write_zone(root: Path) -> WriteZone:
    """The places of :class:`WriteZone`, from qms.toml as it is on disk (its defaults where
    it cannot be read: then only the default folders and files)."""
    import tomllib

    from .config import CONFIG_NAME, DEFAULT_TYPES

    try:
        data = tomllib.loads((root / CONFIG_NAME).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        data = {}
    types = _table(data, "types")
    folders = set()
    for name in {*DEFAULT_TYPES, *types}:  # each type's folder as config.py merges it
        folder = _table(types, name).get("folder", DEFAULT_TYPES.get(name, {}).get("folder"))
        if isinstance(folder, str):
            folders.add(folder)
    signers = _table(data, "signatures").get("allowed_signers", "allowed_signers")
    files = [CONFIG_NAME] + ([signers] if isinstance(signers, str) else [])
    return WriteZone(tuple(sorted({f.strip("/") for f in folders})),
                     tuple(os.path.normpath(f).replace(os.sep, "/") for f in files))


def check_allowed(root: Path, rel: str, zone: WriteZone) -> None:
    """Refuse (:class:`JournalRefused`) a path the acts never write: outside the zone,
    under ``.git/``, outside the root, the journal itself, or through a symbolic link."""
    path = PurePosixPath(rel)
    parts = tuple(rel.split("/"))  # as written: PurePosixPath drops "." and "//"
    if path.is_absolute() or "\\" in rel or any(p in ("", ".", "..") for p in parts):
        raise JournalRefused(f"{rel} is not a plain path inside the QMS", path=rel)
    if any(p.casefold() == ".git" for p in parts) or parts == (JOURNAL,):
        raise JournalRefused(f"{rel} is git's or qms's own state: qms never writes it through "
                             "a journal", path=rel)
    in_zone = (rel in zone.files
               or (len(parts) == 3 and parts[0] == "records" and rel.endswith(".yaml"))
               or (path.suffix in (".rst", ".md", *PICTURES) and any(
                   f == "" or rel.startswith(f"{f}/") for f in zone.folders)))
    if not in_zone:
        raise JournalRefused(
            f"{rel} is none of the places qms writes (the document folders "
            f"{', '.join(f + '/' for f in zone.folders)}, records/<ID>/, "
            f"{', '.join(zone.files)})", path=rel)
    for depth in range(1, len(parts) + 1):
        if (root / PurePosixPath(*parts[:depth])).is_symlink():
            raise JournalRefused(f"{PurePosixPath(*parts[:depth])} is a symbolic link: qms "
                                 "writes nothing through one", path=rel,
                                 hint="replace the link by the folder or file itself")


def _finish(root: Path, writes: list[Write]) -> None:
    for write in writes:
        _roll_forward(root, write)
    _remove_temporaries([root, *{(root / w.path).parent for w in writes}])
    try:
        (root / JOURNAL).unlink()
    except OSError as exc:
        raise RecoveryBlocked(f"cannot remove the journal: {exc.strerror}",
                              path=JOURNAL) from None
    fsync_dir(root)


def _check_target(root: Path, write: Write) -> None:
    """Refuse a path outside the repository (which only a hand-made journal could hold)."""
    parts = Path(write.path).parts
    if (not parts or Path(write.path).is_absolute() or ".." in parts
            or not (root / write.path).parent.resolve().is_relative_to(root.resolve())):
        raise InputError(f"{write.path} is outside the repository", path=JOURNAL,
                         hint="qms writes only inside the repository")


def _check_folders(root: Path, rel: str) -> None:
    """Refuse, before anything is written, a file where a folder of the path must be."""
    parts = Path(rel).parts[:-1]
    for depth in range(1, len(parts) + 1):
        folder = Path(*parts[:depth])
        if (root / folder).exists() and not (root / folder).is_dir():
            raise UsageError("a file where a folder is expected", path=folder.as_posix(),
                             hint=f"qms writes {rel} there: move the file away")


def _roll_forward(root: Path, write: Write) -> None:
    _check_target(root, write)
    target = root / write.path
    state = _state(root, write)
    if state == "final":
        return
    if state == "other":
        raise InputError(
            "changed after an interrupted qms command read it: it holds neither what the "
            "command found nor what it meant to write", path=write.path,
            hint=f"{JOURNAL} holds the rest of that command: restore {write.path} (git diff "
                 f"shows the change) and run qms status to complete it, or remove {JOURNAL} "
                 "to abandon what the command has not written yet")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if write.prior is None:
            if create_file(target.parent, write.content, [target.name]) is None:
                raise InputError("appeared while qms was writing it", path=write.path,
                                 hint="run the command again")
        else:
            replace_file(target, write.content)
    except OSError as exc:
        raise RecoveryBlocked(f"cannot write the file: {exc.strerror}", path=write.path,
                              hint="give the user running qms write access") from None


def _state(root: Path, write: Write) -> str:
    """'final' if the target holds the bytes to write, 'prior' if it holds what the act
    found (or is absent, for a new file), 'other' if neither."""
    current = read(root, write.path)
    if current == write.content:
        return "final"
    if write.prior is None:
        return "prior" if current is None else "other"
    return "prior" if current is not None and digest(current) == write.prior else "other"


def _canonical(body: list[dict]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _decode(raw: bytes) -> list[Write]:
    bad = InputError("not a journal written by qms (or altered)", path=JOURNAL,
                     hint="if no qms command was interrupted, move the file away")
    try:
        data = json.loads(raw.decode("utf-8"))
        body = data["writes"]
        if data.get("qms-journal") != _FORMAT or data.get("sha256") != digest(_canonical(body)):
            raise bad
        return [Write(str(w["path"]), base64.b64decode(w["content"], validate=True),
                      w["prior"] if w["prior"] is None else str(w["prior"])) for w in body]
    except InputError:
        raise
    except (ValueError, KeyError, TypeError):
        raise bad from None


def _remove_temporaries(folders: Iterable[Path]) -> None:
    """Remove the ``.tmp-<16 hex>`` files a killed write left (only those: the name is
    qms's own). The caller holds the lock, so no write of another process is running."""
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if TEMPORARY.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                try:
                    os.unlink(entry.path)
                except FileNotFoundError:
                    pass
                except OSError as exc:
                    if exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
                        raise
