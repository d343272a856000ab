"""Git, through GitPython: the working copy's identity and state, and a one-pass history.

Everything history-based reads the log once (:class:`HistoryIndex`), so the cost grows
with the number of commits, not with documents x commits.
"""

from __future__ import annotations

import re
import subprocess
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .documents import fingerprint
from .errors import GitError
from .cache import (BLOBS_NAME, HISTORY_NAME, ContentCache, read_store, stamp, store_path,
                    write_store)

try:  # GitPython needs a git executable; say so plainly if there is none.
    import git
except ImportError as exc:  # pragma: no cover - depends on the machine
    git = None
    _IMPORT_ERROR = str(exc)


_REVISION = re.compile(rb"^[ \t]*:revision:[ \t]*([0-9]{1,9})(?![0-9])", re.MULTILINE)


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

    @property
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


def open_repo(root: Path) -> "git.Repo":
    """The git repository holding ``root``."""
    if git is None:  # pragma: no cover
        raise GitError(f"git is not available: {_IMPORT_ERROR}", hint="install git")
    try:
        return git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise GitError(f"{root} is not in a git repository",
                       hint="run 'git init' and commit the QMS first") from None


def acting_email(repo: "git.Repo") -> str:
    """``git config user.email`` of the working copy: who is acting."""
    try:
        email = repo.git.config("user.email").strip()
    except git.GitCommandError:
        email = ""
    if not email:
        raise GitError("git does not know who you are (user.email is not set)",
                       hint="run: git config user.email you@example.com")
    return email


def head_commit(repo: "git.Repo") -> str:
    try:
        return repo.head.commit.hexsha
    except ValueError:
        raise GitError("the repository has no commits yet",
                       hint="commit the documents first: git add -A && git commit") from None


def has_uncommitted_changes(repo: "git.Repo", path: str) -> bool:
    """True when ``path`` differs from HEAD in the index or working tree, or is untracked."""
    return bool(repo.git.status("--porcelain", "--untracked-files=all", "--", path).strip())


def is_shallow(repo: "git.Repo") -> bool:
    return repo.git.rev_parse("--is-shallow-repository").strip() == "true"


def require_history(repo: "git.Repo") -> None:
    """Refuse (exit 2) where the history a command needs is not there."""
    head_commit(repo)
    if is_shallow(repo):
        raise GitError("this is a shallow clone: the command needs the whole history",
                       hint="fetch it: git fetch --unshallow (in CI: fetch-depth: 0 / "
                            "GIT_DEPTH: 0)")


def files_at(repo: "git.Repo", commit: str, paths: list[str]) -> dict[str, bytes | None]:
    """The bytes of each path at ``commit`` (None where it did not exist), in one process."""
    return blobs_at(Path(repo.working_tree_dir), commit, paths)


def blobs_at(repo_dir: Path, commit: str, paths: list[str]) -> dict[str, bytes | None]:
    """:func:`files_at` for a repository folder (no GitPython object needed)."""
    if not paths:
        return {}
    specs = "".join(f"{commit}:{p}\n" for p in paths).encode()
    done = subprocess.run(["git", "cat-file", "--batch"], cwd=repo_dir,
                          input=specs, capture_output=True, check=True)
    data, pos, out = done.stdout, 0, {}
    for path in paths:
        end = data.index(b"\n", pos)
        header = data[pos:end].split()
        if header[-1] == b"missing":
            out[path] = None
            pos = end + 1
            continue
        size = int(header[2])
        out[path] = data[end + 1:end + 1 + size]
        pos = end + 1 + size + 1
    return out


def changed_paths(repo: "git.Repo", base: str) -> list[tuple[str, str]]:
    """(status, path) of files that differ between ``base`` and the working tree."""
    output = repo.git.diff("--name-status", "--no-renames", "-z", base)
    parts = [p for p in output.split("\x00") if p]
    return [(parts[i][0], parts[i + 1]) for i in range(0, len(parts) - 1, 2)]


def resolve(repo: "git.Repo", ref: str) -> str:
    """The commit a ref names, or a GitError saying how to get it."""
    try:
        return repo.git.rev_parse("--verify", "--quiet", f"{ref}^{{commit}}").strip()
    except (git.GitCommandError, ValueError):  # ValueError: a NUL byte in the name
        raise GitError(f"unknown git revision {ref!r}",
                       hint="fetch it first (git fetch origin main) or name an existing "
                            "branch, tag or commit") from None


@dataclass
class HistoryIndex:
    """Every file change on HEAD's history, read with one ``git log`` invocation."""

    repo_dir: Path
    changes: list[Change] = field(default_factory=list)
    by_path: dict[str, list[Change]] = field(default_factory=lambda: defaultdict(list))
    _fingerprints: dict[str, str] = field(default_factory=dict)
    _revisions: dict[str, int | None] = field(default_factory=dict)
    _cache: ContentCache | None = field(default=None, repr=False)
    commits: dict[str, Commit] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)  # commit ids, oldest first
    head: str = ""

    @classmethod
    def build(cls, repo: "git.Repo", paths: list[str] | None = None,
              revisions: str | None = None) -> "HistoryIndex":
        """Read the history of HEAD (or a range such as ``base..HEAD``, optionally
        limited to ``paths``) in one pass."""
        return cls.start(repo, paths, revisions).result()

    @classmethod
    def start(cls, repo: "git.Repo", paths: list[str] | None = None,
              revisions: str | None = None) -> "PendingHistory":
        """Start reading the history in the background (``git log`` is its own process):
        the caller does its own work meanwhile and takes the index with ``result()``."""
        return PendingHistory(cls(repo_dir=Path(repo.working_tree_dir)), repo, paths,
                              revisions)

    def _add(self, commits: list[list]) -> None:
        """Add commits as :func:`parse_log` gives them, oldest first."""
        for entry in commits:
            commit, parents, email, name, date, files = entry[:6]
            committer, committed, coauthors = (entry[6:9] if len(entry) >= 9
                                               else (email, date, []))
            coauthors = tuple(coauthors)
            self.commits[commit] = Commit(commit, tuple(parents.split()), email, committer,
                                          committed, coauthors)
            self.order.append(commit)
            for status, path, old_blob, new_blob in files:
                change = Change(commit, email, name, date, status, path, old_blob, new_blob,
                                committer, coauthors)
                self.changes.append(change)
                self.by_path[path].append(change)

    def mainline(self, tip: str | None = None) -> list[str]:
        """The first-parent line from ``tip`` (HEAD) back to the root, oldest first."""
        line = []
        sha = tip or self.head or (self.order[-1] if self.order else "")
        while sha and sha in self.commits:
            line.append(sha)
            parents = self.commits[sha].parents
            sha = parents[0] if parents else ""
        return line[::-1]

    def landings(self, tip: str | None = None) -> dict[str, str]:
        """Commit -> the commit of the first-parent line that brought it in (a commit of
        a merged branch lands with its merge). Commits not on HEAD's history are absent."""
        landed: dict[str, str] = {}
        for main in self.mainline(tip):
            stack = [main]
            while stack:
                sha = stack.pop()
                if sha in landed or sha not in self.commits:
                    continue
                landed[sha] = main
                stack.extend(self.commits[sha].parents)
        return landed

    def commits_of(self, path: str) -> list[Change]:
        """Changes to ``path``, oldest first."""
        return self.by_path.get(path, [])

    def fingerprints_of(self, path: str) -> dict[str, Change]:
        """Fingerprint of every content ``path`` ever had -> the first change that made it."""
        changes = [c for c in self.commits_of(path) if c.status != "D"]
        self._load_blobs([c.new_blob for c in changes])
        out: dict[str, Change] = {}
        for change in changes:
            out.setdefault(self._fingerprints[change.new_blob], change)
        return out

    def earlier_paths(self, path: str) -> list[str]:
        """``path`` and the paths its file had before it was moved unchanged (``git mv``:
        the commit that added ``path`` deleted a file with the very same blob), newest
        first. History is read without rename detection, so a move is seen this way."""
        out, seen = [path], {path}
        while True:
            added = next((c for c in self.commits_of(out[-1]) if c.status == "A"), None)
            if added is None:
                return out
            moved = [c.path for c in self.changes if c.commit == added.commit
                     and c.status == "D" and c.old_blob == added.new_blob
                     and c.path not in seen]
            if len(moved) != 1:
                return out
            out.append(moved[0])
            seen.add(moved[0])

    def fingerprints_along_moves(self, path: str) -> dict[str, Change]:
        """:meth:`fingerprints_of` over ``path`` and the paths it was moved from: a
        document moved with ``git mv`` keeps the history of its approved texts."""
        out: dict[str, Change] = {}
        for earlier in self.earlier_paths(path):
            for digest, change in self.fingerprints_of(earlier).items():
                if digest not in out or (self.order.index(change.commit)
                                         < self.order.index(out[digest].commit)):
                    out[digest] = change
        return out

    def preload(self, paths: list[str]) -> None:
        """Fingerprint every version of these files with one ``git cat-file`` process."""
        self._load_blobs([c.new_blob for p in paths for c in self.commits_of(p)
                          if c.status != "D"])

    def content_fingerprint(self, change: Change) -> str | None:
        """Fingerprint of the file as ``change`` left it (None for a deletion)."""
        if change.status == "D":
            return None
        if change.new_blob not in self._fingerprints:
            self._load_blobs([c.new_blob for c in self.commits_of(change.path)
                              if c.status != "D"])
        return self._fingerprints[change.new_blob]

    def header_revision(self, change: Change) -> int | None:
        """The ``:revision:`` of the document as ``change`` left it."""
        if self.content_fingerprint(change) is None:
            return None
        return self._revisions.get(change.new_blob)

    def content(self, change: Change) -> bytes:
        """The file's bytes as ``change`` left it."""
        done = subprocess.run(["git", "cat-file", "blob", change.new_blob], cwd=self.repo_dir,
                              capture_output=True, check=True)
        return done.stdout

    def _load_blobs(self, blobs: list[str]) -> None:
        """Fingerprint blobs: from the blob cache, else with one ``git cat-file --batch``."""
        wanted = [b for b in dict.fromkeys(blobs) if b not in self._fingerprints]
        if not wanted:
            return
        if self._cache is None:
            self._cache = ContentCache.for_root(self.repo_dir, BLOBS_NAME, prune=False)
        missing = []
        for blob in wanted:
            known = self._cache.get(blob)
            if (isinstance(known, list) and len(known) == 2 and isinstance(known[0], str)
                    and (known[1] is None or isinstance(known[1], int))):
                self._fingerprints[blob], self._revisions[blob] = known
            else:
                missing.append(blob)
        if not missing:
            return
        done = subprocess.run(["git", "cat-file", "--batch"], cwd=self.repo_dir,
                              input=("\n".join(missing) + "\n").encode(), capture_output=True,
                              check=True)
        data = done.stdout
        pos = 0
        for blob in missing:
            end = data.index(b"\n", pos)
            header = data[pos:end].split()
            size = int(header[2])
            content = data[end + 1:end + 1 + size]
            self._fingerprints[blob] = fingerprint(content)
            match = _REVISION.search(content[:4096])
            self._revisions[blob] = int(match.group(1)) if match else None
            self._cache.put(blob, [self._fingerprints[blob], self._revisions[blob]])
            pos = end + 1 + size + 1
        self._cache.save()


# -m: a merge commit is listed with its diff against each parent, so what a merge itself
# changed (a record deleted or edited while resolving it) is seen.
LOG = ["git", "log", "--reverse", "--raw", "--no-abbrev", "--no-renames", "-z", "-m",
       "--format=%x1e%H%x1f%P%x1f%ae%x1f%an%x1f%aI%x1f%ce%x1f%cI%x1f"
       "%(trailers:key=Co-authored-by,valueonly,separator=%x1d)%x1f"]
_EMAIL = re.compile(r"<([^<>\s]+@[^<>\s]+)>")


def parse_log(output: str) -> list[list]:
    """``git log`` output in :data:`LOG`'s format -> [commit, parents, email, name, date,
    [[status, path, old blob, new blob], ...], committer email, committer date,
    [co-author emails]] per commit (a merge's diffs against each parent joined)."""
    commits: list[list] = []
    seen: dict[str, list] = {}
    for block in output.split("\x1e"):
        if not block.strip("\x00\n"):
            continue
        head, _, raw = block.partition("\n")
        fields_ = head.rstrip("\x00").split("\x1f")
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


def _extends(commits: list[list], tip: str) -> bool:
    """True if ``commits`` (oldest first) are a straight line of single-parent commits on
    top of ``tip``: then the log of the newest is the log of ``tip`` followed by them."""
    previous = tip
    for commit in commits:
        if commit[1] != previous:
            return False
        previous = commit[0]
    return bool(commits)


class PendingHistory:
    """A ``git log`` running in the background; its output is drained by a thread so
    git never waits for the caller.

    The whole history of a commit never changes, so the full log is kept in the git
    directory (``.git/qms/history.json``) under the commit it ends at. When HEAD is that
    commit, or a straight line of commits on top of it (the usual case: new commits on a
    branch), only those new commits are read from git. Anything else (a merge, a rebase,
    another branch) reads the whole log again.
    """

    def __init__(self, index: HistoryIndex, repo: "git.Repo", paths: list[str] | None,
                 revisions: str | None) -> None:
        self.index = index
        self._output: list[bytes] = []
        self._process = None
        self._cached: list[list] | None = None  # the kept log, ending at _cached_tip
        self._cached_tip = ""
        self._store: Path | None = None
        try:
            self._head = repo.head.commit.hexsha
        except ValueError:  # an unborn branch: no history yet
            self._done = True
            return
        self._done = False
        if paths is None and revisions is None:
            self._store = store_path(index.repo_dir, HISTORY_NAME)
            cached = read_store(self._store, stamp()) if self._store else None
            if cached and isinstance(cached.get("tip"), str) and isinstance(
                    cached.get("commits"), list):
                self._cached = cached["commits"]
                if cached["tip"] == self._head:
                    return
                revisions = f"{cached['tip']}..{self._head}"
                self._cached_tip = cached["tip"]
        self._start(revisions, paths)

    def _start(self, revisions: str | None, paths: list[str] | None) -> None:
        command = list(LOG)
        if revisions:
            command.append(revisions)
        if paths:
            command += ["--", *paths]
        self._process = subprocess.Popen(command, cwd=self.index.repo_dir,
                                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE)
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        self._output[:] = self._process.communicate()

    def _wait(self) -> tuple[int, str, str]:
        self._reader.join()
        process, self._process = self._process, None
        out, err = self._output or (b"", b"")
        self._output = []
        return (process.returncode, out.decode("utf-8", "surrogateescape"),
                err.decode("utf-8", "replace").strip())

    def _full_log(self) -> list[list]:
        self._start(None, None)
        code, out, err = self._wait()
        if code != 0:
            raise GitError(f"git log failed: {err}", hint="check the repository with 'git log'")
        return parse_log(out)

    def result(self) -> HistoryIndex:
        if self._done:
            return self.index
        self._done = True
        if self._process is None:  # the cache ends at HEAD
            self.index._add(self._cached)
            self.index.head = self._head
            return self.index
        code, out, err = self._wait()
        if self._cached is not None:  # only the commits after the cached ones were read
            new = parse_log(out) if code == 0 else []
            commits = (self._cached + new if code == 0 and _extends(new, self._cached_tip)
                       else self._full_log())
        elif code != 0:
            raise GitError(f"git log failed: {err}", hint="check the repository with 'git log'")
        else:
            commits = parse_log(out)
        self.index._add(commits)
        self.index.head = self._head
        if self._store is not None:
            write_store(self._store, stamp(), {"tip": self._head, "commits": commits})
        return self.index
