"""Durable writes of one file: replaced whole (a temporary file beside it, synced, renamed
over it), or created under the first free name without ever overwriting one. A process
killed at any moment leaves the old file or the new one, never half of one; what it can
leave is a hidden ``.tmp-<16 hex>`` file (:data:`TEMPORARY`), which the journal's
recovery removes (journal.py). Every file qms writes goes through here.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

#: The name of a temporary file of this module (qms's own: recovery may remove it).
TEMPORARY = re.compile(r"\.tmp-[0-9a-f]{16}")


def write_atomic(path: Path, content: bytes | Callable[[Path], object],
                 sync: bool = True) -> None:
    """Write ``path`` all or nothing: to a hidden ``.tmp-<16 hex>`` file beside it (the
    bytes ``content``, or what ``content(temporary)`` writes there: a zip, a workbook),
    synced unless ``sync`` is False (a cache), then renamed over ``path``, keeping the mode
    of the file it replaces. The temporary file is removed whatever goes wrong, and one a
    killed process left is removed by the next recovery (:func:`_remove_temporaries`).
    Every atomic write of qms goes through here."""
    temporary = path.with_name(f".tmp-{secrets.token_hex(8)}")
    try:
        if callable(content):
            content(temporary)
            if sync:
                with open(temporary, "rb+") as handle:
                    os.fsync(handle.fileno())
        else:
            with open(temporary, "xb") as handle:
                handle.write(content)
                if sync:
                    handle.flush()
                    os.fsync(handle.fileno())
        try:
            os.chmod(temporary, path.stat().st_mode & 0o777)
        except FileNotFoundError:
            pass  # a new file: the mode the umask gives
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    if sync:
        fsync_dir(path.parent)


def replace_file(path: Path, payload: bytes) -> None:
    """Replace ``path`` atomically (temporary file, fsync, rename), keeping its mode."""
    write_atomic(path, payload)


def create_file(folder: Path, payload: bytes, names: Iterable[str]) -> Path | None:
    """Create a file holding ``payload`` under the first of ``names`` free in ``folder``,
    atomically and exclusively (a hard link claims the name); None if all are taken.

    The data goes to an unnamed file (Linux's O_TMPFILE), synced, then linked to its
    name: a process killed at any moment leaves the complete file or nothing, not even a
    temporary file. Elsewhere it goes to a hidden ``.tmp-`` file removed after the link
    (or by the next recovery, if the process is killed before).
    """
    names = list(names)
    flag = getattr(os, "O_TMPFILE", 0)
    if flag and os.path.isdir("/proc/self/fd"):
        try:
            fd = os.open(folder, flag | os.O_WRONLY, 0o644)
        except OSError:  # a file system without unnamed files
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                _write_synced(handle, payload)
                proc = os.open("/proc/self/fd", os.O_RDONLY)
                try:  # linkat(/proc/self/fd/N, AT_SYMLINK_FOLLOW) gives the file a name
                    return _link_first_free(str(fd), folder, names, src_dir_fd=proc)
                except OSError:
                    pass  # /proc cannot link it here: a named temporary file instead
                finally:
                    os.close(proc)
    temporary = folder / f".tmp-{secrets.token_hex(8)}"
    try:
        with open(temporary, "xb") as handle:
            _write_synced(handle, payload)
        return _link_first_free(str(temporary), folder, names)
    finally:
        temporary.unlink(missing_ok=True)


def _write_synced(handle: BinaryIO, payload: bytes) -> None:
    handle.write(payload)
    handle.flush()
    os.fsync(handle.fileno())


def _link_first_free(source: str, folder: Path, names: list[str], **options: int
                     ) -> Path | None:
    for name in names:
        try:
            os.link(source, folder / name, follow_symlinks=True, **options)
        except FileExistsError:
            continue
        fsync_dir(folder)
        return folder / name
    return None


def fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
