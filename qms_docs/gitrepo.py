"""Git: the one module that runs it (a test keeps every other module from doing so).

GitPython serves where it is good (finding the repository, its config, who is acting,
small questions about HEAD) and is imported on first use, so ``qms check`` never loads
it; the history and the contents of past commits are read with one ``git log`` and one
``git cat-file --batch`` process each, parsed here; the rest are single git commands
run by :func:`run`.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from .errors import GitError
from .model import RECORDS_DIR

if TYPE_CHECKING:
    import git


def _gitpython() -> ModuleType:
    """GitPython, imported when first needed; it needs a git executable: say so plainly
    if there is none."""
    try:
        import git
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise GitError(f"git is not available: {exc}", hint="install git") from None
    return git


def git_dir(root: Path) -> Path | None:
    """The git directory of the repository holding ``root`` (no git process started)."""
    for folder in (root, *root.resolve().parents):
        dot_git = folder / ".git"
        if dot_git.is_dir():
            return dot_git
        if dot_git.is_file():  # a worktree or submodule: "gitdir: <path>"
            try:
                line = dot_git.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError):
                return None
            if line.startswith("gitdir:"):
                target = Path(line[len("gitdir:"):].strip())
                target = target if target.is_absolute() else folder / target
                return target if target.is_dir() else None
            return None
    return None


def run(cwd: Path | None, *args: str, input: bytes | None = None,
        env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """``git ARGS`` in ``cwd`` (None: the current folder), its output captured and never
    waiting for a terminal; the caller reads the exit code. A GitError when there is no
    git to run."""
    try:
        return subprocess.run(["git", *args], cwd=cwd, input=input,
                              stdin=None if input is not None else subprocess.DEVNULL,
                              env=None if env is None else {**os.environ, **env},
                              capture_output=True)
    except OSError as exc:
        raise GitError(f"git cannot be run: {exc}", hint="install git") from None


def _names(output: bytes) -> list[str]:
    """The paths of a ``-z`` listing."""
    return [p for p in output.decode("utf-8", "surrogateescape").split("\0") if p]


def config_value(cwd: Path | None, name: str) -> str:
    """``git config --get NAME`` as seen from ``cwd`` ("" when unset)."""
    return run(cwd, "config", "--get", name).stdout.decode("utf-8", "replace").strip()


def working_files(root: Path) -> list[str] | None:
    """Every file below ``root`` that git tracks or would track (not ignored), relative
    to ``root``; None outside a repository."""
    done = run(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", ".")
    return sorted(set(_names(done.stdout))) if done.returncode == 0 else None


def files_in_tree(repo_dir: Path, commit: str, folder: str) -> list[str] | None:
    """The paths (from the repository's top) of every file below ``folder`` in
    ``commit``; None if git cannot list them."""
    done = run(repo_dir, "ls-tree", "-r", "-z", "--name-only", commit, "--", folder or ".")
    return _names(done.stdout) if done.returncode == 0 else None


def archive(repo_dir: Path, commit: str = "HEAD") -> bytes:
    """The files of ``commit`` as a tar archive."""
    done = run(repo_dir, "archive", "--format=tar", commit)
    if done.returncode != 0:
        raise GitError(f"git archive failed: {done.stderr.decode('utf-8', 'replace').strip()}",
                       hint="check the repository with 'git status'")
    return done.stdout


def merge_base(repo_dir: Path, one: str, other: str) -> str:
    """The best common ancestor of two commits."""
    done = run(repo_dir, "merge-base", one, other)
    if done.returncode != 0:
        raise GitError(f"{one} and {other} have no common history",
                       hint="fetch the whole history of both (git fetch --unshallow)")
    return done.stdout.decode().strip()


def is_work_tree(path: Path) -> bool:
    """True if ``path`` is inside a git working tree."""
    return run(path, "rev-parse", "--is-inside-work-tree").returncode == 0


def init(path: Path, branch: str = "main") -> None:
    """A new repository at ``path`` whose first branch is ``branch``."""
    done = run(path, "init", "-q", "-b", branch)
    if done.returncode != 0:
        raise GitError(f"git init failed: {done.stderr.decode('utf-8', 'replace').strip()}",
                       hint="check that the folder is writable")


def commit_all(path: Path, message: str, env: Mapping[str, str] | None = None) -> bool:
    """Stage every file below ``path`` and commit them; False if git could not commit
    (no identity, nothing to commit)."""
    if run(path, "add", "-A", env=env).returncode != 0:
        return False
    return run(path, "commit", "-q", "-m", message, env=env).returncode == 0


def log_process(repo_dir: Path, revisions: str | None,
                paths: list[str] | None) -> subprocess.Popen[bytes]:
    """``git log`` in :data:`LOG`'s format, running in the background (its output is read
    by the caller as it comes, so git never waits)."""
    command = list(LOG)
    if revisions:
        command.append(revisions)
    if paths:
        command += ["--", *paths]
    try:
        return subprocess.Popen(command, cwd=repo_dir, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        raise GitError(f"git cannot be run: {exc}", hint="install git") from None


@dataclass(frozen=True)
class Change:
    """One file changed by one commit (from ``git log --raw``)."""

    commit: str
    author_email: str
    author_name: str
    date: str  # ISO 8601 author date
    status: str  # A, M, D, T (renames are seen as D + A)
    path: str
    old_blob: str
    new_blob: str
    committer_email: str = ""
    coauthors: tuple[str, ...] = ()  # emails of Co-authored-by trailers, lower case

    @cached_property  # read-only data (frozen dataclasses allow this)
    def people(self) -> set[str]:
        """Everyone who had a hand in this change: author, committer, co-authors."""
        return {e.lower() for e in (self.author_email, self.committer_email, *self.coauthors)
                if e}


@dataclass(frozen=True)
class Commit:
    """One commit of HEAD's history: parents, people and when it was committed."""

    sha: str
    parents: tuple[str, ...]
    author_email: str
    committer_email: str
    committer_date: str  # ISO 8601
    coauthors: tuple[str, ...] = ()


def open_repo(root: Path) -> git.Repo:
    """The git repository holding ``root``."""
    gitpython = _gitpython()
    try:
        repo: git.Repo = gitpython.Repo(root, search_parent_directories=True)
        return repo
    except (gitpython.InvalidGitRepositoryError, gitpython.NoSuchPathError):
        raise GitError(f"{root} is not in a git repository",
                       hint="run 'git init' and commit the QMS first") from None


def work_tree(repo: git.Repo) -> Path:
    """The top folder of the working tree (a QMS is never kept in a bare repository)."""
    top = repo.working_tree_dir
    if top is None:
        raise GitError(f"{repo.git_dir} is a bare repository: there is no QMS to read",
                       hint="run qms in a clone with a working tree")
    return Path(top)


def acting_email(repo: git.Repo) -> str:
    """``git config user.email`` of the working copy: who is acting."""
    try:
        email = repo.git.config("user.email").strip()
    except _gitpython().GitCommandError:
        email = ""
    if not email:
        raise GitError("git does not know who you are (user.email is not set)",
                       hint="run: git config user.email you@example.com")
    return email


def head_commit(repo: git.Repo) -> str:
    try:
        return repo.head.commit.hexsha
    except ValueError:
        raise GitError("the repository has no commits yet",
                       hint="commit the documents first: git add -A && git commit") from None


def has_uncommitted_changes(repo: git.Repo, path: str) -> bool:
    """True when ``path`` differs from HEAD in the index or working tree, or is untracked."""
    return bool(repo.git.status("--porcelain", "--untracked-files=all", "--", path).strip())


def is_shallow(repo: git.Repo) -> bool:
    return repo.git.rev_parse("--is-shallow-repository").strip() == "true"


def require_history(repo: git.Repo) -> None:
    """Refuse (exit 2) where the history a command needs is not there."""
    head_commit(repo)
    if is_shallow(repo):
        raise GitError("this is a shallow clone: the command needs the whole history",
                       hint="fetch it: git fetch --unshallow (in CI: fetch-depth: 0 / "
                            "GIT_DEPTH: 0)")


def files_at(repo: git.Repo, commit: str, paths: list[str]) -> dict[str, bytes | None]:
    """The bytes of each path at ``commit`` (None where it did not exist), in one process."""
    return blobs_at(work_tree(repo), commit, paths)


def blobs_at(repo_dir: Path, commit: str, paths: list[str]) -> dict[str, bytes | None]:
    """:func:`files_at` for a repository folder (no GitPython object needed)."""
    found = cat(repo_dir, [f"{commit}:{p}" for p in paths], follow=False)
    return {p: data if isinstance(data, bytes) else None
            for p, (_, data) in zip(paths, found, strict=True)}


def record_states(root: Path, prefix: str) -> list[tuple[str, str]] | None:
    """(git's two-letter status, path relative to the QMS ``root``) of every file under
    ``records/`` that the working tree holds otherwise than HEAD: staged, changed, deleted
    or untracked (one git process; a rename is a deletion and a new file). ``prefix``: the
    QMS root inside the repository. None where git cannot tell."""
    done = subprocess.run(["git", "status", "--porcelain=v1", "-z", "--untracked-files=all",
                           "--no-renames", "--", RECORDS_DIR], cwd=root, capture_output=True)
    if done.returncode != 0:
        return None
    lead = f"{prefix}/" if prefix else ""
    return [(entry[:2], entry[3 + len(lead):])
            for entry in done.stdout.decode("utf-8", "surrogateescape").split("\0")
            if len(entry) > 3 and entry[3:].startswith(lead)]


def changed_paths(repo: git.Repo, base: str) -> list[tuple[str, str]]:
    """(status, path) of files that differ between ``base`` and the working tree."""
    output = repo.git.diff("--name-status", "--no-renames", "-z", base)
    parts = [p for p in output.split("\x00") if p]
    return [(parts[i][0], parts[i + 1]) for i in range(0, len(parts) - 1, 2)]


def resolve(repo: git.Repo, ref: str) -> str:
    """The commit a ref names, or a GitError saying how to get it."""
    try:
        return repo.git.rev_parse("--verify", "--quiet", f"{ref}^{{commit}}").strip()
    except (_gitpython().GitCommandError, ValueError):  # ValueError: a NUL byte in the name
        raise GitError(f"unknown git revision {ref!r}",
                       hint="fetch it first (git fetch origin main) or name an existing "
                            "branch, tag or commit") from None


#: What ``git cat-file --batch --follow-symlinks`` says of a link it does not follow.
_LINK_STATES = {b"symlink": "is a symbolic link that leads outside the repository",
                b"dangling": None, b"loop": None, b"notdir": None}


def cat(repo_dir: Path, specs: list[str], follow: bool = True
         ) -> list[tuple[str, bytes | str | None]]:
    """(blob id, bytes) of each object spec (``<commit>:<path>`` or a blob id), in one
    ``git cat-file --batch`` process (the one parser of its output), which follows
    symbolic links inside the repository unless ``follow`` is False; bytes are None for
    what is missing or no file, and a reason (str) for a link out."""
    if not specs:
        return []
    command = ["git", "cat-file", "--batch", *(["--follow-symlinks"] if follow else [])]
    done = subprocess.run(command, cwd=repo_dir, input="".join(f"{s}\n" for s in specs).encode(),
                          capture_output=True, check=True)
    data, pos = done.stdout, 0
    out: list[tuple[str, bytes | str | None]] = []
    for _ in specs:
        end = data.index(b"\n", pos)
        header = data[pos:end].split()
        if header[-1] == b"missing" or header[-1] == b"ambiguous":
            out.append(("", None))
            pos = end + 1
            continue
        if header[0] in _LINK_STATES:
            size = int(header[1])
            out.append(("", _LINK_STATES[header[0]]))
            pos = end + 1 + size + 1
            continue
        size = int(header[2])
        content = data[end + 1:end + 1 + size]
        out.append((header[0].decode(), content if header[1] == b"blob" else None))
        pos = end + 1 + size + 1
    return out


# -m: a merge commit is listed with its diff against each parent, so what a merge itself
# changed (a record deleted or edited while resolving it) is seen.
LOG = ["git", "log", "--reverse", "--raw", "--no-abbrev", "--no-renames", "-z", "-m",
       "--format=%x1e%H%x1f%P%x1f%ae%x1f%an%x1f%aI%x1f%ce%x1f%cI%x1f"
       "%(trailers:key=Co-authored-by,valueonly,separator=%x1d)%x1f"]
_EMAIL = re.compile(r"<([^<>\s]+@[^<>\s]+)>")
_HEADER_FIELDS = LOG[-1].count("%x1f")
_NOT_IN_FIELD = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _field(text: str) -> str:
    """A header field without the control characters git's separators could leave
    around it (a tab inside a name is kept)."""
    return _NOT_IN_FIELD.sub("", text).strip()


def parse_log(output: str) -> list[list]:
    """``git log`` output in :data:`LOG`'s format -> [commit, parents, email, name, date,
    [[status, path, old blob, new blob], ...], committer email, committer date,
    [co-author emails]] per commit (a merge's diffs against each parent joined)."""
    commits: list[list] = []
    seen: dict[str, list] = {}
    for block in output.split("\x1e"):
        if not block.strip("\x00\n"):
            continue
        # The header is the format's 8 fields, each ended by \x1f; what follows (git's
        # NUL and newline, then the raw lines) is never part of a field, whatever git puts
        # between them: no field (a date in qms history's JSON) may end in a NUL.
        parts = block.split("\x1f", _HEADER_FIELDS)
        if len(parts) > _HEADER_FIELDS:
            fields_, raw = parts[:_HEADER_FIELDS], parts[_HEADER_FIELDS]
        else:  # not this format (should not happen): read up to the first line break
            head, _, raw = block.partition("\n")
            fields_ = head.split("\x1f")
        fields_ = [_field(f) for f in fields_]
        commit, parents, email, name, date = fields_[:5]
        committer, committed = (fields_[5], fields_[6]) if len(fields_) > 6 else (email, date)
        trailers = fields_[7] if len(fields_) > 7 else ""
        coauthors = sorted({m.lower() for m in _EMAIL.findall(trailers)})
        parts = raw.strip("\n").split("\x00")
        files = []
        i = 0
        while i + 1 < len(parts):
            meta = parts[i].strip()
            if not meta.startswith(":"):
                i += 1
                continue
            fields = meta.split()
            files.append([fields[4][0], parts[i + 1], fields[2], fields[3]])
            i += 2
        if commit in seen:  # a merge, listed once per parent
            known = seen[commit][5]
            known.extend(f for f in files if f not in known)
            continue
        entry = [commit, parents, email, name, date, files, committer, committed, coauthors]
        seen[commit] = entry
        commits.append(entry)
    return commits


def read_blobs(repo_dir: Path, blobs: list[str]) -> dict[str, bytes]:
    """The bytes of each blob (by id), with one ``git cat-file --batch`` process."""
    wanted = list(dict.fromkeys(blobs))
    found = cat(repo_dir, wanted, follow=False)
    return {blob: data for blob, (_, data) in zip(wanted, found, strict=True)
            if isinstance(data, bytes)}


def commit_act(root: Path, paths: list[str], message: str, name: str, email: str) -> str:
    """Commit exactly ``paths`` (relative to ``root``) as ``name <email>``, the person
    acting, and return the new commit. Whatever else is staged or changed stays as it was,
    staged or not (``git commit --only``): an act's commit holds the act and nothing else."""
    env = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
           "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}
    out = b""
    for args in (["add", "--", *paths],
                 ["commit", "--quiet", "--only", "-m", message, "--", *paths],
                 ["rev-parse", "HEAD"]):
        done = run(root, *args, env=env)
        if done.returncode != 0:
            said = (done.stderr or done.stdout).decode("utf-8", "replace").strip().splitlines()
            raise GitError(f"git {args[0]} failed: {said[-1] if said else 'no reason given'}",
                           hint="the act is recorded but not committed: git add "
                                f"{' '.join(paths)} && git commit")
        out = done.stdout
    return out.decode().strip()
