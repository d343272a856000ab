"""The content caches: same results as reading afresh, never trusted blindly."""

from __future__ import annotations

import json
import re

import pytest

from qms_docs import cache
from qms_docs.gitrepo import git_dir
from qms_docs.records import load_records, new_record, write_record
from tests.helpers import REPO, count_git_logs, git, sphinx_build

AUTHOR = {"name": "Ash Author", "email": "ash@example.com"}


@pytest.fixture
def repo(tmp_path, monkeypatch):
    monkeypatch.delenv("QMS_NO_CACHE", raising=False)
    git(tmp_path, "init", "-q")
    for n in range(1, 4):
        write_record(tmp_path, new_record("change", f"SOP-00{n}", from_revision=0,
                                          to_revision=1, reason=f"First issue {n}",
                                          author=AUTHOR))
    return tmp_path


def cache_file(root):
    return root / ".git" / "qms" / cache.CACHE_NAME


def stored(file):
    """A cache file's data, read as qms reads it (its MAC checked)."""
    data = cache.read_store(file, cache.stamp())
    assert data is not None, f"{file} is not a cache qms wrote"
    return data


def as_tuples(result):
    return ([(r.kind, r.path, r.data) for r in result.records],
            [(f.code, f.path, f.message) for f in result.findings])


def test_a_warm_cache_gives_what_reading_afresh_gives(repo, monkeypatch):
    cold = load_records(repo)
    assert cache_file(repo).is_file()
    entries = stored(cache_file(repo))["entries"]
    assert len(entries) == 3
    warm = load_records(repo)
    assert as_tuples(warm) == as_tuples(cold)
    monkeypatch.setenv("QMS_NO_CACHE", "1")
    assert as_tuples(load_records(repo)) == as_tuples(cold)


def test_a_changed_record_is_read_again_and_its_error_reported(repo):
    load_records(repo)
    record = sorted((repo / "records" / "SOP-002").glob("*.yaml"))[0]
    record.write_text(record.read_text().replace("to_revision: 1", "to_revision: one"))
    result = load_records(repo)
    assert [f.path for f in result.findings] == [record.relative_to(repo).as_posix()]
    assert "to_revision" in result.findings[0].message
    assert len(result.records) == 2
    # the invalid record is never cached; the removed content drops out of the cache
    assert len(stored(cache_file(repo))["entries"]) == 2


def test_a_forged_or_damaged_cache_is_not_trusted(repo):
    cold = as_tuples(load_records(repo))
    for damage in (b"{not json", b"[]", json.dumps({"stamp": "other", "entries": {
            k: {"kind": "change", "document": "X-1"} for k in
            stored(cache_file(repo))["entries"]}}).encode()):
        cache_file(repo).write_bytes(damage)
        assert as_tuples(load_records(repo)) == cold
        assert stored(cache_file(repo))["stamp"] == cache.stamp()


def test_no_cache_when_turned_off_or_outside_git(tmp_path, monkeypatch):
    write_record(tmp_path, new_record("change", "SOP-001", from_revision=0, to_revision=1,
                                      reason="First issue", author=AUTHOR))
    assert len(load_records(tmp_path).records) == 1  # no git directory: nothing cached
    assert not (tmp_path / ".git").exists()
    git(tmp_path, "init", "-q")
    monkeypatch.setenv("QMS_NO_CACHE", "1")
    assert len(load_records(tmp_path).records) == 1
    assert not cache_file(tmp_path).exists()


def test_a_worktree_finds_its_git_directory(repo, tmp_path):
    git(repo, "commit", "-q", "--allow-empty", "-m", "start")
    other = tmp_path.parent / f"{tmp_path.name}-worktree"
    git(repo, "worktree", "add", "-q", str(other))
    found = git_dir(other)
    assert found is not None and found.is_dir()
    assert found.resolve() != (repo / ".git").resolve()


def test_verify_gives_the_same_findings_with_blob_cache_warm_cold_or_damaged(make_repo,
                                                                               monkeypatch):
    t = make_repo(day="2025-01-10")
    t.qms("ash", "new", "sop", "Cached steps")
    t.commit("new SOP")
    t.qms("quinn", "approve", "SOP-003", "--role", "quality-manager")
    approval = next((t.root / "records" / "SOP-003").glob("*approval*.yaml"))
    forged = re.sub(r"fingerprint: \S+", "fingerprint: " + "a" * 64, approval.read_text())
    approval.with_name("20250110T100000Z-approval-000000.yaml").write_text(forged)
    t.commit("approval of a text no commit held", who="quinn")
    first = t.qms("quinn", "verify", code=None)
    assert "approval-of-unknown-content" in first.output
    blobs = t.root / ".git" / "qms" / cache.BLOBS_NAME
    assert blobs.is_file() and stored(blobs)["entries"]
    assert t.qms("quinn", "verify", code=None).output == first.output
    entries = stored(blobs)["entries"]
    cache.write_store(blobs, cache.stamp(),  # signed, but of the wrong shape
                      {"entries": {k: "not a pair" for k in entries}})
    assert t.qms("quinn", "verify", code=None).output == first.output
    monkeypatch.setenv("QMS_NO_CACHE", "1")
    assert t.qms("quinn", "verify", code=None).output == first.output




def _log_of(root, monkeypatch, cached: bool):
    import git as gitpython

    from qms_docs.history import HistoryIndex

    if cached:
        monkeypatch.delenv("QMS_NO_CACHE", raising=False)
    else:
        monkeypatch.setenv("QMS_NO_CACHE", "1")
    index = HistoryIndex.build(gitpython.Repo(root))
    return [(c.commit, c.status, c.path, c.new_blob) for c in index.changes]


def _commit_file(root, name, text):
    (root / name).write_text(text)
    git(root, "add", name)
    git(root, "commit", "-q", "-m", f"edit {name}")


def _three_commits(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    for n in range(3):
        _commit_file(root, f"f{n}.rst", f"text {n}\n")
    return root


def test_the_kept_history_equals_a_fresh_log_after_any_move_of_head(tmp_path, monkeypatch):
    root = _three_commits(tmp_path)

    def same():
        fresh = _log_of(root, monkeypatch, cached=False)
        assert _log_of(root, monkeypatch, cached=True) == fresh
        assert _log_of(root, monkeypatch, cached=True) == fresh  # read from the cache
        assert stored(root / ".git" / "qms" / cache.HISTORY_NAME)["tip"] \
            == git(root, "rev-parse", "HEAD").strip()
        return fresh

    assert len(same()) == 3
    _commit_file(root, "f1.rst", "changed\n")  # a straight line on top: only it is read
    _commit_file(root, "f3.rst", "new\n")
    assert len(same()) == 5
    git(root, "checkout", "-q", "-b", "side", "HEAD~2")  # another branch
    _commit_file(root, "side.rst", "side\n")
    assert len(same()) == 4
    git(root, "checkout", "-q", "main")
    git(root, "merge", "-q", "--no-ff", "-m", "merge side", "side")  # a merge
    assert len(same()) == 9  # the merge read against each parent: side.rst; f1.rst, f3.rst
    git(root, "reset", "-q", "--hard", "HEAD~1")  # back to an ancestor
    assert len(same()) == 5
    git(root, "commit", "-q", "--amend", "-m", "reworded")  # history rewritten
    assert len(same()) == 5
    (root / ".git" / "qms" / cache.HISTORY_NAME).write_text('{"stamp": "x", "tip": 1}')
    assert len(same()) == 5


def test_a_warm_history_reads_no_log_and_a_new_commit_only_itself(tmp_path, monkeypatch):
    root = _three_commits(tmp_path)
    _log_of(root, monkeypatch, cached=True)
    calls = count_git_logs(monkeypatch)
    _log_of(root, monkeypatch, cached=True)
    assert calls == []
    _commit_file(root, "f4.rst", "new\n")
    assert len(_log_of(root, monkeypatch, cached=True)) == 4
    assert len(calls) == 1 and any(".." in arg for arg in calls[0])


YAML_CASES = ["a: 1\nb: [1, 2]\nc: 2024-01-02\nd: !!str 5\ne: ~\nf: yes\ng: {x: 1.5}\n'1': x\n",
              "x:\n  <<: {a: 1}\n  b: 2\n", "- a\n- b: c\n", "", "5", "k: !!binary aGVsbG8=\n",
              "a: 1\na: 2\n", "a: '2024-01-01'\nb: 0x1F\nc: .inf\nd: 1_000\ne: 0o17\n",
              "s: |\n  block\n  text\nt: >\n  folded\n", "k: !!set {a, b}\n", "1: one\n"]


def test_the_fast_yaml_reading_returns_what_the_safe_loader_returns():
    """yamlio builds string mappings itself (records are made of them); anything else goes
    to PyYAML's safe constructor. Same values and types as yaml.load, on every record and
    catalog of the example QMS and on YAML of every other kind."""
    import yaml

    from qms_docs import yamlio

    texts = [p.read_text(encoding="utf-8") for p in (REPO / "records").rglob("*.yaml")]
    texts += [p.read_text(encoding="utf-8")
              for p in (REPO / "qms_docs" / "standards").glob("*.yaml")]
    texts += YAML_CASES
    assert len(texts) > 100
    for text in texts:
        expected = yaml.load(text, Loader=yaml.SafeLoader)
        got = yamlio.load_text(text, "case.yaml")
        assert got == expected and type(got) is type(expected), text
        if isinstance(expected, dict):
            assert [type(v) for v in got.values()] == [type(v) for v in expected.values()]


def test_a_copy_outside_git_is_served_by_its_repository_cache(repo, tmp_path_factory,
                                                               monkeypatch):
    """A controlled build reads a copy of the records outside git (as git archive makes
    it): the repository's cache serves it, keeps every entry, and the copy gets what
    reading afresh gives."""
    import shutil

    from qms_docs import yamlio

    fresh = as_tuples(load_records(repo))
    copy = tmp_path_factory.mktemp("controlled")
    shutil.copytree(repo / "records", copy / "records")
    (copy / "records" / "SOP-003").rename(copy / "SOP-003-left-out")  # a subset, as of a day

    def no_parsing(*args):
        raise AssertionError("a cached record was parsed again")

    monkeypatch.setattr(yamlio, "load_text", no_parsing)
    served = load_records(copy, cache_from=repo)
    assert as_tuples(served) == ([r for r in fresh[0] if "SOP-003" not in r[1]], [])
    assert len(stored(cache_file(repo))["entries"]) == 3  # none pruned
    monkeypatch.undo()
    assert as_tuples(load_records(copy)) == as_tuples(served)  # no cache: parsed afresh
    assert not (copy / ".git").exists()


@pytest.mark.sphinx
def test_a_controlled_build_reads_records_through_its_repository_cache(scenario, tmp_path):
    """The wiring: ``qms_cache_from`` (written into a controlled tree's conf.py) makes
    the build take its records from that repository's cache. Shown with a cache entry
    whose text differs from the record's, which only the cache can have supplied."""
    from qms_docs.journal import digest

    tree = scenario("basic")  # outside git, as a controlled build's tree is
    path = write_record(tree, new_record("change", "SOP-001", from_revision=0, to_revision=1,
                                         reason="Reason written in the record",
                                         author={"name": "Quinn Quality",  # a person of it
                                                 "email": "quinn@example.com"}))
    data = load_records(tree).records[0].data
    origin = tmp_path / "origin"
    origin.mkdir()
    git(origin, "init", "-q")
    cache_file(origin).parent.mkdir(parents=True)
    cache.write_store(cache_file(origin), cache.stamp(), {"entries": {  # with its key
        digest(path.read_bytes()): {**data, "reason": "Reason served from the cache"}}})
    result = sphinx_build(tree, options=("-D", f"qms_cache_from={origin}"))
    assert result.returncode == 0, result.warnings
    page = (result.outdir / "procedures" / "sop-001.html").read_text()
    assert "Reason served from the cache" in page and "written in the record" not in page


def test_a_cache_file_is_believed_only_with_the_repository_key(repo):
    """One changed byte, or a MAC made with another key, and the file is not believed."""
    load_records(repo)
    raw = cache_file(repo).read_bytes()
    assert raw.startswith(cache._MAGIC) and stored(cache_file(repo))["entries"]
    cache_file(repo).write_bytes(raw.replace(b'"kind":"change"', b'"kind":"chanGe"', 1))
    assert cache.read_store(cache_file(repo), cache.stamp()) is None
    key = repo / ".git" / "qms" / cache.KEY_NAME
    key.write_bytes(b"x" * 32)  # the cache was made with another key
    cache_file(repo).write_bytes(raw)
    assert cache.read_store(cache_file(repo), cache.stamp()) is None
