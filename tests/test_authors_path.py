"""An author's path from ``qms init`` to an effective, published SOP, and the mistakes on
the way: the people of a small company given to init, self-approval where the policy
allows it, clause numbers in headers, and ``qms check FILE`` reading the bodies."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from qms_docs.catalog import load_catalog
from qms_docs.config import load_config
from qms_docs.documents import scan
from tests.helpers import REPO, QmsRepo, run_qms

ANN = "ann@acme.example"
QUINN = "quinn@acme.example"
TWO_PEOPLE = ["--person", f"Ann Smith <{ANN}>", "--role", "process-owner",
              "--person", f"Quinn Harlow <{QUINN}>", "--role", "quality-manager"]


def _init(runner, target: Path, *extra: str, code: int = 0):
    result = run_qms(runner, ["init", str(target), "--org", "Acme Machining", "--ci", "none",
                              *extra])
    assert result.exit_code == code, result.output
    return result


@pytest.mark.sphinx
def test_init_new_edit_approve_build_makes_the_sop_effective_on_the_controlled_site(
        runner, tmp_path):
    """The README's "Start a QMS of your own", command by command."""
    root = tmp_path / "acme-qms"
    _init(runner, root, *TWO_PEOPLE)                                          # 1
    qms = QmsRepo(root, runner)
    assert qms.git("log", "--format=%an|%s").strip() == \
        "qms init|Baseline of the QMS (qms init)"
    made = qms(ANN, "new", "sop", "Control of Nonconforming Product", "--satisfies",
               "8.7.1", "--owner", "process-owner", "--commit")               # 2
    path = root / made.stdout.strip().splitlines()[-1]
    assert path.name == "sop-005-control-of-nonconforming-product.rst"
    text = path.read_text()
    text = text.replace("   :satisfies: ISO9001-8-7-1", "   :satisfies: ISO9001-8-7-1, 8.2.1")
    text = text.replace("1. First step: who does what, with which input, producing which "
                        "output.", "1. The inspector tags the part red and opens an NCR.")
    path.write_text(text)                                                    # the edit
    qms.commit("SOP-005: the procedure's steps", who=ANN)
    checked = qms(ANN, "check", str(path.relative_to(root)))                 # 3
    assert "0 errors, 0 warnings" in checked.output
    approved = qms(QUINN, "approve", "SOP-005", "--commit")                  # 4
    assert "SOP-005 is effective" in approved.output
    assert qms.git("log", "-1", "--format=%an|%s").strip() == (
        "Quinn Harlow|SOP-005 rev 1 approved by Quinn Harlow as quality-manager")
    out = tmp_path / "site"
    qms(QUINN, "build", "html", "--controlled", "--out", str(out), "-j", "1")  # 5
    page = (out / "procedures" / "sop-005-control-of-nonconforming-product.html").read_text()
    assert "The inspector tags the part red and opens an NCR." in page
    assert "ISO9001-8-2-1" in page and "ISO9001-8-7-1" in page  # the number became a link
    status = json.loads(qms(QUINN, "status", "SOP-005", "--format", "json").stdout)[0]
    assert status["status"] == "effective" and status["approvals"][0]["self_approved"] is False
    trace = qms(QUINN, "trace", "--format", "csv").stdout
    assert re.search(r"^8\.2\.1,.*,SOP-005,.*,effective$", trace, re.M)
    assert qms.git("status", "--porcelain").strip() == ""  # every act committed


def test_the_person_who_ran_init_approves_the_starter_texts(runner, tmp_path):
    root = tmp_path / "q"
    _init(runner, root, *TWO_PEOPLE)
    qms = QmsRepo(root, runner)
    assert "Run by" in qms.git("log", "-1", "--format=%b")
    result = qms(QUINN, "approve", "SOP-001")
    assert "SOP-001 is effective" in result.output


def test_one_person_qms_records_self_approval_and_shows_it(runner, tmp_path):
    root = tmp_path / "solo"
    result = _init(runner, root, "--person", "Sam Solo <sam@solo.example>", "--role",
                   "quality-manager,top-management")
    assert 'self_approval = "recorded"' in (root / "qms.toml").read_text()
    assert "marked self-approved" in result.output
    qms = QmsRepo(root, runner)
    qms("sam@solo.example", "new", "sop", "Purchasing", "--satisfies", "8.4.1", "--commit")
    approved = qms("sam@solo.example", "approve", "SOP-005", "--role", "quality-manager",
                   "--commit")
    assert "self-approved" in approved.output and "SOP-005 is effective" in approved.output
    status = json.loads(qms("sam@solo.example", "status", "SOP-005", "--format",
                            "json").stdout)[0]
    assert status["status"] == "effective"
    assert status["approvals"][0]["self_approved"] is True
    history = qms("sam@solo.example", "history", "SOP-005").stdout
    assert "approval, self-approved" in history
    # an approval of someone else's text is not marked
    other = qms("sam@solo.example", "approve", "SOP-001", "--role", "quality-manager")
    assert "self-approved" not in other.output


def test_self_approval_needs_the_policy_in_force_not_an_edit_of_qms_toml(runner, tmp_path):
    root = tmp_path / "q"
    _init(runner, root, *TWO_PEOPLE[:4], "--person", f"Quinn Harlow <{QUINN}>", "--role",
          "quality-manager")
    qms = QmsRepo(root, runner)
    qms(QUINN, "new", "sop", "Purchasing", "--satisfies", "8.4.1", "--commit")
    config = root / "qms.toml"
    config.write_text(config.read_text().replace('self_approval = "forbidden"',
                                                 'self_approval = "recorded"'))
    qms.commit("allow self-approval (not approved)", who=QUINN)
    refused = qms(QUINN, "approve", "SOP-005", code=1)
    assert "cannot approve it" in refused.output and "segregation of duties" in refused.output


@pytest.mark.parametrize(("args", "words"), [
    (["--role", "quality-manager"], "--role without --person"),
    (["--person", "Ann <a@x.example>"], "1 --person but 0 --role"),
    (["--person", "Ann a@x.example", "--role", "quality-manager"], "is not 'Name <email>'"),
    (["--person", "Ann <a@x.example>", "--role", "Quality Manager"], "is not a role name"),
    (["--person", "Ann <a@x.example>", "--role", "process-owner"], "nobody would approve"),
    (["--person", "Ann <a@x.example>", "--role", "quality-manager",
      "--person", "Ann B <A@x.example>", "--role", "top-management"], "is given twice"),
])
def test_init_refuses_people_it_cannot_use_and_writes_nothing(runner, tmp_path, args, words):
    target = tmp_path / "q"
    result = _init(runner, target, *args, code=2)
    assert words in result.output and "Traceback" not in result.output
    assert not target.exists()


def test_a_role_of_ones_own_is_declared_in_the_policy(runner, tmp_path):
    root = tmp_path / "q"
    _init(runner, root, "--person", "Ann <a@x.example>", "--role",
          "quality-manager,production-manager")
    config = load_config(root)
    assert config.roles["production-manager"] == "Production Manager"
    assert config.people[0].roles == ("quality-manager", "production-manager")


# --- clauses as people write them -------------------------------------------------------

def _sop(root: Path, satisfies: str) -> Path:
    path = root / "procedures" / "sop-009-x.rst"
    path.write_text(f".. sop:: X\n   :id: SOP-009\n   :revision: 1\n   :owner: quality-manager\n"
                    f"   :satisfies: {satisfies}\n\nPurpose\n=======\n\nText.\n")
    return path


def test_headers_accept_clause_numbers_through_the_one_mapping(runner, tmp_path):
    root = tmp_path / "q"
    _init(runner, root, *TWO_PEOPLE)
    _sop(root, "8.7.1, 9001:8.2.1,\n      iso9001-8-5-1")
    config = load_config(root)
    [doc] = [d for d in scan(root, config).documents if d.id == "SOP-009"]
    assert doc.satisfies == ("ISO9001-8-7-1", "ISO9001-8-2-1", "ISO9001-8-5-1")
    result = run_qms(runner, ["--repo", str(root), "check"])
    assert result.exit_code == 0, result.output


def test_header_check_refuses_a_heading_and_offers_the_nearest_clauses(runner, tmp_path):
    root = tmp_path / "q"
    _init(runner, root, *TWO_PEOPLE)
    _sop(root, "8.7, 8.7.3")
    result = run_qms(runner, ["--repo", str(root), "check", "--format", "json"])
    assert result.exit_code == 1
    found = {f["code"]: f for f in json.loads(result.stdout)["findings"]}
    heading, unknown = found["heading-clause"], found["unknown-clause"]
    assert heading["line"] == 5 and heading["path"] == "procedures/sop-009-x.rst"
    assert heading["message"] == ("SOP-009: 8.7 is a heading of ISO 9001:2015; did you mean "
                                  "8.7.1 or 8.7.2?")
    assert unknown["hint"] == "did you mean 8.7.1 or 8.7.2?"
    catalog = load_catalog("iso9001-2015")
    assert not catalog.by_number()["8.7"].is_leaf


# --- qms check FILE: the bodies ---------------------------------------------------------

BROKEN_RST = """\
.. sop:: Goods In
   :id: SOP-009
   :revision: 1
   :owner: quality-manager

Purpose
=======

Receive goods *carefully, see :need:`SOP-001` and `the supplier list`_.

+--------+--------+
| Step   | Who    |
+========+========+
| Count  | Stores |
| Sign   | Stores  x
+--------+--------+

.. note::

   Inside a note, **unclosed bold.

.. sopp:: typo of the directive

Scope
====
"""


def _findings(runner, root: Path, *files: str) -> tuple[int, list[dict]]:
    result = run_qms(runner, ["--repo", str(root), "check", *files, "--format", "json"])
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout)["findings"]


def test_check_file_reports_markup_at_the_files_line_with_a_fix(runner, tmp_path):
    root = tmp_path / "q"
    _init(runner, root, *TWO_PEOPLE)
    path = root / "procedures" / "sop-009-goods-in.rst"
    path.write_text(BROKEN_RST)
    code, findings = _findings(runner, root)
    assert code == 0 and not findings  # header-only without files: the body is not read
    code, findings = _findings(runner, root, "procedures/sop-009-goods-in.rst")
    assert code == 1
    markup = [(f["line"], f["message"], f["hint"]) for f in findings
              if f["code"] == "bad-markup"]
    lines: dict[int, list[str]] = {}
    for line, message, hint in markup:
        lines.setdefault(line, []).append(f"{message} | {hint}")
    assert sorted(lines) == [9, 15, 20, 22, 25], markup

    def at(line: int, words: str, fix: str) -> None:
        assert any(words in m and f"| {fix}" in m for m in lines[line]), lines[line]

    at(9, "Inline emphasis start-string without end-string", "close the emphasis")
    at(9, 'Unknown target name: "the supplier list"', "define the link target")
    at(15, "Malformed table", "line up every cell border")
    at(20, "Inline strong start-string", "close the bold text")
    at(22, 'Unknown directive type "sopp"', "correct the directive's name")
    at(25, "Title underline too short", "make the underline at least as long")
    assert all(f["path"] == "procedures/sop-009-goods-in.rst" for f in findings)


def test_check_file_reads_myst_with_the_document_types_known(runner, tmp_path):
    root = tmp_path / "q"
    _init(runner, root, *TWO_PEOPLE)
    path = root / "procedures" / "sop-009-goods-in.md"
    path.write_text("```{sop} Goods In\n:id: SOP-009\n:revision: 1\n:owner: quality-manager\n"
                    "```\n\n# Purpose\n\nSee {need}`SOP-001` and {neeed}`SOP-002`.\n\n"
                    "```{needtable}\n:types: sop\n```\n\n[the list](#nowhere)\n")
    code, findings = _findings(runner, root, str(path))
    assert code == 1
    markup = {f["line"]: f for f in findings if f["code"] == "bad-markup"}
    assert set(markup) == {9, 15}, markup
    assert 'Unknown interpreted text role "neeed"' in markup[9]["message"]
    assert "target" in markup[15]["message"]


def test_check_file_refuses_what_is_not_in_the_qms(runner, tmp_path):
    root = tmp_path / "q"
    _init(runner, root, *TWO_PEOPLE)
    outside = tmp_path / "elsewhere.rst"
    outside.write_text("x\n")
    result = run_qms(runner, ["--repo", str(root), "check", str(outside)])
    assert result.exit_code == 2 and "is not inside the QMS" in result.output
    result = run_qms(runner, ["--repo", str(root), "check", str(root / "missing.rst")])
    assert result.exit_code == 2 and "no such file" in result.output
    # pre-commit passes any changed file: those that are no page are passed over
    result = run_qms(runner, ["--repo", str(root), "check", str(root / "qms.toml"),
                              str(root / "README.md")])
    assert result.exit_code == 0, result.output


def test_every_page_of_the_example_qms_reads_clean(runner):
    """No false alarms: the example QMS builds with -W, so its bodies have no finding."""
    from qms_docs.workspace import Workspace

    pages = sorted(Workspace(REPO).scan.pages)
    assert len(pages) > 30
    code, findings = _findings(runner, REPO, *(str(REPO / p) for p in pages))
    assert [f for f in findings if f["code"] == "bad-markup"] == []


def test_the_checker_knows_the_directives_the_extension_registers():
    from qms_docs.cli.markup import QMS_DIRECTIVES

    source = "".join(p.read_text() for p in (REPO / "qms_docs" / "sphinxext").glob("*.py"))
    assert set(re.findall(r'add_directive\("([\w-]+)"', source)) == set(QMS_DIRECTIVES)


def test_checking_markup_leaves_docutils_as_it_was(runner, tmp_path):
    from docutils.parsers.rst import directives, roles

    before = (dict(directives._directives), dict(roles._roles))
    root = tmp_path / "q"
    _init(runner, root, *TWO_PEOPLE)
    _findings(runner, root, str(root / "procedures" / "sop-001-control-of-documented-"
                                       "information.rst"))
    assert (dict(directives._directives), dict(roles._roles)) == before


def test_init_on_a_terminal_asks_for_the_people(runner, tmp_path, monkeypatch):
    from qms_docs.cli import project

    monkeypatch.setattr(project, "_interactive", lambda: True)
    root = tmp_path / "q"
    result = runner.invoke(project.init, [str(root), "--org", "Acme", "--ci", "none"],
                           input=f"Ann Smith <{ANN}>\nprocess-owner\n"
                                 f"Quinn Harlow <{QUINN}>\nquality-manager, top-management\n\n")
    assert result.exit_code == 0, result.output
    config = load_config(root)
    assert [(p.name, p.roles) for p in config.people] == [
        ("Ann Smith", ("process-owner",)),
        ("Quinn Harlow", ("quality-manager", "top-management"))]
    assert config.self_approval == "forbidden"
