"""The example QMS is itself under control: effective through real records, verified."""

from __future__ import annotations

import json
import subprocess

import pytest

from conftest import REPO, run_qms


def _is_full_clone() -> bool:
    done = subprocess.run(["git", "rev-parse", "--is-shallow-repository"], cwd=REPO,
                          capture_output=True, text=True)
    return done.returncode == 0 and done.stdout.strip() == "false"


@pytest.mark.skipif(not _is_full_clone(), reason="needs the repository's full git history")
def test_verify_passes_on_this_repository(runner):
    result = run_qms(runner, ["--repo", str(REPO), "verify", "--format", "json"])
    data = json.loads(result.stdout)
    assert data["findings"] == [] and result.exit_code == 0


def test_every_example_document_is_effective(runner):
    result = run_qms(runner, ["--repo", str(REPO), "status", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 31
    not_effective = [r["document"] for r in rows if r["status"] != "effective"]
    assert not_effective == []
    qm = next(r for r in rows if r["document"] == "QM-001")
    assert sorted(a["role"] for a in qm["approvals"]) == ["quality-manager", "top-management"]
