"""Issue 17's attacks, each played by an insider (Ash Author: push rights to a pull-request
branch, nothing more) on a throwaway QMS, unsigned and signed (``require_signature``,
real SSH keys). Main holds SOP-001 and SOP-002 revision 1 in force; on branch ``pr`` Ash
opens revision 2 of SOP-002 with his text (:data:`ATTACK`) and tries to make it effective.

Each test asserts: the attacker's text is not in force in ``qms status`` (SOP-002 stays at
revision 1 in force) nor in the controlled site, and ``qms verify --base main`` (the
pull-request gate) fails with the finding code of the rule broken."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest

from tests.helpers import NEEDS_SSH_KEYGEN, THOROUGH, keygen
from tests.trust.support import (
    ATTACK,
    LATE_DAY,
    ORIGINAL,
    on_branch,
)

pytestmark = [NEEDS_SSH_KEYGEN, pytest.mark.sphinx]  # most build the controlled site


@pytest.fixture
def signed_repo(templates, tmp_path, monkeypatch):
    return on_branch(templates, "signed", tmp_path, monkeypatch)


def open_attack(repo, who: str = "ash") -> None:
    """Revision 2 of SOP-002 with the attacker's text, committed by ``who``."""
    repo.qms(who, "revise", "SOP-002", "--reason", "Faster release")
    repo.write_attack()
    repo.commit("SOP-002: faster release", who=who)


def sign(repo, who: str) -> str | None:
    """The key a forged record is signed with in the signed variant (``who``'s own)."""
    return who if repo.signed else None


def assert_held(repo, doc: str = "SOP-002") -> None:
    """The attacker's revision is not in force: revision 1 still is (status)."""
    info = repo.status(doc)
    assert info["in_force"] is not None and info["in_force"]["revision"] == 1, info
    assert info["status"] != "effective" or info["revision"] == 1, info


def assert_site(repo, page: str = "procedures/sop-002.html", original: str = ORIGINAL) -> None:
    """The controlled site shows the approved text, never the attacker's. (The signed
    variant builds it with QMS_THOROUGH=1 only: status, site and verify share one
    judgement, and a build is most of a test's time.)"""
    if repo.signed and not THOROUGH:
        return
    text = repo.controlled_page(page)
    assert text is not None, f"{page} is missing from the controlled site"
    assert ATTACK not in text and original in text


def assert_gate(repo, *codes: str) -> set[str]:
    found = repo.errors(base="main")
    assert set(codes) <= found, found
    return found


# --- the policy brought along by the pull request --------------------------------------


def _eve_joins(repo, roles: str = '["quality-manager"]') -> None:
    from qms_docs import signing

    with open(repo.root / "qms.toml", "a", encoding="utf-8") as handle:
        handle.write(f'\n[[people]]\nname = "Eve Extra"\nemail = "eve@example.com"\n'
                     f'roles = {roles}\n')
    if repo.signed:
        signers = repo.root / "allowed_signers"
        key = signing.read_public_key(str(repo.keys / "eve.pub"))
        signers.write_bytes(signing.with_signer(signers.read_bytes(), "eve@example.com", key))


def test_second_approver_added_to_the_policy_in_the_pr(repo):
    open_attack(repo)
    _eve_joins(repo)
    repo.commit("Eve joins as quality manager")
    refused = repo.approve("eve", "SOP-002", "quality-manager", code=1)
    assert "not a person" in refused.output
    repo.forge("approval", "SOP-002", "eve", role="quality-manager", sign_with=sign(repo, "eve"))
    repo.commit("Approve SOP-002", who="eve")
    repo.approve_and_commit("pat", "SOP-002", "production-manager")
    assert_held(repo)
    assert_gate(repo, "policy-not-approved", "unauthorized-approval")
    assert_site(repo)


def test_one_person_given_both_roles_in_the_pr(repo):
    open_attack(repo)
    repo.edit("qms.toml", 'email = "pat@example.com"\nroles = ["production-manager"]',
              'email = "pat@example.com"\nroles = ["production-manager", "quality-manager"]')
    repo.commit("Pat covers quality too")
    repo.approve("pat", "SOP-002", "quality-manager", code=1)
    repo.forge("approval", "SOP-002", "pat", role="quality-manager", sign_with=sign(repo, "pat"))
    repo.commit("Approve SOP-002 as quality-manager", who="pat")
    repo.approve_and_commit("pat", "SOP-002", "production-manager")
    assert_held(repo)
    assert_gate(repo, "policy-not-approved", "unauthorized-approval")
    assert_site(repo)


@pytest.mark.parametrize("who", ["ash", "quinn"])
def test_policy_change_approved_by_a_forged_or_own_approval(repo, who):
    """``who`` opens a policy revision that makes Eve a quality manager; the policy's
    approval is then either written by Ash naming Quinn (unsigned policy approvals: only
    the gate's identity check stops it) or Quinn's own approval of the change she made
    (self-approval). Either way the gate fails; with her own approval the policy never
    comes into force and Eve's approval counts nowhere."""
    open_attack(repo)
    _eve_joins(repo)
    repo.qms(who, "revise", "policy", "--reason", "Eve covers quality")
    repo.commit("Eve covers quality", who=who)
    if who == "quinn":
        refused = repo.qms("quinn", "approve", "policy", "--role", "quality-manager", code=1)
        assert "cannot approve" in refused.output
    repo.forge_policy_approval("quinn", revision=2)
    repo.commit("Approve the policy", who=who)
    repo.forge("approval", "SOP-002", "eve", role="quality-manager", sign_with=sign(repo, "eve"))
    repo.commit("Approve SOP-002 as quality-manager", who="eve")
    repo.approve_and_commit("pat", "SOP-002", "production-manager")
    if who == "ash":
        assert_gate(repo, "identity-not-proven")
        return
    assert_held(repo)
    assert_gate(repo, "self-approval", "policy-not-approved", "unauthorized-approval")
    assert_site(repo)


def test_require_signature_deleted_in_the_pr(signed_repo):
    repo = signed_repo
    open_attack(repo)
    repo.edit("qms.toml", "require_signature = true\n", "")
    repo.commit("Signatures are a hassle")
    refused = repo.qms("quinn", "approve", "SOP-002", "--role", "quality-manager", code=1)
    assert "must be signed" in refused.output
    for who, role in (("quinn", "quality-manager"), ("pat", "production-manager")):
        repo.forge("approval", "SOP-002", who, role=role)
        repo.commit(f"Approve SOP-002 as {role}", who=who)
    assert_held(repo)
    assert_gate(repo, "policy-not-approved", "missing-signature")
    assert_site(repo)


def test_own_key_appended_under_an_approvers_email(repo):
    from qms_docs import signing

    open_attack(repo)
    keygen(repo.keys, "ash")
    ash_key = signing.read_public_key(str(repo.keys / "ash.pub"))
    refused = repo.qms("ash", "keys", "add", "quinn@example.com", str(repo.keys / "ash.pub"),
                       code=1)
    assert "own key" in refused.output or "each person" in refused.output
    signers = repo.root / "allowed_signers"
    current = signers.read_bytes() if signers.exists() else None
    signers.write_bytes(signing.with_signer(current, "quinn@example.com", ash_key))
    repo.commit("Signers")
    repo.forge("approval", "SOP-002", "quinn", role="quality-manager", sign_with="ash")
    repo.commit("Approve SOP-002 as quality-manager (signed)")
    repo.approve_and_commit("pat", "SOP-002", "production-manager")
    assert_held(repo)
    assert_gate(repo, "policy-not-approved", "bad-signature", "identity-not-proven")
    assert_site(repo)


# --- records nobody with the authority made ---------------------------------------------


def test_hand_written_approval_naming_the_quality_manager(repo):
    """Unsigned, a record naming Quinn that Ash committed cannot be told from Quinn's own
    by its content: identity rests on the gate (the commit adding it was Ash's) and the
    platform. Signed, the missing signature keeps it from counting anywhere."""
    open_attack(repo)
    repo.forge("approval", "SOP-002", "quinn", role="quality-manager")
    repo.commit("Approve SOP-002 as quality-manager")
    repo.approve_and_commit("pat", "SOP-002", "production-manager")
    found = assert_gate(repo, "identity-not-proven")
    if repo.signed:
        assert "missing-signature" in found
        assert_held(repo)
        assert_site(repo)


@pytest.mark.parametrize("case", ["non-person", "author", "bad-signature"])
def test_approval_without_authority(repo, case):
    open_attack(repo)
    if case == "non-person":
        repo.forge("approval", "SOP-002", "mallory", role="quality-manager",
                   sign_with=sign(repo, "mallory"))
        repo.commit("Approve SOP-002 as quality-manager", who="mallory")
        repo.approve_and_commit("pat", "SOP-002", "production-manager")
        code = "unauthorized-approval"
    elif case == "author":
        repo.approve("ash", "SOP-002", "production-manager", code=1)
        repo.forge("approval", "SOP-002", "ash", role="production-manager",
                   sign_with=sign(repo, "ash"))
        repo.commit("Approve SOP-002 as production-manager")
        repo.approve_and_commit("quinn", "SOP-002", "quality-manager")
        code = "self-approval"
    else:
        repo.forge("approval", "SOP-002", "quinn", role="quality-manager", sign_with="mallory")
        repo.commit("Approve SOP-002 as quality-manager", who="quinn")
        repo.approve_and_commit("pat", "SOP-002", "production-manager")
        code = "bad-signature"
    assert_held(repo)
    assert_gate(repo, code)
    full = repo.errors()
    assert code in full, full
    assert_site(repo)


@pytest.mark.parametrize("who", ["mallory", "ash"])
def test_retirement_and_review_without_authority(repo, who):
    before = repo.status("SOP-001")
    assert before["status"] == "effective" and before["next_review"]
    repo.at(LATE_DAY)
    repo.forge("retirement", "SOP-001", who)
    repo.commit("Retire SOP-001", who=who)
    after = repo.status("SOP-001")
    assert after["status"] == "effective", after
    assert_gate(repo, "unauthorized-retirement")
    repo.forge("review", "SOP-001", who)  # Ash is no owner nor approver of SOP-001
    repo.commit("Review SOP-001", who=who)
    review = repo.status("SOP-001")
    assert review["next_review"] == before["next_review"], review
    assert review["last_review"] == before["last_review"], review
    assert_gate(repo, "unauthorized-retirement", "unauthorized-review")
    assert_site(repo, "procedures/sop-001.html", "How documents are written")


def test_review_meaning_is_no_approval(repo):
    """Quinn signs as reviewer (``--meaning review``), Pat approves: the type needs an
    approval of the quality manager, so revision 2 is not in force, and nothing is wrong
    with either record."""
    open_attack(repo)
    sign_args = ("--sign", "--key", str(repo.keys / "quinn")) if repo.signed else ()
    repo.qms("quinn", "approve", "SOP-002", "--role", "quality-manager", "--meaning",
             "review", *sign_args)
    repo.commit("Review SOP-002 revision 2", who="quinn")
    repo.approve_and_commit("pat", "SOP-002", "production-manager")
    assert_held(repo)
    assert repo.status("SOP-002")["missing_roles"] == ["quality-manager"]
    assert repo.errors(base="main") == set()
    assert_site(repo)
    repo.approve_and_commit("quinn", "SOP-002", "quality-manager")  # now Quinn approves
    assert repo.status("SOP-002")["in_force"]["revision"] == 2


@pytest.mark.parametrize("field", ["effective", "name", "meaning"])
def test_signature_covers_date_name_and_meaning(signed_repo, field):
    """A signed review turned into an approval, a signed approval moved to another
    effective date or shown under another printed name: the signature no longer verifies."""
    import yaml

    repo = signed_repo
    open_attack(repo)
    meaning = "review" if field == "meaning" else "approval"
    repo.qms("quinn", "approve", "SOP-002", "--role", "quality-manager", "--meaning", meaning,
             "--sign", "--key", str(repo.keys / "quinn"))
    path = max((repo.root / "records" / "SOP-002").glob("*-approval-*.yaml"))
    data = yaml.safe_load(path.read_text())
    if field == "effective":
        data["effective"] = "2026-01-01"
    elif field == "name":
        data["approver"]["name"] = "Quinn Quality (for the board)"
    else:
        data["meaning"] = "approval"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    repo.commit("Approve SOP-002 as quality-manager", who="quinn")
    repo.approve_and_commit("pat", "SOP-002", "production-manager")
    assert_held(repo)
    assert_gate(repo, "bad-signature")


def test_effective_date_in_the_past_is_not_in_force_earlier(repo):
    """``qms approve --effective`` refuses a day in the past; records stating one (by hand,
    each committed and signed by the person it names) put the text in force from the
    approval on, never earlier (status, show --as-of)."""
    open_attack(repo)
    repo.at(LATE_DAY)
    refused = repo.qms("quinn", "approve", "SOP-002", "--role", "quality-manager",
                       "--effective", "2026-01-10", code=2)
    assert "in the past" in refused.output
    for who, role in (("quinn", "quality-manager"), ("pat", "production-manager")):
        repo.forge("approval", "SOP-002", who, role=role, effective="2026-01-10",
                   sign_with=sign(repo, who))
        repo.commit(f"Approve SOP-002 as {role}", who=who)
    for day in ("2026-01-10", "2026-03-05"):
        shown = repo.qms("quinn", "show", "SOP-002", "--as-of", day)
        assert ATTACK not in shown.output and ORIGINAL in shown.output
    assert repo.errors(base="main") == set()
    info = repo.status("SOP-002")
    assert info["in_force"]["revision"] == 2 and info["in_force"]["effective"] >= LATE_DAY


# --- dates, revision numbers, authorship ------------------------------------------------


def test_approval_dated_before_its_content_existed(repo):
    new = repo.qms("ash", "new", "sop", "Release shortcut")
    path = repo.root / new.stdout.strip().splitlines()[-1]
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(f"\n{ATTACK}\n")
    repo.commit("SOP-003: release shortcut")
    repo.at(LATE_DAY)
    for who, role in (("quinn", "quality-manager"), ("pat", "production-manager")):
        repo.forge("approval", "SOP-003", who, role=role, date="2026-02-01",
                   sign_with=sign(repo, who))
        repo.commit(f"Approve SOP-003 as {role}", who=who)
    info = repo.status("SOP-003")
    assert info["in_force"] is None and info["status"] != "effective", info
    for day in ("2026-02-01", "2026-02-20", LATE_DAY):
        shown = repo.qms("quinn", "show", "SOP-003", "--as-of", day, code=1)
        assert ATTACK not in shown.output
    assert_gate(repo, "record-predates-content")
    assert "record-predates-content" in repo.errors()
    assert repo.controlled_page("procedures/sop-003.html") is None


@pytest.mark.slow
def test_backdated_approval_is_not_in_the_audit_pack(repo):
    test_approval_dated_before_its_content_existed(repo)
    out = repo.root.parent / "audit.zip"
    repo.qms("quinn", "audit-pack", "--as-of", "2026-02-20", "-o", str(out))
    with zipfile.ZipFile(out) as pack:
        rows = list(csv.DictReader(io.StringIO(pack.read("master-list.csv").decode())))
        names = pack.namelist()
        approvals = pack.read("approvals.csv").decode()
    sop3 = [r for r in rows if "SOP-003" in r.values()]
    assert all("effective" not in " ".join(r.values()).lower() for r in sop3), sop3
    assert not any("SOP-003" in n for n in names), names
    assert "SOP-003" not in approvals


def test_revision_number_reused_for_new_content(repo):
    repo.write_attack()
    repo.commit("SOP-002: small fix")
    refused = repo.approve("quinn", "SOP-002", "quality-manager", code=1)
    assert "qms revise" in refused.output
    for who, role in (("quinn", "quality-manager"), ("pat", "production-manager")):
        repo.forge("approval", "SOP-002", who, role=role, sign_with=sign(repo, who))
        repo.commit(f"Approve SOP-002 as {role}", who=who)
    assert_held(repo)
    assert_gate(repo, "revision-reused")
    assert "revision-reused" in repo.errors()
    assert_site(repo)


@pytest.mark.parametrize("how", ["amend", "squash", "co-author"])
def test_writer_hidden_behind_another_author(repo, how):
    """Pat opens revision 2; Ash writes the text but records Pat as its author (amend or
    a squash he commits), then approves as production-manager: the committer counts. Or
    Pat commits the text Ash co-wrote (a Co-authored-by trailer): the co-author counts."""
    repo.qms("pat", "revise", "SOP-002", "--reason", "Faster release")
    repo.commit("Open SOP-002 revision 2", who="pat")
    if how == "amend":
        repo.write_attack()
        repo.commit("SOP-002: faster release")
        repo.git("commit", "-q", "--amend", "--no-edit", "--author",
                 "Pat Production <pat@example.com>")
    elif how == "co-author":
        repo.write_attack()
        repo.git("add", "-A", who="pat")
        repo.git("commit", "-q", "-m", "SOP-002: faster release\n\n"
                 "Co-authored-by: Ash Author <ash@example.com>", who="pat")
        repo.later()
    else:
        repo.git("checkout", "-q", "-b", "work")
        repo.write_attack()
        repo.commit("wip")
        repo.git("checkout", "-q", "pr")
        repo.git("merge", "-q", "--squash", "work")
        repo.commit("SOP-002: faster release", who="ash", author="pat")
    log = repo.git("log", "-1", "--format=%ae %ce")
    assert log.split() == ["pat@example.com",
                           "pat@example.com" if how == "co-author" else "ash@example.com"]
    repo.approve("ash", "SOP-002", "production-manager", code=1)
    repo.forge("approval", "SOP-002", "ash", role="production-manager",
               sign_with=sign(repo, "ash"))
    repo.commit("Approve SOP-002 as production-manager")
    repo.approve_and_commit("quinn", "SOP-002", "quality-manager")
    assert_held(repo)
    assert_gate(repo, "self-approval")
    assert_site(repo)


# --- records altered, documents removed -------------------------------------------------


def _approvals_of(repo, doc: str):
    return sorted((repo.root / "records" / doc).glob("*-approval-*.yaml"))


@pytest.mark.parametrize("how", ["deleted", "changed"])
def test_record_altered_inside_a_merge_commit(repo, how):
    """A side branch brings revision 2; the merge commit rewrites (or deletes) the
    approvals of revision 1, so that they seem to approve revision 2."""
    import yaml

    from qms_docs.documents import fingerprint

    repo.git("checkout", "-q", "-b", "side")
    open_attack(repo)
    repo.git("checkout", "-q", "pr")
    (repo.root / "notes.txt").write_text("meeting notes\n")
    repo.commit("Notes")
    repo.git("merge", "-q", "--no-ff", "--no-commit", "side")
    digest = fingerprint((repo.root / "procedures" / "sop-002.rst").read_bytes())
    for path in _approvals_of(repo, "SOP-002"):
        if how == "deleted":
            path.unlink()
            break
        data = yaml.safe_load(path.read_text())
        data.update(revision=2, fingerprint=digest)
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    repo.commit("Merge side")
    assert repo.git("rev-list", "--parents", "-1", "HEAD").count(" ") == 2  # a merge
    info = repo.status("SOP-002")
    assert not (info["in_force"] and info["in_force"]["revision"] == 2), info
    assert_gate(repo, "record-altered")
    assert "record-altered" in repo.errors()
    if how == "changed":
        page = repo.controlled_page()
        assert page is None or ATTACK not in page


def test_record_added_then_modified_inside_the_branch(repo):
    """Revision 2 is approved as written; Ash then swaps in his text and edits the new
    approvals to match it: the branch's net diff only adds records, its commits do not."""
    import yaml

    from qms_docs.documents import fingerprint

    repo.qms("ash", "revise", "SOP-002", "--reason", "Clarify")
    repo.edit("procedures/sop-002.rst", ORIGINAL, ORIGINAL + " Weekly.")
    repo.commit("SOP-002: weekly")
    before = set(_approvals_of(repo, "SOP-002"))
    repo.approve_and_commit("quinn", "SOP-002", "quality-manager")
    repo.approve_and_commit("pat", "SOP-002", "production-manager")
    assert repo.status("SOP-002")["in_force"]["revision"] == 2
    repo.write_attack()
    repo.commit("SOP-002: one more line")
    digest = fingerprint((repo.root / "procedures" / "sop-002.rst").read_bytes())
    repo.later(60)
    for path in set(_approvals_of(repo, "SOP-002")) - before:
        data = yaml.safe_load(path.read_text())
        data.update(fingerprint=digest, date=repo.when.isoformat())  # after the new text
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    repo.commit("Fix records")
    assert_gate(repo, "record-altered")
    assert "record-altered" in repo.errors()
    info = repo.status("SOP-002")
    assert info["status"] != "effective" and info["approvals"] == [], info
    assert_site(repo)


@pytest.mark.parametrize("how", ["deleted", "moved"])
def test_controlled_document_deleted_or_moved_and_edited(repo, how):
    if how == "deleted":
        repo.git("rm", "-q", "procedures/sop-001.rst")
        repo.commit("Drop SOP-001")
        assert_gate(repo, "invalid-record")
        return
    repo.git("mv", "procedures/sop-002.rst", "procedures/planning.rst")
    repo.write_attack("procedures/planning.rst")
    repo.commit("Rename SOP-002")
    info = repo.status("SOP-002")  # the approved text is not the file's: never in force
    assert info["in_force"] is None or info["in_force"]["revision"] == 1, info
    assert info["status"] != "effective", info
    assert_gate(repo, "edited-after-approval")
    for page in ("procedures/planning.html", "procedures/sop-002.html"):
        text = repo.controlled_page(page)
        assert text is None or ATTACK not in text
