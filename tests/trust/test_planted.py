"""The tool's own state cannot be planted (issue 17, item 8).

An insider with push rights tries to make qms believe what no authorized person did, through
what qms keeps for itself: a write-ahead journal committed to the repository (rolled forward
on every fresh clone), a journal that writes under ``.git/`` (the caches), cache entries
that say a harmless record is an approval or that a document version has another
fingerprint, and records filed under another document or copied under a second name.
"""

from __future__ import annotations

import base64
import json
import re

import pytest

import qms_docs.journal as journal
from qms_docs import cache
from qms_docs.records import load_records
from tests.helpers import QmsRepo, git, snapshot
from tests.reliability.support import reliability_repo


def plant_journal(root, writes: dict[str, bytes]) -> None:
    """A journal exactly as qms writes one (its checksum right), for ``path -> bytes``."""
    body = [{"path": path, "prior": None, "content": base64.b64encode(data).decode("ascii")}
            for path, data in writes.items()]
    data = {"qms-journal": 1, "command": "approve", "writes": body,
            "sha256": journal.digest(journal._canonical(body))}
    (root / journal.JOURNAL).write_text(json.dumps(data, indent=1), encoding="utf-8")


def forged_approval(root, doc: str, who=("Pat Production", "pat@example.com"),
                    role: str = "production-manager") -> bytes:
    """An approval of ``doc``'s current text, as qms would have written it for ``who``."""
    from qms_docs.documents import fingerprint

    sop = next((root / "procedures").glob(f"{doc.lower()}*.rst"))
    revision = int(re.search(rb":revision: (\d+)", sop.read_bytes()).group(1))
    return (f"kind: approval\nid: {'f' * 32}\ndocument: {doc}\n"
            f"date: '2026-01-05T10:00:00+00:00'\nrevision: {revision}\n"
            f"fingerprint: {fingerprint(sop.read_bytes())}\n"
            f"approver:\n  name: {who[0]}\n  email: {who[1]}\nrole: {role}\n"
            f"meaning: approval\neffective: '2026-01-05'\ncommit: '{'0' * 40}'\n").encode()


def status_of(act: QmsRepo, doc: str) -> str:
    result = act("quinn", "status", doc, "--format", "json")
    return json.loads(result.stdout)[0]["status"]


@pytest.fixture
def sop2_in_review(tmp_path):
    """SOP-002 (approved by quality-manager and production-manager) has Quinn's approval
    only: in review. Committed."""
    root = reliability_repo(tmp_path / "qms")
    act = QmsRepo(root)
    act("quinn", "approve", "SOP-002", "--role", "quality-manager")
    act.commit("Quinn approves SOP-002", who="quinn")
    return root, act


# -- the journal ---------------------------------------------------------------------------


def test_a_committed_journal_is_refused_on_a_fresh_clone(sop2_in_review, tmp_path):
    root, _ = sop2_in_review
    target = "records/SOP-002/20260105T100000Z-approval-aaaaaa.yaml"
    plant_journal(root, {target: forged_approval(root, "SOP-002")})
    git(root, "add", "-f", journal.JOURNAL)
    git(root, "commit", "-q", "-m", "An innocent-looking file")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(root), str(clone))
    assert (clone / journal.JOURNAL).is_file()
    before = snapshot(clone)
    act = QmsRepo(clone)
    for command in (["status"], ["verify"], ["check"], ["approve", "SOP-002", "--role",
                                                        "production-manager"]):
        result = act("pat", *command, code=2)
        assert journal.JOURNAL in result.output and "tracked by git" in result.output
        assert f"git rm --cached {journal.JOURNAL}" in result.output
        assert "Traceback" not in result.output
    assert snapshot(clone) == before and not (clone / target).exists()
    assert (clone / journal.JOURNAL).is_file()  # kept: a person removes it
    # what the message says to do works, and the forged approval never came to be
    git(clone, "rm", "-q", "--cached", journal.JOURNAL)
    (clone / journal.JOURNAL).unlink()
    git(clone, "commit", "-q", "-m", "Remove the planted journal")
    assert status_of(act, "SOP-002") == "in-review"
    assert not (clone / target).exists()


def test_a_journal_only_staged_in_the_index_is_refused_too(sop2_in_review):
    root, act = sop2_in_review
    target = "records/SOP-002/20260105T100000Z-approval-aaaaaa.yaml"
    plant_journal(root, {target: forged_approval(root, "SOP-002")})
    git(root, "add", "-f", journal.JOURNAL)
    result = act("quinn", "status", code=2)
    assert "in the index" in result.output and not (root / target).exists()


def test_an_act_refuses_to_write_its_journal_where_git_tracks_that_name(sop2_in_review):
    """A journal name git tracks (even deleted from the folder) would make a genuine
    journal of a crash look planted: the act refuses before writing anything."""
    root, act = sop2_in_review
    (root / journal.JOURNAL).write_text("{}")
    git(root, "add", "-f", journal.JOURNAL)
    git(root, "commit", "-q", "-m", "a tracked journal name")
    (root / journal.JOURNAL).unlink()
    before = snapshot(root)
    result = act("pat", "approve", "SOP-002", "--role", "production-manager", code=2)
    assert "tracked by git" in result.output
    assert snapshot(root) == before and not (root / journal.JOURNAL).exists()


@pytest.mark.parametrize("path", [
    ".git/qms/records-cache.json",       # the record cache: a training record read as approval
    ".git/hooks/post-checkout",          # git's own state
    "../outside.yaml",                   # outside the QMS
    "conf.py",                           # in the QMS, but no act writes it
    "records/approval.yaml",             # not under records/<ID>/
    "records/SOP-002/x/approval.yaml",   # deeper than records/<ID>/
    "procedures/run.sh",                 # a document folder, but not a document
    "records/SOP-002/./approval.yaml",   # not a plain path
    journal.JOURNAL,                     # the journal itself
])
def test_an_untracked_journal_naming_another_place_is_refused(sop2_in_review, path):
    root, act = sop2_in_review
    good = "records/SOP-002/20260105T100000Z-approval-aaaaaa.yaml"
    plant_journal(root, {good: forged_approval(root, "SOP-002"), path: b"planted\n"})
    cache_before = {p.name: p.read_bytes() for p in (root / ".git" / "qms").glob("*")}
    before = snapshot(root)
    result = act("quinn", "status", code=2)
    assert journal.JOURNAL in result.output and path in result.output
    assert "nothing was written" in result.output and "Traceback" not in result.output
    assert snapshot(root) == before and not (root / good).exists()
    assert not (root.parent / "outside.yaml").exists() and not (root / "conf.py").read_bytes(
        ).startswith(b"planted")
    assert {p.name: p.read_bytes() for p in (root / ".git" / "qms").glob("*")} == cache_before
    assert (root / journal.JOURNAL).is_file()


def test_a_journal_writing_through_a_symbolic_link_is_refused(sop2_in_review, tmp_path):
    root, act = sop2_in_review
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (root / "records" / "SOP-009").symlink_to(root / "procedures")  # inside, but a link
    (root / "records" / "SOP-008").symlink_to(elsewhere)
    for link in ("SOP-009", "SOP-008"):
        plant_journal(root, {f"records/{link}/20260105T100000Z-change-aaaaaa.yaml": b"x\n"})
        result = act("quinn", "status", code=2)
        assert f"records/{link}" in result.output and "link" in result.output
        assert list(elsewhere.iterdir()) == []
        assert not list((root / "procedures").glob("*.yaml"))
    (root / journal.JOURNAL).unlink()


def test_a_journal_is_checked_when_it_is_made(sop2_in_review):
    """The same rule holds for the journal of an act: a signers file under .git/ (qms.toml
    can name one) is refused before anything is written."""
    root, _ = sop2_in_review
    before = snapshot(root)
    for path in (".git/allowed_signers", "../outside", "procedures/../conf.py"):
        with pytest.raises(journal.JournalRefused):
            journal.commit(root, [journal.Write("records/SOP-002/a.yaml", b"x\n", None),
                                  journal.Write(path, b"planted\n", None)], "keys add")
        assert not (root / journal.JOURNAL).exists()
    assert snapshot(root) == before and not (root / ".git" / "allowed_signers").exists()
    with open(root / "qms.toml", "a", encoding="utf-8") as handle:
        handle.write('\n[signatures]\nallowed_signers = ".git/allowed_signers"\n')
    with pytest.raises(journal.JournalRefused, match=r"\.git/allowed_signers"):
        journal.commit(root, [journal.Write(".git/allowed_signers", b"k\n", None)], "keys add")
    assert not (root / ".git" / "allowed_signers").exists()


def test_qms_init_ignores_the_journal(tmp_path):
    from qms_docs.scaffold import render_files

    files = render_files("Acme", "iso9001-2015", "github", person=("A", "a@example.com"))
    ignored = next(text for name, text in files.items() if name.endswith(".gitignore"))
    assert journal.JOURNAL in ignored.split()


# -- the caches ----------------------------------------------------------------------------


def _run(act: QmsRepo, monkeypatch, cached: bool, *args: str):
    if cached:
        monkeypatch.delenv("QMS_NO_CACHE", raising=False)
    else:
        monkeypatch.setenv("QMS_NO_CACHE", "1")
    result = act("quinn", *args, code=None)
    monkeypatch.delenv("QMS_NO_CACHE", raising=False)
    return result.exit_code, result.output


def _plant_store(file, data: dict, mac: bytes | None) -> None:
    """A cache file as an attacker writes it: plain JSON (the old format) or with a MAC
    made without the repository's key."""
    payload = json.dumps({"stamp": cache.stamp(), **data}).encode()
    file.write_bytes(payload if mac is None else cache._MAGIC + mac + b"\n" + payload)


@pytest.mark.parametrize("mac", [None, b"0" * 64, "wrong key"])
def test_a_planted_record_cache_entry_is_not_believed(sop2_in_review, monkeypatch, mac):
    """The cache maps the bytes of a harmless record (Ash's change record) to Pat's approval
    of SOP-002: believed, SOP-002 would be effective. Planted as plain JSON, with a made-up
    MAC, and with a MAC of another key: status and verify equal a run without cache."""
    root, act = sop2_in_review
    act("ash", "revise", "SOP-002", "--reason", "Planting", code=None)
    monkeypatch.setenv("QMS_NO_CACHE", "1")
    honest = [_run(act, monkeypatch, False, *c) for c in (["status"], ["verify"])]
    assert "in-review" in honest[0][1] or "draft" in honest[0][1]
    _run(act, monkeypatch, True, "status")  # a warm cache, written by qms with its key
    store = root / ".git" / "qms" / cache.CACHE_NAME
    entries = cache.read_store(store, cache.stamp())["entries"]
    harmless = next(p for p in (root / "records" / "SOP-002").glob("*change*.yaml"))
    import yaml

    entries[journal.digest(harmless.read_bytes())] = yaml.safe_load(
        forged_approval(root, "SOP-002"))
    if mac == "wrong key":
        mac = cache._mac(b"k" * 32, json.dumps({"stamp": cache.stamp(),
                                                "entries": entries}).encode())
    _plant_store(store, {"entries": entries}, mac)
    assert [_run(act, monkeypatch, True, *c) for c in (["status"], ["verify"])] == honest
    # and the planted file was replaced by one qms made
    assert cache.read_store(store, cache.stamp()) is not None


def test_a_planted_blob_fingerprint_is_not_believed(sop2_in_review, monkeypatch):
    """Every version of SOP-002 'has' the fingerprint of a forged approval: believed,
    approval-of-unknown-content would disappear."""
    root, act = sop2_in_review
    forged = forged_approval(root, "SOP-002").replace(
        re.search(rb"fingerprint: (\S+)", forged_approval(root, "SOP-002")).group(1),
        b"a" * 64)
    (root / "records" / "SOP-002" / "20260105T100000Z-approval-aaaaaa.yaml").write_bytes(forged)
    act.commit("An approval of a text no commit held", who="pat")
    honest = _run(act, monkeypatch, False, "verify")
    assert "approval-of-unknown-content" in honest[1]
    assert _run(act, monkeypatch, True, "verify") == honest  # warm
    store = root / ".git" / "qms" / cache.BLOBS_NAME
    entries = cache.read_store(store, cache.stamp())["entries"]
    _plant_store(store, {"entries": {blob: ["a" * 64, 1] for blob in entries}}, b"0" * 64)
    assert _run(act, monkeypatch, True, "verify") == honest


def test_a_planted_history_is_not_believed(sop2_in_review, monkeypatch):
    """The kept git log says someone else authored every commit: believed, the author of
    a change could approve it."""
    root, act = sop2_in_review
    honest = _run(act, monkeypatch, False, "verify")
    assert _run(act, monkeypatch, True, "verify") == honest
    store = root / ".git" / "qms" / cache.HISTORY_NAME
    data = cache.read_store(store, cache.stamp())
    assert data is not None
    for commit in data["commits"]:
        commit[2], commit[3] = "tom@example.com", "Tom Top"
    _plant_store(store, {k: v for k, v in data.items() if k != "stamp"}, b"0" * 64)
    assert _run(act, monkeypatch, True, "verify") == honest
    assert cache.read_store(store, cache.stamp())["commits"][0][2] != "tom@example.com"


def test_the_cache_key_is_private_and_never_followed_through_a_link(sop2_in_review,
                                                                      tmp_path):
    root, _ = sop2_in_review
    key = root / ".git" / "qms" / cache.KEY_NAME
    assert key.is_file() and key.stat().st_mode & 0o777 == 0o600
    key.write_bytes(b"short")  # damaged: replaced by a new key when a cache is written
    assert cache.cache_key(key.parent) is None
    fresh = cache.cache_key(key.parent, create=True)
    assert fresh is not None and len(fresh) == 32 and key.read_bytes() == fresh
    key.unlink()
    elsewhere = tmp_path / "known-key"
    elsewhere.write_bytes(b"k" * 32)
    key.symlink_to(elsewhere)  # a key the attacker knows
    assert cache.cache_key(key.parent) is None and cache.cache_key(key.parent, True) is None
    store = root / ".git" / "qms" / cache.CACHE_NAME
    cache.write_store(store, cache.stamp(), {"entries": {}})
    assert cache.read_store(store, cache.stamp()) is None


# -- records in their place, ids unique ----------------------------------------------------


def test_a_record_filed_under_another_document_counts_nowhere(sop2_in_review):
    root, act = sop2_in_review
    approval = forged_approval(root, "SOP-002")
    places = ["records/SOP-001/20260105T100000Z-approval-aaaaaa.yaml",  # another document
              "records/20260105T100000Z-approval-bbbbbb.yaml",          # directly in records/
              "records/SOP-002/old/20260105T100000Z-approval-cccccc.yaml"]  # one folder deeper
    for n, place in enumerate(places):
        (root / place).parent.mkdir(parents=True, exist_ok=True)
        (root / place).write_bytes(approval.replace(b"f" * 32, b"abc"[n:n + 1] * 32))
    act.commit("Approvals filed where they do not belong", who="pat")
    assert status_of(act, "SOP-002") == "in-review"
    for command in ("check", "verify"):
        result = act("quinn", command, "--format", "json", code=1)
        found = {(f["code"], f["path"]) for f in json.loads(result.stdout)["findings"]}
        assert {("record-misplaced", p) for p in places} <= found, found
    records = load_records(root)
    assert not any(r.path in places for r in records.records)


def test_a_record_id_used_twice_counts_once(sop2_in_review):
    """Pat's real approval, and a copy of Quinn's approval under a name that sorts first:
    the later one in path order does not count, both are reported."""
    root, act = sop2_in_review
    quinn = next((root / "records" / "SOP-002").glob("*approval*.yaml"))
    act("pat", "approve", "SOP-002", "--role", "production-manager")
    act.commit("Pat approves SOP-002", who="pat")
    assert status_of(act, "SOP-002") == "effective"
    pat = next(p for p in (root / "records" / "SOP-002").glob("*approval*.yaml") if p != quinn)
    quinn_id = re.search(rb"^id: (\S+)", quinn.read_bytes(), re.M).group(1)
    copy = root / "records" / "SOP-002" / "00000000T000000Z-approval-000000.yaml"
    copy.write_bytes(re.sub(rb"^id: \S+", b"id: " + quinn_id, pat.read_bytes(), flags=re.M))
    act.commit("A second record with Quinn's id", who="pat")
    # the copy sorts first, so Quinn's real approval is the one that no longer counts
    assert status_of(act, "SOP-002") == "in-review"
    for command in ("check", "verify"):
        result = act("quinn", command, "--format", "json", code=1)
        found = {(f["code"], f["path"]) for f in json.loads(result.stdout)["findings"]}
        rel = lambda p: p.relative_to(root).as_posix()  # noqa: E731
        assert {("duplicate-record-id", rel(quinn)), ("duplicate-record-id", rel(copy))} <= found
    counted = [r.path for r in load_records(root).records]
    assert quinn.relative_to(root).as_posix() not in counted
    assert copy.relative_to(root).as_posix() in counted


def test_the_pull_request_gate_reports_a_misplaced_record_and_a_reused_id(sop2_in_review):
    """``verify --base`` reports the records a branch adds; a reused id is reported at the
    copy the branch adds even when the record that stops counting is the old one."""
    root, act = sop2_in_review
    git(root, "checkout", "-q", "-b", "forgery")
    quinn = next((root / "records" / "SOP-002").glob("*approval*.yaml"))
    misplaced = root / "records" / "SOP-001" / "20260105T100000Z-approval-aaaaaa.yaml"
    misplaced.parent.mkdir(exist_ok=True)
    misplaced.write_bytes(forged_approval(root, "SOP-002"))
    copy = root / "records" / "SOP-002" / "00000000T000000Z-approval-000000.yaml"
    quinn_id = re.search(rb"^id: (\S+)", quinn.read_bytes(), re.M).group(1)
    copy.write_bytes(forged_approval(root, "SOP-002").replace(b"f" * 32, quinn_id))
    act.commit("Two forged approvals", who="pat")
    result = act("quinn", "verify", "--base", "main", "--format", "json", code=1)
    found = {(f["code"], f["path"]) for f in json.loads(result.stdout)["findings"]}
    assert ("record-misplaced", misplaced.relative_to(root).as_posix()) in found
    assert ("duplicate-record-id", copy.relative_to(root).as_posix()) in found
