"""Guarantee 3, concurrency: several real ``qms approve`` and ``qms new`` processes at once on
one repository (each acting as its own person) never overwrite or lose a record, never issue
one document id twice, and never record the same approval twice."""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from qms_docs.checks import check_documents
from qms_docs.workspace import Workspace
from tests.helpers import THOROUGH, QmsRepo, counters, examples
from tests.reliability.support import PEOPLE, approved_repo, revise_sop_001

COUNTS = counters("concurrency")


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """SOP-001 revision 2 (Ash) and SOP-003 to SOP-005 (new, Ash): drafts, committed."""
    root = approved_repo(tmp_path_factory.mktemp("concurrency") / "qms")
    act = QmsRepo(root)
    revise_sop_001(act, root)
    for title in ("Goods In", "Goods Out", "Stores"):
        act("ash", "new", "sop", title, "--owner", "production-manager")
    act.commit("Drafts", who="ash")
    return root


def _start(root: Path, who: str, *args: str) -> subprocess.Popen:
    email = PEOPLE[who].email
    env = {**os.environ, "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "user.email",
           "GIT_CONFIG_VALUE_0": email}  # each process acts as its own person
    return subprocess.Popen([sys.executable, "-m", "qms_docs", "--repo", str(root), *args],
                            cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _run_all(root: Path, jobs: list[tuple[str, list[str]]]) -> list[tuple[tuple, int, str]]:
    processes = [(job, _start(root, job[0], *job[1])) for job in jobs]
    results = []
    for job, process in processes:
        out, err = process.communicate(timeout=120)
        results.append((job, process.returncode, out + "\n" + err))
        assert "Traceback" not in err and "internal error" not in err, (job, err)
    return results


def _records_of(root: Path) -> list:
    ws = Workspace(root)
    assert not ws.records.findings, ws.records.findings
    return ws.records.records


APPROVALS = [("quinn", "SOP-001", "quality-manager"), ("quinn", "SOP-003", "quality-manager"),
             ("quinn", "SOP-004", "quality-manager"), ("quinn", "SOP-005", "quality-manager"),
             ("pat", "SOP-003", "production-manager"), ("pat", "SOP-004", "production-manager"),
             ("pat", "SOP-005", "production-manager"), ("dana", "SOP-003", "quality-manager"),
             ("dana", "SOP-005", "production-manager"), ("quinn", "SOP-003", "quality-manager"),
             ("tom", "SOP-004", "quality-manager")]


@pytest.mark.parametrize("round_", range(examples(1, 30)))
def test_concurrent_approvals_lose_nothing_and_never_duplicate(template, tmp_path, round_):
    root = tmp_path / "qms"
    shutil.copytree(template, root, symlinks=True)
    rng = random.Random(f"approve-{round_}-{THOROUGH}")
    jobs = [(who, ["approve", doc, "--role", role]) for who, doc, role in APPROVALS]
    jobs += [rng.choice(jobs) for _ in range(3)]  # and some twice, at the same moment
    rng.shuffle(jobs)
    before = {r.path for r in _records_of(root)}
    results = _run_all(root, jobs)
    written = []
    for job, code, output in results:
        COUNTS["approve processes"] += 1
        assert code in (0, 1), (job, code, output)
        COUNTS["approve refused (policy or already approved)" if code else "approved"] += 1
        if code == 0:
            path = re.search(r"(records/\S+\.yaml)", output).group(1)
            written.append((job, path))
    records = {r.path: r for r in _records_of(root)}
    new = {p: r for p, r in records.items() if p not in before}
    assert sorted(new) == sorted(p for _, p in written)  # nothing lost, nothing extra
    for (who, args), path in written:
        data = new[path].data
        assert (data["approver"]["email"], data["document"], data["role"]) == (
            PEOPLE[who].email, args[1], args[3])
    keys = Counter((r.document, r.data["revision"], r.data["fingerprint"], r.data["role"])
                   for r in new.values())
    assert max(keys.values()) == 1, keys  # one approval per role, revision and content
    COUNTS["approval records checked"] += len(new)


@pytest.mark.parametrize("round_", range(examples(1, 30)))
def test_concurrent_new_issues_distinct_ids_and_keeps_every_record(template, tmp_path, round_):
    root = tmp_path / "qms"
    shutil.copytree(template, root, symlinks=True)
    rng = random.Random(f"new-{round_}-{THOROUGH}")
    people = ["ash", "pat", "dana", "quinn"]
    jobs = [(rng.choice(people), ["new", "sop", f"Parallel {n}", "--owner", "production-manager"])
            for n in range(6)]
    jobs += [(rng.choice(people), ["new", "sop", f"Same id {n}", "--id", "SOP-020"])
             for n in range(2)]
    jobs += [(rng.choice(people), ["new", "sop", "Same title"]) for _ in range(2)]
    jobs += [("quinn", ["approve", "SOP-004", "--role", "quality-manager"]),
             ("pat", ["approve", "SOP-004", "--role", "production-manager"])]
    rng.shuffle(jobs)
    before = {r.path for r in _records_of(root)}
    results = _run_all(root, jobs)
    issued = []
    for (_who, args), code, output in results:
        COUNTS["new/approve processes"] += 1
        if args[0] == "approve":
            assert code in (0, 1), output
            continue
        if "--id" in args and code == 2:
            assert "already used" in output, output
            COUNTS["new refused: id taken"] += 1
            continue
        assert code == 0, (args, output)
        path = re.search(r"^(procedures/\S+\.rst)$", output, re.MULTILINE).group(1)
        issued.append((path, re.search(r"Change record: (\S+)", output).group(1)))
    ws = Workspace(root)
    ids = [d.id for d in ws.scan.documents]
    assert len(ids) == len(set(ids)), ids  # no id issued twice
    assert not [f for f in check_documents(ws.scan, ws.config, ws.catalogs)
                if f.code == "duplicate-id"]
    assert ids.count("SOP-020") == 1  # two asked for it: one got it
    by_path = {d.path: d for d in ws.scan.documents}
    records = {r.path: r for r in ws.records.records}
    assert not ws.records.findings
    for document, record in issued:
        doc = by_path[document]
        assert records[record].document == doc.id and records[record].kind == "change"
        COUNTS["documents issued"] += 1
    new_changes = [r for p, r in records.items() if p not in before and r.kind == "change"]
    assert len(new_changes) == len(issued)  # every change record kept, none extra


@pytest.mark.slow
def test_a_crowd_of_processes_at_once(template, tmp_path):
    """Thirty processes at once: twenty qms new, ten approvals (pytest -m slow)."""
    root = tmp_path / "qms"
    shutil.copytree(template, root, symlinks=True)
    jobs = [(["ash", "pat", "dana", "quinn"][n % 4],
             ["new", "sop", f"Crowd {n}", "--owner", "production-manager"]) for n in range(20)]
    jobs += [(who, ["approve", doc, "--role", role]) for who, doc, role in APPROVALS[:10]]
    before = {r.path for r in _records_of(root)}
    results = _run_all(root, jobs)
    assert all(code in (0, 1) for _, code, _ in results)
    ws = Workspace(root)
    ids = [d.id for d in ws.scan.documents]
    assert len(ids) == len(set(ids)) == 5 + 20
    new = [r for r in ws.records.records if r.path not in before]
    approvals = Counter((r.document, r.data["revision"], r.data["fingerprint"], r.data["role"])
                        for r in new if r.kind == "approval")
    assert len([r for r in new if r.kind == "change"]) == 20 and max(approvals.values()) == 1
    counters("concurrency crowd").update(processes=len(jobs), documents=20,
                                         approvals=len(approvals))
