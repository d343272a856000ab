"""Fixtures of the trust tests: the templates (made once per module) and a copy of one on a
pull-request branch, in both variants."""

from __future__ import annotations

import pytest

from tests.trust.support import VARIANTS, Templates, on_branch


@pytest.fixture(scope="module")
def templates(request, tmp_path_factory) -> Templates:
    """The unsigned and signed templates of this module, each made on first use."""
    return Templates(tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1]))


@pytest.fixture(params=VARIANTS)
def repo(request, templates, tmp_path, monkeypatch):
    """A copy of the template on a new branch ``pr`` (unsigned and signed)."""
    return on_branch(templates, request.param, tmp_path, monkeypatch)
