"""tools/gen_synthetic_qms.py: the synthetic QMS it makes is complete and controlled."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO, git

TOOL = REPO / "tools" / "gen_synthetic_qms.py"


def generate(out: Path, documents: int, commits: int, seed: int = 7) -> Path:
    subprocess.run([sys.executable, str(TOOL), str(documents), "--commits", str(commits),
                    "--out", str(out), "--seed", str(seed)], check=True, capture_output=True)
    return out


def qms(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qms_docs", "--repo", str(repo), *args],
                          capture_output=True, text=True)


def documents(repo: Path) -> dict[str, bytes]:
    return {p.relative_to(repo).as_posix(): p.read_bytes()
            for folder in ("manual", "procedures") for p in sorted((repo / folder).glob("*.rst"))
            if p.name != "index.rst"}


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    return generate(tmp_path_factory.mktemp("synthetic") / "qms", 20, 60)


def test_counts(small):
    assert len(documents(small)) == 20
    assert git(small, "rev-list", "--count", "HEAD").strip() == "60"
    assert git(small, "status", "--porcelain") == ""
    git(small, "fsck", "--strict")  # the pack written by the tool is sound (else: git's message)


def test_check_and_verify_pass(small):
    check = qms(small, "check")
    assert check.returncode == 0, check.stdout + check.stderr
    verify = qms(small, "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_statuses_mostly_effective_with_a_draft(small):
    done = qms(small, "status", "--format", "json")
    assert done.returncode == 0, done.stderr
    statuses = [info["status"] for info in json.loads(done.stdout)]
    assert len(statuses) == 20
    assert statuses.count("effective") >= 0.7 * len(statuses)
    assert "draft" in statuses


def test_same_seed_same_documents(small, tmp_path):
    again = generate(tmp_path / "again", 20, 60)
    assert documents(again) == documents(small)
    other = generate(tmp_path / "other", 20, 60, seed=8)
    assert documents(other) != documents(small)


def test_too_few_commits_is_refused(tmp_path):
    done = subprocess.run([sys.executable, str(TOOL), "20", "--commits", "10", "--out",
                           str(tmp_path / "qms")], capture_output=True, text=True)
    assert done.returncode != 0
    assert "need at least" in done.stderr


@pytest.mark.slow
def test_thousand_documents(tmp_path):
    repo = generate(tmp_path / "qms", 1000, 10000)
    assert len(documents(repo)) == 1000
    assert "id_digits = 4" in (repo / "qms.toml").read_text()
    for command in ("check", "verify"):
        done = qms(repo, command)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    git(repo, "fsck", "--strict")
