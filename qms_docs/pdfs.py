"""Document PDFs at scale: a pool of processes renders them, a cache skips the unchanged.

WeasyPrint lays out one document at a time on one core, and laying out is nearly all of
a PDF build. So the documents are rendered by a pool of processes (one per core unless
told), and each PDF is kept in the build folder (``_build/pdf-cache/``) under the digest
of everything it shows: its HTML page, the files that page uses (stylesheets, images),
every file of the build's ``_static`` folder, the print stylesheet (which holds the
organization and the status watermark), the fonts fontconfig offers, the date written
into the PDF, the PDFs its links lead to, and the versions of qms-docs and of the
rendering stack. A document whose digest is in the cache is copied, not rendered; a
change to any of these renders it again. The control block and the status are part of
the HTML page, so a record that changes a document's status changes its digest.

The PDFs are deterministic (same inputs, same bytes: see :func:`render`), so a cached PDF
is the very file a new rendering would give, and the audit pack, which asks the same
cache, holds the same bytes as the controlled build.

A cache entry cannot be planted: each opens with an HMAC-SHA256, under the repository's
cache key (cache.py), of its digest and its bytes; an entry that does not verify is
rendered again and replaced. Without a git directory, or with ``QMS_NO_CACHE=1``, every
PDF is rendered.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from . import cache as caches
from .atomic import write_atomic
from .gitrepo import git_dir

if TYPE_CHECKING:  # the pdf extra: imported where PDFs are joined
    pass

#: Where the cache is kept, relative to the QMS root (the build folder).
CACHE_FOLDER = Path("_build") / "pdf-cache"
#: Changes when what an entry holds, or how its digest is made, changes.
FORMAT = 1
#: Entries neither used by a build nor younger than this are removed after a build.
KEEP_SECONDS = 14 * 24 * 3600
#: What lays out and writes the PDFs: another version may give other bytes.
RENDERERS = ("weasyprint", "pydyf", "fonttools", "tinycss2", "cssselect2", "tinyhtml5",
             "html5lib", "pyphen", "pillow")
_MAGIC = b"qms-pdf hmac-sha256 "

#: Progress of a build: (documents done, documents in all, of those done: from the cache).
Progress = Callable[[int, int, int], None]


@dataclass(frozen=True)
class PdfJob:
    """One document's PDF: its HTML page, where the PDF goes, the print stylesheet."""

    html: str
    pdf: str
    css: str
    date: str = ""  # the PDF's creation and modification date, W3C (YYYY-MM-DDThh:mm:ssZ)
    # the HTML page of each document (its absolute path) and its PDF's name
    pages: tuple[tuple[str, str], ...] = ()


def render(job: PdfJob) -> str:
    """Render one document's HTML page as PDF, the same bytes for the same page and date.

    The PDF's dates are ``job.date`` (never the clock), its /ID a digest of its content,
    and links between pages, which WeasyPrint makes absolute (``file:///tmp/...``, a
    temporary folder gone after the build), point to the other document's PDF beside it
    (``SOP-002.pdf#SOP-002``) or, for a page that has no PDF, are left out (the text stays).
    """
    import weasyprint

    document = weasyprint.HTML(filename=job.html).render(
        stylesheets=[weasyprint.CSS(string=job.css)])
    document.metadata.created = document.metadata.modified = job.date or None
    pdfs = dict(job.pages)
    for page in document.pages:
        page.links[:] = [link for link in (_portable_link(link, pdfs) for link in page.links)
                         if link is not None]
    document.write_pdf(job.pdf, pdf_identifier=True)
    return job.pdf


def render_string(html: str, target: Path, date: str) -> None:
    """Render an HTML string that holds its own style (the manual's cover) as PDF."""
    import weasyprint

    document = weasyprint.HTML(string=html).render()
    document.metadata.created = document.metadata.modified = date or None
    document.write_pdf(str(target), pdf_identifier=True)


def _portable_link(link: tuple, pdfs: dict[str, str]) -> tuple | None:
    """A WeasyPrint link (type, target, rectangle, box) that names no local path."""
    kind, target, rectangle, box = link
    url = urllib.parse.urlsplit(target)
    if kind != "external" or url.scheme != "file":
        return link
    pdf = pdfs.get(urllib.request.url2pathname(url.path))
    if pdf is None:
        return None
    return kind, f"{pdf}#{url.fragment}" if url.fragment else pdf, rectangle, box


def pdf_date(day: dt.date) -> str:
    """The date written into the PDFs of a status as of ``day`` (midnight UTC): fixed for
    the day, so the same sources give the same PDFs whenever and wherever they are built."""
    return f"{day.isoformat()}T00:00:00Z"


def print_fonts() -> str:
    """The fonts of every PDF page, the manual's cover included (one family throughout)."""
    return resources.files("qms_docs").joinpath("templates", "print-fonts.css").read_text("utf-8")


# --- what a PDF shows --------------------------------------------------------------------

@cache
def toolchain_digest() -> str:
    """qms-docs itself (every module: cache.stamp) and the versions of the rendering
    stack, once per process."""
    from importlib.metadata import PackageNotFoundError, version

    h = hashlib.sha256(f"{FORMAT}:{caches.stamp()}".encode())
    for name in RENDERERS:
        try:
            h.update(f"{name}={version(name)}\0".encode())
        except PackageNotFoundError:
            h.update(f"{name}=-\0".encode())
    return h.hexdigest()


@cache
def fonts_digest() -> str:
    """The fonts fontconfig offers WeasyPrint: each file, its version, size and time.

    A font installed, removed or updated renders every PDF again (the text may fall on
    other glyphs or lines). Where there is no fontconfig to ask, the digest is of nothing
    and fonts are not tracked."""
    command = shutil.which("fc-list")
    if command is None:
        return hashlib.sha256(b"no fontconfig").hexdigest()
    listing = subprocess.run([command, "--format", "%{file}\t%{index}\t%{fontversion}\n"],
                             capture_output=True, check=False).stdout
    h = hashlib.sha256()
    for line in sorted(set(listing.splitlines())):
        h.update(line + b"\0")
        try:
            info = os.stat(line.split(b"\t")[0])
            h.update(f"{info.st_size}:{info.st_mtime_ns}\0".encode())
        except OSError:
            h.update(b"gone\0")
    return h.hexdigest()


def folder_digest(folder: Path) -> str:
    """Every file under ``folder``: its path inside and its bytes."""
    h = hashlib.sha256()
    if folder.is_dir():
        for file in sorted(p for p in folder.rglob("*") if p.is_file()):
            h.update(file.relative_to(folder).as_posix().encode() + b"\0")
            h.update(hashlib.sha256(file.read_bytes()).digest())
    return h.hexdigest()


#: The local files an HTML page uses or leads to (stylesheets, images, other pages).
_REFERENCE = re.compile(rb"""(?:src|href|data)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


class Digests:
    """The digest of each document's PDF in one build (files read once across pages)."""

    def __init__(self, html_root: Path) -> None:
        self.html_root = html_root.resolve()
        self.files: dict[Path, str] = {}
        self.targets: dict[tuple[Path, str], tuple[Path, str]] = {}
        self.shared = hashlib.sha256(
            f"{toolchain_digest()}\0{fonts_digest()}\0"
            f"{folder_digest(self.html_root / '_static')}".encode()).hexdigest()

    def _file(self, path: Path) -> str:
        known = self.files.get(path)
        if known is None:
            known = self.files[path] = (hashlib.sha256(path.read_bytes()).hexdigest()
                                        if path.is_file() else "-")
        return known

    def _target(self, folder: Path, link: str) -> tuple[Path, str]:
        """The file a link of a page in ``folder`` leads to, and its name in the build
        (pages of one folder share most links: each is resolved once)."""
        known = self.targets.get((folder, link))
        if known is None:
            target = (folder / urllib.parse.unquote(link)).resolve()
            try:
                name = target.relative_to(self.html_root).as_posix()
            except ValueError:
                name = str(target)  # outside the build: still a file the page uses
            known = self.targets[(folder, link)] = (target, name)
        return known

    def of(self, job: PdfJob) -> str:
        """Everything ``job``'s PDF shows, as one hex digest."""
        page = Path(job.html).resolve()
        data = page.read_bytes()
        pdfs = dict(job.pages)
        used: set[str] = set()
        for match in _REFERENCE.finditer(data):
            url = urllib.parse.urlsplit(match.group(1).decode("utf-8", "replace"))
            if url.scheme or url.netloc or not url.path:
                continue  # another site, an e-mail address, an anchor on the page itself
            target, name = self._target(page.parent, url.path)
            # a page leads to another document's PDF, or to none (the link is left out)
            shown = pdfs.get(str(target), "") if target.suffix == ".html" else self._file(target)
            used.add(f"{name}\0{shown}")
        h = hashlib.sha256(self.shared.encode())
        for part in (data, job.css.encode(), job.date.encode(), *sorted(u.encode() for u in used)):
            h.update(hashlib.sha256(part).digest())
        return h.hexdigest()


def string_digest(html: str, date: str) -> str:
    """The digest of a PDF made from an HTML string holding its own style (the cover)."""
    h = hashlib.sha256(f"cover\0{toolchain_digest()}\0{fonts_digest()}\0{date}\0".encode())
    h.update(html.encode("utf-8"))
    return h.hexdigest()


# --- the cache -----------------------------------------------------------------------------

class PdfCache:
    """PDFs by the digest of what they show, in the build folder; ``folder`` None: off."""

    def __init__(self, folder: Path | None, key: bytes | None) -> None:
        self.folder = folder if key is not None else None
        self.key = key or b""
        self.used: set[str] = set()

    @classmethod
    def for_root(cls, root: Path | None) -> PdfCache:
        """The cache of the QMS at ``root`` (off without a git directory to hold its key,
        or with ``QMS_NO_CACHE=1``)."""
        if root is None or os.environ.get("QMS_NO_CACHE"):
            return cls(None, None)
        git = git_dir(root)
        if git is None:
            return cls(None, None)
        return cls(root / CACHE_FOLDER, caches.cache_key(git / "qms", create=True))

    def _entry(self, digest: str) -> Path:
        assert self.folder is not None
        return self.folder / digest[:2] / f"{digest}.pdf"

    @staticmethod
    def _bound(digest: str) -> bytes:  # an entry verifies only under its own digest
        return digest.encode("ascii") + b"\0"

    def fetch(self, digest: str, target: Path) -> bool:
        """Copy the PDF cached under ``digest`` to ``target``; False if there is none
        (or it does not verify)."""
        if self.folder is None:
            return False
        entry = self._entry(digest)
        try:
            raw = entry.read_bytes()
        except OSError:
            return False
        data = caches.unseal(self.key, raw, self._bound(digest), _MAGIC)
        if data is None:
            return False
        target.write_bytes(data)
        self.used.add(digest)
        try:
            os.utime(entry)  # recently used: kept by prune
        except OSError:
            pass
        return True

    def store(self, digest: str, source: Path) -> None:
        """Keep ``source`` under ``digest`` (a cache that cannot be written is no error)."""
        if self.folder is None:
            return
        data = source.read_bytes()
        entry = self._entry(digest)
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(entry, caches.seal(self.key, data, self._bound(digest), _MAGIC),
                         sync=False)
        except OSError:
            return
        self.used.add(digest)

    def prune(self, now: float | None = None) -> None:
        """Remove the entries this build did not use and no build used for two weeks."""
        if self.folder is None or not self.folder.is_dir():
            return
        limit = (now if now is not None else time.time()) - KEEP_SECONDS
        for entry in self.folder.glob("??/*.pdf"):  # not html/: the preview's pages
            try:
                if entry.stem not in self.used and entry.stat().st_mtime < limit:
                    entry.unlink()
            except OSError:
                pass


# --- rendering many ------------------------------------------------------------------------

def workers(jobs: str | int) -> int:
    """The number of processes ``-j`` asks for: a number, or 'auto' (the cores this
    process may use)."""
    if isinstance(jobs, int) or str(jobs).isdigit():
        return max(1, int(jobs))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def render_all(jobs: list[PdfJob], pdf_cache: PdfCache, digests: Digests, processes: int,
               progress: Progress | None = None) -> dict[str, str]:
    """Each job's PDF, copied from the cache or rendered (by a pool of ``processes`` when
    there is more than one to render); returns the PDF path -> digest of each."""
    done_digests: dict[str, str] = {}
    to_render: list[tuple[PdfJob, str]] = []
    reused = 0
    for job in jobs:
        digest = digests.of(job)
        done_digests[job.pdf] = digest
        if pdf_cache.fetch(digest, Path(job.pdf)):
            reused += 1
        else:
            to_render.append((job, digest))
    total = len(jobs)
    if progress is not None:
        progress(reused, total, reused)
    # the largest pages first: a long document started last would keep one core busy alone
    to_render.sort(key=lambda item: -Path(item[0].html).stat().st_size)
    done = reused
    for job, digest in _rendered(to_render, processes):
        pdf_cache.store(digest, Path(job.pdf))
        done += 1
        if progress is not None:
            progress(done, total, reused)
    return done_digests


def _rendered(items: list[tuple[PdfJob, str]], processes: int
              ) -> Iterable[tuple[PdfJob, str]]:
    """Render each item's job, yielding each as it is done (in the order they finish)."""
    processes = min(processes, len(items))
    if processes <= 1:
        for job, digest in items:
            render(job)
            yield job, digest
        return
    import weasyprint  # noqa: F401 (loaded once here: forked workers start with it)

    with ProcessPoolExecutor(max_workers=processes) as pool:
        pending: dict[Future[str], tuple[PdfJob, str]] = {
            pool.submit(render, job): (job, digest) for job, digest in items}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                future.result()  # a failed rendering fails the build
                yield pending.pop(future)
