"""The policy as one controlled item: ``qms.toml``, the signers file and the site's frame.

Who may approve what is itself controlled: a change of the policy takes effect only once
approved, like a document, and until then the last approved version (the **policy in
force**, read from git) judges every record (authority.py). The item is addressed as
``policy`` on the command line; its records sit under ``records/QMS-POLICY/``.

What it covers (its fingerprint, :func:`fingerprint`): ``qms.toml``, the signers file, the
company glossary (``glossary.yaml``: the words the QMS demands, which ``qms check`` and
the site's glossary page apply), and the **frame** of the published site: ``conf.py``,
every page Sphinx reads that is not a controlled document (index and report pages, the
standards pages: the files matching conf.py's ``include_patterns`` and not its
``exclude_patterns``, outside the document files and ``records/``), the folders of
``templates_path`` and ``html_static_path``, and the globs of ``[policy] files``. The
controlled build takes all of them from the approved version in git, never from the
working tree.
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .config import CONFIG_NAME, config_from_bytes
from .documents import INDEX_NAMES
from .errors import QmsError
from .glossary import GLOSSARY_NAME
from .model import Config, Document
from .records import RECORDS_DIR

if TYPE_CHECKING:
    from .gitrepo import Change
    from .history import HistoryIndex

POLICY_ID = "QMS-POLICY"
#: What people type for the policy wherever a document id is accepted.
POLICY_NAME = "policy"
CONF_NAME = "conf.py"
_PAGE_SUFFIXES = (".rst", ".md")


def is_policy_ref(text: str) -> bool:
    return text.strip().lower() in (POLICY_NAME, POLICY_ID.lower())


def policy_document() -> Document:
    """The policy item as a document for the revision history (its approvals carry the
    roles they needed, so no document type is involved)."""
    return Document(id=POLICY_ID, type="policy-item", title="Policy (qms.toml, signers, "
                    "site frame)", revision=None, owner=None, path=CONFIG_NAME, line=1)


def _pattern(glob: str) -> re.Pattern[str]:
    """A Sphinx-style glob (``**`` any path, ``*`` and ``?`` within one name) as a regex."""
    out, i = "", 0
    while i < len(glob):
        if glob.startswith("**", i):
            out += ".*"
            i += 2
        elif glob[i] == "*":
            out += "[^/]*"
            i += 1
        elif glob[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(glob[i])
            i += 1
    return re.compile(out + r"\Z")


@dataclass(frozen=True)
class Frame:
    """What conf.py says Sphinx reads, from its literal assignments (never executed)."""

    include: tuple[str, ...] = ("**",)
    exclude: tuple[str, ...] = ()
    folders: tuple[str, ...] = ()  # templates_path and html_static_path entries

    @classmethod
    def from_conf(cls, text: str | None) -> Frame:
        values: dict[str, object] = {}
        if text:
            try:
                tree = ast.parse(text)
            except (SyntaxError, ValueError):
                tree = None
            for node in tree.body if tree else ():
                if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(
                        node.targets[0], ast.Name):
                    try:
                        values[node.targets[0].id] = ast.literal_eval(node.value)
                    except (ValueError, TypeError, SyntaxError, RecursionError):
                        continue

        def strings(name: str, default: tuple[str, ...]) -> tuple[str, ...]:
            value = values.get(name)
            if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
                return tuple(value)
            return default

        folders = strings("templates_path", ()) + strings("html_static_path", ())
        return cls(strings("include_patterns", ("**",)), strings("exclude_patterns", ()),
                   tuple(f.strip("/") for f in folders if f and ".." not in f.split("/")
                         and not f.startswith("/")))


    def reads(self, path: str) -> bool:
        """Whether Sphinx reads ``path`` (relative to the source folder) as a page."""
        return any(_pattern(g).match(path) for g in self.include) and not any(
            _pattern(g).match(path) for g in self.exclude)


def covered(paths: list[str], config: Config, conf_text: str | None) -> list[str]:
    """The paths (relative to the QMS root) that the policy item covers, sorted."""
    frame = Frame.from_conf(conf_text)
    include = [_pattern(g) for g in frame.include]
    exclude = [_pattern(g) for g in frame.exclude]
    extra = [_pattern(g) for g in config.policy_files]
    folders = tuple(f"{folder}/" for folder in config.folders)
    # the exports of upstream QMSs: what the site's coverage and links rely on
    upstreams = {upstream.path for upstream in config.upstreams}
    out = []
    for path in paths:
        if path in (CONFIG_NAME, config.signers_file, CONF_NAME, GLOSSARY_NAME) or (
                path in upstreams):
            out.append(path)
            continue
        if path.startswith(f"{RECORDS_DIR}/") or path.startswith(("_build/", ".")):
            continue
        if any(p.match(path) for p in extra) or path.startswith(
                tuple(f"{f}/" for f in frame.folders)):
            out.append(path)
            continue
        if not path.endswith(_PAGE_SUFFIXES):
            continue
        if path.startswith(folders) and path.rsplit("/", 1)[-1] not in INDEX_NAMES:
            continue  # a document (or a file the scan reports): not the frame
        if any(p.match(path) for p in include) and not any(p.match(path) for p in exclude):
            out.append(path)
    return sorted(set(out))


def fingerprint(files: dict[str, bytes]) -> str:
    """The policy's fingerprint: sha256 over each covered file's path and the sha256 of its
    bytes (line endings normalized), in path order."""
    h = hashlib.sha256(b"qms-docs policy v1\n")
    for path in sorted(files):
        data = files[path].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        h.update(f"{path}\0{hashlib.sha256(data).hexdigest()}\n".encode())
    return h.hexdigest()


@dataclass(frozen=True)
class Version:
    """One version of the policy: its files, fingerprint and the configuration it gives."""

    fingerprint: str
    files: dict[str, bytes] = field(compare=False, repr=False)
    config: Config = field(compare=False, repr=False)
    commit: str = ""  # where it was read from ("" for the working tree)

    @property
    def signers(self) -> bytes | None:
        return self.files.get(self.config.signers_file)


def working_version(root: Path) -> Version:
    """The policy as the working tree holds it (tracked and untracked files, not ignored)."""
    names = _working_paths(root)
    conf = _read(root / CONF_NAME)
    config = config_from_bytes(root, (root / CONFIG_NAME).read_bytes())
    frame = conf.decode("utf-8", "replace") if conf is not None else None
    files = {p: data for p in covered(names, config, frame)
             if (data := _read(root / p)) is not None}
    return Version(fingerprint(files), files, config)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes() if path.is_file() and not path.is_symlink() else None
    except OSError:
        return None


def _working_paths(root: Path) -> list[str]:
    from .gitrepo import working_files

    listed = working_files(root)
    if listed is not None:
        return listed
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.is_file() and ".git" not in p.relative_to(root).parts)


def version_at(repo_dir: Path, prefix: str, commit: str, root: Path) -> Version | None:
    """The policy as ``commit`` held it (None if it had no qms.toml there). ``prefix``: the
    QMS root inside the repository ("" at its top)."""
    lead = f"{prefix}/" if prefix else ""
    from .gitrepo import files_in_tree

    listing = files_in_tree(repo_dir, commit, prefix)
    if listing is None:
        return None
    names = [p[len(lead):] for p in listing if p.startswith(lead)]
    if CONFIG_NAME not in names:
        return None
    from .gitrepo import blobs_at

    found = blobs_at(repo_dir, commit, [f"{lead}{CONFIG_NAME}", f"{lead}{CONF_NAME}"])
    raw = [found[f"{lead}{CONFIG_NAME}"], found[f"{lead}{CONF_NAME}"]]
    try:
        config = config_from_bytes(root, raw[0] or b"", f"{CONFIG_NAME} at {commit[:10]}")
    except QmsError:
        return None
    conf = raw[1].decode("utf-8", "replace") if raw[1] is not None else None
    paths = covered(names, config, conf)
    contents = blobs_at(repo_dir, commit, [f"{lead}{p}" for p in paths])
    files = {p: data for p in paths if (data := contents[f"{lead}{p}"]) is not None}
    return Version(fingerprint(files), files, config, commit)


def changes_since(index: HistoryIndex | None, prefix: str, in_force: Version | None,
                  until: str, paths: Iterable[str] = ()) -> list[Change]:
    """Changes of the policy's files (those of the version in force, ``paths`` and
    qms.toml) in commits that ``until`` holds and the version in force does not."""
    if index is None:
        return []
    ancestors = _ancestors(index, until)
    if in_force is not None and in_force.commit:
        ancestors -= _ancestors(index, in_force.commit)
    lead = f"{prefix}/" if prefix else ""
    files = {f"{lead}{CONFIG_NAME}"}
    if in_force is not None:
        files.update(f"{lead}{p}" for p in in_force.files)
    files.update(f"{lead}{p}" for p in paths)
    return [c for path in sorted(files) for c in index.commits_of(path)
            if c.commit in ancestors]


def _ancestors(index: HistoryIndex, tip: str) -> set[str]:
    """Every commit of ``index`` that ``tip`` holds (itself included)."""
    seen: set[str] = set()
    stack = [tip]
    while stack:
        sha = stack.pop()
        if sha in seen or sha not in index.commits:
            continue
        seen.add(sha)
        stack.extend(index.commits[sha].parents)
    return seen
