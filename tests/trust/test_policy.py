"""The policy as a controlled item, what the controlled build reads, and deviations.

Throwaway repositories of the basic scenario, driven through the CLI by named people
(the make_repo fixture, tests/conftest.py): Quinn is the quality manager and the only
[policy] approver, Pat and Ash production managers.
"""

from __future__ import annotations

import json

import pytest

from qms_docs.policy import Frame, covered
from tests.helpers import ROOTS

PROLOG = '\nrst_epilog = """\n.. note:: Injected by conf.py\n"""\n'


def _controlled(repo, out_name: str = "site") -> str:
    out = repo.root.parent / out_name
    repo.qms("quinn", "build", "html", "--controlled", "--out", str(out), "-j", "1")
    return (out / "procedures" / "sop-001.html").read_text(encoding="utf-8")


def _status(repo, doc: str) -> dict:
    return json.loads(repo.qms("quinn", "status", doc, "--format", "json").stdout)[0]


def _codes(repo, *args: str) -> dict[str, str]:
    result = repo.qms("quinn", "verify", "--format", "json", *args, code=None)
    return {f["code"]: f["severity"] for f in json.loads(result.stdout)["findings"]}


@pytest.mark.sphinx
def test_an_unapproved_frame_change_never_reaches_the_controlled_site(make_repo):
    repo = make_repo(day="2026-03-02")
    repo.qms("quinn", "approve", "SOP-001", "--role", "quality-manager")
    repo.commit("Approve SOP-001", who="quinn")
    repo.git("checkout", "-q", "-b", "pr")
    conf = repo.root / "conf.py"
    conf.write_text(conf.read_text() + PROLOG)
    toml = repo.root / "qms.toml"
    toml.write_text(toml.read_text().replace('"Scenario Ltd"', '"Renamed Ltd"'))
    repo.commit("A new prolog and name", who="ash")
    page = _controlled(repo)
    assert "Injected by conf.py" not in page and "Renamed Ltd" not in page
    assert _codes(repo) == {"policy-not-approved": "warning"}
    assert _codes(repo, "--base", "main") == {"policy-not-approved": "error"}
    status = json.loads(repo.qms("quinn", "status", "policy", "--format", "json").stdout)
    assert status["pending_files"] == ["conf.py", "qms.toml"]
    assert status["missing_roles"] == ["quality-manager"]

    repo.change_policy("A prolog on every page")  # Ash opens it, Quinn approves
    page = _controlled(repo, "site2")
    assert "Injected by conf.py" in page
    assert _codes(repo) == {} and _codes(repo, "--base", "main") == {}
    history = repo.qms("quinn", "history", "policy").stdout
    assert "A prolog on every page" in history and "Quinn Quality" in history


@pytest.mark.sphinx
def test_an_uncommitted_policy_edit_changes_neither_status_nor_the_controlled_site(make_repo):
    repo = make_repo(day="2026-03-02")
    repo.qms("quinn", "approve", "SOP-001", "--role", "quality-manager")
    repo.qms("quinn", "approve", "SOP-002", "--role", "quality-manager")
    repo.commit("Approvals of the QM", who="quinn")  # Pat's approval of SOP-002 missing
    toml = repo.root / "qms.toml"
    toml.write_text(toml.read_text().replace('approvers = ["quality-manager", "owner"]',
                                             'approvers = ["quality-manager"]'))
    assert _status(repo, "SOP-002")["status"] == "in-review"
    out = repo.root.parent / "site"
    repo.qms("quinn", "build", "html", "--controlled", "--out", str(out), "-j", "1")
    assert (out / "procedures" / "sop-001.html").exists()
    assert not (out / "procedures" / "sop-002.html").exists()


def test_a_policy_change_is_not_approved_by_who_committed_it(make_repo):
    repo = make_repo(day="2026-03-02")
    toml = repo.root / "qms.toml"
    toml.write_text(toml.read_text() + '\n[[people]]\nname = "Eve"\nemail = '
                    '"eve@example.com"\nroles = ["quality-manager"]\n')
    repo.qms("ash", "revise", "policy", "--reason", "Eve joins")
    repo.commit("Eve joins", who="quinn")
    refused = repo.qms("quinn", "approve", "policy", "--role", "quality-manager", code=1)
    assert "wrote or committed this change of the policy" in refused.output
    again = repo.qms("ash", "revise", "policy", "--reason", "x", code=1)
    assert "already open" in again.output
    wrong = repo.qms("pat", "approve", "policy", "--role", "production-manager", code=1)
    assert ("the policy needs approval by quality-manager ([policy] approvers in qms.toml, as "
            "in force); Pat Production holds production-manager") in wrong.output


def test_a_past_event_is_accepted_by_a_deviation_and_verify_goes_green(make_repo):
    repo = make_repo(day="2026-03-02")
    record = repo.qms("quinn", "approve", "SOP-001", "--role", "quality-manager"
                      ).output.split(": ")[1].splitlines()[0]
    repo.commit("Approve SOP-001", who="quinn")
    (repo.root / record).unlink()
    repo.commit("Removed a record by mistake", who="ash")
    assert _codes(repo)["record-altered"] == "error"
    refused = repo.qms("pat", "deviation", "record-altered", "SOP-001", "--reason", "x", code=1)
    assert "holds no role of [policy] approvers" in refused.output
    nothing = repo.qms("quinn", "deviation", "self-approval", "SOP-001", "--reason", "x",
                       code=1)
    assert "reports no self-approval finding" in nothing.output
    repo.at("2026-03-03").qms("quinn", "deviation", "record-altered", "SOP-001", "--reason",
                              "Deleted by mistake on 2 March; the approval stands in git")
    repo.commit("Deviation", who="quinn")
    result = repo.qms("quinn", "verify", "--format", "json")
    [finding] = json.loads(result.stdout)["findings"]
    assert finding["code"] == "record-altered" and finding["severity"] == "accepted"
    assert "accepted deviation" in finding["message"]
    # a later event of the same kind is not covered by the earlier deviation
    deviation = next((repo.root / "records" / "SOP-001").glob("*deviation*"))
    deviation.write_text(deviation.read_text() + "# edited\n")
    repo.at("2026-03-04").commit("Edited the deviation record", who="ash")
    assert "error" in {f["severity"] for f in json.loads(repo.qms(
        "quinn", "verify", "--format", "json", code=1).stdout)["findings"]}


def test_what_the_policy_covers():
    conf = ('include_patterns = ["index.rst", "procedures/**", "reports/**"]\n'
            'exclude_patterns = ["_build"]\ntemplates_path = ["_templates"]\n')
    frame = Frame.from_conf(conf)
    assert frame.include == ("index.rst", "procedures/**", "reports/**")
    from pathlib import Path

    from qms_docs.config import config_from_bytes

    config = config_from_bytes(Path("."), (ROOTS / "basic" / "qms.toml").read_bytes())
    paths = ["qms.toml", "conf.py", "allowed_signers", "index.rst", "README.md",
             "procedures/index.rst", "procedures/sop-001.rst", "reports/gaps.rst",
             "records/SOP-001/x.yaml", "_templates/page.html", "tools/x.py", "_build/a.rst"]
    assert covered(paths, config, conf) == [
        "_templates/page.html", "allowed_signers", "conf.py", "index.rst", "procedures/index.rst",
        "qms.toml", "reports/gaps.rst"]


def test_with_identity_commit_a_record_counts_only_as_committed_by_its_maker(make_repo):
    """[policy] identity = "commit": every judgement (not only the gate) requires the
    commit adding an unsigned record to be authored by the person it names."""
    from qms_docs.documents import fingerprint
    from qms_docs.records import new_record, write_record

    repo = make_repo('\n[policy]\nidentity = "commit"\n', day="2026-03-02")
    text = (repo.root / "procedures" / "sop-001.rst").read_bytes()
    write_record(repo.root, new_record(
        "approval", "SOP-001", revision=1, fingerprint=fingerprint(text),
        approver={"name": "Quinn Quality", "email": "quinn@example.com"},
        role="quality-manager", meaning="approval", effective="2026-03-02",
        commit=repo.git("rev-parse", "HEAD").strip()))
    repo.commit("An approval in Quinn's name", who="ash")
    assert _status(repo, "SOP-001")["status"] == "draft"
    assert _codes(repo) == {"identity-not-proven": "error"}
    repo.qms("quinn", "approve", "SOP-001", "--role", "quality-manager")
    repo.commit("Quinn's own approval", who="quinn")
    assert _status(repo, "SOP-001")["status"] == "effective"
