#!/usr/bin/env python3
"""Benchmark qms-docs on synthetic QMS repositories, as ratios measured side by side.

For each size N (documents, with M = 10 x N commits) this makes a repository with
tools/gen_synthetic_qms.py and measures, each several times (medians):

1. build overhead: ``qms build html`` vs the same sources built with bare sphinx-needs
   (qms_docs removed, the documents left as plain needs) vs plain Sphinx (sphinx-needs
   removed too);
2. ``qms verify`` vs its floor: one ``git log --name-status`` over the whole history plus
   hashing every document;
3. ``qms check`` vs its floor: Python start-up plus reading every document and record;
4. scaling: time per document at the largest size vs the next one (1.0 = linear);
5. incremental: rebuild after editing one SOP vs the full build;
6. peak memory (RSS) of each;
7. PDFs (at --pdf-sizes): the controlled PDF build vs WeasyPrint alone rendering the same
   HTML pages in one process; a preview PDF rebuild after editing one SOP vs the full
   preview PDF build; an audit pack right after a controlled PDF build vs that build;
   the peak RSS of the PDF build (its whole process tree: the pool's workers summed).

and ``qms import`` of 100 Word SOPs of about five pages (made with python-docx) against
pandoc converting the same files alone (results key 0), and federation: ``qms build html``
of a site of 200 documents against a corporate export of 2000 needs, against the same
site without the upstream (results key -1).

Usage::

    .venv/bin/python tools/bench.py       # N = 100, 1000, 5000; writes BENCHMARKS.md
    .venv/bin/python tools/bench.py --sizes 10,20 --repeat 1 --no-write   # a smoke run
    .venv/bin/python tools/bench.py --sizes 0 --no-pdf --federation 0 --no-write  # Word import
    .venv/bin/python tools/bench.py --pdf --pdf-sizes 100 --repeat 1   # the PDF rows only
    .venv/bin/python tools/bench.py --sizes 0 --no-pdf --word-files 0 --no-write  # federation
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata as metadata
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PYTHON = sys.executable
#: Runs a command and prints its wall time and the peak RSS of its process tree (KiB).
PROBE = ("import resource, subprocess, sys, time\n"
         "t = time.perf_counter()\n"
         "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL,"
         " stderr=subprocess.PIPE).returncode\n"
         "w = time.perf_counter() - t\n"
         "print(w, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)")


def measure(command: list[str], cwd: Path, prepare=None, env=None,
            probe: str = PROBE) -> tuple[float, int]:
    """Wall seconds and peak RSS (MiB) of one run of ``command`` (``probe``: PROBE, the
    largest process; PROBE_TREE, the whole tree)."""
    if prepare:
        prepare()
    done = subprocess.run([PYTHON, "-c", probe, *command], cwd=cwd, capture_output=True,
                          text=True, env={**os.environ, **(env or {})})
    try:
        seconds, rss, code = done.stdout.split()
    except ValueError:
        code = "?"
    if code != "0":
        raise SystemExit(f"benchmark command failed ({code}): {' '.join(command)} in {cwd}\n"
                         f"{done.stderr[-3000:]}")
    return float(seconds), int(rss) // 1024


#: As PROBE, but the peak is the sum of the RSS of every process of the tree, sampled every
#: 0.2 s from /proc (a pool's workers run side by side: their memory adds up).
PROBE_TREE = ("import os, subprocess, sys, tempfile, time\n"
              "def tree_rss(root):\n"
              "    kids = {}\n"
              "    for pid in os.listdir('/proc'):\n"
              "        if pid.isdigit():\n"
              "            try:\n"
              "                with open(f'/proc/{pid}/stat') as f:\n"
              "                    ppid = int(f.read().rsplit(')', 1)[1].split()[1])\n"
              "            except (OSError, IndexError, ValueError):\n"
              "                continue\n"
              "            kids.setdefault(ppid, []).append(int(pid))\n"
              "    total, todo = 0, [root]\n"
              "    while todo:\n"
              "        pid = todo.pop()\n"
              "        todo += kids.get(pid, [])\n"
              "        try:\n"
              "            with open(f'/proc/{pid}/statm') as f:\n"
              "                total += int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')\n"
              "        except (OSError, IndexError, ValueError):\n"
              "            pass\n"
              "    return total\n"
              "err = tempfile.TemporaryFile()\n"
              "t = time.perf_counter()\n"
              "proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=err)\n"
              "peak = 0\n"
              "while proc.poll() is None:\n"
              "    peak = max(peak, tree_rss(proc.pid))\n"
              "    time.sleep(0.2)\n"
              "w = time.perf_counter() - t\n"
              "if proc.returncode:\n"
              "    err.seek(0); sys.stderr.write(err.read().decode(errors='replace')[-3000:])\n"
              "print(w, peak // 1024, proc.returncode)")


def measure_tree(command: list[str], cwd: Path, prepare=None, env=None) -> tuple[float, int]:
    """Wall seconds and peak RSS (MiB) of the whole process tree of one run."""
    return measure(command, cwd, prepare, env, probe=PROBE_TREE)


def median_of(runs: int, command: list[str], cwd: Path, prepare=None,
              env=None) -> tuple[float, int]:
    return in_turn(runs, {"": (command, cwd, prepare, env)})[""]


def in_turn(runs: int, commands: dict[str, tuple], probe=None) -> dict[str, tuple[float, int]]:
    """Median wall time and peak RSS of each ``name: (command, cwd, prepare[, env])``,
    run in turn (a, b, c, a, b, c, ...): a shared machine that slows down or speeds up
    during the run then weighs on every command alike, not on whichever ran in that
    minute."""
    results: dict[str, list[tuple[float, int]]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, how in commands.items():
            results[name].append((probe or measure)(*how))
    return {name: (statistics.median(r[0] for r in runs_), max(r[1] for r in runs_))
            for name, runs_ in results.items()}


# --- the three variants of the same sources ---------------------------------------------

#: A document's header: its need directive and options.
HEADER = re.compile(r"^\.\. (\w+):: (.*)\n((?:   :.*\n)*)", re.MULTILINE)


def _document_pages(tree: Path) -> list[Path]:
    return [*tree.glob("manual/*.rst"), *tree.glob("procedures/*.rst")]


def bare_needs_tree(source: Path, target: Path) -> None:
    """The same documents as plain sphinx-needs needs: no qms_docs extension."""
    sys.path.insert(0, str(ROOT))
    from qms_docs.catalog import load_catalog
    from qms_docs.config import load_config
    from qms_docs.documents import scan
    from qms_docs.sphinxext.needs_config import plain_settings

    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".git", "_build"))
    config = load_config(source)
    settings = plain_settings(config)
    conf = target / "conf.py"
    text = conf.read_text().replace('"sphinx_needs", "qms_docs"', '"sphinx_needs"')
    conf.write_text(text + "".join(f"{k} = {v!r}\n" for k, v in settings.items()))
    catalog = load_catalog("iso9001-2015")
    lines = ["ISO 9001:2015 clauses", "=" * 21, ""]
    for clause in catalog.clauses:
        lines += [f".. clause:: {clause.number} {clause.title}", f"   :id: {clause.need_id}", ""]
    (target / "standards" / "iso9001-2015.rst").write_text("\n".join(lines))
    for doc in scan(source, config).documents:  # the title qms_docs gives the page, as text
        page = target / doc.path
        if doc.id and doc.type in config.types and page.suffix == ".rst":
            title = f"{doc.id} {doc.title}"
            rule = "=" * len(title)
            page.write_text(f"{rule}\n{title}\n{rule}\n\n{page.read_text()}")
    tables = {"trace-matrix": ".. needtable::\n   :types: clause\n   :columns: id, title, "
                              "satisfies_back\n",
              "master-list": ".. needtable::\n   :types: manual;policy;sop;wi;form\n"
                             "   :columns: id, title, type, revision, owner\n",
              "coverage": "Coverage is computed by qms-docs only.\n"}
    for page in (target / "reports").glob("*.rst"):
        page.write_text(re.sub(r"\.\. qms-report:: (\S+)\n", lambda m: tables[m.group(1)],
                               page.read_text()))


def plain_tree(source: Path, target: Path) -> None:
    """The same text as plain Sphinx: each document's header becomes a field list."""
    bare_needs_tree(source, target)
    conf = target / "conf.py"
    conf.write_text(conf.read_text().replace('extensions = ["sphinx_needs"]', "extensions = []")
                    .split("needs_types =")[0])
    for page in _document_pages(target):
        text = page.read_text()
        match = HEADER.search(text)
        if match:
            fields = dict(re.findall(r"   :(\w+): (.*)", match.group(3)))
            body = "".join(f":{k.title()}: {v}\n" for k, v in fields.items() if k != "id")
            text = text[:match.start()] + body + text[match.end():]
        page.write_text(re.sub(r":need:`([^`]+)`", r"``\1``", text))
    standards = target / "standards" / "iso9001-2015.rst"
    standards.write_text(re.sub(r"\.\. clause:: (.*)\n   :id: .*\n", r"* \1\n",
                                standards.read_text()))
    for page in (target / "reports").glob("*.rst"):
        page.write_text(re.sub(r"\.\. needtable::\n(   :.*\n)*", "Not available.\n",
                               page.read_text()))


# --- floors -------------------------------------------------------------------------------

def verify_floor(repo: Path) -> float:
    """One git log --name-status over the whole history, plus a Python process hashing
    every document (start-up included, as in the check floor: a tool in Python starts)."""
    code = ("import hashlib, pathlib\n"
            "for p in [*pathlib.Path('.').glob('manual/*.rst'),"
            " *pathlib.Path('.').glob('procedures/*.rst')]:\n"
            "    hashlib.sha256(p.read_bytes()).hexdigest()\n")
    start = time.perf_counter()
    subprocess.run(["git", "log", "--name-status", "--no-renames", "--format=%H%x00%ae%x00%aI"],
                   cwd=repo, stdout=subprocess.DEVNULL, check=True)
    subprocess.run([PYTHON, "-c", code], cwd=repo, check=True)
    return time.perf_counter() - start


def check_floor(repo: Path) -> float:
    """Python start-up plus reading every document and record."""
    code = ("import pathlib\nfor p in pathlib.Path('.').glob('*/**/*'):\n"
            "    if p.suffix in ('.rst', '.yaml') and p.is_file(): p.read_bytes()\n")
    start = time.perf_counter()
    subprocess.run([PYTHON, "-c", code], cwd=repo, check=True)
    return time.perf_counter() - start


# --- one size -----------------------------------------------------------------------------

def bench_size(n: int, repeat: int, work: Path, jobs: str) -> dict:
    repo = work / f"qms-{n}"
    started = time.perf_counter()
    subprocess.run([PYTHON, str(HERE / "gen_synthetic_qms.py"), str(n), "--commits",
                    str(10 * n), "--out", str(repo)], check=True, capture_output=True)
    generated = time.perf_counter() - started
    bare, plain = work / f"needs-{n}", work / f"plain-{n}"
    bare_needs_tree(repo, bare)
    plain_tree(repo, plain)
    out = {}
    qms = [str(Path(PYTHON).with_name("qms"))]

    def sphinx(src: Path, dest: Path) -> list[str]:
        return [PYTHON, "-m", "sphinx", "-b", "html", "-q", "-W", "--keep-going", "-j", jobs,
                str(src), str(dest)]

    def clean(path: Path):
        return lambda: shutil.rmtree(path, ignore_errors=True)

    build_out = repo / "_build" / "html"
    build = [*qms, "build", "html", "--jobs", jobs]
    # steady state: the record cache kept by any earlier qms command (here a check); the
    # build of a fresh clone, which parses every record, is the "no record cache" row
    subprocess.run([*qms, "check"], cwd=repo, check=True, capture_output=True)
    out.update(in_turn(repeat, {
        "build": (build, repo, clean(repo / "_build")),
        "build_needs": (sphinx(bare, bare / "_build"), bare, clean(bare / "_build")),
        "build_plain": (sphinx(plain, plain / "_build"), plain, clean(plain / "_build")),
    }))
    out["build_cold"] = median_of(repeat, build, repo, clean(repo / "_build"),
                                  env={"QMS_NO_CACHE": "1"})
    sop = sorted(repo.glob("procedures/sop-*.rst"))[0]
    original = sop.read_bytes()

    def edit_one():
        subprocess.run(build, cwd=repo, check=True,
                       capture_output=True)  # an up-to-date build to start from
        sop.write_bytes(original + f"\nEdited at {time.time()}.\n".encode())

    out["incremental"] = median_of(repeat, build, repo, edit_one)
    sop.write_bytes(original)
    assert build_out.is_dir()

    def one_more_commit():  # as after a commit in a working day: history kept up to HEAD~1
        subprocess.run(["git", "-c", "user.email=bench@example.com", "-c", "user.name=Bench",
                        "commit", "-q", "--allow-empty", "-m", "bench"], cwd=repo, check=True)

    # steady state: an earlier verify kept the history (the builds before it kept the
    # records); the first run, which reads the whole log, is the "no cache" row below
    subprocess.run([*qms, "verify"], cwd=repo, check=True, capture_output=True)
    out["verify"] = median_of(repeat, [*qms, "verify"], repo, one_more_commit)
    out["check"] = median_of(repeat, [*qms, "check"], repo)
    # without the record cache: a fresh clone's first run, as in CI
    out["check_cold"] = median_of(repeat, [*qms, "check"], repo, env={"QMS_NO_CACHE": "1"})
    out["verify_cold"] = median_of(repeat, [*qms, "verify"], repo, env={"QMS_NO_CACHE": "1"})
    out["verify_floor"] = (statistics.median(verify_floor(repo) for _ in range(repeat)), 0)
    out["check_floor"] = (statistics.median(check_floor(repo) for _ in range(repeat)), 0)
    out["generate"] = (generated, 0)
    return out


#: Converts each Word file with pandoc alone, as ``qms import`` must at the least.
PANDOC_FLOOR = ("import subprocess, sys, pypandoc\n"
                "pandoc = pypandoc.get_pandoc_path()\n"
                "for name in sys.argv[1:]:\n"
                "    subprocess.run([pandoc, '-f', 'docx', '-t', 'rst', name], check=True,"
                " stdout=subprocess.DEVNULL)\n")


def bench_import(count: int, repeat: int, work: Path) -> dict:
    """``qms import`` of ``count`` Word SOPs of about five pages into a small QMS, against
    pandoc converting the same files alone (its floor)."""
    sys.path.insert(0, str(ROOT))
    from tests.wordfiles import WordSop  # python-docx, of the test extra

    words = work / "word"
    for n in range(count):
        WordSop(number=f"SOP-{n + 1}", title=f"Procedure {n + 1}", pages=6,
                tracked_change=n % 10 == 0).save(words / f"SOP-{n + 1} Procedure.docx")
    repo = work / "import-qms"
    shutil.copytree(ROOT / "tests" / "roots" / "basic", repo)
    with open(repo / "qms.toml", "a", encoding="utf-8") as handle:
        handle.write('\n[[people]]\nname = "Bench"\nemail = "bench@example.com"\n'
                     'roles = ["quality-manager"]\n')
    who = ["-c", "user.email=bench@example.com", "-c", "user.name=Bench"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], [*who, "commit", "-q", "-m", "QMS"],
                 ["config", "user.email", "bench@example.com"]):
        subprocess.run(["git", *args], cwd=repo, check=True)

    def reset():  # the repository as before the import
        subprocess.run(["git", "clean", "-fdxq", "procedures", "records"], cwd=repo, check=True)

    qms = str(Path(PYTHON).with_name("qms"))
    files = sorted(str(p) for p in words.glob("*.docx"))
    out = in_turn(repeat, {
        "import": ([qms, "import", str(words), "--type", "sop"], repo, reset),
        "import_floor": ([PYTHON, "-c", PANDOC_FLOOR, *files], repo, None),
    })
    imported = len(list((repo / "procedures").glob("sop-*-procedure-*.rst")))
    if imported != count:
        raise SystemExit(f"qms import wrote {imported} of {count} documents")
    out["import_files"] = (count, 0)
    return out


# --- PDFs -------------------------------------------------------------------------------

#: The floor of a PDF build: WeasyPrint alone, in one process, rendering the HTML pages of
#: the documents (argv: the HTML folder, the PDF folder, the organization, the pages).
PDF_FLOOR = ("import sys, pathlib, weasyprint\n"
             "from qms_docs.publish import print_css\n"
             "html, out, organization = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]),"
             " sys.argv[3]\n"
             "out.mkdir(parents=True, exist_ok=True)\n"
             "css = weasyprint.CSS(string=print_css(organization, None))\n"
             "for i, page in enumerate(sys.argv[4:]):\n"
             "    weasyprint.HTML(filename=str(html / page)).write_pdf(str(out / f'{i}.pdf'),"
             " stylesheets=[css])\n")


def bench_pdf(n: int, repeat: int, work: Path, jobs: str) -> dict:
    """The PDF rows at N documents (see the module's docstring, point 7)."""
    sys.path.insert(0, str(ROOT))
    from qms_docs.config import load_config
    from qms_docs.documents import scan
    from qms_docs.records import current_date

    repo = work / f"qms-pdf-{n}"
    subprocess.run([PYTHON, str(HERE / "gen_synthetic_qms.py"), str(n), "--commits",
                    str(10 * n), "--out", str(repo)], check=True, capture_output=True)
    # A controlled build (strict) fails, rightly, where a document in force refers to a
    # withdrawn one, and the synthetic QMS has a few; the audit pack has no way round it.
    # So the PDF rows take the retirements back (a commit that drops their records).
    retirements = [str(p.relative_to(repo)) for p in repo.glob("records/*/*.yaml")
                   if "\nkind: retirement" in "\n" + p.read_text(encoding="utf-8")]
    if retirements:
        subprocess.run(["git", "rm", "-q", *retirements], cwd=repo, check=True)
        subprocess.run(["git", "-c", "user.email=bench@example.com", "-c", "user.name=Bench",
                        "commit", "-q", "-m", "bench: no retirements"], cwd=repo, check=True)
    qms = [str(Path(PYTHON).with_name("qms"))]
    subprocess.run([*qms, "check"], cwd=repo, check=True, capture_output=True)
    build = repo / "_build"

    def clean():  # no PDF cache, no kept HTML: a build from nothing
        shutil.rmtree(build, ignore_errors=True)

    # the floor's pages: the controlled site's pages of the documents in force
    site = work / f"site-{n}"
    subprocess.run([*qms, "build", "html", "--controlled", "--out", str(site)], cwd=repo,
                   check=True, capture_output=True)
    config = load_config(repo)
    pages = [str(Path(d.path).with_suffix(".html")) for d in scan(repo, config).documents
             if d.id and d.type in config.types
             and (site / Path(d.path).with_suffix(".html")).is_file()]
    organization = config.organization
    floor = [PYTHON, "-c", PDF_FLOOR, str(site), str(work / f"floor-{n}"), organization, *pages]
    controlled = [*qms, "build", "pdf", "--controlled", "-j", jobs, "--out",
                  str(work / f"cpdf-{n}")]
    pack_file = work / f"pack-{n}.zip"
    pack = [*qms, "audit-pack", "--as-of", current_date().isoformat(), "-o", str(pack_file)]
    env = {"CI": "true"}  # plain progress lines, as in CI
    out = in_turn(repeat, {  # the pack runs right after the build, on the cache it left
        "pdf_controlled": (controlled, repo, clean, env),
        "pdf_pack": (pack, repo, lambda: pack_file.unlink(missing_ok=True), env),
        "pdf_floor": (floor, repo, None, env),
    }, probe=measure_tree)
    out["pdf_pages"] = (len(pages), 0)
    preview = [*qms, "build", "pdf", "-j", jobs, "--out", str(work / f"pdf-{n}")]
    sop = sorted(repo.glob("procedures/sop-*.rst"))[0]
    original = sop.read_bytes()

    def edit_one():
        subprocess.run(preview, cwd=repo, check=True, capture_output=True,
                       env={**os.environ, **env})  # an up-to-date build to start from
        sop.write_bytes(original + f"\nEdited at {time.time()}.\n".encode())

    out.update(in_turn(repeat, {"pdf_preview": (preview, repo, clean, env),
                                "pdf_edit": (preview, repo, edit_one, env)},
                       probe=measure_tree))
    sop.write_bytes(original)
    return out


def heading(tools: str, repeat: int) -> list[str]:
    """The lines above a table of ratios: where, with what, how many runs."""
    return [f"Measured {dt.date.today()} on {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, {tools}; median of {repeat} run(s); "
            "M = 10 x N commits.", "", "| ratio | N | value | target |", "|---|---|---|---|"]


def pdf_ratios(results: dict[int, dict]) -> list[tuple[str, int, float, str]]:
    rows = []
    for n, r in results.items():
        rows += [
            ("controlled PDF build / WeasyPrint alone (one process)", n,
             r["pdf_controlled"][0] / r["pdf_floor"][0], "<= 0.6"),
            ("PDF rebuild after editing one SOP / full PDF build (preview)", n,
             r["pdf_edit"][0] / r["pdf_preview"][0], "<= 0.05 at N = 1000"),
            ("audit pack right after a controlled PDF build / that build", n,
             r["pdf_pack"][0] / r["pdf_controlled"][0], "<= 0.2"),
        ]
    return rows


def pdf_report(results: dict[int, dict], repeat: int, jobs: str) -> str:
    versions = {name: metadata.version(name) for name in ("weasyprint", "pikepdf", "sphinx")}
    lines = heading(", ".join(f"{k} {v}" for k, v in versions.items()) + f"; -j {jobs}",
                    repeat)
    lines += [f"| {name} | {n} | {value:.2f} | {target} |"
              for name, n, value, target in pdf_ratios(results)]
    lines += ["", "| N | documents in force | controlled PDF build | WeasyPrint alone | "
              "audit pack after it | preview PDF build | rebuild after one edit | "
              "peak RSS MiB, whole tree (controlled / preview) |",
              "|---|---|---|---|---|---|---|---|"]
    for n, r in results.items():
        lines.append(
            f"| {n} | {r['pdf_pages'][0]} | {r['pdf_controlled'][0]:.1f} s | "
            f"{r['pdf_floor'][0]:.1f} s | {r['pdf_pack'][0]:.1f} s | "
            f"{r['pdf_preview'][0]:.1f} s | {r['pdf_edit'][0]:.1f} s | "
            f"{r['pdf_controlled'][1]} / {r['pdf_preview'][1]} |")
    return "\n".join(lines) + "\n"


def corporate_export(needs: int, seed: int = 7) -> dict:
    """A corporate QMS's export (federation.py's shape) of ``needs`` documents in force, each
    satisfying 1-4 requirement clauses of ISO 9001:2015, some linking to another."""
    import random

    sys.path.insert(0, str(ROOT))
    from qms_docs.catalog import load_catalog

    leaves = [c.need_id for c in load_catalog("iso9001-2015").leaves]
    pick = random.Random(seed)
    kinds = [("sop", "SOP", "procedures"), ("wi", "WI", "procedures"),
             ("form", "FRM", "procedures"), ("policy", "POL", "manual")]
    documents, records = {}, {}
    for n in range(needs):
        kind, prefix, folder = kinds[n % len(kinds)]
        doc_id = f"{prefix}-{n // len(kinds) + 1:04d}"
        satisfies = sorted(pick.sample(leaves, pick.randint(1, 4)))
        docname = f"{folder}/{doc_id.lower()}"
        title = f"Group {kind} {n + 1}"
        documents[doc_id] = {
            "title": title, "type": kind, "status": "effective", "in_force": True,
            "page": f"{docname}.html", "revision": 1, "effective": "2026-01-05",
            "approvals": [{"name": "Quinn Harlow", "role": "quality-manager",
                           "meaning": "approval", "date": "2026-01-05T09:00:00Z"}],
            "next_review": "2028-01-05", "satisfies": satisfies, "links": []}
        records[doc_id] = {"id": doc_id, "type": kind, "title": title, "docname": docname,
                           "doctype": ".rst", "revision": "1", "owner": "quality-manager",
                           "satisfies": satisfies, "links": [], "status": "effective",
                           "content": ""}
    return {"created": "2026-11-30T12:00:00Z", "current_version": "", "project": "Group",
            "versions": {"": {"needs": records, "needs_amount": needs}},
            "qms": {"format": 1, "organization": "Kestrel Group", "base_url":
                    "https://qms.group.example", "commit": "0" * 40,
                    "commit_date": "2026-11-30T12:00:00Z", "exported": "2026-11-30T12:00:00Z",
                    "documents": documents}}


UPSTREAM = ('\n[[federation.upstream]]\nname = "group"\nexport = "upstream/group.json"\n'
            'base_url = "https://qms.group.example"\nid_prefix = "GRP-"\n')


def federated_tree(site: Path, target: Path, needs: int) -> None:
    """A copy of the site repository (its history too) federated with a corporate export
    of ``needs`` needs: qms.toml names it, the export committed beside it."""
    shutil.copytree(site, target, symlinks=True)
    (target / "upstream").mkdir()
    (target / "upstream" / "group.json").write_text(json.dumps(corporate_export(needs)))
    with open(target / "qms.toml", "a", encoding="utf-8") as handle:
        handle.write(UPSTREAM)
    who = ["-c", "user.email=bench@example.com", "-c", "user.name=Bench"]
    for args in (["add", "-A"], [*who, "commit", "-q", "-m", "Federate with the group"]):
        subprocess.run(["git", *args], cwd=target, check=True)


def bench_federation(documents: int, needs: int, repeat: int, work: Path, jobs: str) -> dict:
    """``qms build html`` of a site of ``documents`` documents federated with a corporate
    export of ``needs`` needs, against the same site without the upstream, in turn."""
    site = work / f"site-{documents}"
    subprocess.run([PYTHON, str(HERE / "gen_synthetic_qms.py"), str(documents), "--commits",
                    str(10 * documents), "--out", str(site)], check=True, capture_output=True)
    federated = work / f"federated-{documents}"
    federated_tree(site, federated, needs)
    qms = str(Path(PYTHON).with_name("qms"))
    build = [qms, "build", "html", "--jobs", jobs]
    for repo in (site, federated):  # the record caches, as in the steady state above
        subprocess.run([qms, "check"], cwd=repo, check=True, capture_output=True)

    def clean(path: Path):
        return lambda: shutil.rmtree(path, ignore_errors=True)

    out = in_turn(repeat, {
        "federated": (build, federated, clean(federated / "_build")),
        "alone": (build, site, clean(site / "_build")),
    })
    out["sizes"] = (documents, needs)
    return out


def ratios(results: dict[int, dict]) -> list[tuple[str, str, float | None, str]]:
    """(ratio, size, value, target) rows."""
    rows = []
    for n, r in results.items():
        if n == -1:  # federation
            documents, needs = r["sizes"]
            rows.append((f"federation: build of a site with a corporate export of {needs} "
                         "needs / without", documents, r["federated"][0] / r["alone"][0],
                         "<= 1.2"))
            continue
        if n == 0:  # the Word import
            rows.append((f"import {r['import_files'][0]} Word SOPs: qms import / pandoc alone",
                         r["import_files"][0], r["import"][0] / r["import_floor"][0], ""))
            continue
        rows += [
            ("build: qms / bare sphinx-needs", n, r["build"][0] / r["build_needs"][0], "<= 1.05"),
            ("build: qms / bare sphinx-needs, no record cache", n,
             r["build_cold"][0] / r["build_needs"][0], ""),
            ("build: bare sphinx-needs / plain Sphinx", n,
             r["build_needs"][0] / r["build_plain"][0], ""),
            ("verify / floor", n, r["verify"][0] / r["verify_floor"][0], "<= 2"),
            ("check / floor", n, r["check"][0] / r["check_floor"][0], "<= 3"),
            ("verify / floor, no record cache", n,
             r["verify_cold"][0] / r["verify_floor"][0], ""),
            ("check / floor, no record cache", n, r["check_cold"][0] / r["check_floor"][0], ""),
            ("incremental / full build", n, r["incremental"][0] / r["build"][0], "<= 0.15"),
        ]
    sizes = sorted(n for n in results if n > 0)
    if len(sizes) >= 2:
        small, large = sizes[-2], sizes[-1]
        for key in ("build", "check", "verify"):
            per_large = results[large][key][0] / large
            per_small = results[small][key][0] / small
            rows.append((f"scaling {key}: per document {large} / {small}", large,
                         per_large / per_small, "<= 1.2" if key != "build" else ""))
    elif sizes:
        for key in ("build", "check", "verify"):
            rows.append((f"scaling {key}: needs two sizes", sizes[-1], None, ""))
    return rows


def report(results: dict[int, dict], repeat: int) -> str:
    versions = {name: metadata.version(name) for name in ("sphinx", "sphinx-needs", "GitPython")}
    git = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    lines = heading(", ".join(f"{k} {v}" for k, v in versions.items()) + f", {git}", repeat)
    for name, n, value, target in ratios(results):
        shown = "n/a" if value is None else f"{value:.2f}"
        lines.append(f"| {name} | {n} | {shown} | {target} |")
    if any(n > 0 for n in results):
        lines += ["", "| N | qms build | qms build without cache | bare needs | plain | "
                  "incremental | verify | verify floor | check | check floor | "
                  "verify, check without cache | peak RSS MiB (build / verify / check) |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for n, r in results.items():
            if n <= 0:
                continue
            lines.append(
                f"| {n} | {r['build'][0]:.1f} s | {r['build_cold'][0]:.1f} s | "
                f"{r['build_needs'][0]:.1f} s | "
                f"{r['build_plain'][0]:.1f} s | {r['incremental'][0]:.1f} s | "
                f"{r['verify'][0]:.2f} s | {r['verify_floor'][0]:.2f} s | {r['check'][0]:.2f} s | "
                f"{r['check_floor'][0]:.2f} s | {r['verify_cold'][0]:.2f} s, "
                f"{r['check_cold'][0]:.2f} s | {r['build'][1]} / {r['verify'][1]} / "
                f"{r['check'][1]} |")
    if 0 in results:
        r = results[0]
        lines += ["", "| Word SOPs (about 5 pages) | qms import | pandoc alone | per file | "
                  "peak RSS MiB |", "|---|---|---|---|---|",
                  f"| {r['import_files'][0]} | {r['import'][0]:.1f} s | "
                  f"{r['import_floor'][0]:.1f} s | {r['import'][0] / r['import_files'][0]:.2f} s"
                  f" | {r['import'][1]} |"]
    if -1 in results:
        r = results[-1]
        lines += ["", "| site documents | upstream needs | qms build, federated | qms build, "
                  "alone | peak RSS MiB (federated / alone) |", "|---|---|---|---|---|",
                  f"| {r['sizes'][0]} | {r['sizes'][1]} | {r['federated'][0]:.1f} s | "
                  f"{r['alone'][0]:.1f} s | {r['federated'][1]} / {r['alone'][1]} |"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,1000,5000", help="document counts N")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement")
    parser.add_argument("--jobs", default="auto", help="sphinx-build -j for every build")
    parser.add_argument("--word-files", type=int, default=100,
                        help="Word SOPs that qms import converts (0: no import row)")
    parser.add_argument("--pdf", action="store_true",
                        help="only the PDF rows (at --pdf-sizes)")
    parser.add_argument("--no-pdf", action="store_true", help="leave out the PDF rows")
    parser.add_argument("--pdf-sizes", default="100,1000", help="document counts of the PDF rows")
    parser.add_argument("--federation", default="200,2000", metavar="DOCS,NEEDS",
                        help="a site of DOCS documents built with and without a corporate "
                             "export of NEEDS needs ('0': no federation row)")
    parser.add_argument("--no-write", action="store_true", help="do not rewrite BENCHMARKS.md")
    parser.add_argument("--json", type=Path, help="also write raw results as JSON")
    args = parser.parse_args(argv)
    sizes = [] if args.pdf else [int(s) for s in args.sizes.split(",") if int(s)]
    word_files = 0 if args.pdf else args.word_files
    federation = "0" if args.pdf else args.federation
    pdf_sizes = [] if args.no_pdf else [int(s) for s in args.pdf_sizes.split(",")]
    results: dict[int, dict] = {}
    pdf_results: dict[int, dict] = {}
    with tempfile.TemporaryDirectory(prefix="qms-bench-") as work:
        for n in sizes:
            print(f"N = {n} ...", file=sys.stderr, flush=True)
            results[n] = bench_size(n, args.repeat, Path(work), args.jobs)
        if word_files:
            print(f"Word import of {word_files} files ...", file=sys.stderr, flush=True)
            results[0] = bench_import(word_files, args.repeat, Path(work))
        if federation not in ("", "0"):
            documents, needs = (int(v) for v in federation.split(","))
            print(f"Federation: {documents} documents, {needs} upstream needs ...",
                  file=sys.stderr, flush=True)
            results[-1] = bench_federation(documents, needs, args.repeat, Path(work),
                                           args.jobs)
        for n in pdf_sizes:
            print(f"PDFs, N = {n} ...", file=sys.stderr, flush=True)
            pdf_results[n] = bench_pdf(n, args.repeat, Path(work), args.jobs)
    table = report(results, args.repeat) if results else ""
    pdf_table = pdf_report(pdf_results, args.repeat, args.jobs) if pdf_results else ""
    print(table + ("\n" if table and pdf_table else "") + pdf_table)
    if args.json:
        args.json.write_text(json.dumps({"build": {str(k): v for k, v in results.items()},
                                         "pdf": {str(k): v for k, v in pdf_results.items()}},
                                        indent=2))
    if not args.no_write:
        page = ROOT / "BENCHMARKS.md"
        text = page.read_text() if page.exists() else ""
        if pdf_table:
            text = write_between(text, PDF_MARKERS, pdf_table)
        if table:
            marker = "<!-- results -->"
            head = text.split(marker)[0] if marker in text else text
            text = head.rstrip() + f"\n\n{marker}\n\n" + table
        page.write_text(text)
    return 0


PDF_MARKERS = ("<!-- pdf results -->", "<!-- end of pdf results -->")


def write_between(text: str, markers: tuple[str, str], table: str) -> str:
    """``text`` with what stands between the two markers replaced by ``table`` (the
    markers and the table added before the build results when they are not there yet)."""
    start, end = markers
    block = f"{start}\n\n{table}\n{end}"
    if start in text and end in text:
        return text[:text.index(start)] + block + text[text.index(end) + len(end):]
    marker = "<!-- results -->"
    if marker in text:
        return text.replace(marker, f"{block}\n\n{marker}", 1)
    return text.rstrip() + "\n\n" + block + "\n"


if __name__ == "__main__":
    sys.exit(main())
