"""What the tests share (fixtures over these live in conftest.py): the scenario projects, the
people of the test QMSs, git as a person, a throwaway QMS repository in which people act
through the real CLI, a Sphinx build, and the counters the reliability properties report.

Import it as ``from tests.helpers import ...`` (tests/ is a package, so a test module never
imports conftest). The suite makes no network calls.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import pytest
from click.testing import CliRunner, Result

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
ROOTS = TESTS / "roots"
GOLDEN = TESTS / "golden"

#: QMS_THOROUGH=1 runs many more examples and trials than the default run
THOROUGH = os.environ.get("QMS_THOROUGH") == "1"


# --- people ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Person:
    name: str
    email: str
    roles: tuple[str, ...] = ()

    def toml(self) -> str:
        """Their ``[[people]]`` entry for qms.toml."""
        return (f'\n[[people]]\nname = "{self.name}"\nemail = "{self.email}"\n'
                f"roles = {json.dumps(list(self.roles))}\n")


#: Quinn and Pat are in tests/roots/basic's qms.toml; the others are added where a test
#: needs them (Mallory and Eve never: outsiders).
PEOPLE = {
    "quinn": Person("Quinn Quality", "quinn@example.com", ("quality-manager",)),
    "pat": Person("Pat Production", "pat@example.com", ("production-manager",)),
    "ash": Person("Ash Author", "ash@example.com", ("production-manager",)),
    "dana": Person("Dana Dual", "dana@example.com", ("quality-manager", "production-manager")),
    "tom": Person("Tom Top", "tom@example.com", ("top-management",)),
    "olly": Person("Olly Operator", "olly@example.com", ("operator",)),
    "mallory": Person("Mallory Outsider", "mallory@example.com"),
    "eve": Person("Eve Extra", "eve@example.com"),
}
ASH = PEOPLE["ash"].toml()


def person(who: str | Person) -> Person:
    """A short name of PEOPLE, a Person, or a bare email address (someone not listed)."""
    if isinstance(who, Person):
        return who
    if "@" in who:
        return Person(who.split("@")[0].title(), who)
    return PEOPLE[who]


# --- git and the CLI ------------------------------------------------------------------

def git(root: Path, *args: str, who: str | Person = "ash", author: str | Person | None = None,
        when: dt.datetime | None = None, check: bool = True) -> str:
    """git in ``root`` as ``who`` (committer; ``author`` if another person wrote it), dated
    ``when`` if given; no user or system git configuration is read."""
    committer, writer = person(who), person(author or who)
    env = {"GIT_AUTHOR_NAME": writer.name, "GIT_AUTHOR_EMAIL": writer.email,
           "GIT_COMMITTER_NAME": committer.name, "GIT_COMMITTER_EMAIL": committer.email,
           "PATH": "/usr/bin:/bin", "HOME": str(root.parent), "GIT_CONFIG_NOSYSTEM": "1"}
    if when is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = when.isoformat()
    done = subprocess.run(["git", *args], cwd=root, env=env, capture_output=True, text=True)
    if check and done.returncode:
        raise AssertionError(f"git {' '.join(args)}: {done.stderr}")
    return done.stdout


def commit(root: Path, message: str, who: str | Person = "ash", *,
           author: str | Person | None = None, when: dt.datetime | None = None) -> None:
    """Stage everything and commit it as ``who`` (a commit even when nothing changed)."""
    git(root, "add", "-A", who=who)
    git(root, "commit", "-q", "--allow-empty", "-m", message, who=who, author=author,
        when=when)


def run_qms(runner: CliRunner, args: list[str]) -> Result:
    """Invoke the qms group the way the console script does (exit codes included)."""
    from qms_docs.cli import cli

    return runner.invoke(cli, args, standalone_mode=True)


def qms_subprocess(root: Path, who: str, *args: str, timeout: float = 60,
                   env: dict | None = None) -> subprocess.CompletedProcess:
    """The real ``qms`` in a child process (python -m qms_docs), as a person."""
    git(root, "config", "user.email", person(who).email)
    return subprocess.run([sys.executable, "-m", "qms_docs", "--repo", str(root), *args],
                          capture_output=True, text=True, timeout=timeout, cwd=root,
                          env={**os.environ, **(env or {})})


def watch_subprocesses(monkeypatch, wanted) -> list[list[str]]:
    """From now on (until the monkeypatch is undone), every command line this process
    starts for which ``wanted(command)`` holds is listed in the list returned."""
    seen: list[list[str]] = []
    original = subprocess.Popen

    class Watched(original):  # type: ignore[misc, valid-type]  # subclass of a variable
        def __init__(self, command, *args, **kwargs):
            if isinstance(command, (list, tuple)) and wanted([str(c) for c in command]):
                seen.append([str(c) for c in command])
            super().__init__(command, *args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", Watched)
    return seen


def count_git_logs(monkeypatch) -> list[list[str]]:
    """The ``git log`` runs from now on, through GitPython or a subprocess."""
    import git as gitpython

    calls = watch_subprocesses(monkeypatch, lambda command: command[:2] == ["git", "log"])
    original = gitpython.cmd.Git.execute

    def counting(self, command, *args, **kwargs):
        if isinstance(command, (list, tuple)) and len(command) > 1 and command[1] == "log":
            calls.append(list(command))
        return original(self, command, *args, **kwargs)

    monkeypatch.setattr(gitpython.cmd.Git, "execute", counting)
    return calls


def keygen(folder: Path, name: str) -> Path:
    """An SSH key pair ``folder/name`` (and ``.pub``), made once."""
    key = folder / name
    if not key.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f",
                        str(key)], check=True)
    return key


# --- a throwaway QMS repository -------------------------------------------------------

def new_repo(root: Path, *, people: tuple[str, ...] = ("ash",), extra: str = "",
             gitignore: bool = True, when: dt.datetime | None = None) -> Path:
    """tests/roots/basic copied to ``root`` with ``people`` (short names) and ``extra``
    appended to its qms.toml, in a new git repository, committed by Ash."""
    basic_copy(root, people=people, extra=extra, gitignore=gitignore)
    return init_repo(root, when=when)


def basic_copy(root: Path, *, people: tuple[str, ...] = ("ash",), extra: str = "",
               gitignore: bool = True) -> Path:
    """:func:`new_repo` before git: the files only (to edit before the first commit)."""
    shutil.copytree(ROOTS / "basic", root)
    with open(root / "qms.toml", "a", encoding="utf-8") as handle:
        handle.write("".join(PEOPLE[short].toml() for short in people) + extra)
    if gitignore:
        (root / ".gitignore").write_text("_build/\n", encoding="utf-8")
    return root


def init_repo(root: Path, message: str = "Initial QMS", when: dt.datetime | None = None
              ) -> Path:
    """A new git repository (branch main) in ``root`` holding its files, committed by Ash."""
    git(root, "init", "-q", "-b", "main")
    commit(root, message, when=when)
    return root


class QmsRepo:
    """A QMS git repository in which named people act through the real CLI (in-process),
    commit their own acts and, with a monkeypatch, follow a scripted clock: ``at(day)``
    dates the records and commits made afterwards.

    ``repo("quinn", "approve", ...)`` is short for ``repo.qms("quinn", "approve", ...)``.
    """

    def __init__(self, root: Path, runner: CliRunner | None = None, monkeypatch=None) -> None:
        self.root, self.monkeypatch = root, monkeypatch
        self.runner = runner or CliRunner()
        self.when: dt.datetime | None = None

    def at(self, day: str, hour: int = 10) -> Self:
        return self._set_clock(dt.datetime.fromisoformat(f"{day}T{hour:02d}:00:00+00:00"))

    def later(self, minutes: int = 1) -> Self:
        """Move the clock on (each act a little after the one before)."""
        assert self.when is not None
        return self._set_clock(self.when + dt.timedelta(minutes=minutes))

    def _set_clock(self, when: dt.datetime) -> Self:
        import qms_docs.records as records

        assert self.monkeypatch is not None, "a scripted clock needs a monkeypatch"
        self.when = when
        self.monkeypatch.setattr(records, "now", lambda: when)
        return self

    def git(self, *args: str, who: str = "ash", author: str | None = None,
            check: bool = True) -> str:
        return git(self.root, *args, who=who, author=author, when=self.when, check=check)

    def commit(self, message: str, who: str = "ash", author: str | None = None) -> None:
        commit(self.root, message, who, author=author, when=self.when)

    def qms(self, who: str, *args: str, code: int | None = 0) -> Result:
        """``qms`` as ``who`` (git's user.email); checks the exit code unless None."""
        self.git("config", "user.email", person(who).email)
        result = run_qms(self.runner, ["--repo", str(self.root), *args])
        if code is not None:
            assert result.exit_code == code, (args, result.output)
        return result

    __call__ = qms

    def status(self, doc: str) -> dict:
        return json.loads(self.qms("quinn", "status", doc, "--format", "json").stdout)[0]

    def change_policy(self, reason: str = "Change the policy", author: str = "ash",
                      approvers: tuple[tuple[str, str], ...] = (("quinn", "quality-manager"),)
                      ) -> None:
        """Put the working tree's qms.toml (and the site's frame) in force the controlled
        way: a policy revision opened and committed by ``author``, approved by each of
        ``approvers`` (person, role; the basic scenario's [policy] approvers: its quality
        manager), each committing their own approval."""
        self.qms(author, "revise", "policy", "--reason", reason)
        self.commit(reason, who=author)
        for who, role in approvers:
            self.qms(who, "approve", "policy", "--role", role)
            self.commit("Approve the policy", who=who)


# --- Sphinx ---------------------------------------------------------------------------

@dataclass
class BuildResult:
    returncode: int
    warnings: str
    outdir: Path

    def needs(self) -> dict:
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


# --- counters of the properties -------------------------------------------------------

#: property name -> its counters; conftest's pytest_terminal_summary prints them after the
#: run (and appends them to the file named by QMS_RELIABILITY_REPORT when it is set)
COUNTERS: dict[str, Counter] = {}


def counters(name: str) -> Counter:
    """The counters of one property (made on first use), reported after the run."""
    return COUNTERS.setdefault(name, Counter())


def examples(default: int, thorough: int) -> int:
    """How many examples or trials: moderate by default, many with QMS_THOROUGH=1."""
    return thorough if THOROUGH else default


def hypothesis_settings(default: int, thorough: int):
    from hypothesis import HealthCheck, settings

    return settings(max_examples=examples(default, thorough), deadline=None, database=None,
                    derandomize=not THOROUGH, print_blob=True,
                    suppress_health_check=list(HealthCheck))


# --- the controlled files, byte for byte ----------------------------------------------

CONTROLLED = ("records", "procedures", "manual")


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file of the records and the document folders: path -> bytes.

    Hidden files (a temporary file a killed writer left, named .tmp-...) are listed under
    their own key so a test can tell them apart (:func:`hidden`, :func:`visible`)."""
    out: dict[str, bytes] = {}
    for top in CONTROLLED:
        base = root / top
        if not base.exists():
            continue
        for path in base.rglob("*"):
            if path.is_file() and not path.is_symlink():
                out[path.relative_to(root).as_posix()] = path.read_bytes()
    return out


def hidden(snap: dict[str, bytes]) -> dict[str, bytes]:
    return {k: v for k, v in snap.items() if Path(k).name.startswith(".")}


def visible(snap: dict[str, bytes]) -> dict[str, bytes]:
    return {k: v for k, v in snap.items() if not Path(k).name.startswith(".")}


#: a test that signs or verifies with ssh-keygen (tools/install.sh installs it)
NEEDS_SSH_KEYGEN = pytest.mark.skipif(shutil.which("ssh-keygen") is None,
                                      reason="ssh-keygen is missing (tools/install.sh "
                                             "installs it)")


def copy_repo(template: Path, target: Path) -> Path:
    """A copy of a template repository (made once per module) for one test or example."""
    shutil.copytree(template, target, symlinks=True)
    return target
