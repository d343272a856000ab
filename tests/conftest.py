"""Shared fixtures: scenario projects copied to tmp_path, Sphinx builds, the CLI runner."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOTS = Path(__file__).parent / "roots"
REPO = Path(__file__).resolve().parent.parent


@dataclass
class BuildResult:
    returncode: int
    warnings: str
    outdir: Path

    def needs(self) -> dict:
        import json

        data = json.loads((self.outdir / "needs.json").read_text(encoding="utf-8"))
        return data["versions"][data["current_version"]]["needs"]


def sphinx_build(srcdir: Path, *, strict: bool = True, builder: str = "html",
                 options: tuple[str, ...] = (), outdir: Path | None = None) -> BuildResult:
    """Run sphinx-build in a subprocess (sphinx-needs keeps global state per process)."""
    outdir = outdir or srcdir / "_build" / builder
    command = [sys.executable, "-m", "sphinx", "-b", builder, "-q", "-N", *options, str(srcdir),
               str(outdir)]
    if strict:
        command[3:3] = ["-W", "--keep-going"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=srcdir)
    return BuildResult(done.returncode, done.stderr, outdir)


@pytest.fixture
def scenario(tmp_path):
    """Copy a scenario root (tests/roots/<name>) into tmp_path and return its path."""

    def make(name: str = "basic") -> Path:
        target = tmp_path / name
        shutil.copytree(ROOTS / name, target)
        return target

    return make


EMAILS = {"quinn": "quinn@example.com", "pat": "pat@example.com", "ash": "ash@example.com",
          "olly": "olly@example.com"}
ASH = ('\n[[people]]\nname = "Ash Author"\nemail = "ash@example.com"\n'
       'roles = ["production-manager"]\n')


class QmsRepo:
    """A throwaway QMS git repository driven through the CLI by named people.

    ``at(day)`` scripts the clock: records and commits made afterwards carry that date.
    """

    def __init__(self, root: Path, runner: CliRunner, monkeypatch) -> None:
        self.root, self.runner, self.monkeypatch = root, runner, monkeypatch
        self.when = None

    def at(self, day: str) -> QmsRepo:
        import datetime as dt

        import qms_docs.records as records

        when = dt.datetime.fromisoformat(day + "T10:00:00+00:00")
        self.when = when
        self.monkeypatch.setattr(records, "now", lambda: when)
        return self

    def git(self, *args: str, who: str = "ash") -> str:
        email = EMAILS[who]
        env = {"GIT_AUTHOR_NAME": who.title(), "GIT_AUTHOR_EMAIL": email,
               "GIT_COMMITTER_NAME": who.title(), "GIT_COMMITTER_EMAIL": email,
               "PATH": "/usr/bin:/bin", "HOME": str(self.root)}
        if self.when is not None:
            env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = self.when.isoformat()
        return subprocess.run(["git", *args], cwd=self.root, env=env, capture_output=True,
                              text=True, check=True).stdout

    def commit(self, message: str, who: str = "ash") -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message, who=who)

    def change_policy(self, reason: str = "Change the policy", author: str = "ash",
                      approver: str = "quinn", role: str = "quality-manager") -> None:
        """Put the working tree's qms.toml (and the site's frame) in force the controlled
        way: a policy revision opened and committed by ``author``, approved by ``approver``
        (the basic scenario's [policy] approvers: its quality manager)."""
        self.qms(author, "revise", "policy", "--reason", reason)
        self.commit(reason, who=author)
        self.qms(approver, "approve", "policy", "--role", role)
        self.commit("Approve the policy", who=approver)

    def qms(self, who: str, *args: str, code: int | None = 0):
        """Run ``qms`` as ``who`` (git's user.email); check the exit code unless None."""
        self.git("config", "user.email", EMAILS[who])
        result = run_qms(self.runner, ["--repo", str(self.root), *args])
        if code is not None:
            assert result.exit_code == code, result.output
        return result


@pytest.fixture
def make_repo(tmp_path, runner, monkeypatch):
    """A copy of tests/roots/basic with Ash Author (and ``extra`` qms.toml text), committed."""

    def make(extra: str = "", day: str | None = None, cls: type = QmsRepo) -> QmsRepo:
        root = tmp_path / "qms"
        shutil.copytree(ROOTS / "basic", root)
        with open(root / "qms.toml", "a", encoding="utf-8") as handle:
            handle.write(ASH + extra)
        repo = cls(root, runner, monkeypatch)
        if day:
            repo.at(day)
        repo.git("init", "-q", "-b", "main")
        repo.commit("Initial QMS")
        return repo

    return make


GOLDEN = Path(__file__).parent / "golden"


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true",
                     help="Rewrite tests/golden/ from the current output (on purpose only).")


@pytest.fixture
def golden(request):
    """Compare text with tests/golden/<name>; rewrite it only with --update-golden."""

    def check(name: str, text: str) -> None:
        file = GOLDEN / name
        if request.config.getoption("--update-golden"):
            file.parent.mkdir(exist_ok=True)
            file.write_text(text, encoding="utf-8")
        assert file.is_file(), f"missing golden file {file}; run pytest --update-golden"
        assert text == file.read_text(encoding="utf-8")

    return check


@pytest.fixture
def runner():
    return CliRunner()


def run_qms(runner: CliRunner, args: list[str]):
    """Invoke the qms group the way the console script does (exit codes included)."""
    from qms_docs.cli import cli

    return runner.invoke(cli, args, standalone_mode=True)
