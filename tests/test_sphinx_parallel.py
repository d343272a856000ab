"""A parallel build (``-j 2``) reads the pages in several processes: the extension's domain
merges what each of them noted (which pages show aggregate inputs), so the site, the needs
and the state kept for the next build are those of a serial build, and an incremental
parallel build re-reads the pages that show what changed."""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOTS = Path(__file__).parent / "roots"

pytestmark = [pytest.mark.sphinx,
              pytest.mark.skipif(sys.platform == "win32",
                                 reason="Sphinx reads in parallel only where it can fork")]


def _build(srcdir: Path, outdir: Path, jobs: int) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-W", "--keep-going",
         "-j", str(jobs), "-d", str(outdir / ".doctrees"), str(srcdir), str(outdir)],
        capture_output=True, text=True, cwd=srcdir)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == ""


def _pages(outdir: Path) -> dict[str, str]:
    return {str(p.relative_to(outdir)): p.read_text(encoding="utf-8")
            for p in sorted(outdir.rglob("*.html"))}


def _needs(outdir: Path) -> dict:
    data = json.loads((outdir / "needs.json").read_text(encoding="utf-8"))
    return data["versions"][data["current_version"]]["needs"]


def _kept(outdir: Path) -> dict:
    """What the qms domain keeps in the pickled environment for the next build."""
    with open(outdir / ".doctrees" / "environment.pickle", "rb") as handle:
        env = pickle.load(handle)
    return env.domaindata["qms"]


def test_parallel_build_is_the_serial_build(tmp_path: Path):
    src = tmp_path / "basic"
    shutil.copytree(ROOTS / "basic", src)
    serial, parallel = tmp_path / "j1", tmp_path / "j2"
    _build(src, serial, 1)
    _build(src, parallel, 2)

    assert _pages(parallel) == _pages(serial)
    assert _needs(parallel) == _needs(serial)
    kept = _kept(parallel)
    assert kept == _kept(serial)
    # noted while the pages were read, in the reading processes: merged into the main one
    assert kept["aggregates"] == {"standards": {"clauses", "reports"}, "reports": {"reports"}}


def test_incremental_parallel_build_rereads_the_pages_that_show_a_change(tmp_path: Path):
    src = tmp_path / "basic"
    shutil.copytree(ROOTS / "basic", src)
    out = tmp_path / "html"
    _build(src, out, 2)
    sop = src / "procedures" / "sop-001.rst"
    sop.write_text(sop.read_text(encoding="utf-8").replace(
        ":satisfies: ISO9001-7-5-1, ISO9001-7-5-2", ":satisfies: ISO9001-7-5-1, ISO9001-8-1"),
        encoding="utf-8")
    _build(src, out, 2)

    standards = (out / "standards.html").read_text(encoding="utf-8")
    block = standards[standards.index('id="ISO9001-8-1"'):]
    block = block[: block.index('id="ISO9001-8-2"')]
    assert "SOP-001" in block  # the standards page was read again: its back-links changed
    fresh = tmp_path / "fresh"
    _build(src, fresh, 1)
    assert _pages(out) == _pages(fresh)
