"""Publishing: preview and controlled builds of the site, and controlled PDFs.

Sphinx runs as a subprocess (sphinx-needs keeps global state per process, and a command
that only checks must not pay for importing Sphinx). PDFs are WeasyPrint renderings of
each document's HTML page with a print stylesheet; the manual PDF is a cover page plus
every document's PDF, each keeping its own running header and page numbers.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import jinja2

from . import history
from .control import StatusInfo, derive_status
from .documents import scan
from .errors import QmsError
from .model import Document
from .records import load_records
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
    config: object = None  # the policy the tree is built with (controlled: the one in force)
    records: object = None  # the records that count in it (controlled trees)


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

    from . import authority, policy as policy_item

    repo = ws.repo
    history.require_history(repo)
    archive = subprocess.run(["git", "archive", "--format=tar", "HEAD"],
                             cwd=repo.working_tree_dir, capture_output=True, check=True).stdout
    prefix = Path(ws.root).resolve().relative_to(Path(repo.working_tree_dir).resolve())
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter=_inside_tree)
    root = dest / prefix
    tree = Tree(root=root, controlled=True, cache_from=ws.root)
    day = as_of or ws.today
    judgement = ws.judgement
    state = judgement.policy
    version = None
    if state is not None:
        end_of_day = dt.datetime.combine(day, dt.time.max, tzinfo=dt.timezone.utc)
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
        for record in records.records:
            if record.date.date() > as_of:
                (root / record.path).unlink()
                verdict["counted"].pop(record.path, None)
        records = authority.apply(load_records(root, tree.cache_from), verdict)
    (root / JUDGEMENT_FILE).write_text(json.dumps(verdict, sort_keys=True), encoding="utf-8")
    current = scan(root, config)

    def git_path(doc: Document) -> str:
        return doc.path if str(prefix) == "." else str(prefix / doc.path)

    index = ws.history_index
    for finding in current.findings:  # unreadable or not a document: nothing in force
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
            change = index.fingerprints_along_moves(git_path(doc)).get(
                info.in_force.fingerprint)
            if change is None:
                raise QmsError(f"no commit holds the approved text of {doc.id} revision "
                               f"{info.in_force.revision}", path=doc.path,
                               hint="run qms verify")
            target.write_bytes(index.content(change))
        tree.included.append((doc.id, info.in_force.revision))
    tree.config = config
    tree.records = records
    return tree


def _inside_tree(member: tarfile.TarInfo, path: str) -> tarfile.TarInfo | None:
    """tarfile's "data" filter, but a committed symbolic link that leads outside the tree
    (or is absolute) is left out instead of failing the build."""
    try:
        return tarfile.data_filter(member, path)
    except tarfile.FilterError:
        return None


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
               jobs: str = "auto") -> Tree:
    """Build the HTML site (preview: the working tree; controlled: what is in force)."""
    with source_tree(ws, controlled) as tree:
        run_sphinx(tree.root, out, strict=strict, jobs=jobs, controlled=controlled)
        return tree


# --- PDF ---------------------------------------------------------------------------

BANNER_WORDS = {"draft": "DRAFT", "in-review": "IN REVIEW", "approved": "NOT YET EFFECTIVE",
                "obsolete": "OBSOLETE"}


@dataclass(frozen=True)
class PdfJob:
    html: str
    pdf: str
    css: str


def _render_pdf(job: PdfJob) -> str:
    import weasyprint

    weasyprint.HTML(filename=job.html).write_pdf(
        job.pdf, stylesheets=[weasyprint.CSS(string=job.css)])
    return job.pdf


def print_css(organization: str, watermark: str | None) -> str:
    template = jinja2.Template(
        resources.files("qms_docs").joinpath("templates", "print.css.j2").read_text("utf-8"))
    # Inside a CSS string: a backslash, a quote or a line break would end it early.
    quote = "".join(f"\\{ord(c):x} " if c in '\\"' or ord(c) < 0x20 or 0x7f <= ord(c) < 0xa0
                    else c for c in organization)
    return template.render(organization=quote, watermark=watermark)


def build_pdfs(ws: Workspace, out: Path, *, controlled: bool = False, strict: bool = True,
               jobs: str = "auto") -> list[Path]:
    """One PDF per document and one for the whole QMS, in ``out``; returns their paths."""
    with source_tree(ws, controlled) as tree:
        return tree_pdfs(tree, ws.config, ws.today, out, strict=strict, jobs=jobs)


def tree_pdfs(tree: Tree, config, today: dt.date, out: Path, *, strict: bool = True,
              jobs: str = "auto") -> list[Path]:
    """Render the PDFs of a source tree (a Sphinx HTML build, then WeasyPrint)."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="qms-pdf-html-") as html_dir:
        run_sphinx(tree.root, Path(html_dir), strict=strict, jobs=jobs,
                   controlled=tree.controlled)
        config = tree.config or config
        current = scan(tree.root, config)
        records = tree.records if tree.records is not None else _tree_records(tree, config)
        documents = sorted((d for d in current.documents if d.id and d.type in config.types),
                           key=lambda d: (list(config.types).index(d.type), d.id))
        statuses = {d.id: derive_status(d, records.for_document(d.id), config, today)
                    for d in documents}
        pdf_jobs = [PdfJob(str(Path(html_dir) / Path(d.path).with_suffix(".html")),
                           str(out / f"{d.id}.pdf"),
                           print_css(config.organization, BANNER_WORDS.get(statuses[d.id].status)))
                    for d in documents]
        if len(pdf_jobs) > 4:
            with ProcessPoolExecutor(max_workers=2) as pool:
                paths = [Path(p) for p in pool.map(_render_pdf, pdf_jobs)]
        else:
            paths = [Path(_render_pdf(job)) for job in pdf_jobs]
    manual = out / "qms-manual.pdf"
    _manual_pdf(manual, config.organization, documents, statuses, paths, tree.controlled, today)
    return [*paths, manual]


def _tree_records(tree: Tree, config):
    """The records that count in a preview tree (judged with the repository's history)."""
    from .authority import judge_tree

    raw = load_records(tree.root, tree.cache_from)
    return judge_tree(tree.root, raw, scan(tree.root, config).documents, config).records


def _manual_pdf(target: Path, organization: str, documents: list[Document],
                statuses: dict[str, StatusInfo], pdfs: list[Path], controlled: bool,
                today: dt.date) -> None:
    import pypdf
    import weasyprint

    rows = "".join(
        f"<tr><td>{html.escape(d.id)}</td><td>{html.escape(d.title)}</td>"
        f"<td>{d.revision}</td><td>{html.escape(statuses[d.id].label)}</td>"
        f"<td>{statuses[d.id].effective or ''}</td></tr>"
        for d in documents if any(p.stem == d.id for p in pdfs))
    mode = "Controlled copy" if controlled else "Preview (working tree)"
    cover = f"""<html><head><style>
      @page {{ size: A4; margin: 25mm 18mm; @bottom-left {{ content: "Uncontrolled when printed";
        font-size: 8pt; color: #8a1c1c; }} }}
      body {{ font-family: "DejaVu Sans", sans-serif; font-size: 10pt; }}
      h1 {{ font-size: 22pt; margin-bottom: 2mm; }} table {{ border-collapse: collapse; width: 100%; }}
      td, th {{ border: 1px solid #bbb; padding: 1.5mm 2mm; text-align: left; }}
    </style></head><body>
      <h1>{html.escape(organization)}</h1><h2>Quality Management System</h2>
      <p>{mode}, status as of {today.isoformat()}. The controlled copy is the published
      site; check the revision of any printout against it.</p>
      <table><tr><th>Id</th><th>Title</th><th>Revision</th><th>Status</th><th>Effective</th></tr>
      {rows}</table></body></html>"""
    writer = pypdf.PdfWriter()
    writer.append(io.BytesIO(weasyprint.HTML(string=cover).write_pdf()))
    for pdf in pdfs:
        writer.append(str(pdf), outline_item=pdf.stem)
    with open(target, "wb") as handle:
        writer.write(handle)
