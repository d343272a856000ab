"""The example QMS is itself under control: effective through real records, verified."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.helpers import REPO, run_qms


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
    assert len(rows) == 32
    not_effective = [r["document"] for r in rows if r["status"] != "effective"]
    assert not_effective == []
    qm = next(r for r in rows if r["document"] == "QM-001")
    assert sorted(a["role"] for a in qm["approvals"]) == ["quality-manager", "top-management"]


def test_example_sops_name_their_audience_and_nobody_is_overdue(runner):
    listing = json.loads(run_qms(runner, ["--repo", str(REPO), "list", "--format",
                                          "json"]).stdout)
    sops = [row for row in listing if row["type"] == "sop"]
    from qms_docs.config import load_config
    from qms_docs.documents import scan

    documents = {d.id: d for d in scan(REPO, load_config(REPO)).documents}
    assert all(documents[row["id"]].audience for row in sops)
    result = run_qms(runner, ["--repo", str(REPO), "training", "--format", "json"])
    cells = json.loads(result.stdout)
    assert len(cells) > 40 and {c["state"] for c in cells} == {"trained"}
    assert run_qms(runner, ["--repo", str(REPO), "training", "--overdue"]).exit_code == 0
