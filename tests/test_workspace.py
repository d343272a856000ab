"""Workspace: one state object per repository, and refresh() forgets all it read."""

from __future__ import annotations

import dataclasses
from functools import cached_property
from pathlib import Path

from qms_docs.workspace import Workspace, _Read


def test_the_repository_handle_is_the_only_value_kept_outside_the_read_state() -> None:
    cached = {name for name, value in vars(Workspace).items()
              if isinstance(value, cached_property)}
    assert cached == {"repo"}  # the handle stays valid across refreshes


def test_refresh_forgets_records_and_with_documents_the_files(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    fields = [f.name for f in dataclasses.fields(_Read)]
    assert set(_Read.TREE) < set(fields)
    read = {name: object() for name in fields}
    ws._read = _Read(**read)
    ws.refresh()
    for name in fields:
        assert (getattr(ws._read, name) is read[name]) == (name in _Read.TREE), name
    ws.refresh(documents=True)
    assert ws._read == _Read()
