"""Guarantee 1, tamper evidence: any change to an approved document's content, and any
modification, deletion or rename of a committed record, is reported by ``qms verify``, and
a changed document is never shown as effective (the status the site's control block shows,
and the text the controlled build publishes)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from qms_docs import publish
from qms_docs.documents import fingerprint
from qms_docs.status import derive_status
from qms_docs.workspace import Workspace
from tests.helpers import QmsRepo, commit, copy_repo, counters, git, hypothesis_settings
from tests.reliability.support import approved_repo

DOCS = {"SOP-001": "procedures/sop-001.rst", "SOP-002": "procedures/sop-002.rst"}


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return approved_repo(tmp_path_factory.mktemp("tamper") / "qms")


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("tamper-work")


def _work(template: Path, scratch: Path) -> Path:
    folder = Path(tempfile.mkdtemp(dir=scratch))
    return copy_repo(template, folder / "qms")


def _verify(root: Path) -> tuple[int, list[dict]]:
    result = QmsRepo(root)("quinn", "verify", "--format", "json", code=None)
    assert result.exit_code in (0, 1), result.output
    findings = json.loads(result.stdout)["findings"]
    return result.exit_code, [f for f in findings if f["severity"] == "error"]


# --- documents -----------------------------------------------------------------------

doc_mutations = st.one_of(
    st.tuples(st.just("replace-byte"), st.integers(0, 10**6), st.integers(0, 255)),
    st.tuples(st.just("insert-bytes"), st.integers(0, 10**6), st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("delete-bytes"), st.integers(0, 10**6), st.integers(1, 16)),
    st.tuples(st.just("append-whitespace"),
              st.text(alphabet=" \t\n\r\x0b\x0c\u00a0\u2028\u3000", min_size=1, max_size=6)),
    st.tuples(st.just("line-endings"), st.sampled_from(
        ["lf-to-crlf", "lf-to-cr", "cr-inside-a-line", "lf-to-cr-cr", "drop-last-newline"])),
    st.tuples(st.just("revision-field"), st.sampled_from(
        ["0", "2", "3", "01", "+1", "1.0", "x", "", "99999999999999999999", "\u00b2"])),
    st.tuples(st.just("rollback-to-revision-1"), st.just(0)),
    st.tuples(st.just("copy-other-document"), st.just(0)),
)


def _mutate(root: Path, doc_id: str, mutation: tuple) -> bytes:
    path = root / DOCS[doc_id]
    data = path.read_bytes()
    kind = mutation[0]
    if kind == "replace-byte":
        at = mutation[1] % len(data)
        data = data[:at] + bytes([mutation[2]]) + data[at + 1:]
    elif kind == "insert-bytes":
        at = mutation[1] % (len(data) + 1)
        data = data[:at] + mutation[2] + data[at:]
    elif kind == "delete-bytes":
        at = mutation[1] % len(data)
        data = data[:at] + data[at + mutation[2]:]
    elif kind == "append-whitespace":
        data += mutation[1].encode("utf-8")
    elif kind == "line-endings":
        mode = mutation[1]
        if mode == "lf-to-crlf":
            data = data.replace(b"\n", b"\r\n")
        elif mode == "lf-to-cr":
            data = data.replace(b"\n", b"\r")
        elif mode == "cr-inside-a-line":
            at = data.index(b"Purpose") + 3
            data = data[:at] + b"\r" + data[at:]
        elif mode == "lf-to-cr-cr":
            data = data.replace(b"\n", b"\r\r", 1)
        else:
            data = data.rstrip(b"\n")
    elif kind == "revision-field":
        import re

        data = re.sub(rb"(:revision:) \d+", b"\\1 " + mutation[1].encode("utf-8"), data, count=1)
    elif kind == "rollback-to-revision-1":
        path = root / DOCS["SOP-002"]
        data = git(root, "show", f"HEAD~2:{DOCS['SOP-002']}").encode("utf-8")
    elif kind == "copy-other-document":
        other = "SOP-002" if doc_id == "SOP-001" else "SOP-001"
        data = (root / DOCS[other]).read_bytes()
    path.write_bytes(data)
    return data


DOC_COUNTS = counters("tamper-documents")
KINDS = counters("tamper kinds")


def with_examples(cases):
    """Hypothesis runs these cases too, whatever it generates."""
    def decorate(test):
        for case in reversed(cases):
            test = example(**case)(test)
        return test
    return decorate


DOC_EXAMPLES = [  # every kind of change at least once, committed and not
    dict(doc_id=d, mutation=m, committed=c) for d, m, c in [
        ("SOP-001", ("replace-byte", 40, ord("X")), False),
        ("SOP-002", ("insert-bytes", 0, b"\xff\xfe"), True),
        ("SOP-001", ("delete-bytes", 3, 5), True),
        ("SOP-002", ("append-whitespace", " "), False),
        ("SOP-001", ("line-endings", "lf-to-crlf"), True),
        ("SOP-002", ("line-endings", "cr-inside-a-line"), False),
        ("SOP-001", ("revision-field", "2"), False),
        ("SOP-002", ("revision-field", "1"), True),
        ("SOP-002", ("rollback-to-revision-1", 0), False),
        ("SOP-002", ("rollback-to-revision-1", 0), True),
        ("SOP-001", ("copy-other-document", 0), True),
        ("SOP-002", ("copy-other-document", 0), False)]]


@hypothesis_settings(default=30, thorough=1000)
@with_examples(DOC_EXAMPLES)
@given(doc_id=st.sampled_from(sorted(DOCS)), mutation=doc_mutations, committed=st.booleans())
def test_any_change_to_an_approved_document_is_reported_and_not_effective(
        template, scratch, doc_id, mutation, committed):
    root = _work(template, scratch)
    try:
        if mutation[0] == "rollback-to-revision-1":
            doc_id = "SOP-002"
        path = DOCS[doc_id]
        before = (root / path).read_bytes()
        after = _mutate(root, doc_id, mutation)
        if committed:
            commit(root, "tamper", who="ash")
        DOC_COUNTS["tried"] += 1
        KINDS[f"document:{mutation[0]}"] += 1
        code, findings = _verify(root)
        if fingerprint(after) == fingerprint(before):
            # Only line-ending style changed: the same content, still approved.
            DOC_COUNTS["same-content"] += 1
            assert code == 0, findings
            return
        DOC_COUNTS["changed"] += 1
        about = [f for f in findings if f["path"] == path or f["document"] == doc_id]
        assert code == 1 and about, (mutation, findings)
        DOC_COUNTS["reported"] += 1
        # The site's control block: the changed file is never effective or approved.
        # (A byte-exact copy of another document's text in force is that document.)
        ws = Workspace(root)
        for doc in ws.scan.documents:
            if doc.path == path and doc.type in ws.config.types:
                info = derive_status(doc, ws.records.for_document(doc.id), ws.config)
                copy = (doc.id != doc_id and info.in_force is not None
                        and info.in_force.fingerprint == doc.fingerprint)
                assert copy or info.status not in ("effective", "approved"), (mutation, info)
        # The controlled build publishes approved text in force (or nothing) at that path.
        approved = {fingerprint((template / p).read_bytes()) for p in DOCS.values()}
        with tempfile.TemporaryDirectory(dir=scratch) as temporary:
            tree = publish.controlled_tree(ws, Path(temporary))
            published = tree.root / path
            if published.exists():
                assert fingerprint(published.read_bytes()) in approved, mutation
        DOC_COUNTS["not-effective"] += 1
    finally:
        shutil.rmtree(root.parent, ignore_errors=True)


# --- records -------------------------------------------------------------------------

record_mutations = st.one_of(
    st.tuples(st.just("replace-byte"), st.integers(0, 10**6), st.integers(0, 255)),
    st.tuples(st.just("append"), st.sampled_from([b"\n", b" ", b"# note\n", b"extra: 1\n"])),
    st.tuples(st.just("edit-field"), st.sampled_from(
        ["role", "approver", "revision", "fingerprint", "date", "effective", "reason",
         "document"])),
    st.tuples(st.just("truncate"), st.integers(0, 10**6)),
    st.tuples(st.just("delete"), st.just(0)),
    st.tuples(st.just("rename-in-folder"), st.just(0)),
    st.tuples(st.just("move-to-other-document"), st.just(0)),
    st.tuples(st.just("move-out-of-records"), st.just(0)),
    st.tuples(st.just("replace-by-symlink"), st.just(0)),
    st.tuples(st.just("replace-by-copy-of-another"), st.just(0)),
)

FIELD_EDITS = {"role": "top-management", "revision": 7, "fingerprint": "0" * 64,
               "date": "2020-01-01T00:00:00+00:00", "effective": "2020-01-01",
               "reason": "Something else", "document": "SOP-009",
               "approver": {"name": "Tom Top", "email": "tom@example.com"}}


def _mutate_record(root: Path, record: Path, mutation: tuple) -> None:
    kind = mutation[0]
    data = record.read_bytes()
    others = sorted(p for p in (root / "records").rglob("*.yaml") if p != record)
    if kind == "replace-byte":
        at = mutation[1] % len(data)
        record.write_bytes(data[:at] + bytes([mutation[2]]) + data[at + 1:])
    elif kind == "append":
        record.write_bytes(data + mutation[1])
    elif kind == "edit-field":
        content = yaml.safe_load(data)
        field = mutation[1]
        if field not in content:
            field = "date"
        content[field] = FIELD_EDITS[field]
        record.write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
    elif kind == "truncate":
        record.write_bytes(data[: mutation[1] % len(data)])
    elif kind == "delete":
        record.unlink()
    elif kind == "rename-in-folder":
        record.rename(record.with_name("20200101T000000Z-" + record.name.split("-", 1)[1]))
    elif kind == "move-to-other-document":
        target = root / "records" / ("SOP-001" if record.parent.name != "SOP-001" else "SOP-002")
        target.mkdir(exist_ok=True)
        record.rename(target / record.name)
    elif kind == "move-out-of-records":
        record.rename(root / record.name)
    elif kind == "replace-by-symlink":
        record.unlink()
        os.symlink(os.path.relpath(others[0], record.parent), record)
    elif kind == "replace-by-copy-of-another":
        record.write_bytes(others[0].read_bytes())


RECORD_COUNTS = counters("tamper-records")


RECORD_EXAMPLES = [dict(index=i, mutation=m, committed=i % 2 == 0) for i, m in enumerate([
    ("replace-byte", 10, ord("~")), ("append", b"\n"), ("edit-field", "role"),
    ("edit-field", "fingerprint"), ("truncate", 0), ("delete", 0), ("rename-in-folder", 0),
    ("move-to-other-document", 0), ("move-out-of-records", 0), ("replace-by-symlink", 0),
    ("replace-by-copy-of-another", 0), ("replace-by-symlink", 0)])]


@hypothesis_settings(default=30, thorough=1000)
@with_examples(RECORD_EXAMPLES)
@given(index=st.integers(0, 100), mutation=record_mutations, committed=st.booleans())
def test_any_modification_deletion_or_rename_of_a_committed_record_is_reported(
        template, scratch, index, mutation, committed):
    root = _work(template, scratch)
    try:
        records = sorted((root / "records").rglob("*.yaml"))
        record = records[index % len(records)]
        rel = record.relative_to(root).as_posix()
        before = record.read_bytes()
        _mutate_record(root, record, mutation)
        if record.is_file() and not record.is_symlink() and record.read_bytes() == before:
            return  # not a modification (a field edited to the value it had)
        if committed:
            commit(root, "tamper", who="ash")
        RECORD_COUNTS["tried"] += 1
        RECORD_COUNTS["committed" if committed else "uncommitted"] += 1
        KINDS[f"record:{mutation[0]}"] += 1
        code, findings = _verify(root)
        altered = [f for f in findings if f["code"] == "record-altered" and f["path"] == rel]
        assert code == 1 and altered, (mutation, committed, findings)
        RECORD_COUNTS["reported"] += 1
    finally:
        shutil.rmtree(root.parent, ignore_errors=True)


def test_every_changed_case_was_caught():
    """Runs after the two properties (file order), over all their examples."""
    if not DOC_COUNTS or not RECORD_COUNTS:
        pytest.skip("run with the properties above")
    assert DOC_COUNTS["reported"] == DOC_COUNTS["changed"] == DOC_COUNTS["not-effective"]
    assert RECORD_COUNTS["reported"] == RECORD_COUNTS["tried"]
