"""Workspace: one state object per repository, and refresh() forgets all it read."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from qms_docs.workspace import Workspace


def _loaded_on_first_use() -> set[str]:
    return {name for name, value in vars(Workspace).items()
            if isinstance(value, cached_property)}


def test_refresh_names_every_value_read_on_first_use() -> None:
    named = set(Workspace.RECORD_STATE) | set(Workspace.TREE_STATE)
    assert len(named) == len(Workspace.RECORD_STATE) + len(Workspace.TREE_STATE)
    assert _loaded_on_first_use() - named == {"repo"}  # the handle stays valid
    assert named <= _loaded_on_first_use()


def test_refresh_forgets_records_and_with_documents_the_files(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    for name in _loaded_on_first_use():
        setattr(ws, name, object())  # as if read
    ws.refresh()
    assert not set(Workspace.RECORD_STATE) & set(vars(ws))
    assert set(Workspace.TREE_STATE) | {"repo"} <= set(vars(ws))
    ws.refresh(documents=True)
    assert not (set(Workspace.RECORD_STATE) | set(Workspace.TREE_STATE)) & set(vars(ws))
    assert "repo" in vars(ws)
    ws.refresh(documents=True)  # nothing read: nothing to forget
