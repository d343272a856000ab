"""Federation (issue 23): a corporate QMS and a site QMS, each in its own throwaway git
repository, traced as one through the corporate QMS's export (sphinx-needs' needs.json with
a ``qms`` section).

The corporate QMS is made once per module (``qms init``, a group purchasing procedure
SOP-005 made effective) and copied for a test that changes it; each site is made by
``qms init --upstream`` with that export, and links its own SOP-005 to the corporate
procedure (``CORP-SOP-005``: the site numbers from SOP-001 too, so the upstream's ids carry
the prefix ``CORP-``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from pathlib import Path

import pytest
import ub_needs_exchange

from qms_docs import federation
from qms_docs.model import Upstream
from tests.helpers import QmsRepo, copy_repo, run_qms

ANN = "ann@corp.example"
QUINN = "quinn@corp.example"
SAM = "sam@site.example"
BASE_URL = "https://qms.acme.example"
CORPORATE = ["--person", f"Ann Smith <{ANN}>", "--role", "process-owner",
             "--person", f"Quinn Harlow <{QUINN}>", "--role", "quality-manager,top-management"]
SITE = ["--person", f"Sam Site <{SAM}>", "--role", "process-owner",
        "--person", f"Quinn Harlow <{QUINN}>", "--role", "quality-manager,top-management"]
SITE_SOP = "procedures/sop-005-local-purchasing-at-leeds.rst"


def _init(runner, target: Path, org: str, *extra: str, code: int = 0):
    result = run_qms(runner, ["init", str(target), "--org", org, "--ci", "none", *extra])
    assert result.exit_code == code, result.output
    return result


@pytest.fixture(scope="module")
def corporate(tmp_path_factory) -> Path:
    """The corporate QMS: SOP-001, SOP-002 (starter texts) and SOP-005 Group Purchasing
    (8.4.1, 8.4.2) in force, the rest drafts."""
    from click.testing import CliRunner

    runner = CliRunner()
    root = tmp_path_factory.mktemp("corporate") / "corp"
    _init(runner, root, "Acme Group", *CORPORATE)
    qms = QmsRepo(root, runner)
    qms(ANN, "new", "sop", "Group Purchasing", "--satisfies", "8.4.1", "--satisfies",
        "8.4.2", "--owner", "process-owner", "--commit")
    for doc in ("SOP-001", "SOP-002", "SOP-005"):
        qms(QUINN, "approve", doc, "--role", "quality-manager", "--commit")
    return root


@pytest.fixture(scope="module")
def corporate_export(corporate, tmp_path_factory) -> Path:
    from click.testing import CliRunner

    out = tmp_path_factory.mktemp("export") / "corp-export.json"
    QmsRepo(corporate, CliRunner())(QUINN, "export", "--out", str(out))
    return out


def _export(qms: QmsRepo, out: Path) -> dict:
    qms(QUINN, "export", "--out", str(out))
    return json.loads(out.read_text(encoding="utf-8"))


def make_site(runner, root: Path, export: Path) -> QmsRepo:
    """A site QMS wired to the corporate export, whose SOP-005 (8.4.3) links to and
    references the corporate SOP-005, in force."""
    _init(runner, root, "Acme Plant Leeds", *SITE, "--upstream", str(export),
          "--upstream-name", "corp", "--upstream-base-url", BASE_URL + "/")
    qms = QmsRepo(root, runner)
    qms(SAM, "new", "sop", "Local Purchasing at Leeds", "--satisfies", "8.4.3", "--owner",
        "process-owner")
    page = root / SITE_SOP
    text = page.read_text(encoding="utf-8").replace(
        "   :satisfies: ISO9001-8-4-3", "   :satisfies: ISO9001-8-4-3\n   :links: CORP-SOP-005")
    page.write_text(text + "\nAt Leeds, :need:`CORP-SOP-005` applies as follows.\n",
                    encoding="utf-8")
    qms.commit("SOP-005: local purchasing under the group procedure", who=SAM)
    qms(QUINN, "approve", "SOP-005", "--role", "quality-manager", "--commit")
    return qms


@pytest.fixture
def site(runner, tmp_path, corporate_export) -> QmsRepo:
    return make_site(runner, tmp_path / "site", corporate_export)


def _gaps(qms: QmsRepo, *extra: str) -> dict:
    result = qms(SAM, "trace", "--gaps", "--format", "json", *extra, code=1)
    return json.loads(result.stdout)


def _gap_numbers(data: dict) -> set[str]:
    return {g["clause"] for g in data["gaps"]}


# --- the export ---------------------------------------------------------------------------------

def test_export_is_the_needs_json_of_the_documents_in_force_and_stable(corporate, tmp_path,
                                                                        runner):
    qms = QmsRepo(corporate, runner)
    first, second = _export(qms, tmp_path / "a.json"), _export(qms, tmp_path / "b.json")
    # sphinx-needs' reader takes it: one need per document in force, as its header says
    records = ub_needs_exchange.parse((tmp_path / "a.json").read_bytes()).select_version(
        None).records()
    needs = {r.key: r.fields for r in records}
    assert sorted(needs) == ["SOP-001", "SOP-002", "SOP-005"]
    assert needs["SOP-005"]["satisfies"] == ["ISO9001-8-4-1", "ISO9001-8-4-2"]
    assert needs["SOP-005"]["docname"] == "procedures/sop-005-group-purchasing"
    assert (needs["SOP-005"]["type"], needs["SOP-005"]["revision"]) == ("sop", "1")
    section = first["qms"]
    head = qms.git("rev-parse", "HEAD").strip()
    assert (section["organization"], section["commit"]) == ("Acme Group", head)
    purchasing = section["documents"]["SOP-005"]
    assert purchasing["in_force"] is True and purchasing["revision"] == 1
    assert purchasing["effective"] == dt.date.today().isoformat()
    assert [(a["name"], a["role"]) for a in purchasing["approvals"]] == [
        ("Quinn Harlow", "quality-manager")]
    assert purchasing["page"] == "procedures/sop-005-group-purchasing.html"
    assert section["documents"]["SOP-003"]["in_force"] is False  # a draft: listed, no need
    # deterministic: the export time (and the created stamp repeating it) is all that varies
    for data in (first, second):
        data.pop("created")
        data["qms"].pop("exported")
    assert first == second
    text = (tmp_path / "a.json").read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=1,
                              ensure_ascii=False) + "\n"


def test_export_states_the_base_url_of_the_policy_in_force(corporate, tmp_path, runner):
    """An export says where its site is (``[federation] base_url``, part of the policy) as
    the policy in force says it: a draft of qms.toml changes nothing until it is approved."""
    corp = QmsRepo(copy_repo(corporate, tmp_path / "corp"), runner)
    assert _export(corp, tmp_path / "before.json")["qms"]["base_url"] == ""
    corp(ANN, "revise", "policy", "--reason", "Publish the group site at its address")
    toml = corp.root / "qms.toml"
    toml.write_text(toml.read_text(encoding="utf-8")
                    + '\n[federation]\nbase_url = "https://qms.acme.example/group"\n',
                    encoding="utf-8")
    corp.commit("Publish the group site at its address", who=ANN)
    assert _export(corp, tmp_path / "draft.json")["qms"]["base_url"] == ""
    corp(QUINN, "approve", "policy", "--role", "quality-manager", "--commit")
    assert _export(corp, tmp_path / "half.json")["qms"]["base_url"] == ""  # one of two
    corp(QUINN, "approve", "policy", "--role", "top-management", "--commit")
    after = _export(corp, tmp_path / "after.json")
    assert after["qms"]["base_url"] == "https://qms.acme.example/group"


def test_export_holds_the_revision_in_force_behind_an_open_draft(corporate, tmp_path, runner):
    corp = QmsRepo(copy_repo(corporate, tmp_path / "corp"), runner)
    corp(ANN, "revise", "SOP-005", "--reason", "add supplier information")
    page = corp.root / "procedures" / "sop-005-group-purchasing.rst"
    page.write_text(page.read_text(encoding="utf-8").replace(
        "ISO9001-8-4-2", "ISO9001-8-4-2, ISO9001-8-4-3").replace("Group Purchasing",
                                                                 "Purchasing"),
        encoding="utf-8")
    corp.commit("SOP-005 rev 2 draft", who=ANN)
    data = _export(corp, tmp_path / "export.json")
    need = data["versions"][""]["needs"]["SOP-005"]
    assert (need["revision"], need["title"]) == ("1", "Group Purchasing")
    assert need["satisfies"] == ["ISO9001-8-4-1", "ISO9001-8-4-2"]  # not 8.4.3: a draft's
    state = data["qms"]["documents"]["SOP-005"]
    assert (state["status"], state["revision"], state["in_force"]) == ("draft", 1, True)


# --- a site federated with it -------------------------------------------------------------------

def test_site_counts_corporate_clauses_in_force_and_says_which(site, corporate_export):
    qms = site
    config = (qms.root / "qms.toml").read_text(encoding="utf-8")
    assert 'export = "upstream/corp.json"' in config and 'id_prefix = "CORP-"' in config
    assert (qms.root / "upstream" / "corp.json").read_bytes() == corporate_export.read_bytes()
    checked = qms(SAM, "check")
    assert "0 errors, 0 warnings" in checked.output  # the link to CORP-SOP-005 resolves
    federated = _gaps(qms)
    gaps = _gap_numbers(federated)
    assert not {"8.4.1", "8.4.2", "8.4.3", "9.2.1"} & gaps
    by_upstream = {row["clause"]: [d["id"] for d in row["documents"]]
                   for row in federated["upstream"]}
    assert by_upstream["8.4.1"] == ["CORP-SOP-005"] and by_upstream["9.2.2"] == ["CORP-SOP-002"]
    assert "8.4.3" not in by_upstream  # covered by the site's own SOP-005
    local = _gap_numbers(_gaps(qms, "--local-only"))
    assert {"8.4.1", "8.4.2", "9.2.1"} <= local and "8.4.3" not in local
    assert local - gaps == {"7.5.1", "7.5.2", "7.5.3.1", "7.5.3.2", "8.4.1", "8.4.2",
                            "9.2.1", "9.2.2"}
    said = qms(SAM, "trace", "--gaps", code=1).stderr
    assert "8.4.1 by CORP-SOP-005 (corp)" in said
    matrix = qms(SAM, "trace", "--format", "csv").stdout
    assert re.search(r"^8\.4\.1,.*,CORP-SOP-005,Group Purchasing,1,\"effective, upstream corp\"$",
                     matrix, re.M)
    asked = json.loads(qms(SAM, "trace", "--clause", "8.4.1", "--format", "json").stdout)
    assert [d["document"] for d in asked["documents"]] == ["CORP-SOP-005"]
    # its effective date and approvers as the corporate export states them
    stated = json.loads(corporate_export.read_text(encoding="utf-8"))["qms"]["documents"][
        "SOP-005"]
    (row,) = asked["documents"]
    assert row["effective"] == stated["effective"] and row["effective"]
    assert [(a["name"], a["role"]) for a in row["approvals"]] == [
        (a["name"], a["role"]) for a in stated["approvals"]] and row["approvals"]
    table = qms(SAM, "trace", "--clause", "8.4.1", "--wide").stdout
    first = stated["approvals"][0]
    assert f"{first['name']} ({first['role']}, " in table and stated["effective"] in table
    listed = json.loads(qms(SAM, "list", "--upstream", "--format", "json").stdout)
    row = next(r for r in listed if r["id"] == "CORP-SOP-005")
    assert row["linked_from"] == ["SOP-005"] and row["status"] == "effective"
    assert row["url"] == f"{BASE_URL}/procedures/sop-005-group-purchasing.html#SOP-005"
    assert qms(SAM, "verify").exit_code == 0


def test_retiring_upstream_and_refreshing_the_export_opens_the_gap_and_flags_the_link(
        runner, tmp_path, corporate, corporate_export):
    qms = make_site(runner, tmp_path / "site", corporate_export)
    corp = QmsRepo(copy_repo(corporate, tmp_path / "corp"), runner)
    corp(QUINN, "retire", "SOP-005", "--reason", "merged into the supplier manual", "--yes",
         "--commit")
    refreshed = _export(corp, qms.root / "upstream" / "corp.json")  # the site's copy
    assert "SOP-005" not in refreshed["versions"][""]["needs"]
    assert refreshed["qms"]["documents"]["SOP-005"]["status"] == "obsolete"
    gaps = _gap_numbers(_gaps(qms))
    assert {"8.4.1", "8.4.2"} <= gaps and "8.4.3" not in gaps
    checked = qms(SAM, "check", code=1)
    assert (f"{SITE_SOP}:6: error: [upstream-not-in-force] SOP-005 links to CORP-SOP-005, "
            "which the export of upstream 'corp' holds as obsolete, not in force"
            in checked.output)
    verified = qms(SAM, "verify", "--format", "json", code=1)
    found = json.loads(verified.stdout)["findings"]
    codes = {f["code"] for f in found}
    flagged = [f["message"] for f in found if f["code"] == "upstream-not-in-force"]
    assert len(flagged) == 2  # the :links: entry, and the :need: role in the text
    assert "SOP-005 refers to (:need:) CORP-SOP-005, which the export of upstream 'corp' " \
           "holds as obsolete" in flagged[1]
    assert "policy-not-approved" in codes  # the refreshed export is part of the policy
    listed = json.loads(qms(SAM, "list", "--upstream", "--format", "json").stdout)
    assert {r["id"]: r["status"] for r in listed}["CORP-SOP-005"] == "obsolete"


@pytest.mark.sphinx
def test_controlled_site_links_the_corporate_pages_and_publishes_its_own_export(site,
                                                                                  tmp_path):
    out = tmp_path / "html"
    site(QUINN, "build", "html", "--controlled", "--out", str(out), "-j", "1")
    corporate_page = f'href="{BASE_URL}/procedures/sop-005-group-purchasing.html#SOP-005"'
    sop = (out / SITE_SOP.replace(".rst", ".html")).read_text(encoding="utf-8")
    assert sop.count(corporate_page) == 2  # the :links: entry and the :need: reference
    matrix = (out / "reports" / "traceability.html").read_text(encoding="utf-8")
    assert corporate_page in matrix and "Group Purchasing (effective, upstream corp)" in matrix
    clauses = (out / "standards" / "iso9001-2015.html").read_text(encoding="utf-8")
    clause = clauses[clauses.index('id="ISO9001-8-4-1"'):]
    clause = re.sub(r"<[^>]+>", "", clause[: clause.index('id="ISO9001-8-4-2"')])
    assert corporate_page in clauses  # "satisfied by" on the clause 8.4.1
    assert "satisfied by: CORP-SOP-005 (upstream corp)" in clause
    coverage = (out / "reports" / "coverage.html").read_text(encoding="utf-8")
    assert "Covered only through upstream documents in force: 8 requirement clauses" in coverage
    published = json.loads((out / federation.EXPORT_NAME).read_text(encoding="utf-8"))
    assert list(published["versions"][""]["needs"]) == ["SOP-005"]
    assert published["qms"]["organization"] == "Acme Plant Leeds"


@pytest.mark.sphinx
def test_audit_pack_holds_the_upstream_export_it_was_built_with(site, tmp_path):
    pytest.importorskip("weasyprint")
    pack = tmp_path / "pack.zip"
    site(QUINN, "audit-pack", "--as-of", dt.date.today().isoformat(), "-o", str(pack))
    with zipfile.ZipFile(pack) as archive:
        held = archive.read("upstream/corp.json")
        gaps = archive.read("gaps.csv").decode()
    assert held == (site.root / "upstream" / "corp.json").read_bytes()
    assert "\n8.4.1," not in gaps and "\n8.5.1," in gaps


@pytest.mark.sphinx
def test_the_site_build_flags_a_link_to_a_retired_upstream_procedure(runner, tmp_path, capfd,
                                                                      corporate,
                                                                      corporate_export):
    qms = make_site(runner, tmp_path / "site", corporate_export)
    corp = QmsRepo(copy_repo(corporate, tmp_path / "corp"), runner)
    corp(QUINN, "retire", "SOP-005", "--reason", "merged", "--yes", "--commit")
    _export(corp, qms.root / "upstream" / "corp.json")
    capfd.readouterr()
    built = qms(SAM, "build", "html", "--out", str(tmp_path / "html"), "-j", "1", code=1)
    assert "the warnings above are nonconformities" in built.output
    sphinx = capfd.readouterr().err  # Sphinx runs in a child process
    assert "linked need CORP-SOP-005 not found [needs.link_ref]" in sphinx  # the :need: role
    assert re.search(r"sop-005-local-purchasing-at-leeds\.rst:6: WARNING: SOP-005 links to "
                     r"CORP-SOP-005, which the export of upstream 'corp' holds as obsolete, "
                     r"not in force .*\[qms\.upstream_not_in_force\]", sphinx)


@pytest.mark.sphinx
def test_a_parallel_rebuild_takes_the_refreshed_export_not_the_last_builds(runner, tmp_path,
                                                                          capfd, corporate,
                                                                          corporate_export):
    """The upstream documents are loaded once the pages are read (needs_config.py: not into
    every reading process); a rebuild in the same folder, in parallel, keeps none of the
    last build's."""
    qms = make_site(runner, tmp_path / "site", corporate_export)
    out = tmp_path / "html"
    qms(SAM, "build", "html", "--out", str(out), "-j", "2")
    sop = (out / SITE_SOP.replace(".rst", ".html")).read_text(encoding="utf-8")
    assert sop.count(f'href="{BASE_URL}/procedures/sop-005-group-purchasing.html') == 2
    corp = QmsRepo(copy_repo(corporate, tmp_path / "corp"), runner)
    corp(QUINN, "retire", "SOP-005", "--reason", "merged", "--yes", "--commit")
    _export(corp, qms.root / "upstream" / "corp.json")
    capfd.readouterr()
    qms(SAM, "build", "html", "--out", str(out), "-j", "2", code=1)
    sphinx = capfd.readouterr().err
    assert "linked need CORP-SOP-005 not found [needs.link_ref]" in sphinx
    clauses = (out / "standards" / "iso9001-2015.html").read_text(encoding="utf-8")
    assert "sop-005-group-purchasing.html" not in clauses  # gone from "satisfied by" too


# --- scaffold, fetch, bad input -----------------------------------------------------------------

def test_init_takes_the_base_url_the_export_declares(runner, tmp_path, corporate_export):
    data = json.loads(corporate_export.read_text(encoding="utf-8"))
    data["qms"]["base_url"] = "https://group.example/qms/"
    declared = tmp_path / "declared.json"
    declared.write_text(json.dumps(data), encoding="utf-8")
    _init(runner, tmp_path / "site", "Acme Plant", *SITE, "--upstream", str(declared))
    config = (tmp_path / "site" / "qms.toml").read_text(encoding="utf-8")
    assert 'name = "acme-group"' in config and 'id_prefix = "ACMEGROUP-"' in config
    assert 'base_url = "https://group.example/qms"' in config
    refused = _init(runner, tmp_path / "other", "Acme Plant", *SITE, "--upstream",
                    str(corporate_export), code=2)  # its export names no site
    assert "the export names no base URL of its site" in refused.output
    assert "--upstream-base-url" in refused.output and not (tmp_path / "other").exists()


def test_fetch_keeps_the_export_and_records_its_sha256_in_a_policy_change(site, tmp_path,
                                                                          corporate_export):
    config = site.root / "qms.toml"
    served = tmp_path / "served.json"
    served.write_bytes(corporate_export.read_bytes())
    config.write_text(config.read_text(encoding="utf-8").replace(
        'export = "upstream/corp.json"',
        f'export = "{served.as_uri()}"\npath = "upstream/corp.json"'), encoding="utf-8")
    fetched = site(QUINN, "federation", "fetch", "corp")
    digest = federation.sha256(served.read_bytes())
    assert digest in fetched.output
    records = sorted((site.root / "records" / "QMS-POLICY").glob("*-change-*.yaml"))
    assert digest in records[-1].read_text(encoding="utf-8")
    kept = (site.root / "upstream" / "corp.json").read_bytes()
    assert kept == served.read_bytes()
    served.write_bytes(served.read_bytes().replace(b"Acme Group", b"Acme Group plc"))
    again = site(QUINN, "federation", "fetch", "corp", code=1)  # revision 2 is still open
    assert "policy revision 2 is already open" in again.output
    assert (site.root / "upstream" / "corp.json").read_bytes() == kept  # nothing written
    unknown = site(QUINN, "federation", "fetch", "nobody", code=2)
    assert "no upstream named nobody in qms.toml" in unknown.output
    assert "Traceback" not in unknown.output


@pytest.mark.parametrize("content, words", [
    (None, "the export of upstream 'corp' is not there"),
    (b"{not json", "the export of upstream 'corp' is not valid JSON"),
    (b'{"current_version": "", "versions": {"": {"needs": {}}}}',
     "the export of upstream 'corp' has no 'qms' section with its documents"),
    (b'{"qms": {"format": 1, "exported": "2026-11-30T10:00:00Z", "documents": {"SOP-001": '
     b'{"type": "sop", "title": "T", "status": "effective", "in_force": true, '
     b'"satisfies": "ISO9001-8-4-1"}}}}',
     "the export of upstream 'corp' is malformed (ValueError: SOP-001: satisfies is not a "
     "list)"),
])
def test_a_missing_or_broken_export_is_named_with_the_fix(site, content, words):
    export = site.root / "upstream" / "corp.json"
    if content is None:
        export.unlink()
    else:
        export.write_bytes(content)
    for command in (("check",), ("trace", "--gaps"), ("list", "--upstream")):
        result = site(SAM, *command, code=2)
        assert f"error: upstream/corp.json: {words}" in result.output
        assert "hint: copy the file that `qms export --out FILE.json` writes" in result.output
        assert "Traceback" not in result.output


def test_init_refuses_an_export_it_cannot_use_and_writes_nothing(runner, tmp_path):
    bad = tmp_path / "plain-needs.json"
    bad.write_text('{"current_version": "", "versions": {}}', encoding="utf-8")
    result = _init(runner, tmp_path / "site", "Acme Plant", *SITE, "--upstream", str(bad),
                   code=2)
    assert "has no 'qms' section" in result.output
    assert not (tmp_path / "site").exists() or not any((tmp_path / "site").iterdir())
    named = _init(runner, tmp_path / "site", "Acme Plant", "--upstream-name", "corp", code=2)
    assert "--upstream-name and --upstream-base-url go with --upstream" in named.output


def test_two_upstreams_of_one_name_are_refused(site):
    config = site.root / "qms.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text + text[text.index("[[federation.upstream]]"):], encoding="utf-8")
    result = site(SAM, "check", code=2)
    assert "the upstream name 'corp' is used twice" in result.output


# --- stale exports --------------------------------------------------------------------------------

def _upstream_export(exported: dt.date, next_review: str | None) -> federation.UpstreamExport:
    upstream = Upstream(name="corp", path="upstream/corp.json", base_url=BASE_URL,
                        max_age_days=90)
    data = {"qms": {"format": federation.FORMAT, "organization": "Acme Group", "commit": "c0",
                    "exported": f"{exported.isoformat()}T08:00:00Z", "documents": {
                        "SOP-005": {"type": "sop", "title": "Group Purchasing",
                                    "status": "effective", "in_force": True, "revision": 1,
                                    "next_review": next_review, "page": "p.html"}}}}
    return federation.parse_export(json.dumps(data).encode(), upstream)


def test_stale_upstream_by_age_and_by_a_review_date_passed_since_the_export():
    today = dt.date(2026, 12, 1)
    fresh = _upstream_export(dt.date(2026, 11, 1), "2027-06-01")
    assert federation.stale_findings([fresh], today) == []
    old = federation.stale_findings([_upstream_export(dt.date(2026, 8, 1), None)], today)
    assert [(f.code, f.severity) for f in old] == [("stale-upstream", "warning")]
    assert "it is 122 days old (max_age_days = 90)" in old[0].message
    reviewed = federation.stale_findings([_upstream_export(dt.date(2026, 11, 1),
                                                           "2026-11-20")], today)
    assert "declares the review of SOP-005 due on 2026-11-20, which has passed since" in \
        reviewed[0].message
    # a review already overdue when the export was made: a fresh export would say the same
    overdue = _upstream_export(dt.date(2026, 11, 25), "2026-11-20")
    assert federation.stale_findings([overdue], today) == []


def test_check_warns_of_a_stale_export_and_passes(site):
    config = site.root / "qms.toml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        'id_prefix = "CORP-"', 'id_prefix = "CORP-"\nmax_age_days = 30'), encoding="utf-8")
    export = site.root / "upstream" / "corp.json"
    data = json.loads(export.read_text(encoding="utf-8"))
    data["qms"]["exported"] = "2020-01-01T00:00:00Z"
    export.write_text(json.dumps(data), encoding="utf-8")
    result = site(SAM, "check")
    assert "upstream/corp.json: warning: [stale-upstream] the export of upstream 'corp' was " \
           "made on 2020-01-01" in result.output
