"""Issue 17's property: over generated sequences of honest acts (through the CLI, each
committed by the person acting) and forgeries (records written by hand, committed by the
person they name or by someone else, backdated, approving a revision number again with
new text, signed with a key nobody listed; qms.toml edited without approval), status and
verify agree:

- whenever ``qms status`` says a document is effective, full ``qms verify`` has no error
  finding about that document other than about records that do not count; and no record
  ``qms status`` counts (an approval of the revision in force or of the current one) is the
  subject of an error finding;
- whenever ``qms verify`` has an error finding about a record, that record does not count:
  ``qms status`` of every document is the same with the record file removed.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.helpers import NEEDS_SSH_KEYGEN, PEOPLE, counters, hypothesis_settings
from tests.trust.support import Repo

DOCS = ("SOP-001", "SOP-002")
FILES = {"SOP-001": "procedures/sop-001.rst", "SOP-002": "procedures/sop-002.rst"}
ROLES = ("quality-manager", "production-manager")
COUNTS = counters("trust")

pytestmark = NEEDS_SSH_KEYGEN


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("trust-property-work")


insiders = st.sampled_from(["quinn", "pat", "ash"])
anyone = st.sampled_from(["quinn", "pat", "ash", "mallory", "eve"])
docs = st.sampled_from(DOCS)
roles = st.sampled_from(ROLES)

steps = st.one_of(
    st.tuples(st.just("revise"), insiders, docs),
    st.tuples(st.just("edit"), insiders, docs),
    st.tuples(st.just("approve"), insiders, docs, roles),
    st.builds(lambda pair, doc: ("approve", pair[0], doc, pair[1]),  # mostly a role they hold
              st.sampled_from([("quinn", "quality-manager"), ("pat", "production-manager"),
                               ("ash", "production-manager")]), docs),
    st.builds(lambda pair, doc: ("approve", pair[0], doc, pair[1]),
              st.sampled_from([("quinn", "quality-manager"), ("pat", "production-manager")]),
              docs),
    st.tuples(st.just("review"), insiders, docs),
    # forgeries
    st.tuples(st.just("forge"), anyone, docs, roles, anyone),  # maker, ..., committer
    st.tuples(st.just("backdate"), insiders, docs, roles),
    st.tuples(st.just("bad-signature"), insiders, docs, roles),
    st.tuples(st.just("forge-retirement"), anyone, docs),
    st.tuples(st.just("forge-review"), anyone, docs),
    st.tuples(st.just("policy-edit"), insiders, st.sampled_from(["eve", "ash", "mallory"])),
    st.tuples(st.just("edit-as"), insiders, docs, insiders),  # committer, doc, author
    st.tuples(st.just("alter"), insiders, docs, st.integers(0, 5)),  # an approval re-aimed
)


def play(repo: Repo, step: tuple) -> None:
    """One step, committed by the person acting (a refused act leaves nothing)."""
    kind, who, *rest = step
    if kind == "revise":
        done = repo.qms(who, "revise", rest[0], "--reason", f"by {who}", code=None)
        outcome = done.exit_code
    elif kind == "edit":
        with open(repo.root / FILES[rest[0]], "a", encoding="utf-8") as handle:
            handle.write(f"\nEdited by {who} at {repo.when:%Y-%m-%d %H:%M}.\n")
        outcome = 0
    elif kind == "edit-as":  # written by ``who``, recorded as ``author``'s commit
        doc, author = rest
        with open(repo.root / FILES[doc], "a", encoding="utf-8") as handle:
            handle.write(f"\nEdited by {who} at {repo.when:%Y-%m-%d %H:%M}.\n")
        repo.commit(f"{doc} edited", who=who, author=author)
        COUNTS[kind] += 1
        return
    elif kind == "alter":  # a committed approval edited to approve the current text
        import yaml

        from qms_docs.documents import fingerprint, read_header

        doc, number = rest
        approvals = sorted((repo.root / "records" / doc).glob("*-approval-*.yaml"))
        path = approvals[number % len(approvals)]
        text = (repo.root / FILES[doc]).read_text(encoding="utf-8")
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data.update(fingerprint=fingerprint(text.encode()), date=repo.when.isoformat(),
                    revision=int(read_header(text, FILES[doc]).options["revision"]))
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        outcome = 0
    elif kind == "approve":
        outcome = repo.qms(who, "approve", rest[0], "--role", rest[1], code=None).exit_code
    elif kind == "review":
        outcome = repo.qms(who, "review", rest[0], "--outcome", "fine", code=None).exit_code
    elif kind == "forge":
        doc, role, committer = rest
        repo.forge("approval", doc, who, role=role)
        repo.commit(f"{doc} approved", who=committer)
        COUNTS[step[0]] += 1
        return
    elif kind == "backdate":
        repo.forge("approval", rest[0], who, role=rest[1], date="2026-01-02")
        outcome = 0
    elif kind == "bad-signature":
        repo.forge("approval", rest[0], who, role=rest[1], sign_with="mallory")
        outcome = 0
    elif kind == "forge-retirement":
        repo.forge("retirement", rest[0], who)
        outcome = 0
    elif kind == "forge-review":
        repo.forge("review", rest[0], who)
        outcome = 0
    else:  # an unapproved policy: someone gets the quality-manager role
        toml = repo.root / "qms.toml"
        text = toml.read_text(encoding="utf-8")
        name, email = PEOPLE[rest[0]].name, PEOPLE[rest[0]].email
        if rest[0] == "ash":
            text = text.replace('email = "ash@example.com"\nroles = ["production-manager"]',
                                'email = "ash@example.com"\nroles = ["production-manager", '
                                '"quality-manager"]')
        elif email not in text:
            text += (f'\n[[people]]\nname = "{name}"\nemail = "{email}"\n'
                     'roles = ["quality-manager"]\n')
        outcome = 0 if text != toml.read_text(encoding="utf-8") else 1  # 1: nothing new
        toml.write_text(text, encoding="utf-8")
    COUNTS[f"{kind} {'done' if outcome == 0 else 'refused'}"] += 1
    if outcome == 0:
        repo.commit(f"{kind} by {who}", who=who)


def statuses(repo: Repo) -> dict[str, dict]:
    import json

    out = repo.qms("quinn", "status", "--format", "json")
    return {s["document"]: s for s in json.loads(out.stdout)}


def counted(status: dict) -> set[str]:
    paths = {a["record"] for a in status["approvals"]}
    if status["in_force"]:
        paths |= {a["record"] for a in status["in_force"]["approvals"]}
    return paths


def check(repo: Repo, plan: list) -> None:
    before = statuses(repo)
    _code, findings = repo.verify()
    errors = [f for f in findings if f["severity"] == "error"]
    flagged = {f["path"] for f in errors if (f["path"] or "").startswith("records/")}
    for doc, status in before.items():
        uses = counted(status)
        assert not uses & flagged, (plan, doc, uses & flagged, errors)
        if status["status"] == "effective":
            about = [f for f in errors if f["document"] == doc and f["path"] not in flagged]
            assert not about, (plan, doc, about)
            COUNTS["effective documents checked"] += 1
    if not flagged:
        return
    aside = Path(tempfile.mkdtemp(dir=repo.root.parent))
    for number, path in enumerate(sorted(flagged)):
        shutil.move(str(repo.root / path), aside / f"{number}.yaml")
    try:
        assert statuses(repo) == before, (plan, sorted(flagged))
    finally:
        for number, path in enumerate(sorted(flagged)):
            shutil.move(str(aside / f"{number}.yaml"), repo.root / path)
    COUNTS["flagged records shown not to count"] += len(flagged)


@hypothesis_settings(default=20, thorough=400)
@example(plan=[("revise", "ash", "SOP-002"), ("edit", "ash", "SOP-002"),
               ("forge", "ash", "SOP-002", "production-manager", "pat"),
               ("approve", "quinn", "SOP-002", "quality-manager")])
@example(plan=[("edit", "ash", "SOP-001"), ("forge", "quinn", "SOP-001", "quality-manager",
                                             "quinn")])
@example(plan=[("policy-edit", "ash", "mallory"),
               ("forge", "mallory", "SOP-001", "quality-manager", "mallory"),
               ("forge-retirement", "mallory", "SOP-002")])
@example(plan=[("revise", "ash", "SOP-001"), ("edit", "ash", "SOP-001"),  # Quinn's old
               ("alter", "ash", "SOP-001", 0)])                        # approval re-aimed
@given(plan=st.lists(steps, min_size=1, max_size=10))
def test_status_and_verify_agree_on_what_counts(templates, scratch, plan):
    folder = Path(tempfile.mkdtemp(dir=scratch))
    with pytest.MonkeyPatch.context() as mp:
        repo = templates.copy("unsigned", folder, mp)
        start = dt.date(2026, 2, 1)
        try:
            for number, step in enumerate(plan):
                repo.at((start + dt.timedelta(days=number)).isoformat())
                play(repo, step)
            check(repo, plan)
            COUNTS["sequences"] += 1
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def test_the_sequences_ran_and_flagged_records():
    """Runs after the property above (file order): it made sequences and forgeries."""
    if not COUNTS:
        pytest.skip("run with the property above")
    assert COUNTS["sequences"] and COUNTS["flagged records shown not to count"]
