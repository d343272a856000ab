"""Refusals name the rule and where it lives; --role defaults to the one required role the
acting person holds."""

from __future__ import annotations

import pytest

from tests.helpers import PEOPLE, QmsRepo, new_repo


@pytest.fixture
def qms(runner, tmp_path) -> QmsRepo:
    """The basic scenario with Ash, Dana (both managers) and Tom (top management), all in
    the policy in force; SOP-002 (owner production-manager) edited by Ash."""
    repo = QmsRepo(new_repo(tmp_path / "qms", people=("ash", "dana", "tom")), runner)
    path = repo.root / "procedures" / "sop-002.rst"
    path.write_text(path.read_text() + "\nMore text by Ash.\n")
    repo.commit("Edit SOP-002")
    return repo


def test_role_defaults_to_the_one_required_role_held(qms):
    result = qms("quinn", "approve", "SOP-002")
    assert "Approved SOP-002 revision" in result.output and "as quality-manager" in result.output
    assert qms.status("SOP-002")["missing_roles"] == ["production-manager"]


def test_role_needed_when_several_are_held(qms):
    result = qms("dana", "approve", "SOP-002", code=2)
    assert ("--role is needed: Dana Dual holds quality-manager and production-manager"
            in result.output)
    assert "add --role quality-manager (or production-manager)" in result.output
    assert "Traceback" not in result.output and not (qms.root / "records").exists()


def test_refusal_names_the_rule_and_where_it_lives(qms):
    expected = ("SOP-002 needs approval by quality-manager and production-manager, its owner "
                "([types.sop] approvers in qms.toml); Tom Top holds top-management")
    for args in ((), ("--role", "top-management")):
        result = qms("tom", "approve", "SOP-002", *args, code=1)
        assert expected in result.output and "Traceback" not in result.output
    result = qms("quinn", "approve", "SOP-002", "--role", "top-management", code=1)
    assert "Quinn Quality does not hold the role 'top-management'" in result.output
    assert "Quinn Quality holds quality-manager ([[people]] in qms.toml)" in result.output
    assert not (qms.root / "records").exists()


def test_policy_refusal_and_default_role(qms):
    qms("ash", "revise", "policy", "--reason", "A note")
    with open(qms.root / "qms.toml", "a", encoding="utf-8") as handle:
        handle.write("\n# a note\n")
    qms.commit("A note in the policy")
    result = qms("pat", "approve", "policy", code=1)
    assert ("the policy needs approval by top-management and quality-manager ([policy] "
            "approvers in qms.toml, as in force); Pat Production holds production-manager"
            ) in result.output
    result = qms("quinn", "approve", "policy")
    assert "Approved the policy as quality-manager" in result.output


def test_review_and_retire_refusals_name_the_rule(qms):
    assert PEOPLE["olly"].roles == ("operator",)
    result = qms("tom", "retire", "SOP-001", "--reason", "x", "--yes", code=1)
    assert ("SOP-001 is retired by a person holding quality-manager (its approvers, "
            "[types.sop] approvers in qms.toml); Tom Top holds top-management") in result.output
