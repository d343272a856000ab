#!/usr/bin/env python3
"""Generate a synthetic, fully controlled QMS git repository to measure qms-docs at scale.

    python tools/gen_synthetic_qms.py N --commits M --out DIR [--seed S] [--years Y]

DIR becomes a git repository with qms.toml, conf.py, index and report pages, N documents
(5% manual/policy, 50% SOP, 25% work instruction, 20% form) and exactly M commits spread
over Y years that end before today: new documents and revisions with their change
records, approvals by people other than the author (bound to the fingerprint of the
committed content and to the commit holding it), periodic reviews, a few retirements,
drafts and documents in review, and unrelated commits. ``qms check`` and ``qms verify``
pass on it. All commits go through one ``git fast-import`` process; ``get-mark`` gives
the commit ids that approval records name.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import itertools
import random
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from qms_docs import yamlio  # noqa: E402
from qms_docs.catalog import load_catalog  # noqa: E402
from qms_docs.config import load_config  # noqa: E402
from qms_docs.control import required_roles  # noqa: E402
from qms_docs.documents import fingerprint  # noqa: E402
from qms_docs.model import Document  # noqa: E402
from qms_docs.records import validate_record  # noqa: E402

ORG, DOMAIN, SITE = "Kestrel Pumps and Valves Ltd", "kestrel.example", "Millbrook"
ROLES = {"top-management": "Managing Director", "quality-manager": "Quality Manager",
         "quality-technician": "Quality Technician", "internal-auditor": "Internal Auditor",
         "production-manager": "Production Manager", "maintenance-lead": "Maintenance Lead",
         "engineering-manager": "Engineering Manager", "purchasing-manager": "Purchasing Manager",
         "hr-manager": "HR and Training Coordinator", "sales-manager": "Sales Manager"}
PEOPLE = [("Dana Whitfield", ["top-management"]),
          ("Quinn Harlow", ["quality-manager", "internal-auditor"]),
          ("Riley Chen", ["quality-technician", "quality-manager", "internal-auditor"]),
          ("Pat Okafor", ["production-manager", "maintenance-lead"]),
          ("Morgan Lee", ["engineering-manager", "production-manager"]),
          ("Sam Reyes", ["purchasing-manager", "hr-manager"]),
          ("Jordan Blake", ["hr-manager", "sales-manager"]),
          ("Alex Novak", ["sales-manager", "purchasing-manager", "top-management"])]
TYPES = {  # name: (prefix, folder, approvers, review months, share of documents)
    "manual": ("QM", "manual", ["top-management", "quality-manager"], 12, 0.01),
    "policy": ("POL", "manual", ["top-management"], 12, 0.04),
    "sop": ("SOP", "procedures", ["quality-manager", "owner"], 24, 0.50),
    "wi": ("WI", "procedures", ["owner"], 24, 0.25),
    "form": ("FRM", "procedures", ["quality-manager"], 36, 0.20)}
KIND = {"manual": "manual", "policy": "policy", "sop": "procedure", "wi": "work instruction",
        "form": "form"}

SUBJECTS = ("incoming materials|torque wrenches|pressure gauges|customer complaints|supplier "
            "audits|welding consumables|valve bodies|engineering drawings|works orders|"
            "nonconforming product|training plans|gate valve assembly|ball valve seats|the "
            "coating line|hydrostatic test rigs|packaging materials|returned goods|engineering "
            "changes|internal audits|management review inputs|the risk register|preventive "
            "maintenance|stock records|purchase orders|heat treatment|CNC machining programs|first "
            "article inspection|customer property|traceability labels|material certificates|"
            "despatch documents|tender reviews|design verification|spreadsheet validation|"
            "archived records|chemical storage|forklift operation|test certificates|spare parts|"
            "gauge calibration|shelf-life items|actuator fitting").split("|")
ACTIONS = ("Control|Handling|Inspection|Review|Approval|Storage|Release|Planning|Evaluation|"
           "Maintenance|Verification|Preparation|Traceability|Monitoring").split("|")
GERUNDS = ("Inspecting|Cleaning|Setting Up|Checking|Labelling|Recording|Calibrating|Packing|"
           "Testing|Storing|Assembling|Receiving").split("|")
FORM_KINDS = "Checklist|Record|Log|Request|Report|Register|Sign-off Sheet".split("|")
EQUIPMENT = ("vernier caliper|torque wrench|pressure gauge|coating thickness gauge|"
             "thread gauge set|hand-held scanner|test rig|micrometer|borescope").split("|")
FREQS = "daily|weekly|monthly|every quarter|at each shift change".split("|")
PURPOSE = [
    "This {kind} describes how {subject} are controlled at {org}, so that customer and "
    "ISO 9001 requirements are met the same way every time.",
    "To define the method, the responsibilities and the records for the {action} of {subject}.",
    "To make sure that work on {subject} is planned, carried out and recorded in the same way "
    "on every shift, and that problems are found before product leaves the site.",
    "This {kind} sets out the minimum controls for {subject} and explains how the results feed "
    "into {sop}.",
    "To give the people who deal with {subject} one agreed method, so that results can be "
    "compared over time and improvements can be measured."]
SCOPE = [
    "This {kind} applies to all work on {subject} at the {site} site, including work done by "
    "contractors under our supervision.",
    "It covers every department that handles {subject}, from receipt to final use.",
    "Work done by subcontractors is controlled under {sop} and is outside this document.",
    "It does not apply to prototype work released under an engineering concession.",
    "The {owner} may extend the scope to new product lines after a documented review.",
    "Customer-specific requirements stated in the order take precedence over this {kind}."]
DUTIES = [
    "approves the plan and makes the people and equipment available.",
    "keeps this {kind} up to date and trains new staff in it.",
    "carries out the checks described below and records the results on {form}.",
    "reviews the records {freq} and raises a corrective action when a trend is seen.",
    "stops the work when a result is outside the limits and informs the {owner}.",
    "checks that the {equip} and other equipment used are calibrated and fit for use."]
STEPS = [
    "Before starting, check that the latest revision of the drawing and of this {kind} is at "
    "the workplace.",
    "Collect the {equip} and check its calibration label; do not use equipment past its due "
    "date.",
    "Record the works order number, the date and your initials on {form}.",
    "Inspect {subject} visually for damage, contamination and missing identification.",
    "Compare the results with the acceptance criteria of the control plan and mark each "
    "result pass or fail.",
    "If a result fails, fit a red HOLD tag, move the item to the quarantine area and raise a "
    "nonconformance report under {sop}.",
    "Inform the {owner} of any failure within {hours} hours.",
    "Where the customer requires it, send a copy of the results with the despatch documents.",
    "Enter the results into the ERP system before the end of the shift.",
    "Clean the work area and return the {equip} to its storage place.",
    "Review open actions {freq} and close those that are complete, with evidence.",
    "Agree any change to the method with the {owner} before it is used, and update this {kind}.",
    "Keep rejected items for at least {days} days so that the cause can be investigated.",
    "Check the first item of each batch fully and then one item in {sample}.",
    "Sign the release box only when every earlier step is complete and recorded.",
    "Escalate repeated failures (three in one month) to the management review.",
    "Check the supplier certificate against the purchase order: grade, heat number, quantity.",
    "Identify each item with its batch number so that it can be traced to its certificate.",
    "Store {subject} in the marked area, protected from moisture and damage."]
NOTES = ["Ask the {owner} if in doubt.", "This normally takes less than {hours}0 minutes.",
         "Use a black pen; do not use correction fluid.",
         "Photograph any defect and attach the photo to the record.",
         "Two people are needed for items over 25 kg."]
RECORDS = [
    "{form}, completed for each works order and kept for {years} years.",
    "Nonconformance reports raised under this {kind}, kept with the works order file.",
    "Calibration certificates of the {equip}, kept by the {owner}.",
    "Training records of the people who do this work (see {sop}).",
    "Results held in the ERP system, which is backed up nightly.",
    "The monthly summary of results, presented at the management review."]
REASONS = ["Corrective action CA-{n:04d}", "Internal audit finding IA-{n:04d}",
           "Management review action MR-{n:03d}", "Clarify responsibilities after reorganisation",
           "Customer complaint CC-{n:04d}", "New equipment introduced",
           "Align with revised supplier requirements", "Periodic review: text brought up to date"]
SECTIONS = ("Purpose", "Scope", "Responsibilities", "Procedure", "Records")
RECORD_HEADER = "# qms-docs record: written by qms, never edited. A new fact is a new record.\n"


@dataclass
class Doc:
    """One planned document: its header, its plan (phases, fate) and its state while written."""

    id: str
    type: str
    title: str
    owner: str
    satisfies: list[str]
    path: str
    roles: tuple[str, ...] = ()
    approved: int = 1  # revisions that get all approvals
    fate: str = "effective"  # effective, draft, in-review, retired
    sections: dict[str, list[str]] = field(default_factory=dict)
    context: dict = field(default_factory=dict)  # words the generated text is made of
    fingerprints: dict[int, str] = field(default_factory=dict)

    def phases(self) -> list[tuple[str, ...]]:
        """Roles that approve each revision, in order (a draft's last revision: none)."""
        extra = {"draft": [()], "in-review": [self.roles[:1]]}.get(self.fate, [])
        return [self.roles] * self.approved + extra


def wrap(text: str, first: str = "", rest: str = "", width: int = 88) -> str:
    """Greedy word wrap (a faster textwrap.fill for plain sentences)."""
    lines, line = [], first
    for word in text.split():
        if len(line) + len(word) + 1 > width and line.strip():
            lines.append(line.rstrip())
            line = rest
        line += word + " "
    return "\n".join([*lines, line.rstrip()])


def title_case(text: str) -> str:
    small = {"of", "the", "and", "on", "for", "a"}
    words = text.split()
    return " ".join(w if w.isupper() or (i and w in small) else w[:1].upper() + w[1:]
                    for i, w in enumerate(words))


def qms_toml(id_digits: int) -> str:
    """The policy of the synthetic QMS: organization, roles, people, document types."""
    out = [f'[organization]\nname = "{ORG}"\n\n[qms]\nstandards = ["iso9001-2015"]\n'
           f"id_digits = {id_digits}\n\n[roles]"]
    out += [f'{role} = "{title}"' for role, title in ROLES.items()]
    for name, roles in PEOPLE:
        email = f"{name.lower().replace(' ', '.')}@{DOMAIN}"
        out.append(f'\n[[people]]\nname = "{name}"\nemail = "{email}"\nroles = {roles!r}'
                   .replace("'", '"'))
    for name, (prefix, folder, approvers, months, _share) in TYPES.items():
        out.append(f'\n[types.{name}]\nprefix = "{prefix}"\nfolder = "{folder}"\n'
                   f'approvers = {approvers!r}\nreview_months = {months}'.replace("'", '"'))
    return "\n".join(out) + "\n"


def site_files(id_digits: int) -> dict[str, str]:
    """qms.toml, conf.py and the contents, standards and report pages."""
    toc = ".. toctree::\n   :maxdepth: 1\n   :glob:\n"
    files = {"qms.toml": qms_toml(id_digits), ".gitignore": "_build/\n",
             "README.md": f"# {ORG}: QMS (synthetic)\n\nGenerated by qms-docs' "
                          "tools/gen_synthetic_qms.py to measure qms-docs at scale.\n",
             "conf.py": f'project = "{ORG} QMS"\nauthor = "{ORG}"\n'
                        'extensions = ["sphinx_needs", "qms_docs"]\nroot_doc = "index"\n'
                        'include_patterns = ["index.rst", "manual/**", "procedures/**", '
                        '"standards/**", "reports/**"]\nexclude_patterns = ["_build"]\n'
                        'html_theme = "basic"\nhtml_show_sourcelink = False\n',
             "index.rst": f"{ORG}: Quality Management System\n{'=' * (len(ORG) + 27)}\n\n"
                          ".. toctree::\n   :maxdepth: 1\n   :caption: Documents\n\n"
                          "   manual/index\n   procedures/index\n\n"
                          ".. toctree::\n   :maxdepth: 1\n   :caption: Standards and reports\n\n"
                          "   standards/iso9001-2015\n   reports/traceability\n"
                          "   reports/coverage\n   reports/master-list\n",
             "manual/index.rst": f"Quality manual and policies\n{'=' * 27}\n\n{toc}\n"
                                 "   qm-*\n   pol-*\n",
             "procedures/index.rst": f"Procedures, work instructions and forms\n{'=' * 39}\n\n"
             + "\n".join(f"{toc}   :caption: {cap}\n\n   {pat}-*\n" for cap, pat in
                         [("Standard operating procedures", "sop"),
                          ("Work instructions", "wi"), ("Forms", "frm")]),
             "standards/iso9001-2015.rst": f"ISO 9001:2015 clauses\n{'=' * 21}\n\n"
                                           ".. qms-clauses:: iso9001-2015\n"}
    for name, title, report in [("traceability", "Traceability matrix", "trace-matrix"),
                                ("coverage", "Coverage of ISO 9001:2015", "coverage"),
                                ("master-list", "Master document list", "master-list")]:
        files[f"reports/{name}.rst"] = f"{title}\n{'=' * len(title)}\n\n.. qms-report:: {report}\n"
    return files


def doc_title(type_name: str, number: int, rng: random.Random) -> str:
    subject = title_case(rng.choice(SUBJECTS))
    if type_name == "manual":
        return "Quality Manual" if number == 1 else f"Quality Manual Part {number}: {subject}"
    if type_name == "policy":
        return {1: "Quality Policy", 2: "Quality Objectives"}.get(number, f"Policy on {subject}")
    if type_name == "wi":
        return f"{rng.choice(GERUNDS)} {subject.removeprefix('The ')}"
    if type_name == "form":
        return f"{subject.removeprefix('The ')} {rng.choice(FORM_KINDS)}"
    return f"{rng.choice(ACTIONS)} of {subject}"


def plan_documents(n: int, digits: int, rng: random.Random, config) -> list[Doc]:
    """N documents of mixed types with ids, titles, owners and leaf clauses."""
    leaves = [c.need_id for c in load_catalog("iso9001-2015").leaves]
    shares = {name: spec[4] * n for name, spec in TYPES.items()}
    counts = {name: int(share) for name, share in shares.items()}
    for name in sorted(shares, key=lambda k: counts[k] - shares[k])[:n - sum(counts.values())]:
        counts[name] += 1
    for name in ("manual", "policy"):  # a QMS has at least a manual and a policy
        if not counts[name]:
            counts[name], counts["sop"] = 1, counts["sop"] - 1
    owners = {"manual": ["quality-manager"], "policy": ["top-management", "quality-manager"]}
    docs = []
    for name, count in counts.items():
        prefix, folder = TYPES[name][:2]
        for number in range(1, count + 1):
            title = doc_title(name, number, rng)
            doc_id = f"{prefix}-{number:0{digits}d}"
            slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60].rstrip("-")
            doc = Doc(doc_id, name, title, rng.choice(owners.get(name, list(ROLES))),
                      sorted(rng.sample(leaves, rng.randint(1, 4)), key=leaves.index),
                      f"{folder}/{doc_id.lower()}-{slug}.rst")
            doc.roles = required_roles(Document(doc_id, name, title, 1, doc.owner, doc.path, 1),
                                       config)
            docs.append(doc)
    return docs


def plan_revisions(docs: list[Doc], commits: int, rng: random.Random) -> int:
    """Set fates and approved revisions so that the plan fits ``commits`` commits.

    Returns how many commits are left for periodic reviews and unrelated commits.
    """
    n, pool = len(docs), rng.sample(docs, len(docs))
    in_review = [d for d in pool if len(d.roles) > 1][:round(n * 0.01)]
    rest = [d for d in pool if d not in in_review]
    n_draft, n_retired = max(1, round(n * 0.04)), round(n * 0.01)
    for doc in in_review:
        doc.fate = "in-review"
    for doc in rest[:n_draft]:
        doc.fate = "draft"
    for doc in rest[n_draft:n_draft + n_retired]:
        doc.fate = "retired"
    used = 1 + sum(len(p) + 1 for d in docs for p in d.phases()) + n_retired
    if used + 1 > commits:
        sys.exit(f"error: {n} documents need at least {used + 1} commits (--commits {commits})")
    budget = commits - used - round(commits * 0.06)
    cumulative = list(itertools.accumulate(rng.paretovariate(1.2) for _ in docs))
    for _ in range(20 * n + 1000):
        if budget < 2:
            break
        doc = docs[min(bisect.bisect(cumulative, rng.random() * cumulative[-1]), n - 1)]
        if budget >= len(doc.roles) + 1:
            doc.approved += 1
            budget -= len(doc.roles) + 1
            used += len(doc.roles) + 1
    return commits - used


def make_block(section: str, rng: random.Random, ctx: dict) -> str:
    """One generated paragraph, bullet or step of a section, wrapped for RST."""
    values = {**ctx, "form": rng.choice(ctx["forms"]), "sop": rng.choice(ctx["sops"]),
              "freq": rng.choice(FREQS), "hours": rng.randint(2, 8), "days": rng.choice(
                  [14, 30, 90]), "sample": rng.choice([5, 10, 20]), "years": rng.randint(3, 10)}
    if section == "Responsibilities":
        role = ctx["owner"] if rng.random() < 0.4 else rng.choice(list(ROLES.values()))
        return wrap(f"**{role}** {rng.choice(DUTIES).format(**values)}", "- ", "  ")
    if section == "Procedure":
        text = rng.choice(STEPS).format(**values)
        if rng.random() < 0.35:
            text += " " + rng.choice(NOTES).format(**values)
        return wrap(text, "#. ", "   ")
    if section == "Records":
        return wrap(rng.choice(RECORDS).format(**values), "- ", "  ")
    pool = PURPOSE if section == "Purpose" else SCOPE
    return wrap(" ".join(t.format(**values) for t in rng.sample(pool, rng.randint(2, 3))))


def first_body(doc: Doc, seed: int, refs: dict[str, list[str]]) -> None:
    """Generate revision 1's sections from the document's own random stream."""
    rng = random.Random(f"{seed}:{doc.id}")
    ctx = {"kind": KIND[doc.type], "org": ORG, "site": SITE, "owner": ROLES[doc.owner],
           "subject": rng.choice(SUBJECTS), "action": rng.choice(ACTIONS).lower(),
           "equip": rng.choice(EQUIPMENT),
           "forms": [r for r in refs["form"] if doc.id not in r] or ["the inspection record"],
           "sops": [r for r in refs["sop"] if doc.id not in r] or ["the procedure"]}
    sizes = {"Purpose": 1, "Scope": 1, "Responsibilities": rng.randint(2, 4),
             "Procedure": rng.randint(6, 14), "Records": rng.randint(2, 4)}
    doc.context = ctx
    doc.sections = {name: [make_block(name, rng, ctx) for _ in range(size)]
                    for name, size in sizes.items()}


def revise_body(doc: Doc, revision: int, seed: int) -> str:
    """Change one section for a new revision; returns a summary of the change."""
    rng = random.Random(f"{seed}:{doc.id}:{revision}")
    ctx = doc.context
    name = rng.choice(["Procedure"] * 4 + ["Scope", "Responsibilities", "Records", "Purpose"])
    blocks, op = doc.sections[name], rng.random()
    position = rng.randrange(len(blocks))
    if name == "Procedure" and op < 0.35 and len(blocks) < 16:
        blocks.insert(position, make_block(name, rng, ctx))
        return f"Added step {position + 1} to the procedure"
    if name == "Procedure" and op < 0.5 and len(blocks) > 5:
        del blocks[position]
        return f"Removed step {position + 1} of the procedure"
    blocks[position] = make_block(name, rng, ctx)
    return f"Reworded the {name.lower()} section"


def render(doc: Doc, revision: int) -> bytes:
    """The document file: the header in the project's format, then its sections."""
    out = [f".. {doc.type}:: {doc.title}\n   :id: {doc.id}\n   :revision: {revision}\n"
           f"   :owner: {doc.owner}\n   :satisfies: {', '.join(doc.satisfies)}\n"]
    for name in SECTIONS:
        out.append(f"{name}\n{'=' * len(name)}\n\n" + "\n\n".join(doc.sections[name]) + "\n")
    return "\n".join(out).encode("utf-8")


@dataclass(order=True)
class Event:
    """One commit to make: when, and what (kind, document, revision, person, role)."""

    when: float
    seq: int
    kind: str = field(compare=False)
    doc: Doc | None = field(compare=False, default=None)
    revision: int = field(compare=False, default=0)
    person: tuple = field(compare=False, default=())
    role: str = field(compare=False, default="")


def schedule(docs: list[Doc], spare: int, start: float, end: float, now: float,
             rng: random.Random) -> list[Event]:
    """Every commit of the history, in time order (exactly 1 + planned + ``spare``)."""
    people = [(name, f"{name.lower().replace(' ', '.')}@{DOMAIN}", tuple(roles))
              for name, roles in PEOPLE]
    holders = {role: [p for p in people if role in p[2]] for role in ROLES}
    seq = itertools.count()
    events = [Event(start, next(seq), "skeleton", person=holders["quality-manager"][0])]
    overdue = []
    for doc in docs:
        authors = [p for p in people if all(set(holders[r]) - {p} for r in doc.roles)]
        span = end - start
        t = start + span * (rng.uniform(0.001, 0.05) if rng.random() < 0.3
                            else rng.uniform(0.05, 0.85))
        phases = doc.phases()
        times = [t, *sorted(rng.uniform(t, end - 86400) for _ in phases[1:]), end]
        for revision, roles in enumerate(phases, 1):
            when = times[revision - 1]
            owners = [p for p in authors if doc.owner in p[2]]
            author = rng.choice(owners if owners and rng.random() < 0.6 else authors)
            events.append(Event(when, next(seq), "content", doc, revision, author))
            window = min((times[revision] - when) * 0.5, 12 * 86400)
            for role, step in zip(roles, sorted(rng.uniform(0.05, 1) for _ in roles)):
                approver = rng.choice([p for p in holders[role] if p != author])
                events.append(Event(when + window * step, next(seq), "approval", doc,
                                    revision, approver, role))
            when = events[-1].when
        months = TYPES[doc.type][3] * 30.44 * 86400
        if doc.fate == "retired":
            events.append(Event(when + (end - when) * rng.uniform(0.2, 0.9), next(seq), "retire",
                                doc, len(phases), rng.choice(holders[doc.roles[0]])))
        elif doc.fate == "effective" and when + months < now:
            low = max(when + 86400, now - months + 30 * 86400)
            overdue.append(Event(rng.uniform(low, end), next(seq), "review", doc, len(phases),
                                 rng.choice(holders[doc.roles[0]])))
    reviews = rng.sample(overdue, min(spare - 1, len(overdue)))
    others = [Event(rng.uniform(start, end), next(seq), "other", person=rng.choice(people))
              for _ in range(spare - len(reviews))]
    return sorted(events + reviews + others)


class FastImport:
    """One ``git fast-import`` process: commits in, commit ids out (``get-mark``)."""

    def __init__(self, repo: Path) -> None:
        self.proc = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=repo,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     bufsize=1 << 20)
        self.mark = 0

    def commit(self, person: tuple, when: float, message: str, files: dict[str, bytes]) -> None:
        self.mark += 1
        ident = f"{person[0]} <{person[1]}> {int(when)} +0000"
        msg = message.encode() + b"\n"
        parts = [f"commit refs/heads/main\nmark :{self.mark}\nauthor {ident}\n"
                 f"committer {ident}\ndata {len(msg)}\n".encode(), msg]
        for path, data in files.items():
            parts += [f"M 100644 inline {path}\ndata {len(data)}\n".encode(), data, b"\n"]
        self.proc.stdin.write(b"".join(parts) + b"\n")

    def head(self) -> str:
        """The commit id of the last commit."""
        self.proc.stdin.write(f"get-mark :{self.mark}\n".encode())
        self.proc.stdin.flush()
        return self.proc.stdout.readline().decode().strip()

    def close(self) -> None:
        self.proc.stdin.close()
        if self.proc.wait() != 0:
            sys.exit("error: git fast-import failed")


class Writer:
    """Turns events into commits: document files and records, with their ids and dates."""

    def __init__(self, repo: Path, seed: int, digits: int, rng: random.Random) -> None:
        self.git, self.seed, self.digits, self.rng = FastImport(repo), seed, digits, rng
        self.paths: set[str] = set()

    def record(self, kind: str, doc: Doc, when: float, **fields) -> tuple[str, bytes]:
        """A validated record file (path, bytes) in the project's record format."""
        stamp = dt.datetime.fromtimestamp(int(when), dt.timezone.utc)
        data = {"kind": kind, "id": f"{self.rng.getrandbits(128):032x}", "document": doc.id,
                "date": stamp.isoformat(), **fields}
        path = ""
        while not path or path in self.paths:
            path = (f"records/{doc.id}/{stamp:%Y%m%dT%H%M%SZ}-{kind}-"
                    f"{self.rng.getrandbits(24):06x}.yaml")
        self.paths.add(path)
        validate_record(data, path)
        return path, (RECORD_HEADER + yamlio.dump(data)).encode("utf-8")

    def write(self, event: Event) -> None:
        doc, rev, who = event.doc, event.revision, event.person
        person = {"name": who[0], "email": who[1]}
        files: dict[str, bytes] = {}
        if event.kind == "skeleton":
            files = {p: t.encode() for p, t in site_files(self.digits).items()}
            message = "Set up the QMS repository"
        elif event.kind == "content":
            summary = f"Created {doc.type} {doc.id}" if rev == 1 else revise_body(doc, rev,
                                                                                  self.seed)
            reason = "New document" if rev == 1 else self.rng.choice(REASONS).format(
                n=self.rng.randint(1, 999))
            data = render(doc, rev)
            doc.fingerprints[rev] = fingerprint(data)
            files = {doc.path: data}
            files.update([self.record("change", doc, event.when, from_revision=rev - 1,
                                      to_revision=rev, reason=reason, summary=summary,
                                      author=person, training=rev == 1 or doc.type != "form")])
            message = f"Add {doc.id} {doc.title}" if rev == 1 else f"{doc.id} rev {rev}: {reason}"
        elif event.kind == "approval":
            day = dt.datetime.fromtimestamp(int(event.when), dt.timezone.utc).date()
            files.update([self.record("approval", doc, event.when, revision=rev,
                                      fingerprint=doc.fingerprints[rev], approver=person,
                                      role=event.role, meaning="approval",
                                      effective=day.isoformat(), commit=self.git.head())])
            message = f"Approve {doc.id} rev {rev} as {event.role}"
        elif event.kind == "review":
            files.update([self.record("review", doc, event.when, revision=rev,
                                      fingerprint=doc.fingerprints[rev], reviewer=person,
                                      outcome="Reviewed: still correct, no change needed")])
            message = f"Periodic review of {doc.id}"
        elif event.kind == "retire":
            files.update([self.record("retirement", doc, event.when, revision=rev, approver=person,
                                      reason="No longer used: the activity was discontinued")])
            message = f"Retire {doc.id}"
        else:
            day = dt.datetime.fromtimestamp(int(event.when), dt.timezone.utc)
            topic = self.rng.choice(SUBJECTS)
            files = {f"notes/{day:%Y/%m-%d-%H%M%S}.md":
                     f"# Meeting note {day:%Y-%m-%d}\n\nDiscussed {topic}.\n".encode()}
            message = f"Meeting note: {topic}"
        self.git.commit(who, event.when, message, files)


def generate(n: int, commits: int, out: Path, seed: int, years: float) -> None:
    """Create the whole repository at ``out``."""
    rng = random.Random(seed)
    digits = 4 if n >= 1000 else 3
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "qms.toml").write_text(qms_toml(digits), encoding="utf-8")
        config = load_config(Path(folder))
    docs = plan_documents(n, digits, rng, config)
    spare = plan_revisions(docs, commits, rng)
    refs = {t: [f":need:`{d.id}`" for d in docs if d.type == t] for t in ("form", "sop")}
    for doc in docs:
        first_body(doc, seed, refs)
    today = dt.datetime.combine(dt.date.today(), dt.time(), dt.timezone.utc).timestamp()
    end = today - 86400
    events = schedule(docs, spare, end - years * 365.25 * 86400, end, today, rng)
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        sys.exit(f"error: {out} is not empty")
    subprocess.run(["git", "init", "-q", "-b", "main", str(out)], check=True)
    writer = Writer(out, seed, digits, rng)
    for event in events:
        writer.write(event)
    writer.git.close()
    subprocess.run(["git", "reset", "-q", "--hard"], cwd=out, check=True)
    email = f"{PEOPLE[1][0].lower().replace(' ', '.')}@{DOMAIN}"
    subprocess.run(["git", "config", "user.email", email], cwd=out, check=True)
    subprocess.run(["git", "config", "user.name", PEOPLE[1][0]], cwd=out, check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("documents", type=int, help="number of documents (N)")
    parser.add_argument("--commits", type=int, required=True, help="number of commits (M)")
    parser.add_argument("--out", type=Path, required=True, help="new repository folder")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--years", type=float, default=4, help="years of history (default 4)")
    args = parser.parse_args(argv)
    if args.documents < 5 or args.years <= 0:
        parser.error("N must be at least 5 and --years positive")
    began = time.monotonic()
    generate(args.documents, args.commits, args.out, args.seed, args.years)
    print(f"gen_synthetic_qms: {args.documents} documents, {args.commits} commits, "
          f"{time.monotonic() - began:.1f} s -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
