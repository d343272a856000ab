"""``qms init``: scaffold a new QMS repository that checks and builds straight away.

Files come from the jinja2 templates in ``qms_docs/templates/init/``. Nothing is
overwritten: if any file to be written exists, nothing is written at all.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import jinja2

from . import __version__, gitrepo
from .catalog import load_catalog
from .errors import UsageError
from .text import checked_input, quoted, rst_text


@dataclass(frozen=True)
class ReportPage:
    name: str
    title: str
    intro: str
    reports: tuple[str, ...]


REPORT_PAGES = (
    ReportPage("traceability", "Traceability matrix",
               "Each clause with the documents that satisfy it, and a diagram of the links.",
               ("trace-matrix", "trace-diagram")),
    ReportPage("coverage", "Coverage", "Requirement clauses covered, per chapter.",
               ("coverage",)),
    ReportPage("gaps", "Gap analysis", "Requirement clauses with no document in force.",
               ("gaps",)),
    ReportPage("mandatory", "Mandatory documented information",
               "Documents to maintain and records to retain that the standard asks for.",
               ("mandatory",)),
    ReportPage("master-list", "Master document list", "Every controlled document.",
               ("master-list",)),
    ReportPage("reviews-due", "Periodic reviews due",
               "Documents whose periodic review falls due in the next 60 days.", ("due",)),
    ReportPage("training", "Training matrix", "Who is trained on which revision.",
               ("training",)),
    ReportPage("change-log", "Change log", "Changes, approvals, reviews and retirements of "
               "the last 12 months.", ("change-log",)),
)
INDEX_PAGES = {
    "manual/index.rst": ("Quality manual and policies", "manual policy"),
    "procedures/index.rst": ("Procedures, work instructions and forms", "sop wi form"),
}
CI_FILES = {"github": ".github/workflows/qms.yml", "gitlab": ".gitlab-ci.yml"}


def _heading(text: str, char: str = "=") -> str:
    return f"{text}\n{char * len(text)}\n"


def _git_identity() -> tuple[str, str]:
    def get(key: str) -> str:
        return gitrepo.config_value(None, key)

    email = get("user.email")
    if not re.fullmatch(r"[^@\s]+@[^@\s]+", email):
        email = "quality.manager@example.com"
    return get("user.name") or "Quality Manager", email


def installed_source() -> str | None:
    """Where the running qms-docs was installed from, as pip records it (PEP 610's
    ``direct_url.json``): a VCS URL at its commit, or a local folder or archive's URL;
    None when it came from a package index (or cannot be told)."""
    from importlib import metadata

    for dist in metadata.distributions(name="qms-docs"):
        text = dist.read_text("direct_url.json")
        if not text:
            continue
        try:
            data = json.loads(text)
        except ValueError:
            return None
        url = data.get("url") if isinstance(data, dict) else None
        if not isinstance(url, str) or not url:
            return None
        vcs = data.get("vcs_info")
        if isinstance(vcs, dict) and vcs.get("vcs") and vcs.get("commit_id"):
            return f"{vcs['vcs']}+{url}@{vcs['commit_id']}"
        return url
    return None


def requirement(source: str | None = None) -> str:
    """The line of ``requirements-qms.txt`` that installs this same qms-docs (with the PDF
    stack): from ``source`` (``--qms-source``: a requirement, a URL or a local path), else
    from how the running one was installed, else the released version."""
    if source:
        source = source.strip()
        if "://" in source:
            return f"qms-docs[pdf] @ {source}"
        if source.startswith(("/", ".", "~")):
            return f"qms-docs[pdf] @ {Path(source).expanduser().resolve().as_uri()}"
        return source
    found = installed_source()
    return f"qms-docs[pdf] @ {found}" if found else f"qms-docs[pdf]=={__version__}"


def render_files(org: str, standard: str, ci: str, branch: str = "main",
                 person: tuple[str, str] | None = None,
                 source: str | None = None) -> dict[str, str]:
    """Every file of a new QMS repository: relative path -> text."""
    catalog = load_catalog(standard)
    name, email = person or _git_identity()
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             autoescape=False)
    base = resources.files("qms_docs").joinpath("templates", "init")
    values = {
        "org": org, "org_toml": json.dumps(org)[1:-1], "org_py": quoted(org),
        "org_rst": rst_text(org),
        "heading": f"{rst_text(org)}: Quality Management System", "standard": standard,
        "prefix": catalog.need_prefix, "person_name_toml": json.dumps(name)[1:-1],
        "person_email": email, "reports": REPORT_PAGES, "version": __version__,
        "requirement": requirement(source),
        "branch": branch,
        "year": dt.date.today().year,  # of the copyright line: the year the QMS began
    }

    def render(template: str) -> str:
        text = env.from_string(base.joinpath(*template.split("/")).read_text("utf-8"))
        return text.render(**values)

    files = {
        "qms.toml": render("qms.toml.j2"), "conf.py": render("conf.py.j2"),
        "index.rst": render("index.rst.j2"), "README.md": render("README.md.j2"),
        ".gitignore": render("gitignore"), "requirements-qms.txt": render(
            "requirements-qms.txt.j2"),
        "records/.gitkeep": "",
    }
    for folder in ("manual", "procedures"):
        for item in sorted(base.joinpath(folder).iterdir(), key=lambda p: p.name):
            text = render(f"{folder}/{item.name}")
            if standard != "iso9001-2015":  # the starter texts are traced to ISO 9001
                text = re.sub(r"(?m)^   :satisfies: .*\n", "", text)
            files[f"{folder}/{item.name.removesuffix('.j2')}"] = text
    for path, (title, types) in INDEX_PAGES.items():
        files[path] = _heading(title) + f"\n.. qms-documents:: {types}\n"
    files[f"standards/{standard}.rst"] = (
        _heading(f"{catalog.short_title} clauses") + "\nEvery clause of the standard with the "
        "documents that satisfy it. The standard's own text is not reproduced.\n\n"
        f".. qms-clauses:: {standard}\n")
    for page in REPORT_PAGES:
        files[f"reports/{page.name}.rst"] = (
            _heading(page.title) + f"\n{page.intro}\n\n"
            + "\n".join(f".. qms-report:: {r}\n" for r in page.reports))
    if ci != "none":
        files[CI_FILES[ci]] = render(f"ci/{ci}.yml.j2")
    return files


def init_repository(target: Path, org: str, ci: str = "github",
                    standard: str = "iso9001-2015", source: str | None = None) -> list[str]:
    """Create the QMS in ``target`` (and ``git init`` it if needed); returns the files."""
    org = " ".join(checked_input(org, "--org").split())
    if not org:
        raise UsageError("--org must name the organization")
    if ci not in ("github", "gitlab", "none"):
        raise UsageError(f"unknown CI {ci!r}", hint="use github, gitlab or none")
    if source is not None:
        source = checked_input(source, "--qms-source").strip()
        if not source:
            raise UsageError("--qms-source is empty",
                             hint="give a requirement, a URL or a folder of qms-docs")
    files = render_files(org, standard, ci, source=source)
    existing = [rel for rel in files if (target / rel).exists()]
    if existing:
        raise UsageError(f"{target} already holds {', '.join(existing[:3])}"
                         + (" ..." if len(existing) > 3 else ""),
                         hint="run qms init in a new or empty folder; nothing was written")
    for rel, text in files.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(text)
    if not gitrepo.is_work_tree(target):
        gitrepo.init(target)
        baseline_commit(target)
    return sorted(files)


def baseline_commit(target: Path) -> bool:
    """Commit the new QMS: the first commit holding qms.toml is the policy in force without
    approvals (policy.py). False if git cannot commit (no identity): the first commit the
    user makes is the baseline then."""
    name, email = _git_identity()
    env = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
           "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}
    return gitrepo.commit_all(target, "Baseline of the QMS (qms init)", env)
