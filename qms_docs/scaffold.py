"""``qms init``: scaffold a new QMS repository that checks and builds straight away.

Files come from the jinja2 templates in ``qms_docs/templates/init/``. Nothing is
overwritten: if any file to be written exists, nothing is written at all.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import jinja2

from . import __version__, gitrepo
from .catalog import load_catalog
from .config import UPSTREAM_FOLDER
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
#: The roles a new policy declares (more come from ``--role``), and the one that approves
#: documents: the first of APPROVING_ROLES someone holds (one approval keeps a small
#: company able to approve whatever one of its two people wrote).
ROLES = {"top-management": "Top Management", "quality-manager": "Quality Manager",
         "process-owner": "Process Owner", "internal-auditor": "Internal Auditor"}
APPROVING_ROLES = ("quality-manager", "top-management")
#: Who commits the baseline: the starter texts are the templates' words, not the user's, so
#: the person who ran ``qms init`` may approve them (their name is in the commit message).
INIT_IDENTITY = ("qms init", "qms-init@localhost")
PERSON = re.compile(r"\s*(?P<name>[^<>]*\S)\s*<(?P<email>[^<>@\s]+@[^<>@\s]+)>\s*")
ROLE = re.compile(r"[a-z][a-z0-9-]{0,60}")


@dataclass(frozen=True)
class NewPerson:
    """A person of the new QMS (``--person "Name <email>" --role ROLE``)."""

    name: str
    email: str
    roles: tuple[str, ...]


def parse_people(people: Sequence[str], roles: Sequence[str]) -> list[NewPerson]:
    """``--person`` and ``--role`` pairs, the n-th role option for the n-th person; a role
    option may name several roles (``quality-manager,top-management``)."""
    if roles and not people:
        raise UsageError("--role without --person",
                         hint='give each person as --person "Name <email>" --role ROLE')
    if len(roles) != len(people):
        raise UsageError(f"{len(people)} --person but {len(roles)} --role",
                         hint='each --person is followed by its --role (several roles: '
                              '--role quality-manager,top-management)')
    found: list[NewPerson] = []
    for text, role_text in zip(people, roles, strict=True):
        match = PERSON.fullmatch(checked_input(text, "--person"))
        if match is None:
            raise UsageError(f"--person {text!r} is not 'Name <email>'",
                             hint='e.g. --person "Quinn Harlow <quinn@example.com>"')
        held = tuple(dict.fromkeys(r.strip() for r in role_text.split(",") if r.strip()))
        bad = [r for r in held if not ROLE.fullmatch(r)]
        if bad or not held:
            raise UsageError(f"--role {role_text!r} is not a role name",
                             hint="role names are lower-case words joined by '-' "
                                  f"({', '.join(ROLES)})")
        email = match["email"]
        if any(p.email.lower() == email.lower() for p in found):
            raise UsageError(f"--person {email} is given twice",
                             hint="give each person once, with all their roles")
        found.append(NewPerson(" ".join(match["name"].split()), email, held))
    return found


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
                 source: str | None = None,
                 people: Sequence[NewPerson] = ()) -> dict[str, str]:
    """Every file of a new QMS repository: relative path -> text. Without ``people``, the
    one person is ``person`` (else git's identity) as quality manager."""
    catalog = load_catalog(standard)
    if not people:
        name, email = person or _git_identity()
        people = [NewPerson(name, email, ("quality-manager",))]
    held = [r for p in people for r in p.roles]
    approvers = [r for r in APPROVING_ROLES if r in held][:1]
    if not approvers:
        raise UsageError("nobody would approve documents: no person holds "
                         f"{' or '.join(APPROVING_ROLES)}",
                         hint="give one person --role quality-manager (and top management "
                              "--role top-management)")
    roles = {**ROLES, **{r: r.replace("-", " ").title() for r in held if r not in ROLES}}
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             autoescape=False)
    base = resources.files("qms_docs").joinpath("templates", "init")
    values = {
        "org": org, "org_toml": json.dumps(org)[1:-1], "org_py": quoted(org),
        "org_rst": rst_text(org),
        "heading": f"{rst_text(org)}: Quality Management System", "standard": standard,
        "prefix": catalog.need_prefix, "reports": REPORT_PAGES, "version": __version__,
        "people": [{"name": json.dumps(p.name)[1:-1], "email": json.dumps(p.email)[1:-1],
                    "roles": json.dumps(list(p.roles))} for p in people],
        "roles": [(r, json.dumps(t)) for r, t in roles.items()],
        "approvers": json.dumps(approvers), "first_approver": approvers[0],
        "self_approval": "recorded" if len(people) == 1 else "forbidden",
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


@dataclass(frozen=True)
class NewUpstream:
    """``qms init --upstream``: the upstream QMS a new site federates with, its export
    checked and kept in the new repository."""

    name: str
    base_url: str
    export: bytes

    @property
    def id_prefix(self) -> str:
        """Before each upstream id (``corp``: CORP-SOP-005): both QMSs number from SOP-001."""
        return re.sub(r"[^A-Z0-9]", "", self.name.upper()) + "-"

    @property
    def path(self) -> str:
        return f"{UPSTREAM_FOLDER}/{self.name}.json"

    def toml(self) -> str:
        return (f"\n# Federation: the upstream QMS whose documents this one links to (:links:,"
                f"\n# :need:) and counts for coverage while its export holds them in force."
                f"\n# Refresh the export by copying a new `qms export` of it to {self.path}."
                f"\n# Its ids carry id_prefix here: {self.id_prefix}SOP-001 is its SOP-001."
                f"\n[[federation.upstream]]\nname = {_toml_string(self.name)}\n"
                f"export = {_toml_string(self.path)}\n"
                f"base_url = {_toml_string(self.base_url)}\n"
                f"id_prefix = {_toml_string(self.id_prefix)}\n")


def _toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string of printable text is a TOML basic string


def read_upstream(path: Path, name: str | None, base_url: str | None) -> NewUpstream:
    """The upstream of ``qms init --upstream PATH``: the export at ``path`` (checked), named
    ``name`` (default: from its organization), its site at ``base_url`` (default: the one
    its export declares)."""
    from .federation import parse_export
    from .model import Upstream

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"--upstream {path}: cannot be read ({exc.strerror})",
                         hint="give the file `qms export --out FILE.json` wrote in the "
                              "upstream repository; nothing was written") from None
    probe = Upstream(name=name or "upstream", path=str(path), base_url=base_url or "")
    export = parse_export(raw, probe)
    if name is None:
        name = re.sub(r"[^a-z0-9]+", "-", export.organization.lower()).strip("-")[:40]
        if not re.match(r"^[a-z]", name):
            name = "upstream"
    elif not re.fullmatch(r"[a-z][a-z0-9_-]{0,39}", name):
        raise UsageError(f"--upstream-name {name!r}: use lower-case letters, digits, - and _",
                         hint="e.g. --upstream-name corporate")
    declared = json.loads(raw.decode("utf-8"))["qms"].get("base_url") or ""
    base_url = (base_url or declared).rstrip("/")
    if not re.fullmatch(r"(https?|file)://\S+", base_url):
        raise UsageError(f"--upstream {path}: the export names no base URL of its site",
                         hint="give the address of the upstream's published site: "
                              "--upstream-base-url https://qms.example.com/; nothing was "
                              "written")
    return NewUpstream(name, base_url, raw)


def init_repository(target: Path, org: str, ci: str = "github",
                    standard: str = "iso9001-2015", source: str | None = None,
                    people: Sequence[NewPerson] = (),
                    upstream: NewUpstream | None = None) -> list[str]:
    """Create the QMS in ``target`` (and ``git init`` it if needed, with the baseline
    commit); returns the files. With ``upstream``, the site federates with it: its export
    is kept under ``upstream/`` and named in qms.toml (part of the baseline policy)."""
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
    files = render_files(org, standard, ci, source=source, people=people)
    if upstream is not None:
        files["qms.toml"] += upstream.toml()
        files[upstream.path] = upstream.export.decode("utf-8")
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
    approvals (policy.py). It is committed as ``qms init`` (the texts are the templates'),
    with the person who ran it named in the message. False if git cannot commit."""
    name, email = _git_identity()
    tool, address = INIT_IDENTITY
    env = {"GIT_AUTHOR_NAME": tool, "GIT_AUTHOR_EMAIL": address,
           "GIT_COMMITTER_NAME": tool, "GIT_COMMITTER_EMAIL": address}
    return gitrepo.commit_all(target, f"Baseline of the QMS (qms init)\n\nRun by {name} "
                              f"<{email}>.", env)
