"""Shared helpers of the reliability tests (tests/test_reliability_*.py). No tests here.

Throwaway QMS repositories under tmp_path, people who act through the real CLI, a
snapshot of the controlled files, and the counters each property reports (printed, and
appended to the file named by QMS_RELIABILITY_REPORT when it is set).

QMS_THOROUGH=1 runs many more examples and trials than the default run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from conftest import ROOTS, run_qms

THOROUGH = os.environ.get("QMS_THOROUGH") == "1"
REPO = Path(__file__).resolve().parent.parent

PEOPLE = {  # short name -> (name, email, roles)
    "quinn": ("Quinn Quality", "quinn@example.com", ["quality-manager"]),
    "pat": ("Pat Production", "pat@example.com", ["production-manager"]),
    "ash": ("Ash Author", "ash@example.com", ["production-manager"]),
    "dana": ("Dana Dual", "dana@example.com", ["quality-manager", "production-manager"]),
    "tom": ("Tom Top", "tom@example.com", ["top-management"]),
}
EXTRA = [p for p in PEOPLE if p not in ("quinn", "pat")]  # the basic root has quinn and pat


def examples(default: int, thorough: int) -> int:
    """How many examples or trials: moderate by default, many with QMS_THOROUGH=1."""
    return thorough if THOROUGH else default


def hypothesis_settings(default: int, thorough: int):
    from hypothesis import HealthCheck, settings

    return settings(max_examples=examples(default, thorough), deadline=None, database=None,
                    derandomize=not THOROUGH, print_blob=True,
                    suppress_health_check=list(HealthCheck))


def report(name: str, **counts: object) -> str:
    """Print the counters of one property (and append them to $QMS_RELIABILITY_REPORT)."""
    line = f"reliability {name}: " + ", ".join(f"{k}={v}" for k, v in counts.items())
    print(line)
    target = os.environ.get("QMS_RELIABILITY_REPORT")
    if target:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"property": name, "thorough": THOROUGH, **counts}) + "\n")
    return line


def git(root: Path, *args: str, who: str = "ash", check: bool = True) -> str:
    name, email, _ = PEOPLE[who]
    env = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name,
           "GIT_COMMITTER_EMAIL": email, "PATH": "/usr/bin:/bin", "HOME": str(root.parent),
           "GIT_CONFIG_NOSYSTEM": "1"}
    done = subprocess.run(["git", *args], cwd=root, env=env, capture_output=True, text=True,
                          check=check)
    return done.stdout


def new_repo(root: Path) -> Path:
    """The basic scenario with every person of PEOPLE, committed, in a new git repository."""
    shutil.copytree(ROOTS / "basic", root)
    with open(root / "qms.toml", "a", encoding="utf-8") as handle:
        for short in EXTRA:
            name, email, roles = PEOPLE[short]
            handle.write(f'\n[[people]]\nname = "{name}"\nemail = "{email}"\n'
                         f"roles = {json.dumps(roles)}\n")
    (root / ".gitignore").write_text("_build/\n", encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    commit(root, "Initial QMS")
    return root


def commit(root: Path, message: str, who: str = "ash") -> None:
    git(root, "add", "-A", who=who)
    git(root, "commit", "-q", "--allow-empty", "-m", message, who=who)


def copy_repo(template: Path, target: Path) -> Path:
    shutil.copytree(template, target, symlinks=True)
    return target


class Actor:
    """People acting through the CLI, in-process (click's runner)."""

    def __init__(self, root: Path):
        self.root = root
        self.runner = CliRunner()

    def __call__(self, who: str, *args: str, code: int | None = 0):
        """Run qms as ``who`` (a short name of PEOPLE, or an email address)."""
        git(self.root, "config", "user.email", PEOPLE[who][1] if who in PEOPLE else who)
        result = run_qms(self.runner, ["--repo", str(self.root), *args])
        if code is not None:
            assert result.exit_code == code, (args, result.output)
        return result

    def commit(self, message: str, who: str = "ash") -> None:
        commit(self.root, message, who)

    def change_policy(self, reason: str = "Change the policy", author: str = "ash") -> None:
        """Commit the working tree's qms.toml (and frame) and put it in force: a policy
        revision opened by ``author``, approved by the quality manager (Quinn) and top
        management (Tom), the [policy] approvers of this QMS."""
        self(author, "revise", "policy", "--reason", reason)
        self.commit(reason, who=author)
        for who, role in (("quinn", "quality-manager"), ("tom", "top-management")):
            self(who, "approve", "policy", "--role", role)
            self.commit("Approve the policy", who=who)


def approved_repo(root: Path) -> Path:
    """SOP-001 effective at revision 1 (approved by Quinn); SOP-002 effective at revision 2
    (revision 1 and 2 each approved by Quinn and Pat, revision 2 written by Ash); all
    committed; qms verify passes."""
    new_repo(root)
    act = Actor(root)
    act("quinn", "approve", "SOP-001", "--role", "quality-manager")
    act("quinn", "approve", "SOP-002", "--role", "quality-manager")
    act.commit("Approve SOP-001 and SOP-002", who="quinn")  # each commits their own records
    act("pat", "approve", "SOP-002", "--role", "production-manager")
    act.commit("Approve SOP-002", who="pat")
    act("ash", "revise", "SOP-002", "--reason", "New planning board", "--summary", "Step 2")
    path = root / "procedures" / "sop-002.rst"
    path.write_bytes(path.read_bytes() + b"\nThe planning board is updated daily.\n")
    act.commit("SOP-002 revision 2", who="ash")
    act("quinn", "approve", "SOP-002", "--role", "quality-manager")
    act.commit("Approve SOP-002 revision 2", who="quinn")
    act("pat", "approve", "SOP-002", "--role", "production-manager")
    act.commit("Approve SOP-002 revision 2", who="pat")
    result = act("quinn", "verify", "--format", "json")
    assert json.loads(result.stdout)["errors"] == 0, result.output
    return root


def revise_sop_001(act: Actor, root: Path) -> None:
    """Ash revises SOP-001 to revision 2 and edits its text (not committed)."""
    act("ash", "revise", "SOP-001", "--reason", "Clearer")
    path = root / "procedures" / "sop-001.rst"
    path.write_bytes(path.read_bytes() + b"\nA clearer text.\n")


CONTROLLED = ("records", "procedures", "manual")


def snapshot(root: Path) -> dict[str, bytes]:
    """Every visible file of the records and the document folders: path -> bytes.

    Hidden files (a temporary file a killed writer left, named .tmp-...) are listed under
    their own key so a test can tell them apart."""
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


def qms_subprocess(root: Path, who: str, *args: str, timeout: float = 60,
                   env: dict | None = None) -> subprocess.CompletedProcess:
    """The real `qms` in a child process (python -m qms_docs), as a person."""
    git(root, "config", "user.email", PEOPLE[who][1])
    return subprocess.run([sys.executable, "-m", "qms_docs", "--repo", str(root), *args],
                          capture_output=True, text=True, timeout=timeout, cwd=root,
                          env={**os.environ, **(env or {})})
