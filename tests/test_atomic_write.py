"""One atomic-write helper (atomic.write_atomic) for every file qms replaces whole: the
journal's writes, caches, spreadsheets and the audit pack. A write that fails leaves the
old file as it was and no temporary file behind."""

from __future__ import annotations

import datetime as dt
import os
import zipfile
from pathlib import Path

import pytest

from qms_docs import atomic, auditpack, cache
from qms_docs.reports import export


def _left(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_write_atomic_replaces_and_keeps_the_mode(tmp_path):
    target = tmp_path / "file.txt"
    target.write_bytes(b"old")
    target.chmod(0o640)
    atomic.write_atomic(target, b"new")
    assert target.read_bytes() == b"new" and target.stat().st_mode & 0o777 == 0o640
    atomic.write_atomic(tmp_path / "made.txt", lambda p: p.write_bytes(b"made"), sync=False)
    assert (tmp_path / "made.txt").read_bytes() == b"made"
    assert _left(tmp_path) == ["file.txt", "made.txt"]


def test_a_failed_rename_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "file.txt"
    target.write_bytes(b"old")

    def refuse(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError):
        atomic.write_atomic(target, b"new")
    assert target.read_bytes() == b"old" and _left(tmp_path) == ["file.txt"]


def test_a_writer_that_fails_halfway_leaves_no_temporary(tmp_path):
    def half(temporary: Path) -> None:
        temporary.write_bytes(b"half")
        raise ValueError("the writer failed")

    with pytest.raises(ValueError):
        atomic.write_atomic(tmp_path / "out.zip", half)
    assert _left(tmp_path) == []


def test_a_failed_spreadsheet_leaves_nothing(tmp_path, monkeypatch):
    pytest.importorskip("openpyxl")
    from openpyxl import Workbook

    def broken(self, filename):
        Path(filename).write_bytes(b"PK half a workbook")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Workbook, "save", broken)
    with pytest.raises(OSError):
        export.write_xlsx(tmp_path / "matrix.xlsx", [("Sheet", ["A"], [["1"]])],
                          export.Provenance("Org", "Sheet", dt.date(2026, 1, 1),
                                            dt.datetime(2026, 1, 2, tzinfo=dt.UTC)))
    assert _left(tmp_path) == []


def test_a_failed_audit_pack_zip_leaves_nothing(tmp_path, monkeypatch):
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "README.txt").write_text("x")
    target = tmp_path / "out" / "audit.zip"
    target.parent.mkdir()

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", broken)
    with pytest.raises(OSError):
        auditpack._zip(pack, target)
    assert _left(target.parent) == []


def test_a_cache_write_that_fails_keeps_no_cache_and_no_temporary(tmp_path, monkeypatch):
    folder = tmp_path / "qms"
    folder.mkdir()
    monkeypatch.setattr(cache, "cache_key", lambda folder, create=False: b"k" * 32)

    def refuse(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    cache.write_store(folder / "c.json", "stamp", {"a": 1})  # a cache: no error
    assert _left(folder) == []
