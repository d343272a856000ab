"""The history of documents and records on HEAD, from one pass over ``git log``.

Everything history-based reads the log once (:class:`HistoryIndex`), so the cost grows
with the number of commits, not with documents x commits.
"""

from __future__ import annotations

import posixpath
import subprocess
import threading
from collections import defaultdict
from collections.abc import Callable, Container
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .cache import (
    BLOBS_NAME,
    HISTORY_NAME,
    ContentCache,
    read_store,
    stamp,
    store_path,
    write_store,
)
from .documents import fingerprint
from .errors import GitError
from .gitrepo import (
    Change,
    Commit,
    cat,
    head_commit,
    log_process,
    open_repo,
    parse_log,
    read_blobs,
    work_tree,
)
from .includes import Reader, composite, file_directives, references_from, shown_files
from .model import REVISION_LINE

if TYPE_CHECKING:
    import git


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
    _by_commit: dict[str, list[Change]] | None = field(default=None, repr=False)
    order: list[str] = field(default_factory=list)  # commit ids, oldest first
    head: str = ""
    #: what the log was limited to: (paths or None, revisions or None)
    scope: tuple[tuple[str, ...] | None, str | None] = (None, None)
    _references: dict[str, list] = field(default_factory=dict)  # "md:<blob>" -> directives
    _timelines: dict[tuple[str, str], list] = field(default_factory=dict)
    _order: dict[str, int] | None = field(default=None, repr=False)
    _complete: HistoryIndex | None = field(default=None, repr=False)

    @classmethod
    def build(cls, repo: git.Repo, paths: list[str] | None = None,
              revisions: str | None = None) -> HistoryIndex:
        """Read the history of HEAD (or a range such as ``base..HEAD``, optionally
        limited to ``paths``) in one pass."""
        return cls.start(repo, paths, revisions).result()

    @classmethod
    def start(cls, repo: git.Repo, paths: list[str] | None = None,
              revisions: str | None = None) -> PendingHistory:
        """Start reading the history in the background (``git log`` is its own process):
        the caller does its own work meanwhile and takes the index with ``result()``."""
        index = cls(repo_dir=work_tree(repo),
                    scope=(tuple(paths) if paths else None, revisions))
        return PendingHistory(index, repo, paths, revisions)

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
        if self._by_commit is None:
            by_commit: dict[str, list[Change]] = {}
            for change in self.changes:
                if change.status == "D":
                    by_commit.setdefault(change.commit, []).append(change)
            self._by_commit = by_commit
        out, seen = [path], {path}
        while True:
            added = next((c for c in self.commits_of(out[-1]) if c.status == "A"), None)
            if added is None:
                return out
            moved = {c.path for c in self._by_commit.get(added.commit, ())
                     if c.old_blob == added.new_blob and c.path not in seen}
            if len(moved) != 1:
                return out
            out.append(moved.pop())
            seen.add(out[-1])

    def fingerprints_along_moves(self, path: str, root: str = "") -> dict[str, Change]:
        """:meth:`held_fingerprints` over ``path`` and the paths it was moved from: a
        document moved with ``git mv`` keeps the history of its approved texts."""
        out: dict[str, Change] = {}
        position = None
        for earlier in self.earlier_paths(path):
            for digest, change in self.held_fingerprints(earlier, root).items():
                if digest in out:
                    if position is None:
                        position = {sha: i for i, sha in enumerate(self.order)}
                    if position.get(change.commit, 0) >= position.get(out[digest].commit, 0):
                        continue
                out[digest] = change
        return out

    def preload(self, paths: list[str]) -> None:
        """Fingerprint every version of these files with one ``git cat-file`` process
        (and find the files each version includes: :meth:`timeline`)."""
        self._load_blobs([c.new_blob for p in paths for c in self.commits_of(p)
                          if c.status != "D"])
        for markdown in (False, True):
            self._load_references([c.new_blob for p in paths if p.endswith(".md") == markdown
                                   for c in self.commits_of(p) if c.status != "D"], markdown)

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
        return read_blobs(self.repo_dir, [change.new_blob])[change.new_blob]

    def _uncached(self, blobs: list[str], key: Callable[[str], str], known: Container[str],
                  keep: Callable[[str, Any], bool]) -> list[str]:
        """The blobs whose ``key`` is neither ``known`` nor in the blob cache: those are to
        be read from git. A cached value is handed to ``keep``, which says whether it was
        whole (else the blob is read again)."""
        wanted = [b for b in dict.fromkeys(blobs) if key(b) not in known]
        if not wanted:
            return []
        if self._cache is None:
            self._cache = ContentCache.for_root(self.repo_dir, BLOBS_NAME, prune=False)
        cache = self._cache
        return [blob for blob in wanted if not keep(blob, cache.get(key(blob)))]

    def _keep_fingerprint(self, blob: str, known: Any) -> bool:
        if (isinstance(known, list) and len(known) == 2 and isinstance(known[0], str)
                and (known[1] is None or isinstance(known[1], int))):
            self._fingerprints[blob], self._revisions[blob] = known
            return True
        return False

    def _load_blobs(self, blobs: list[str]) -> None:
        """Fingerprint blobs: from the blob cache, else with one ``git cat-file --batch``."""
        missing = self._uncached(blobs, str, self._fingerprints, self._keep_fingerprint)
        if not missing or self._cache is None:
            return
        found = cat(self.repo_dir, missing, follow=False)
        for blob, (_, content) in zip(missing, found, strict=True):
            if not isinstance(content, bytes):
                raise GitError(f"git cannot read blob {blob} of the history",
                               hint="check the repository: git fsck")
            self._fingerprints[blob] = fingerprint(content)
            match = REVISION_LINE.search(content[:4096])
            self._revisions[blob] = int(match.group("number")) if match else None
            self._cache.put(blob, [self._fingerprints[blob], self._revisions[blob]])
        self._cache.save()


    # --- what a document showed: its text and the files it includes ---------------

    def timeline(self, path: str, root: str = "") -> list[tuple[Change, str | None]]:
        """Every change of what the document at ``path`` shows, oldest first, with the
        fingerprint it left (None where the document was deleted).

        ``root`` is the QMS folder inside the repository ("" at its top): included
        files are named relative to it, as in :func:`qms_docs.documents.scan`. For a
        document that never included anything, these are its own changes and their
        fingerprints (:meth:`content_fingerprint`). Otherwise the fingerprint is the
        composite one of each commit that changed the document or a file any of its
        versions included, read as they were in that commit (changes to an included file
        only are Changes of the document with status ``I``).
        """
        key = (path, root)
        if key not in self._timelines:
            self._timelines[key] = self._timeline(path, root)
        return self._timelines[key]

    def held_fingerprints(self, path: str, root: str = "") -> dict[str, Change]:
        """Every fingerprint the document at ``path`` ever had (its included files
        counted) -> the first change that gave it."""
        out: dict[str, Change] = {}
        for change, digest in self.timeline(path, root):
            if digest is not None:
                out.setdefault(digest, change)
        return out

    def shown_at(self, change: Change, root: str = "") -> dict[str, bytes]:
        """The document of ``change`` and every file it showed, as they were in that
        commit: QMS-relative path -> bytes (files missing then are left out)."""
        text, files = _shown(self.repo_dir, change.commit, change.path, root)
        if text is None:
            return {}
        return {_inside(change.path, root): text,
                **{p: data for p, data in files.items() if data is not None}}

    def _timeline(self, path: str, root: str) -> list[tuple[Change, str | None]]:
        own = self.commits_of(path)
        markdown = path.endswith(".md")
        blobs = [c.new_blob for c in own if c.status != "D"]
        self._load_references(blobs, markdown)
        rel = _inside(path, root)
        direct = {r.path: r.parsed for b in blobs
                  for r in references_from(self._references[_ref_key(b, markdown)], rel)
                  if r.path is not None}
        if not direct:
            return [(c, self.content_fingerprint(c)) for c in own]
        ever = self._ever_included(rel, root, direct)
        paths, revisions = self.scope
        if paths is not None and not {_outside(p, root) for p in ever} <= set(paths):
            if self._complete is None:  # the log left out the included files: read it all
                self._complete = HistoryIndex.build(open_repo(self.repo_dir),
                                                    revisions=revisions)
            return self._complete.timeline(path, root)
        return self._composite_timeline(path, root, own, ever)

    def _ever_included(self, rel: str, root: str, direct: dict[str, bool]) -> set[str]:
        """Every file (QMS-relative) that any version of the document or of a file it
        includes as text ever named."""
        ever = set(direct)
        frontier = [p for p, parsed in direct.items() if parsed]
        seen: set[str] = set()
        while frontier:
            batch = [p for p in dict.fromkeys(frontier) if p not in seen]
            seen.update(batch)
            frontier = []
            blobs = [(p, c.new_blob) for p in batch for c in self.commits_of(_outside(p, root))
                     if c.status != "D"]
            found = cat(self.repo_dir, [blob for _, blob in blobs])
            for (where, _), (_, data) in zip(blobs, found, strict=True):
                if not isinstance(data, bytes):
                    continue
                named = file_directives(data.decode("utf-8", "replace"), where.endswith(".md"))
                for ref in references_from(named, where, rel):
                    if ref.path is not None and ref.path not in ever:
                        ever.add(ref.path)
                        if ref.parsed:
                            frontier.append(ref.path)
        return ever

    def _composite_timeline(self, path: str, root: str, own: list[Change],
                            ever: set[str]) -> list[tuple[Change, str | None]]:
        if self._order is None:
            self._order = {}
            for position, change in enumerate(self.changes):
                self._order.setdefault(change.commit, position)
        order = self._order
        by_commit: dict[str, Change] = {}
        for p in ever:
            for change in self.commits_of(_outside(p, root)):
                by_commit.setdefault(change.commit, change)
        for change in own:
            by_commit[change.commit] = change  # the document's own change wins
        commits = sorted(by_commit, key=lambda c: order.get(c, 0))
        files = [path, *sorted(_outside(p, root) for p in ever)]
        found = cat(self.repo_dir, [f"{c}:{f}" for c in commits for f in files])
        rel = _inside(path, root)
        out: list[tuple[Change, str | None]] = []
        for number, commit in enumerate(commits):
            row = found[number * len(files):(number + 1) * len(files)]
            state = {_inside(f, root): data for f, (_, data) in zip(files, row, strict=True)}
            change = by_commit[commit]
            text = row[0][1]
            if not isinstance(text, bytes):
                if change.path == path:  # deleted (or not yet there) in this commit
                    out.append((change, None))
                continue
            if change.path != path:
                change = Change(commit, change.author_email, change.author_name, change.date,
                                "I", path, row[0][0], row[0][0])
            shown = shown_files(rel, text.decode("utf-8", "replace"),
                                _reading(state))
            out.append((change, composite(fingerprint(text), shown.files)))
        return out

    def _load_references(self, blobs: list[str], markdown: bool) -> None:
        """The directives naming files in each document blob: from the blob cache, else
        read with one ``git cat-file --batch``."""
        def key(blob: str) -> str:
            return _ref_key(blob, markdown)

        def keep(blob: str, known: Any) -> bool:
            if isinstance(known, list):
                self._references[key(blob)] = known
                return True
            return False

        missing = self._uncached(blobs, key, self._references, keep)
        if not missing or self._cache is None:
            return
        for blob, (_, data) in zip(missing, cat(self.repo_dir, missing), strict=True):
            named = file_directives(data.decode("utf-8", "replace"), markdown) if isinstance(
                data, bytes) else []
            self._references[_ref_key(blob, markdown)] = named
            self._cache.put(_ref_key(blob, markdown), named)
        self._cache.save()


def _reading(state: dict[str, bytes | str | None]) -> Reader:
    """A reader of the files a document shows, from those already read."""
    return lambda wanted: {p: state.get(p) for p in wanted}


def fingerprint_at(repo: git.Repo, commit: str, path: str, root: str = "") -> str | None:
    """The fingerprint of the document at ``path`` as it was in ``commit``, the files it
    showed then counted (None if it did not exist)."""
    text, files = _shown(work_tree(repo), commit, path, root)
    return None if text is None else composite(fingerprint(text), files)


def _shown(repo_dir: Path, commit: str, path: str, root: str
           ) -> tuple[bytes | None, dict[str, bytes | None]]:
    """A document's bytes in ``commit`` and the files it showed then (QMS-relative)."""
    [(_, text)] = cat(repo_dir, [f"{commit}:{path}"])
    if not isinstance(text, bytes):
        return None, {}

    def read(paths: list[str]) -> dict[str, bytes | str | None]:
        found = cat(repo_dir, [f"{commit}:{_outside(p, root)}" for p in paths])
        return {p: data for p, (_, data) in zip(paths, found, strict=True)}

    return text, shown_files(_inside(path, root), text.decode("utf-8", "replace"), read).files


def _ref_key(blob: str, markdown: bool) -> str:
    """The blob cache's key of a blob's file-naming directives (its fingerprint is kept
    under the bare blob id)."""
    return f"refs:{'md' if markdown else 'rst'}:{blob}"


def _inside(path: str, root: str) -> str:
    """A repository path relative to the QMS folder ``root``."""
    return posixpath.relpath(path, root) if root not in ("", ".") else path


def _outside(path: str, root: str) -> str:
    """A QMS-relative path relative to the repository."""
    return posixpath.normpath(posixpath.join(root, path)) if root not in ("", ".") else path


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

    def __init__(self, index: HistoryIndex, repo: git.Repo, paths: list[str] | None,
                 revisions: str | None) -> None:
        self.index = index
        self._output: list[bytes] = []
        self._process: subprocess.Popen[bytes] | None = None
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
        self._process = log_process(self.index.repo_dir, revisions, paths)
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        assert self._process is not None  # started with it
        self._output[:] = self._process.communicate()

    def _wait(self) -> tuple[int, str, str]:
        self._reader.join()
        process, self._process = self._process, None
        assert process is not None  # _start ran
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
            assert self._cached is not None  # no process is started only when it is read
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


def texts_with_fingerprints(repo: git.Repo, root: Path, wanted: dict[str, str],
                            index: HistoryIndex | None = None) -> dict[str, bytes | None]:
    """For each path (relative to the QMS ``root``) the bytes it had when it held the given
    fingerprint, None where no commit of HEAD's history did. One ``git log`` over these
    paths (none with an ``index`` of the whole history) and one ``git cat-file --batch``
    for the texts (fingerprints of versions come from the blob cache where known)."""
    if not wanted:
        return {}
    head_commit(repo)
    prefix = Path(root).resolve().relative_to(work_tree(repo).resolve())
    in_git = {path: path if str(prefix) == "." else (prefix / path).as_posix()
              for path in wanted}
    index = index or HistoryIndex.build(repo, paths=sorted(set(in_git.values())))
    index.preload(list(in_git.values()))
    blobs: dict[str, str] = {}
    for path, digest in wanted.items():
        change = index.fingerprints_of(in_git[path]).get(digest)
        if change is not None:
            blobs[path] = change.new_blob
    contents = read_blobs(index.repo_dir, list(blobs.values()))
    return {path: contents.get(blobs[path]) if path in blobs else None for path in wanted}
