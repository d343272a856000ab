"""Issue 17's legitimate flows: a policy change approved in its own pull request, a person
leaving, a key revoked, signatures switched on, a document moved. Every older record stays
valid, the document stays in force, and ``qms verify`` (full, and the gate on the branch)
stays green; what is made afterwards is judged by the new policy."""

from __future__ import annotations

import json

import pytest

from tests.helpers import NEEDS_SSH_KEYGEN, PEOPLE, keygen
from tests.trust.support import (
    LATE_DAY,
    on_branch,
)

pytestmark = NEEDS_SSH_KEYGEN


def in_force(repo, doc: str) -> int | None:
    """The revision in force (a newer one may be open)."""
    info = repo.status(doc)
    assert info["in_force"] is not None, info
    return info["in_force"]["revision"]


def green(repo) -> None:
    """Full verify and the gate on the branch: no error finding."""
    assert repo.errors() == set()
    assert repo.errors(base="main") == set()


def merge(repo) -> None:
    """The pull request lands on main (a merge commit by Quinn), work goes on from there."""
    repo.git("checkout", "-q", "main", who="quinn")
    repo.git("merge", "-q", "--no-ff", "-m", "Merge pr", "pr", who="quinn")
    repo.later()
    repo.git("checkout", "-q", "-b", "pr2", who="quinn")


def test_policy_change_approved_in_its_own_pull_request(repo):
    """Eve joins as production-manager (with her key, signed variant); the policy change
    is opened by Ash and approved by Quinn on the branch; once merged, Eve approves."""
    from qms_docs import signing

    with open(repo.root / "qms.toml", "a", encoding="utf-8") as handle:
        handle.write('\n[[people]]\nname = "Eve Extra"\nemail = "eve@example.com"\n'
                     'roles = ["production-manager"]\n')
    if repo.signed:
        signers = repo.root / "allowed_signers"
        key = signing.read_public_key(str(repo.keys / "eve.pub"))
        signers.write_bytes(signing.with_signer(signers.read_bytes(), "eve@example.com", key))
    repo.change_policy("Eve joins production")
    assert repo.qms("quinn", "status", "policy", "--format", "json").exit_code == 0
    green(repo)
    assert (in_force(repo, "SOP-001"), in_force(repo, "SOP-002")) == (1, 1)
    merge(repo)
    repo.at(LATE_DAY)
    repo.qms("ash", "revise", "SOP-002", "--reason", "Weekly planning")
    repo.edit("procedures/sop-002.rst", "How production is planned.",
              "How production is planned, weekly.")
    repo.commit("SOP-002: weekly")
    repo.approve_and_commit("eve", "SOP-002", "production-manager")
    repo.approve_and_commit("quinn", "SOP-002", "quality-manager")
    assert in_force(repo, "SOP-002") == 2
    green(repo)


def test_person_leaving_keeps_their_records(repo):
    """Pat leaves (removed from qms.toml and, signed, from the signers): Pat's approval of
    SOP-002 revision 1 stays valid; a record Pat makes afterwards does not count."""
    repo.edit("qms.toml", '\n[[people]]\nname = "Pat Production"\nemail = "pat@example.com"\n'
              'roles = ["production-manager"]\n', "\n")
    if repo.signed:
        signers = repo.root / "allowed_signers"
        signers.write_text("".join(line for line in signers.read_text().splitlines(True)
                                   if not line.startswith("pat@")))
    repo.change_policy("Pat left")
    green(repo)
    assert in_force(repo, "SOP-002") == 1
    repo.at(LATE_DAY)
    repo.qms("ash", "revise", "SOP-002", "--reason", "New owner")
    repo.commit("SOP-002 revision 2")
    refused = repo.approve("pat", "SOP-002", "production-manager", code=1)
    assert "not a person" in refused.output
    assert in_force(repo, "SOP-002") == 1
    green(repo)


def test_key_revoked_keeps_older_signatures(templates, tmp_path, monkeypatch):
    """Pat's key is replaced: approvals signed with the old key stay valid, the old key
    no longer signs."""
    from qms_docs import signing

    repo = on_branch(templates, "signed", tmp_path, monkeypatch)
    keygen(repo.keys, "pat-new")
    new_key = signing.read_public_key(str(repo.keys / "pat-new.pub"))
    signers = repo.root / "allowed_signers"
    kept = "".join(line for line in signers.read_text().splitlines(True)
                   if not line.startswith("pat@"))
    signers.write_bytes(signing.with_signer(kept.encode(), "pat@example.com", new_key))
    repo.change_policy("Pat's key was lost")
    green(repo)
    assert in_force(repo, "SOP-002") == 1
    repo.at(LATE_DAY)
    repo.qms("ash", "revise", "SOP-002", "--reason", "Weekly")
    repo.commit("SOP-002 revision 2")
    old = repo.approve("pat", "SOP-002", "production-manager", code=1)
    assert "does not verify" in old.output
    repo.approve("pat", "SOP-002", "production-manager", key="pat-new")
    repo.commit("Approve SOP-002 as production-manager", who="pat")
    repo.approve_and_commit("quinn", "SOP-002", "quality-manager")
    assert in_force(repo, "SOP-002") == 2
    green(repo)


def test_signatures_switched_on_keep_older_unsigned_approvals(templates, tmp_path,
                                                              monkeypatch):
    from qms_docs import signing

    repo = on_branch(templates, "unsigned", tmp_path, monkeypatch)
    repo.edit("qms.toml", "review_months = 24", "review_months = 24\nrequire_signature = true")
    signers = None
    for who in ("quinn", "pat", "ash"):
        key = signing.read_public_key(str(keygen(repo.keys, who)) + ".pub")
        signers = signing.with_signer(signers, PEOPLE[who].email, key)
    (repo.root / "allowed_signers").write_bytes(signers)
    repo.change_policy("Sign approvals")
    green(repo)
    assert (in_force(repo, "SOP-001"), in_force(repo, "SOP-002")) == (1, 1)
    repo.at(LATE_DAY)
    repo.qms("ash", "revise", "SOP-002", "--reason", "Weekly")
    repo.commit("SOP-002 revision 2")
    refused = repo.qms("pat", "approve", "SOP-002", "--role", "production-manager", code=1)
    assert "must be signed" in refused.output
    repo.signed = True
    repo.approve_and_commit("pat", "SOP-002", "production-manager")
    repo.approve_and_commit("quinn", "SOP-002", "quality-manager")
    assert in_force(repo, "SOP-002") == 2
    green(repo)


@pytest.mark.sphinx
def test_document_moved_with_git_mv_stays_in_force(repo):
    """A move without an edit keeps the approved text (its history is read across the
    move); a revision made after the move is approved and published from the new path."""
    repo.git("mv", "procedures/sop-002.rst", "procedures/planning.rst")
    repo.commit("Move SOP-002")
    assert in_force(repo, "SOP-002") == 1
    green(repo)
    page = repo.controlled_page("procedures/planning.html")
    assert page is not None and "How production is planned." in page
    repo.at(LATE_DAY)
    repo.qms("ash", "revise", "SOP-002", "--reason", "Weekly")
    repo.edit("procedures/planning.rst", "How production is planned.", "Planned weekly.")
    repo.commit("SOP-002 revision 2")
    assert in_force(repo, "SOP-002") == 1
    page = repo.controlled_page("procedures/planning.html")
    assert page is not None and "How production is planned." in page
    assert "Planned weekly." not in page
    green(repo)


def test_deviation_closes_a_historic_finding(repo):
    """A non-person's retirement reached main (an incident): it never counted, verify
    reports it until the roles of [policy] approvers accept it on the record; afterwards
    verify is green, and the same act made later is reported again."""
    repo.git("checkout", "-q", "main")
    repo.forge("retirement", "SOP-001", "mallory")
    repo.commit("Retire SOP-001", who="mallory")
    assert repo.errors() == {"unauthorized-retirement"}
    assert in_force(repo, "SOP-001") == 1
    repo.at(LATE_DAY)
    repo.qms("quinn", "deviation", "unauthorized-retirement", "SOP-001", "--reason",
             "Mallory's record was merged unreviewed; SOP-001 was never retired")
    repo.commit("Deviation", who="quinn")
    code, findings = repo.verify()
    assert code == 0 and [f["severity"] for f in findings
                          if f["code"] == "unauthorized-retirement"] == ["accepted"], findings
    assert in_force(repo, "SOP-001") == 1
    log = json.loads(repo.qms("quinn", "changes", "--format", "json").stdout)
    [entry] = [e for e in log if e["kind"] == "deviation"]  # the change log says what it is
    assert entry["detail"].startswith("deviation accepted (unauthorized-retirement): "), entry
    repo.later(60 * 24)
    repo.forge("retirement", "SOP-001", "mallory")
    repo.commit("Retire SOP-001 again", who="mallory")
    assert repo.errors() == {"unauthorized-retirement"}
