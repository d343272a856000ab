"""Publishing: preview and controlled builds of the site, and controlled PDFs.

Sphinx runs as a subprocess (sphinx-needs keeps global state per process, and a command
that only checks must not pay for importing Sphinx). PDFs are WeasyPrint renderings of
each document's HTML page with a print stylesheet, by a pool of processes, cached in the
build folder (pdfs.py); the manual PDF is a cover page plus every document's PDF, each
keeping its own running header and page numbers, with the manual's own page numbers.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import jinja2

from . import extras, gitrepo, history, pdfs
from .config import Config
from .documents import scan
from .errors import QmsError, Refused
from .manual import manual_pdf
from .model import Document
from .pdfs import pdf_date, print_fonts
from .records import RecordSet, load_records
from .references import STATE_OF_EXCLUDED
from .status import derive_status
from .workspace import Workspace


class BuildFailed(QmsError):
    """Sphinx reported warnings or errors: exit 1 (a warning is a nonconformity)."""

    exit_code = 1


@dataclass
class Tree:
    """A source tree to build: where it is and what it holds."""

    root: Path
    controlled: bool
    cache_from: Path | None = None  # the repository whose caches serve a tree outside git
    included: list[tuple[str, int]] = field(default_factory=list)  # (id, revision)
    excluded: list[tuple[str, str]] = field(default_factory=list)  # (id, why)
    config: Config | None = None  # the policy it is built with (controlled: the one in force)
    records: RecordSet | None = None  # the records that count in it


JUDGEMENT_FILE = ".qms-judgement.json"


def controlled_tree(ws: Workspace, dest: Path, as_of: dt.date | None = None) -> Tree:
    """HEAD's sources with every document replaced by its revision in force, in ``dest``.

    The policy's files (qms.toml, the signers file, conf.py and the site's frame: see
    policy.py) are those of the policy in force, from git; frame files it does not hold
    are removed. Documents that were never effective, or are retired, are left out. Only
    records that count (authority.py) count: the judgement is written into the tree for
    the Sphinx extension. With ``as_of``, the tree is the QMS as it stood on that day:
    records that took effect later are left out, the policy and each document are those
    in force then. Nothing in the working tree is read or touched.
    """
    import json

    from . import authority
    from . import policy as policy_item

    repo = ws.repo
    gitrepo.require_history(repo)
    archive = gitrepo.archive(gitrepo.work_tree(repo))
    prefix = Path(ws.root).resolve().relative_to(gitrepo.work_tree(repo).resolve())
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter=_inside_tree)
    root = dest / prefix
    tree = Tree(root=root, controlled=True, cache_from=ws.root)
    day = as_of or ws.today
    judgement = ws.judgement
    state = judgement.policy
    version = None
    if state is not None:
        end_of_day = dt.datetime.combine(day, dt.time.max, tzinfo=dt.UTC)
        version = state.at(end_of_day) if as_of is not None else state.in_force
    if version is not None:  # the frame as approved, never HEAD's or the working tree's
        present = [p.relative_to(root).as_posix() for p in root.rglob("*")
                   if p.is_file() or p.is_symlink()]
        conf = version.files.get(policy_item.CONF_NAME)
        for rel in policy_item.covered(present, version.config,
                                       conf.decode("utf-8", "replace") if conf else None):
            if rel not in version.files:
                (root / rel).unlink(missing_ok=True)
                tree.excluded.append((rel, "not in the policy in force"))
        for rel, data in version.files.items():
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    config = version.config if version is not None else ws.config
    # the records are the repository's own bytes: its record cache serves them
    settings = (f"\n# Added by qms: a controlled build\nqms_controlled = True\n"
                f"qms_cache_from = {str(Path(ws.root).resolve())!r}\n"
                f"qms_judgement = {JUDGEMENT_FILE!r}\n")
    if as_of is not None:
        settings += f"qms_as_of = {as_of.isoformat()!r}\n"
    with open(root / "conf.py", "a", encoding="utf-8") as handle:
        handle.write(settings)
    verdict = judgement.to_dict()
    records = authority.apply(load_records(root, tree.cache_from), verdict)
    if as_of is not None:
        counted = verdict["counted"]
        assert isinstance(counted, dict)  # Judgement.to_dict's shape
        for record in records.records:
            if record.date.date() > as_of:
                (root / record.path).unlink()
                counted.pop(record.path, None)
        records = authority.apply(load_records(root, tree.cache_from), verdict)
    (root / JUDGEMENT_FILE).write_text(json.dumps(verdict, sort_keys=True), encoding="utf-8")
    current = scan(root, config)

    def git_path(doc: Document) -> str:
        return doc.path if str(prefix) == "." else str(prefix / doc.path)

    index = ws.history_index
    assert index is not None  # there is a history: require_history passed above
    rewritten: dict[str, dict[str, bytes]] = {}  # id -> files written from its approval
    head = {p: (root / p).read_bytes() for d in current.documents for p in d.includes
            if (root / p).is_file()}
    for finding in current.findings:  # unreadable or not a document: nothing in force
        if finding.path is None:  # about no file: nothing to leave out
            continue
        (root / finding.path).unlink(missing_ok=True)
        tree.excluded.append((finding.path, finding.code))
    for doc in current.documents:
        if not doc.id or doc.type not in config.types:
            (root / doc.path).unlink(missing_ok=True)
            tree.excluded.append((doc.path, "no id"))
            continue
        info = derive_status(doc, records.for_document(doc.id), config, day)
        target = root / doc.path
        if info.status == "obsolete" or info.in_force is None:
            target.unlink()
            tree.excluded.append((doc.id, "retired" if info.status == "obsolete"
                                  else "never effective"))
            continue
        if info.in_force.fingerprint != doc.fingerprint:
            files = approved_files(index, doc, info.in_force.fingerprint, str(prefix))
            for path, data in files.items():
                (root / path).parent.mkdir(parents=True, exist_ok=True)
                (root / path).write_bytes(data)
            rewritten[doc.id] = files
        tree.included.append((doc.id, info.in_force.revision))
    _check_shared_files(head, current.documents, tree, rewritten)
    tell_sphinx_what_is_left_out(tree, () if as_of is not None else current.documents)
    tree.config = config
    tree.records = records
    return tree


def approved_files(index: history.HistoryIndex, doc: Document, fingerprint: str,
                   prefix: str = ".") -> dict[str, bytes]:
    """The document and every file it shows as they were in the commit that held the
    approved ``fingerprint``: QMS-relative path -> bytes."""
    root = "" if prefix in ("", ".") else prefix
    path = doc.path if not root else f"{root}/{doc.path}"
    change = index.fingerprints_along_moves(path, root).get(fingerprint)
    if change is None:
        raise QmsError(f"no commit holds the approved text of {doc.id} (fingerprint "
                       f"{fingerprint[:12]}...)", path=doc.path, hint="run qms verify")
    files = index.shown_at(change, root)
    if change.path != path:  # approved before a git mv: the text goes where it is now
        earlier = change.path[len(root) + 1:] if root else change.path
        files[doc.path] = files.pop(earlier)
    return files


def _check_shared_files(head: dict[str, bytes], documents: list[Document], tree: Tree,
                        rewritten: dict[str, dict[str, bytes]]) -> None:
    """Refuse a tree in which two documents in force need different versions of a file
    they both show (one site holds one version of each file). ``head``: the files as
    HEAD holds them, for the documents in force as HEAD holds them."""
    wanted: dict[str, tuple[str, bytes]] = {}
    in_force = {doc_id for doc_id, _ in tree.included}
    for doc in documents:
        if doc.id not in in_force:
            continue
        files = rewritten.get(doc.id)
        if files is None:
            files = {p: head[p] for p in doc.includes if p in head}
        for path, data in files.items():
            other = wanted.setdefault(path, (doc.id, data))
            if path != doc.path and other[1] != data:
                raise Refused(f"{other[0]} and {doc.id} are in force with different versions "
                               f"of {path}, which both show", path=path,
                               hint=f"revise and approve the one whose approved {path} is "
                                    "older, so both show the same file")


def tell_sphinx_what_is_left_out(tree: Tree, head: Iterable[Document] = ()) -> None:
    """Name, in the tree's conf.py, each document left out because no revision of it is
    in force, and why (``qms_not_in_force``: a reference to it reads as plain text with
    its state, "FRM-008 (withdrawn)", and is reported); and, from ``head`` (HEAD's
    headers), each revision not yet in force with the clauses it names (``qms_pending``:
    the coverage reports show them as pending, as ``qms trace`` does)."""
    left_out = {doc_id: why for doc_id, why in tree.excluded if why in STATE_OF_EXCLUDED}
    in_force = dict(tree.included)
    pending = {doc.id: {"type": doc.type, "title": doc.title, "revision": doc.revision,
                        "satisfies": list(doc.satisfies)}
               for doc in head if left_out.get(doc.id) == "never effective"
               or doc.id in in_force and doc.revision != in_force[doc.id]}
    with open(tree.root / "conf.py", "a", encoding="utf-8") as handle:
        handle.write(f"qms_not_in_force = {left_out!r}\nqms_pending = {pending!r}\n")


def _inside_tree(member: tarfile.TarInfo, path: str) -> tarfile.TarInfo | None:
    """tarfile's "data" filter, but a committed symbolic link that leads outside the tree
    (or is absolute) is left out instead of failing the build."""
    try:
        return tarfile.data_filter(member, path)
    except tarfile.FilterError:
        return None


@dataclass(frozen=True)
class PendingRecord:
    """A record file of the working tree that HEAD does not hold, or holds otherwise."""

    path: str  # relative to the QMS root
    state: str  # "untracked", "staged" (added or changed in the index) or "modified"
    kind: str  # approval, change, ...; "" when the file is not a valid record
    document: str  # the document it is about; "" when the file is not a valid record
    person: str  # who made it (name); "" when the file is not a valid record


def uncommitted_records(ws: Workspace, as_of: dt.date | None = None) -> list[PendingRecord]:
    """The records a controlled build or an audit pack would leave out: not committed.

    Both read HEAD, never the working tree, so an approval made but not committed changes
    nothing they publish; the command says so instead of publishing the QMS without it.
    With ``as_of``, only records of that day or before (later ones are left out anyway).
    Files deleted from the working tree are not listed: HEAD still holds them.
    """
    repo = ws.repo
    gitrepo.require_history(repo)
    states = gitrepo.record_states(ws.root, ws.prefix)
    if states is None:
        raise QmsError("git cannot say which records are committed", hint="check git status")
    entries = [(code, path) for code, path in states if "D" not in code]
    if not entries:
        return []
    valid = {r.path: r for r in ws.records.records}
    pending = []
    for code, path in entries:
        record = valid.get(path)
        if record is not None and as_of is not None and record.date.date() > as_of:
            continue
        state = ("untracked" if code == "??" else "modified" if code[1] == "M"
                 else "staged")
        pending.append(PendingRecord(
            path, state, record.kind if record else "", record.document if record else "",
            record.person().name if record else ""))
    return sorted(pending, key=lambda p: (p.document, p.path))


def run_sphinx(source: Path, out: Path, builder: str = "html", *, strict: bool = True,
               jobs: str = "auto", controlled: bool = False) -> None:
    """Build ``source`` into ``out``; raise BuildFailed when Sphinx fails."""
    command = [sys.executable, "-m", "sphinx", "-b", builder, "-q", "-j", str(jobs),
               str(source), str(out)]
    if strict:
        command[3:3] = ["-W", "--keep-going"]
    if controlled:
        command[3:3] = ["-E"]
    done = subprocess.run(command, cwd=source)
    if done.returncode != 0:
        raise BuildFailed("the build failed: the warnings above are nonconformities",
                          hint="fix them, or use --allow-warnings for a draft preview")


@contextmanager
def source_tree(ws: Workspace, controlled: bool) -> Iterator[Tree]:
    """The tree to build: the working tree (preview), or a temporary controlled tree."""
    if not controlled:
        yield Tree(root=ws.root, controlled=False, config=ws.working_config, records=ws.records)
        return
    with tempfile.TemporaryDirectory(prefix="qms-controlled-") as temporary:
        yield controlled_tree(ws, Path(temporary))


def build_site(ws: Workspace, out: Path, *, controlled: bool = False, strict: bool = True,
               jobs: str = "auto", on_tree: Callable[[Tree], None] | None = None) -> Tree:
    """Build the HTML site (preview: the working tree; controlled: what is in force).

    ``on_tree`` sees the tree before Sphinx runs (to say what will be published, even if
    the build then fails). A controlled build also writes the QMS's export
    (``qms-export.json``, as ``qms export`` writes it) next to the site."""
    with source_tree(ws, controlled) as tree:
        if on_tree is not None:
            on_tree(tree)
        run_sphinx(tree.root, out, strict=strict, jobs=jobs, controlled=controlled)
    if controlled:  # what sites federating with this QMS read (federation.py)
        from . import federation

        federation.write_export(out / federation.EXPORT_NAME, federation.export_data(ws))
    return tree


# --- PDF ---------------------------------------------------------------------------

BANNER_WORDS = {"draft": "DRAFT", "in-review": "IN REVIEW", "approved": "NOT YET EFFECTIVE",
                "obsolete": "OBSOLETE"}


PdfJob = pdfs.PdfJob  # one document's PDF: where its HTML is, where the PDF goes


@functools.lru_cache(maxsize=32)
def print_css(organization: str, watermark: str | None) -> str:
    """The print stylesheet of a document's PDF (one per watermark: made once per build,
    not once per document)."""
    template = jinja2.Template(
        resources.files("qms_docs").joinpath("templates", "print.css.j2").read_text("utf-8"))
    # Inside a CSS string: a backslash, a quote or a line break would end it early.
    quote = "".join(f"\\{ord(c):x} " if c in '\\"' or ord(c) < 0x20 or 0x7f <= ord(c) < 0xa0
                    else c for c in organization)
    return print_fonts() + template.render(organization=quote, watermark=watermark)


def build_pdfs(ws: Workspace, out: Path, *, controlled: bool = False, strict: bool = True,
               jobs: str = "auto", on_tree: Callable[[Tree], None] | None = None,
               progress: pdfs.Progress | None = None) -> list[Path]:
    """One PDF per document and one for the whole QMS, in ``out``; returns their paths.

    ``on_tree``: as for :func:`build_site`; ``progress``: see :func:`tree_pdfs`."""
    extras.require("pdf", "PDFs")  # before the source tree is made
    with source_tree(ws, controlled) as tree:
        if on_tree is not None:
            on_tree(tree)
        return tree_pdfs(tree, ws.config, ws.today, out, strict=strict, jobs=jobs,
                         progress=progress)


def tree_pdfs(tree: Tree, config: Config, today: dt.date, out: Path, *, strict: bool = True,
              jobs: str = "auto", progress: pdfs.Progress | None = None) -> list[Path]:
    """Render the PDFs of a source tree: one Sphinx HTML build, then each document's page
    through WeasyPrint by a pool of ``jobs`` processes, or copied from the PDF cache of
    the QMS (pdfs.py) when nothing it shows changed; the manual joins them.

    ``progress(done, total, from_cache)`` is called as documents are done."""
    extras.require("pdf", "PDFs")
    out.mkdir(parents=True, exist_ok=True)
    pdf_cache = pdfs.PdfCache.for_root(tree.cache_from or tree.root)
    with _pdf_html(tree, pdf_cache) as html_dir:
        try:
            run_sphinx(tree.root, Path(html_dir), strict=strict, jobs=jobs,
                       controlled=tree.controlled)
        except BuildFailed:  # a kept folder: its next build reads (and warns) afresh
            if pdf_cache.folder is not None and html_dir.parent == pdf_cache.folder:
                shutil.rmtree(html_dir, ignore_errors=True)
            raise
        config = tree.config or config
        current = scan(tree.root, config)
        records = tree.records if tree.records is not None else _tree_records(tree, config)
        documents = sorted((d for d in current.documents if d.id and d.type in config.types),
                           key=lambda d: (list(config.types).index(d.type), d.id))
        statuses = {d.id: derive_status(d, records.for_document(d.id), config, today)
                    for d in documents}
        pages = {d.id: Path(html_dir).resolve() / Path(d.path).with_suffix(".html")
                 for d in documents}
        links = tuple((str(path), f"{name}.pdf") for name, path in pages.items())
        pdf_jobs = [PdfJob(str(pages[d.id]), str(out / f"{d.id}.pdf"),
                           print_css(config.organization, BANNER_WORDS.get(statuses[d.id].status)),
                           pdf_date(today), links)
                    for d in documents]
        pdfs.render_all(pdf_jobs, pdf_cache, pdfs.Digests(Path(html_dir)),
                        pdfs.workers(jobs), progress)
        paths = [Path(job.pdf) for job in pdf_jobs]
    manual = out / "qms-manual.pdf"
    manual_pdf(manual, config.organization, documents, statuses, paths, tree.controlled, today,
                pdf_cache)
    pdf_cache.prune()
    return [*paths, manual]


@contextmanager
def _pdf_html(tree: Tree, pdf_cache: pdfs.PdfCache) -> Iterator[Path]:
    """Where the HTML the PDFs are rendered from is built: for a preview, with the PDF
    cache on, a folder kept beside the cache (Sphinx reads again only what changed, as
    for ``qms build html``); otherwise a temporary folder (a controlled build, always
    built afresh)."""
    if not tree.controlled and pdf_cache.folder is not None:
        folder = pdf_cache.folder / "html"
        folder.mkdir(parents=True, exist_ok=True)
        yield folder
        return
    with tempfile.TemporaryDirectory(prefix="qms-pdf-html-") as temporary:
        yield Path(temporary)


def _tree_records(tree: Tree, config: Config) -> RecordSet:
    """The records that count in a preview tree (judged with the repository's history)."""
    from .authority import judge_tree

    raw = load_records(tree.root, tree.cache_from)
    return judge_tree(tree.root, raw, scan(tree.root, config).documents, config).records
