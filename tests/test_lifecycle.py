"""Document control end to end, through the CLI, in throwaway git repositories."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import QmsRepo, git, new_repo, run_qms, sphinx_build


@pytest.fixture
def repo(tmp_path) -> Path:
    """The basic scenario with Ash (a second production manager, to write documents)."""
    return new_repo(tmp_path / "qms")


@pytest.fixture
def qms(runner, repo) -> QmsRepo:
    """Quinn (quality manager), Pat and Ash (production managers) acting in ``repo``."""
    return QmsRepo(repo, runner)


def test_full_life_cycle(qms):
    path = qms("ash", "new", "sop", "Goods In", "--owner", "production-manager",
               "--satisfies", "8.4.2").output.strip().splitlines()[-1]
    assert path == "procedures/sop-003-goods-in.rst"
    text = (qms.root / path).read_text()
    assert ":id: SOP-003" in text and ":satisfies: ISO9001-8-4-2" in text
    qms.commit("Draft SOP-003")
    assert qms.status("SOP-003")["status"] == "draft"
    qms("quinn", "check")

    qms("quinn", "approve", "sop-003", "--role", "quality-manager")
    s = qms.status("SOP-003")
    assert s["status"] == "in-review" and s["missing_roles"] == ["production-manager"]
    qms("pat", "approve", "SOP-003", "--role", "production-manager")
    s = qms.status("SOP-003")
    assert s["status"] == "effective" and s["in_force"]["revision"] == 1
    qms.commit("Approve SOP-003", who="quinn")

    qms("ash", "revise", "SOP-003", "--reason", "New supplier portal", "--summary", "Step 2")
    (qms.root / path).write_text((qms.root / path).read_text() + "\nExtra step.\n")
    qms.commit("SOP-003 revision 2")
    s = qms.status("SOP-003")
    assert s["revision"] == 2 and s["status"] == "draft" and s["in_force"]["revision"] == 1
    qms("quinn", "approve", "SOP-003", "--role", "quality-manager")
    qms("pat", "approve", "SOP-003", "--role", "production-manager")
    s = qms.status("SOP-003")
    assert s["status"] == "effective" and s["in_force"]["revision"] == 2
    qms.commit("Approve SOP-003 revision 2", who="quinn")
    assert qms("quinn", "verify").exit_code == 0

    result = qms("quinn", "retire", "SOP-003", "--reason", "Merged", "--superseded-by", "SOP-001",
                 "--yes")
    assert "obsolete" in result.output
    assert qms.status("SOP-003")["status"] == "obsolete"


def test_approved_not_yet_effective(qms):
    qms("quinn", "approve", "SOP-001", "--role", "quality-manager", "--effective", "2999-01-01")
    s = qms.status("SOP-001")
    assert s["status"] == "approved" and s["effective"] == "2999-01-01"


@pytest.fixture
def drafted(qms):
    """SOP-002 (owner production-manager), written and committed by Ash."""
    path = qms.root / "procedures" / "sop-002.rst"
    path.write_text(path.read_text() + "\nMore text by Ash.\n")
    qms.commit("Edit SOP-002", who="ash")
    return qms


@pytest.mark.parametrize("who, args, message", [
    ("quinn", ["--role", "production-manager"], "does not hold the role"),
    ("quinn", ["--role", "top-management"], "does not hold the role"),
    ("ash", ["--role", "production-manager"], "committed changes to SOP-002"),
])
def test_approve_refusals(drafted, who, args, message):
    result = drafted(who, "approve", "SOP-002", *args, code=1)
    assert message in result.output
    assert not (drafted.root / "records").exists()


def test_refuse_role_not_required_unknown_person_uncommitted_and_duplicate(drafted, repo):
    with open(repo / "qms.toml", "a", encoding="utf-8") as handle:
        handle.write('\n[[people]]\nname = "Sal Sales"\nemail = "sal@example.com"\n'
                     'roles = ["sales-manager"]\n')
    drafted.commit("Add Sal", who="ash")
    git(repo, "config", "user.email", "sal@example.com")
    result = run_qms(drafted.runner, ["--repo", str(repo), "approve", "SOP-002", "--role",
                                      "sales-manager"])
    # qms.toml's new person counts once the policy change is approved, not before
    assert result.exit_code == 1 and "the change that adds you is not approved yet" in (
        result.output)
    drafted("ash", "revise", "policy", "--reason", "Sal joins")
    drafted.commit("Open policy revision 2", who="ash")
    drafted("quinn", "approve", "policy", "--role", "quality-manager")
    drafted.commit("Approve the policy", who="quinn")
    git(repo, "config", "user.email", "sal@example.com")
    result = run_qms(drafted.runner, ["--repo", str(repo), "approve", "SOP-002", "--role",
                                      "sales-manager"])
    assert result.exit_code == 1 and (
        "SOP-002 needs approval by quality-manager and production-manager, its owner "
        "([types.sop] approvers in qms.toml); Sal Sales holds sales-manager") in result.output
    git(repo, "config", "user.email", "stranger@example.com")
    result = run_qms(drafted.runner, ["--repo", str(repo), "approve", "SOP-002", "--role",
                                      "quality-manager"])
    assert result.exit_code == 1 and "not a person in qms.toml" in result.output
    drafted("quinn", "approve", "SOP-002", "--role", "quality-manager")
    result = drafted("quinn", "approve", "SOP-002", "--role", "quality-manager", code=1)
    assert "already approved for quality-manager" in result.output
    path = repo / "procedures" / "sop-002.rst"
    path.write_text(path.read_text() + "\nUncommitted.\n")
    result = drafted("pat", "approve", "SOP-002", "--role", "production-manager", code=1)
    assert "uncommitted changes" in result.output


def test_author_of_change_record_cannot_approve(qms):
    qms("quinn", "approve", "SOP-001", "--role", "quality-manager")
    qms.commit("approve", who="quinn")
    qms("quinn", "revise", "SOP-001", "--reason", "Typo")
    qms.commit("rev 2", who="pat")
    result = qms("quinn", "approve", "SOP-001", "--role", "quality-manager", code=1)
    assert "wrote revision 2 of SOP-001" in result.output


def test_revise_refuses_a_draft_that_was_never_approved(qms):
    result = qms("pat", "revise", "SOP-002", "--reason", "x", code=1)
    assert "still a draft" in result.output


def codes(qms) -> set[str]:
    import json

    result = qms("quinn", "verify", "--format", "json", code=None) if False else run_qms(
        qms.runner, ["--repo", str(qms.root), "verify", "--format", "json"])
    return {f["code"] for f in json.loads(result.stdout)["findings"]}


@pytest.fixture
def approved(qms):
    """SOP-001 effective (approved by Quinn) and committed."""
    qms("quinn", "approve", "SOP-001", "--role", "quality-manager")
    qms.commit("Approve SOP-001", who="quinn")
    assert codes(qms) == set()
    return qms


def test_verify_edited_after_approval(approved):
    path = approved.root / "procedures" / "sop-001.rst"
    path.write_text(path.read_text() + "\nSneaky edit.\n")
    assert "edited-after-approval" in codes(approved)
    assert approved.status("SOP-001")["status"] == "draft"


def test_verify_missing_change_record(approved):
    path = approved.root / "procedures" / "sop-001.rst"
    path.write_text(path.read_text().replace(":revision: 1", ":revision: 2"))
    assert "missing-change-record" in codes(approved)


def test_verify_record_altered_committed_and_in_working_tree(approved):
    record = next((approved.root / "records").rglob("*.yaml"))
    record.write_text(record.read_text().replace("quality-manager", "quality-manager "))
    assert "record-altered" in codes(approved)
    approved.commit("rewrite a record", who="pat")
    assert "record-altered" in codes(approved)


def test_verify_record_deleted(approved):
    next((approved.root / "records").rglob("*.yaml")).unlink()
    approved.commit("delete a record", who="pat")
    assert "record-altered" in codes(approved)


def _forge(root: Path, **changes) -> None:
    import yaml

    from qms_docs.records import new_record, write_record

    record = next(p for p in (root / "records").rglob("*.yaml"))
    data = yaml.safe_load(record.read_text())
    data.update(id=new_record("approval", "SOP-001")["id"], **changes)
    write_record(root, data)


def test_verify_unauthorized_approval(approved):
    _forge(approved.root, role="production-manager",
           approver={"name": "Pat Production", "email": "pat@example.com"})
    assert "unauthorized-approval" in codes(approved)


def test_verify_approval_of_unknown_content(approved):
    _forge(approved.root, fingerprint="0" * 64)
    assert "approval-of-unknown-content" in codes(approved)


def test_verify_self_approval(qms):
    # Quinn edits SOP-001 and commits it, then a hand-made approval by Quinn appears.
    path = qms.root / "procedures" / "sop-001.rst"
    path.write_text(path.read_text() + "\nQuinn's text.\n")
    qms.commit("Quinn edits", who="quinn")
    from qms_docs.documents import fingerprint
    from qms_docs.records import new_record, write_record

    write_record(qms.root, new_record(
        "approval", "SOP-001", revision=1, fingerprint=fingerprint(path.read_bytes()),
        approver={"name": "Quinn Quality", "email": "quinn@example.com"},
        role="quality-manager", meaning="approval", effective="2026-01-01",
        commit=git(qms.root, "rev-parse", "HEAD").strip()))
    assert "self-approval" in codes(qms)


def test_verify_hand_typed_status_and_invalid_record(approved):
    path = approved.root / "procedures" / "sop-002.rst"
    path.write_text(path.read_text().replace("   :owner:", "   :status: effective\n   :owner:"))
    (approved.root / "records" / "SOP-001" / "broken.yaml").write_text("kind: approval\n")
    found = codes(approved)
    assert {"hand-typed-status", "invalid-record"} <= found


def _tree(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if ".git" not in p.parts}


MALFORMED = {
    "broken-yaml": ("records/SOP-001/bad.yaml", b"kind: approval\ndocument: [SOP-001\n",
                    "records/SOP-001/bad.yaml:", "not valid YAML"),
    "record-missing-fields": ("records/SOP-001/bad.yaml", b"kind: review\ndocument: SOP-001\n",
                              "records/SOP-001/bad.yaml", "is missing"),
    "header-without-id": ("procedures/sop-009.rst",
                          b".. sop:: No Id\n   :revision: 1\n   :owner: quality-manager\n\nText\n",
                          "procedures/sop-009.rst:1", "has no :id:"),
    "non-utf8": ("procedures/sop-009.rst", b".. sop:: Caf\xe9\n   :id: SOP-009\n",
                 "procedures/sop-009.rst:1", "not UTF-8"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
@pytest.mark.parametrize("command", [
    ["status"], ["approve", "SOP-001", "--role", "quality-manager"],
    ["new", "sop", "Another"], ["revise", "SOP-001", "--reason", "x"]])
def test_malformed_input_is_exit_2_one_line_no_file_written(qms, case, command):
    file, payload, where, reason = MALFORMED[case]
    target = qms.root / file
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(payload)
    before = _tree(qms.root)
    result = qms("quinn", *command, code=2)
    first = result.output.splitlines()[0]
    assert first.startswith(f"error: {where}") and reason in first, result.output
    assert "Traceback" not in result.output
    assert _tree(qms.root) == before


def test_unknown_role_in_qms_toml_is_exit_2(qms):
    with open(qms.root / "qms.toml", "a", encoding="utf-8") as handle:
        handle.write('\n[types.wi]\napprovers = ["night-shift"]\n')
    before = _tree(qms.root)
    result = qms("quinn", "approve", "SOP-001", "--role", "quality-manager", code=2)
    assert result.output.startswith("error: qms.toml:")
    assert "unknown role 'night-shift'" in result.output
    assert _tree(qms.root) == before


@pytest.mark.sphinx
def test_site_shows_status_and_follows_new_records_incrementally(qms):
    qms("quinn", "approve", "SOP-002", "--role", "quality-manager")
    first = sphinx_build(qms.root)
    assert first.returncode == 0, first.warnings
    page = (first.outdir / "procedures" / "sop-002.html").read_text(encoding="utf-8")
    assert "IN REVIEW" in page and "in-review (awaiting Production Manager)" in page
    assert "Quinn Quality (Quality Manager, approval," in page  # role titles, not keys
    master = (first.outdir / "reports.html").read_text(encoding="utf-8")
    assert "in-review" in master

    doctree = first.outdir / ".doctrees" / "procedures" / "sop-002.doctree"
    read = doctree.stat().st_mtime_ns
    qms("pat", "approve", "SOP-002", "--role", "production-manager")
    second = sphinx_build(qms.root)  # incremental: only records changed
    assert second.returncode == 0, second.warnings
    # The page is written again from the page read before: its source did not change.
    assert doctree.stat().st_mtime_ns == read
    page = (second.outdir / "procedures" / "sop-002.html").read_text(encoding="utf-8")
    assert "qms-banner" not in page
    assert "qms-status-effective" in page and "Pat Production (Production Manager" in page
    other = (second.outdir / "procedures" / "sop-001.html").read_text(encoding="utf-8")
    assert "DRAFT: this revision is not approved" in other
    master = (second.outdir / "reports.html").read_text(encoding="utf-8")
    row = master[master.index("qms-master-list"):]
    row = row[row.index("SOP-002"):]
    assert "effective" in row[: row.index("</tr>")]


def _master_row(outdir, doc_id: str) -> str:
    master = (outdir / "reports.html").read_text(encoding="utf-8")
    row = master[master.index("qms-master-list"):]
    row = row[row.index(doc_id):]
    return row[: row.index("</tr>")]


@pytest.mark.sphinx
def test_incremental_build_rereads_reports_only_when_what_they_show_changed(qms):
    qms("quinn", "approve", "SOP-002", "--role", "quality-manager")
    qms("pat", "approve", "SOP-002", "--role", "production-manager")
    first = sphinx_build(qms.root)
    assert first.returncode == 0, first.warnings
    assert "effective" in _master_row(first.outdir, "SOP-002")
    reports = first.outdir / "reports.html"
    assert "(effective)" in reports.read_text(encoding="utf-8")
    written = reports.stat().st_mtime_ns
    reports_read = (first.outdir / ".doctrees" / "reports.doctree").stat().st_mtime_ns
    standards = first.outdir / "standards.html"
    standards_written = standards.stat().st_mtime_ns
    standards_read = (first.outdir / ".doctrees" / "standards.doctree").stat().st_mtime_ns

    # The text of a draft changes: no header, status or record changed, reports stay.
    draft = qms.root / "procedures" / "sop-001.rst"
    draft.write_text(draft.read_text(encoding="utf-8") + "\nA new sentence.\n",
                     encoding="utf-8")
    second = sphinx_build(qms.root)
    assert second.returncode == 0, second.warnings
    assert "A new sentence." in (second.outdir / "procedures" / "sop-001.html").read_text(
        encoding="utf-8")
    assert reports.stat().st_mtime_ns == written
    assert standards.stat().st_mtime_ns == standards_written

    # The text of an effective document changes: it is a draft now, and the reports say so.
    effective = qms.root / "procedures" / "sop-002.rst"
    effective.write_text(effective.read_text(encoding="utf-8") + "\nChanged.\n",
                         encoding="utf-8")
    third = sphinx_build(qms.root)
    assert third.returncode == 0, third.warnings
    row = _master_row(third.outdir, "SOP-002")
    assert "draft" in row and "effective</p>" not in row
    # the trace matrix counts the revision in force, whose text git still holds
    assert "Production Planning (effective)" in reports.read_text(encoding="utf-8")
    # The reports are made when the page is written: it was not read again.
    assert (third.outdir / ".doctrees" / "reports.doctree").stat().st_mtime_ns == reports_read
    # The standards page says what satisfies each clause as the matrix does: written
    # again with the statuses, not read again (no clause link changed).
    assert standards.stat().st_mtime_ns != standards_written
    assert (third.outdir / ".doctrees" / "standards.doctree").stat().st_mtime_ns == standards_read


def test_the_day_a_revision_takes_effect_re_writes_its_page_and_the_reports(qms):
    """What a page shows beyond its source is digested per document: the day an
    approved revision takes effect changes the digest of that document's page and of
    the reports, and of no other page (the build re-writes exactly those)."""
    import datetime as dt

    from qms_docs.catalog import load_standard
    from qms_docs.config import load_config
    from qms_docs.documents import scan
    from qms_docs.records import load_records
    from qms_docs.sphinxext.state import ProjectState

    qms("quinn", "approve", "SOP-001", "--role", "quality-manager", "--effective", "2999-01-01")
    config = load_config(qms.root)

    def digests(day: str) -> tuple[dict[str, str], str]:
        state = ProjectState(root=qms.root, config=config,
                             catalogs=[load_standard(n, qms.root) for n in config.standards])
        state.reset(scan(qms.root, config), load_records(qms.root))
        state.today = dt.date.fromisoformat(day)
        return state.page_digests(), state.input_digests()["reports"]

    before, reports_before = digests("2998-12-31")
    after, reports_after = digests("2999-01-01")
    assert [doc for doc in before if before[doc] != after[doc]] == ["SOP-001"]
    assert reports_before != reports_after
