"""Adoption: qms init, CI templates run for real, Markdown documents, pre-commit hooks."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests import helpers
from tests.helpers import REPO, run_qms, sphinx_build

PEOPLE = '''
[[people]]
name = "Dana Director"
email = "dana@acme.example"
roles = ["top-management"]

[[people]]
name = "Oscar Owner"
email = "oscar@acme.example"
roles = ["process-owner"]
'''


OSCAR, QUINN = "oscar@acme.example", "quinn@acme.example"


def git(root: Path, *args: str, who: str = OSCAR) -> str:
    """git as someone of Acme (Oscar unless said)."""
    return helpers.git(root, *args, who=who)


def qms_cli(root: Path, email: str, *args: str) -> subprocess.CompletedProcess:
    git(root, "config", "user.email", email)
    return subprocess.run([sys.executable, "-m", "qms_docs", *args], cwd=root,
                          capture_output=True, text=True)


@pytest.fixture
def acme(tmp_path, runner) -> Path:
    root = tmp_path / "acme-qms"
    result = run_qms(runner, ["init", str(root), "--org", "Acme Widgets Ltd", "--ci", "github"])
    assert result.exit_code == 0, result.output
    toml = root / "qms.toml"
    toml.write_text(toml.read_text().replace('email = "', 'email = "quinn@acme.example" #', 1)
                    + PEOPLE)
    text = toml.read_text()
    toml.write_text(re.sub(r'email = "quinn@acme.example" #[^\n]*', 'email = "quinn@acme.example"',
                           text))
    # as qms init advises: the people go into the first commit, the policy in force
    git(root, "commit", "-q", "--amend", "-a", "--no-edit")
    return root


@pytest.mark.sphinx
def test_init_checks_builds_and_lists_gaps(acme, runner):
    assert (acme / ".git").is_dir()
    assert run_qms(runner, ["--repo", str(acme), "check"]).exit_code == 0
    result = sphinx_build(acme)
    assert result.returncode == 0, result.warnings
    footer = (result.outdir / "index.html").read_text(encoding="utf-8")
    footer = footer[footer.index('<div class="footer">'):]
    assert f"&#169;{dt.date.today().year}, Acme Widgets Ltd." in footer  # not "©."
    gaps = run_qms(runner, ["--repo", str(acme), "trace", "--gaps", "--format", "csv"])
    assert gaps.exit_code == 1 and "4.1,Understanding the organization" in gaps.stdout
    readme = (acme / "README.md").read_text()
    assert "qms approve" in readme and "qms revise" in readme


def test_init_refuses_to_overwrite(acme, runner):
    before = (acme / "qms.toml").read_text()
    result = run_qms(runner, ["init", str(acme), "--org", "Other"])
    assert result.exit_code == 2 and "nothing was written" in result.output
    assert (acme / "qms.toml").read_text() == before


@pytest.mark.sphinx
def test_init_new_approve_build(acme, runner):
    git(acme, "add", "-A")
    git(acme, "commit", "-q", "--allow-empty", "-m", "Initial QMS")
    made = qms_cli(acme, "oscar@acme.example", "new", "sop", "Calibration",
                   "--owner", "process-owner", "--satisfies", "7.1.5.1")
    assert made.returncode == 0, made.stderr
    path = made.stdout.strip()
    git(acme, "add", "-A")
    git(acme, "commit", "-q", "-m", "Draft calibration SOP")
    for email in ("quinn@acme.example",):
        done = qms_cli(acme, email, "approve", "SOP-005", "--role", "quality-manager")
        assert done.returncode == 0, done.stderr
    status = json.loads(qms_cli(acme, "dana@acme.example", "status", "SOP-005", "--format",
                                "json").stdout)[0]
    assert status["status"] == "effective"
    git(acme, "add", "-A")
    git(acme, "commit", "-q", "-m", "Approve", who=QUINN)
    assert qms_cli(acme, "dana@acme.example", "verify").returncode == 0
    result = sphinx_build(acme)
    assert result.returncode == 0, result.warnings
    matrix = (result.outdir / "reports" / "traceability.html").read_text()
    row = matrix[matrix.index(">7.1.5.1<"):]
    assert "SOP-005" in row[: row.index("</tr>")] and "(effective)" in row[: row.index("</tr>")]
    assert path == "procedures/sop-005-calibration.rst"


def test_ci_templates_are_valid_yaml_with_the_expected_jobs(tmp_path, runner):
    from qms_docs.scaffold import render_files

    files = render_files("X", "iso9001-2015", "github")
    github = yaml.safe_load(files[".github/workflows/qms.yml"])
    assert set(github["jobs"]) == {"check", "publish", "deploy"}
    steps = github["jobs"]["check"]["steps"]
    assert steps[0]["with"]["fetch-depth"] == 0
    for job in ("check", "publish"):  # the caches of .git/qms kept from run to run
        cached = github["jobs"][job]["steps"][1]
        assert cached["uses"].startswith("actions/cache@") and cached["with"]["path"] == ".git/qms"
        assert cached["with"]["key"] == "qms-${{ github.sha }}"
    runs = [s.get("run", "") for s in steps]
    assert "qms check --bodies" in runs
    assert "qms verify --base origin/${{ github.base_ref }}" in runs
    assert any(r.startswith("qms build html") for r in runs)
    publish = " ".join(s.get("run", "") for s in github["jobs"]["publish"]["steps"])
    assert "--controlled" in publish and "qms build pdf --controlled" in publish
    gitlab = yaml.safe_load(render_files("X", "iso9001-2015", "gitlab")[".gitlab-ci.yml"])
    assert gitlab["variables"]["GIT_DEPTH"] == "0"
    assert {"qms-check", "pages"} <= set(gitlab)
    assert gitlab["pages"]["artifacts"]["paths"] == ["public"]


def _check_job_commands(root: Path) -> list[str]:
    workflow = yaml.safe_load((root / ".github" / "workflows" / "qms.yml").read_text())
    commands = [s["run"] for s in workflow["jobs"]["check"]["steps"]
                if s.get("run", "").startswith("qms ")]
    return [c.replace("${{ github.base_ref }}", "main") for c in commands]


@pytest.mark.parametrize("controlled", [True, False])
def test_rendered_pull_request_commands_pass_or_fail(acme, controlled):
    git(acme, "add", "-A")
    git(acme, "commit", "-q", "--allow-empty", "-m", "Initial QMS")
    assert qms_cli(acme, "quinn@acme.example", "approve", "SOP-001", "--role",
                   "quality-manager").returncode == 0
    git(acme, "add", "-A")
    git(acme, "commit", "-q", "-m", "Approve SOP-001", who=QUINN)
    git(acme, "update-ref", "refs/remotes/origin/main", "HEAD")
    git(acme, "switch", "-q", "-c", "change-sop-001")
    sop = next((acme / "procedures").glob("sop-001-*.rst"))
    if controlled:
        assert qms_cli(acme, "oscar@acme.example", "revise", "SOP-001", "--reason",
                       "Clarify step 3").returncode == 0
    sop.write_text(sop.read_text() + "\nA clarified step.\n")
    git(acme, "add", "-A")
    git(acme, "commit", "-q", "-m", "Change SOP-001")
    results = []
    for command in _check_job_commands(acme):
        done = subprocess.run([sys.executable, "-m", "qms_docs", *command.split()[1:]],
                              cwd=acme, capture_output=True, text=True)
        results.append((command, done.returncode, done.stderr))
    assert [c for c, _, _ in results][:2] == ["qms check --bodies", "qms verify --base origin/main"]
    if controlled:
        assert all(code == 0 for _, code, _ in results), results
    else:
        verify = results[1]
        assert verify[1] == 1 and "edited-after-approval" in verify[2]


@pytest.mark.sphinx
def test_markdown_document_is_checked_revised_and_built(acme):
    git(acme, "add", "-A")
    git(acme, "commit", "-q", "--allow-empty", "-m", "Initial QMS")
    made = qms_cli(acme, "oscar@acme.example", "new", "wi", "Packing", "--format", "md",
                   "--owner", "process-owner", "--satisfies", "8.5.4")
    assert made.returncode == 0, made.stderr
    path = acme / made.stdout.strip()
    assert path.suffix == ".md" and path.read_text().startswith("```{wi} Packing\n:id: WI-001")
    git(acme, "add", "-A")
    git(acme, "commit", "-q", "-m", "WI-001")
    assert qms_cli(acme, "quinn@acme.example", "approve", "WI-001", "--role",
                   "quality-manager").returncode == 0
    git(acme, "add", "-A")
    git(acme, "commit", "-q", "-m", "approve", who=QUINN)
    revised = qms_cli(acme, "oscar@acme.example", "revise", "WI-001", "--reason", "More")
    assert revised.returncode == 0, revised.stderr
    assert ":revision: 2\n" in path.read_text()
    path.write_text(path.read_text().replace(":revision: 2", ":revision: 2\n:status: effective"))
    check = qms_cli(acme, "quinn@acme.example", "check")
    assert check.returncode == 1 and "[hand-typed-status]" in check.stderr
    path.write_text(path.read_text().replace(":status: effective\n", ""))
    result = sphinx_build(acme)
    assert result.returncode == 0, result.warnings
    page = (result.outdir / "procedures" / path.with_suffix(".html").name).read_text()
    assert "<h1>WI-001 Packing" in page and "DRAFT" in page


def test_shell_completion_script():
    done = subprocess.run([str(Path(sys.executable).with_name("qms"))],
                          env={**os.environ, "_QMS_COMPLETE": "bash_source"},
                          capture_output=True, text=True)
    assert done.returncode == 0 and "_qms_completion" in done.stdout


@pytest.mark.network  # pre-commit installs the hook's environment with pip
def test_pre_commit_hook_runs_through_pre_commit(acme, tmp_path):
    if shutil.which("pre-commit") is None and not Path(sys.executable).with_name(
            "pre-commit").exists():
        pytest.fail("pre-commit is a test dependency (pip install -e '.[test]')")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True,
                          text=True, check=True).stdout.strip()
    (acme / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {REPO}\n    rev: {head}\n    hooks:\n      - id: qms-check\n",
        encoding="utf-8")
    git(acme, "add", "-A")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    pre_commit = str(Path(sys.executable).with_name("pre-commit"))
    start = time.monotonic()
    ok = subprocess.run([pre_commit, "run", "qms-check", "--all-files"], cwd=acme, env=env,
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "qms check" in ok.stdout and "Passed" in ok.stdout
    sop = next((acme / "procedures").glob("sop-001-*.rst"))
    sop.write_text(sop.read_text().replace("ISO9001-7-5-1", "ISO9001-7-5-9"))
    bad = subprocess.run([pre_commit, "run", "qms-check", "--all-files"], cwd=acme, env=env,
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "[unknown-clause]" in bad.stdout
    print(f"pre-commit runs took {time.monotonic() - start:.0f} s")


def test_requirements_name_the_qms_docs_that_made_the_repository(tmp_path, monkeypatch):
    """The generated CI installs the qms-docs the user runs: the folder or VCS URL pip
    recorded (PEP 610), else the released version; --qms-source overrides it."""
    from qms_docs import scaffold
    from qms_docs.scaffold import render_files

    def line(files: dict[str, str]) -> str:
        return files["requirements-qms.txt"].strip().splitlines()[-1]

    monkeypatch.setattr(scaffold, "installed_source", lambda: "file:///opt/qms-docs")
    assert line(render_files("X", "iso9001-2015", "github", person=("A", "a@example.com"))
                ) == "qms-docs[pdf] @ file:///opt/qms-docs"
    monkeypatch.setattr(scaffold, "installed_source", lambda: None)
    assert line(render_files("X", "iso9001-2015", "github", person=("A", "a@example.com"))
                ) == f"qms-docs[pdf]=={scaffold.__version__}"
    for given, expected in [
            ("qms-docs[pdf]==9.9.9", "qms-docs[pdf]==9.9.9"),
            ("git+https://example.com/qms-docs.git@abc123",
             "qms-docs[pdf] @ git+https://example.com/qms-docs.git@abc123"),
            (str(tmp_path), f"qms-docs[pdf] @ {tmp_path.resolve().as_uri()}")]:
        files = render_files("X", "iso9001-2015", "github", person=("A", "a@example.com"),
                             source=given)
        assert line(files) == expected


def test_installed_source_reads_what_pip_recorded(tmp_path, monkeypatch):
    """PEP 610: a VCS install is named at its commit, a local one by its URL."""
    from importlib import metadata

    from qms_docs.scaffold import installed_source

    class Dist:
        def __init__(self, text: str | None) -> None:
            self.text = text

        def read_text(self, name: str) -> str | None:
            return self.text if name == "direct_url.json" else None

    cases = [
        ('{"url": "https://example.com/q.git", "vcs_info": {"vcs": "git", '
         '"commit_id": "0123abc"}}', "git+https://example.com/q.git@0123abc"),
        ('{"url": "file:///src/qms-docs", "dir_info": {"editable": true}}',
         "file:///src/qms-docs"),
        (None, None),
    ]
    for text, expected in cases:
        monkeypatch.setattr(metadata, "distributions",
                            lambda name=None, text=text: [Dist(text)])
        assert installed_source() == expected


@pytest.mark.network  # pip installs qms-docs' dependencies from the package index
@pytest.mark.slow  # a fresh virtual environment with the PDF stack (about a minute)
def test_the_generated_requirement_installs_in_a_fresh_environment(tmp_path, runner):
    """What a company's CI does first: pip install -r requirements-qms.txt, here with
    --qms-source naming this source tree; the qms it installs checks the new QMS."""
    import venv

    target = tmp_path / "acme"
    result = run_qms(runner, ["init", str(target), "--org", "Acme",
                                        "--qms-source", str(REPO)])
    assert result.exit_code == 0, result.output
    venv.create(tmp_path / "venv", with_pip=True)
    bin_ = tmp_path / "venv" / "bin"
    done = subprocess.run([bin_ / "python", "-m", "pip", "install", "-q",
                           "--disable-pip-version-check", "-r", "requirements-qms.txt"],
                          cwd=target, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    check = subprocess.run([bin_ / "qms", "check"], cwd=target, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    probe = subprocess.run([bin_ / "python", "-c", "import weasyprint"], capture_output=True)
    assert probe.returncode == 0  # the [pdf] extra came along: CI builds the PDFs
